"""PatchGAN discriminator (pix2pix, Isola et al. 2017), small.

Classifies overlapping patches instead of the whole image: `num_layers` 4x4
stride-2 convolutions (LeakyReLU 0.2), a 3x3 convolution, then one logit per
patch. A conditional PatchGAN sees the condition image concatenated to its
input on the channel axis (the caller concatenates: D((x, cond)) = D(concat)).
"""

from __future__ import annotations

import flax.linen as nn


class PatchGAN(nn.Module):
  """Images (B, H, W, C) -> patch logits (B, H / 2**num_layers, W / 2**num_layers)."""

  features: int = 32
  num_layers: int = 2

  @nn.compact
  def __call__(self, x, train: bool = False):
    del train
    for layer in range(self.num_layers):
      x = nn.leaky_relu(nn.Conv(self.features * 2**layer, (4, 4), strides=(2, 2))(x), 0.2)
    x = nn.leaky_relu(nn.Conv(self.features * 2**self.num_layers, (3, 3))(x), 0.2)
    return nn.Conv(1, (3, 3))(x)[..., 0]
