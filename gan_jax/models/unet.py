"""U-Net generator (Ronneberger et al. 2015; pix2pix's generator, Isola et al. 2017), small.

Maps images (B, H, W, Cin) in [-1, 1] to images (B, H, W, out_channels) in [-1, 1]:
`depth` stride-2 4x4 convolutions down (LeakyReLU 0.2), then as many stride-2
transposed convolutions up (ReLU), each concatenated with the encoder feature of
the same size (the skips), a 3x3 convolution and tanh. No normalization, so the
network has no batch statistics. H and W must be divisible by 2**depth.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.models.layers import SubpixelConvTranspose


class UNet(nn.Module):
  """Images (B, H, W, Cin) -> images (B, H, W, out_channels) in [-1, 1]."""

  features: int = 32
  depth: int = 2
  out_channels: int = 1

  @nn.compact
  def __call__(self, x, train: bool = False):
    del train  # no dropout or batch statistics
    h, w = x.shape[1:3]
    if h % (2**self.depth) or w % (2**self.depth):
      raise ValueError(
        f"UNet of depth {self.depth} needs sizes divisible by {2**self.depth}, got {h}x{w}"
      )
    skips = []
    y = nn.Conv(self.features, (3, 3))(x)
    for level in range(self.depth):
      skips.append(y)
      y = nn.leaky_relu(nn.Conv(self.features * 2 ** (level + 1), (4, 4), strides=(2, 2))(y), 0.2)
    for level in reversed(range(self.depth)):
      y = nn.relu(SubpixelConvTranspose(self.features * 2**level, (4, 4), (2, 2))(y))
      y = jnp.concatenate([y, skips[level]], axis=-1)
    y = nn.relu(nn.Conv(self.features, (3, 3))(y))
    return jnp.tanh(nn.Conv(self.out_channels, (3, 3))(y))
