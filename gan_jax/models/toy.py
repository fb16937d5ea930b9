"""Small players for 1D and 2D toy distributions (rings, grids, Gaussians)."""

from __future__ import annotations

import math
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.models.spectral import maybe_spectral_norm

ACTIVATIONS = {"tanh": jnp.tanh, "relu": nn.relu, "leaky_relu": nn.leaky_relu, "elu": nn.elu}


def activation_by_name(name: str):
  try:
    return ACTIVATIONS[name]
  except KeyError:
    raise ValueError(
        f"activation {name!r} is unknown; accepted: {', '.join(ACTIVATIONS)}") from None


class ToyGenerator(nn.Module):
  """z (B, latent) -> points (B, *data_shape) through an MLP with a linear output."""

  data_shape: Sequence[int]
  hidden: Sequence[int] = (128, 128)
  activation: str = "tanh"

  @nn.compact
  def __call__(self, z, train: bool = True):
    act = activation_by_name(self.activation)
    x = z.reshape(z.shape[0], -1)
    for width in self.hidden:
      x = act(nn.Dense(width)(x))
    x = nn.Dense(math.prod(self.data_shape))(x)
    return x.reshape((z.shape[0],) + tuple(self.data_shape))


class ToyDiscriminator(nn.Module):
  """Points (B, *data_shape) -> logits (B,) through an MLP.

  spectral_norm: normalize every layer (Miyato et al.). return_features: also
  return the last hidden layer h (B, hidden[-1]), as (logits, h).
  """

  hidden: Sequence[int] = (128, 128)
  activation: str = "tanh"
  spectral_norm: bool = False
  return_features: bool = False

  @nn.compact
  def __call__(self, x, train: bool = True):
    act = activation_by_name(self.activation)
    x = x.reshape(x.shape[0], -1)
    for width in self.hidden:
      x = act(maybe_spectral_norm(nn.Dense(width), x, spectral_norm=self.spectral_norm,
                                  train=train))
    logits = maybe_spectral_norm(nn.Dense(1), x, spectral_norm=self.spectral_norm,
                                 train=train)[:, 0]
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
