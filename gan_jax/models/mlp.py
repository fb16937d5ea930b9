"""Fully connected players: the two MLP GANs printed in the seed documents.

`PlainMLPGenerator` / `PlainMLPDiscriminator` (model 'plain_mlp'): Dense layers and
LeakyReLU(0.01), no normalization, as seed document 001 prints them.
`PyTorchGANMLPGenerator` / `PyTorchGANMLPDiscriminator` (model 'pytorch_gan_mlp'): the
MLPs of PyTorch-GAN's gan.py, with BatchNorm in G, as seed document 002 prints them.
The former names (Seed001Generator, ..., models 'seed001_mlp', 'seed002_mlp') stay as
aliases, so older configs and runs load.

The discriminators return logits of shape (B,); the documents' final Sigmoid is
folded into the losses (gan_jax.losses), which is the numerically stable form.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.models import initializers
from gan_jax.models.layers import batch_norm
from gan_jax.models.spectral import maybe_spectral_norm


def _dense(
  width: int, fan_in: int, init: initializers.Initialization, dtype: Any = None
) -> nn.Dense:
  return nn.Dense(width, kernel_init=init.kernel, bias_init=init.bias(fan_in), dtype=dtype)


class PlainMLPGenerator(nn.Module):
  """Seed document 001's G: z -> 256 -> 512 -> 1024 -> prod(data_shape), LeakyReLU 0.01, tanh.

  Input z: (B, latent); output: (B, *data_shape) in [-1, 1].
  """

  data_shape: Sequence[int]
  hidden: Sequence[int] = (256, 512, 1024)
  negative_slope: float = 0.01
  dtype: Any = None  # computation dtype; parameters and the output stay float32

  @nn.compact
  def __call__(self, z, train: bool = True):
    x = z.reshape(z.shape[0], -1)
    for width in self.hidden:
      x = nn.leaky_relu(nn.Dense(width, dtype=self.dtype)(x), self.negative_slope)
    x = jnp.tanh(nn.Dense(math.prod(self.data_shape), dtype=self.dtype)(x)).astype(jnp.float32)
    return x.reshape((z.shape[0],) + tuple(self.data_shape))


class PlainMLPDiscriminator(nn.Module):
  """Seed document 001's D: flatten -> 1024 -> 512 -> 256 -> 1, LeakyReLU 0.01; logits (B,).

  spectral_norm: normalize every layer. return_features: return (logits, h (B, 256)).
  """

  hidden: Sequence[int] = (1024, 512, 256)
  negative_slope: float = 0.01
  spectral_norm: bool = False
  return_features: bool = False
  dtype: Any = None  # computation dtype; parameters, logits and features stay float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    sn = dict(spectral_norm=self.spectral_norm, train=train)
    x = x.reshape(x.shape[0], -1)
    for width in self.hidden:
      x = nn.leaky_relu(
        maybe_spectral_norm(nn.Dense(width, dtype=self.dtype), x, **sn), self.negative_slope
      )
    logits = maybe_spectral_norm(nn.Dense(1, dtype=self.dtype), x, **sn)[:, 0].astype(jnp.float32)
    return (logits, x.astype(jnp.float32)) if self.return_features else logits


class PyTorchGANMLPGenerator(nn.Module):
  """Seed document 002's G (PyTorch-GAN's): z -> 128 -> 256 -> 512 -> 1024 -> prod(data_shape).

  Each block is Linear, then BatchNorm1d(out, 0.8) except the first, then
  LeakyReLU(0.2); the output goes through tanh. As printed, the BatchNorm's
  second argument is its epsilon, 0.8 (PyTorch's default momentum 0.1 is
  Flax's momentum 0.9). Output: (B, *data_shape) in [-1, 1]. The seed's code
  runs with PyTorch's default initialization, and so do these layers by default.
  """

  data_shape: Sequence[int]
  hidden: Sequence[int] = (128, 256, 512, 1024)
  batch_norm_epsilon: float = 0.8
  axis_name: str | None = None
  weight_init: initializers.Initialization = initializers.PYTORCH
  dtype: Any = None  # computation dtype; parameters and the output stay float32

  @nn.compact
  def __call__(self, z, train: bool = True):
    x = z.reshape(z.shape[0], -1)
    for i, width in enumerate(self.hidden):
      x = _dense(width, x.shape[-1], self.weight_init, self.dtype)(x)
      if i > 0:
        x = batch_norm(
          train, self.axis_name, self.weight_init.scale, self.dtype, self.batch_norm_epsilon
        )(x)
      x = nn.leaky_relu(x, 0.2)
    x = jnp.tanh(_dense(math.prod(self.data_shape), x.shape[-1], self.weight_init, self.dtype)(x))
    x = x.astype(jnp.float32)
    return x.reshape((z.shape[0],) + tuple(self.data_shape))


class PyTorchGANMLPDiscriminator(nn.Module):
  """Seed document 002's D (PyTorch-GAN's): flatten -> 512 -> 256 -> 1, LeakyReLU 0.2; logits (B,).

  spectral_norm: normalize every layer. return_features: return (logits, h (B, 256)).
  PyTorch's default initialization, as the seed's code runs.
  """

  hidden: Sequence[int] = (512, 256)
  spectral_norm: bool = False
  return_features: bool = False
  weight_init: initializers.Initialization = initializers.PYTORCH
  dtype: Any = None  # computation dtype; parameters, logits and features stay float32

  @nn.compact
  def __call__(self, x, train: bool = True):
    sn = dict(spectral_norm=self.spectral_norm, train=train)
    x = x.reshape(x.shape[0], -1)
    for width in self.hidden:
      dense = _dense(width, x.shape[-1], self.weight_init, self.dtype)
      x = nn.leaky_relu(maybe_spectral_norm(dense, x, **sn), 0.2)
    logits = maybe_spectral_norm(_dense(1, x.shape[-1], self.weight_init, self.dtype), x, **sn)
    logits = logits[:, 0].astype(jnp.float32)
    return (logits, x.astype(jnp.float32)) if self.return_features else logits


# The former names, after the seed documents that print these networks.
Seed001Generator = PlainMLPGenerator
Seed001Discriminator = PlainMLPDiscriminator
Seed002Generator = PyTorchGANMLPGenerator
Seed002Discriminator = PyTorchGANMLPDiscriminator
