"""SRResNet generator (SRGAN's, Ledig et al. 2017), small.

Low-resolution images (B, h, w, C) in [-1, 1] -> (B, h * scale, w * scale, C) in
[-1, 1]: a 3x3 convolution, `num_blocks` residual blocks (conv-ReLU-conv plus
the input), a long skip, then log2(scale) sub-pixel upsampling stages (a
convolution to 4x the features and a 2x depth-to-space shuffle, ReLU) and a
3x3 convolution with tanh. No normalization (as in EDSR), so no batch statistics.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp


def depth_to_space(x: jnp.ndarray, block: int) -> jnp.ndarray:
  """(B, H, W, C * block**2) -> (B, H * block, W * block, C) (pixel shuffle)."""
  b, h, w, c = x.shape
  channels = c // (block * block)
  x = x.reshape(b, h, w, block, block, channels).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, h * block, w * block, channels)


class SRResNet(nn.Module):
  """Images (B, h, w, C) -> images (B, h * scale, w * scale, out_channels) in [-1, 1]."""

  features: int = 32
  num_blocks: int = 4
  scale: int = 2
  out_channels: int = 1

  @nn.compact
  def __call__(self, x, train: bool = False):
    del train
    if self.scale not in (2, 4):
      raise ValueError(f"SRResNet scale must be 2 or 4, got {self.scale!r}")
    y = head = nn.relu(nn.Conv(self.features, (3, 3))(x))
    for _ in range(self.num_blocks):
      y = y + nn.Conv(self.features, (3, 3))(nn.relu(nn.Conv(self.features, (3, 3))(y)))
    y = nn.Conv(self.features, (3, 3))(y) + head
    for _ in range(self.scale // 2):
      y = nn.relu(depth_to_space(nn.Conv(self.features * 4, (3, 3))(y), 2))
    return jnp.tanh(nn.Conv(self.out_channels, (3, 3))(y))
