"""Layers of Karras et al. (progressive GAN, StyleGAN): equalized learning rate,
pixel normalization and minibatch standard deviation.

Equalized learning rate: weights are stored N(0, 1) and multiplied at run time
by He's constant gain / sqrt(fan_in) (times `lr_multiplier`, stored weights
then N(0, 1/lr_multiplier^2)), so every layer's weights get updates of the
same dynamic range from Adam whatever its fan-in.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

SQRT2 = math.sqrt(2.0)


class EqualDense(nn.Module):
  """Dense layer with equalized learning rate: x (..., Din) -> (..., features)."""

  features: int
  gain: float = SQRT2
  lr_multiplier: float = 1.0
  bias_init: float = 0.0

  @nn.compact
  def __call__(self, x):
    fan_in = x.shape[-1]
    kernel = self.param(
      "kernel", nn.initializers.normal(1.0 / self.lr_multiplier), (fan_in, self.features)
    )
    bias = self.param(
      "bias", nn.initializers.constant(self.bias_init / self.lr_multiplier), (self.features,)
    )
    scale = self.gain / math.sqrt(fan_in) * self.lr_multiplier
    return x @ (kernel * scale) + bias * self.lr_multiplier


class EqualConv(nn.Module):
  """Stride-1 'SAME' convolution with equalized learning rate: (B, H, W, Cin) -> (B, H, W,
  features)."""

  features: int
  kernel_size: int = 3
  gain: float = SQRT2

  @nn.compact
  def __call__(self, x):
    k = self.kernel_size
    kernel = self.param("kernel", nn.initializers.normal(1.0), (k, k, x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
    scale = self.gain / math.sqrt(k * k * x.shape[-1])
    y = lax.conv_general_dilated(
      x, kernel * scale, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return y + bias


def pixel_norm(x: jax.Array, epsilon: float = 1e-8) -> jax.Array:
  """Each pixel's feature vector scaled to unit root-mean-square over channels (last axis)."""
  return x * lax.rsqrt(jnp.mean(x * x, axis=-1, keepdims=True) + epsilon)


def minibatch_stddev(x: jax.Array, group_size: int = 4) -> jax.Array:
  """Appends one channel: the mean over features of the std over each group of rows.

  x: (B, H, W, C) -> (B, H, W, C + 1). Groups are consecutive rows (0..g-1,
  g..2g-1, ...), so a batch of reals followed by fakes, each a multiple of g
  rows, never mixes the two; g = min(group_size, B) must divide B.
  """
  b, h, w, c = x.shape
  g = min(group_size, b)
  if b % g:
    raise ValueError(f"minibatch stddev groups of {g} rows need a batch divisible by {g}, got {b}")
  y = x.reshape(b // g, g, h, w, c)
  std = jnp.sqrt(jnp.var(y, axis=1) + 1e-8)  # (B/g, H, W, C)
  stat = jnp.mean(std, axis=(1, 2, 3))  # (B/g,)
  stat = jnp.broadcast_to(jnp.repeat(stat, g)[:, None, None, None], (b, h, w, 1))
  return jnp.concatenate([x, stat.astype(x.dtype)], axis=-1)
