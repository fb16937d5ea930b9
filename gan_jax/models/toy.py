"""Small players for 1D and 2D toy distributions (rings, grids, Gaussians).

Options for the papers' toy setups (experiments/reproductions/): BatchNorm after each
hidden layer of G (PacGAN's generator), maxout hidden units in D (PacGAN's LinearMaxout,
activation='maxout'), a fixed scaling of D's input (Metz et al.'s D divides by 4), and
the initialization by name (`weight_init`, see gan_jax.models.initializers; Flax's
defaults unless a config names another).
"""

from __future__ import annotations

import math
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.models import initializers
from gan_jax.models.spectral import maybe_spectral_norm

ACTIVATIONS = {"tanh": jnp.tanh, "relu": nn.relu, "leaky_relu": nn.leaky_relu, "elu": nn.elu}


def activation_by_name(name: str):
  try:
    return ACTIVATIONS[name]
  except KeyError:
    raise ValueError(
      f"activation {name!r} is unknown; accepted: {', '.join(ACTIVATIONS)}"
    ) from None


def _dense(
  width: int,
  fan_in: int,
  init: initializers.Initialization,
  *,
  output: bool = False,
  use_bias: bool = True,
) -> nn.Dense:
  kernel_init = init.output_kernel_init if output else init.kernel
  return nn.Dense(width, use_bias=use_bias, kernel_init=kernel_init, bias_init=init.bias(fan_in))


def maxout(x, pieces: int):
  """(B, width * pieces) -> (B, width): the max over consecutive groups of `pieces` units,
  as Blocks' Maxout groups a LinearMaxout's outputs."""
  return jnp.max(x.reshape(x.shape[:-1] + (x.shape[-1] // pieces, pieces)), axis=-1)


class ToyGenerator(nn.Module):
  """z (B, latent) -> points (B, *data_shape) through an MLP with a linear output.

  batch_norm: each hidden layer is Dense (no bias) -> BatchNorm -> activation, as in
  PacGAN's generator; batch_norm_momentum and batch_norm_epsilon in Flax's terms
  (momentum m keeps m of the running average per step).
  """

  data_shape: Sequence[int]
  hidden: Sequence[int] = (128, 128)
  activation: str = "tanh"
  batch_norm: bool = False
  batch_norm_momentum: float = 0.9
  batch_norm_epsilon: float = 1e-5
  axis_name: str | None = None
  weight_init: initializers.Initialization = initializers.FLAX

  @nn.compact
  def __call__(self, z, train: bool = True):
    act = activation_by_name(self.activation)
    x = z.reshape(z.shape[0], -1)
    for width in self.hidden:
      x = _dense(width, x.shape[-1], self.weight_init, use_bias=not self.batch_norm)(x)
      if self.batch_norm:
        x = nn.BatchNorm(
          use_running_average=not train,
          momentum=self.batch_norm_momentum,
          epsilon=self.batch_norm_epsilon,
          axis_name=self.axis_name,
          scale_init=self.weight_init.scale,
        )(x)
      x = act(x)
    x = _dense(math.prod(self.data_shape), x.shape[-1], self.weight_init, output=True)(x)
    return x.reshape((z.shape[0],) + tuple(self.data_shape))


class ToyDiscriminator(nn.Module):
  """Points (B, *data_shape) -> logits (B,) through an MLP.

  spectral_norm: normalize every layer (Miyato et al.). return_features: also
  return the last hidden layer h (B, hidden[-1]), as (logits, h).
  activation='maxout': each hidden layer is a dense layer of width * maxout_pieces units
  and the max over each group of maxout_pieces (PacGAN's LinearMaxout).
  input_scale: x is multiplied by it first (Metz et al.'s D scales its input by 1/4).
  """

  hidden: Sequence[int] = (128, 128)
  activation: str = "tanh"
  maxout_pieces: int = 5
  input_scale: float = 1.0
  spectral_norm: bool = False
  return_features: bool = False
  weight_init: initializers.Initialization = initializers.FLAX

  @nn.compact
  def __call__(self, x, train: bool = True):
    if self.activation == "maxout":
      pieces = self.maxout_pieces
      if not isinstance(pieces, int) or pieces < 1:
        raise ValueError(f"maxout_pieces must be an integer >= 1, got {pieces!r}")
      act = lambda h: maxout(h, pieces)
    else:
      pieces, act = 1, activation_by_name(self.activation)
    x = x.reshape(x.shape[0], -1)
    if self.input_scale != 1.0:
      x = x * self.input_scale
    for width in self.hidden:
      x = act(
        maybe_spectral_norm(
          _dense(width * pieces, x.shape[-1], self.weight_init),
          x,
          spectral_norm=self.spectral_norm,
          train=train,
        )
      )
    logits = maybe_spectral_norm(
      _dense(1, x.shape[-1], self.weight_init, output=True),
      x,
      spectral_norm=self.spectral_norm,
      train=train,
    )[:, 0]
    return (logits, x) if self.return_features else logits


class GaussianGenerator(nn.Module):
  """G(z) = loc + scale * z: with z ~ N(0, I), p_g = N(loc, scale^2) in closed form.

  Used to check the theory of seed 004 (the optimal discriminator).
  """

  data_shape: Sequence[int] = (1,)
  init_loc: float = 0.0
  init_scale: float = 1.0

  @nn.compact
  def __call__(self, z, train: bool = True):
    shape = tuple(self.data_shape)
    loc = self.param("loc", nn.initializers.constant(self.init_loc), shape)
    scale = self.param("scale", nn.initializers.constant(self.init_scale), shape)
    return loc + scale * z.reshape((z.shape[0],) + shape)
