"""Spectral normalization (Miyato et al. 2018) as a switch on a layer.

`nn.SpectralNorm` divides a layer's kernel by an estimate of its largest
singular value, refined by power iteration each time it runs with
update_stats=True (train mode). It keeps its vectors u and the estimate sigma
in the 'batch_stats' collection, which the state carries in d_collections and
the steps make mutable in train mode.
"""

from __future__ import annotations

import flax.linen as nn


def maybe_spectral_norm(layer: nn.Module, x, *, spectral_norm: bool, train: bool):
  """layer(x), with the layer's kernel spectrally normalized when `spectral_norm`."""
  if spectral_norm:
    return nn.SpectralNorm(layer)(x, update_stats=train)
  return layer(x)
