"""A frame-level acoustic model: text features per frame -> log-mel frames (text-to-speech).

A stack of residual dilated 1-D convolutions over time (as in the WaveNet /
Parallel WaveGAN families, here on frames, not samples): every frame sees its
neighbours' characters within the receptive field 1 + (kernel - 1) * sum(dilations).
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp


class FrameGenerator(nn.Module):
  """cond float32 (B, T, F) -> scaled log-mel frames float32 (B, T, num_mels, 1) in (-1, 1)."""

  num_mels: int = 40
  features: int = 64
  kernel_size: int = 3
  dilations: tuple = (1, 2, 4, 8, 1, 2, 4, 8)

  @nn.compact
  def __call__(self, cond, train: bool = False):
    del train
    h = nn.Dense(self.features)(cond)
    for dilation in self.dilations:
      y = nn.Conv(self.features, (self.kernel_size,), kernel_dilation=(dilation,))(
        nn.leaky_relu(h, 0.2)
      )
      h = h + nn.Dense(self.features)(nn.leaky_relu(y, 0.2))
    mels = jnp.tanh(nn.Dense(self.num_mels)(nn.leaky_relu(h, 0.2)))
    return mels[..., None]
