"""PacGAN (Lin et al. 2018): D judges packs of m samples, all real or all fake.

`PackedDiscriminator` wraps any core discriminator: a batch (B, ...) becomes
B/m packs, concatenated on the last axis, (B/m, m*D) for points and
(B/m, H, W, m*C) for images, and D returns one logit per pack (B/m,). The
losses are means, so the core steps run unchanged (they split D's outputs in
halves, real packs then fake packs). Config: recipe='pacgan',
variant.pack_size (m; PacGAN2 to PacGAN4 are m = 2, 3, 4).
"""

from __future__ import annotations

import flax.linen as nn
import jax

from gan_jax import builders
from gan_jax import state as state_lib
from gan_jax.recipes import Recipe, register_recipe
from gan_jax.variants import positive_int


def pack(x: jax.Array, pack_size: int) -> jax.Array:
  """(B, ..., C) -> (B/m, ..., m*C): consecutive groups of m rows stacked on the last axis."""
  batch = x.shape[0]
  if batch % pack_size:
    raise ValueError(
      f"PacGAN packs {pack_size} samples per D input, so the batch size must be "
      f"divisible by {pack_size}; got {batch}"
    )
  x = x.reshape((batch // pack_size, pack_size) + x.shape[1:])
  x = jax.numpy.moveaxis(x, 1, -2)  # (B/m, ..., m, C)
  return x.reshape(x.shape[:-2] + (pack_size * x.shape[-1],))


class PackedDiscriminator(nn.Module):
  """x (B, ...) -> logits (B/m,): base applied to packs of m samples."""

  base: nn.Module
  pack_size: int = 2

  @nn.compact
  def __call__(self, x, train: bool = True):
    return self.base(pack(x, self.pack_size), train=train)


def create_state(config, data_shape, *, axis_name: str | None = None) -> state_lib.GANState:
  """The core state of config.model with its discriminator packed."""
  pack_size = positive_int(config, "pack_size", 2)
  if config.batch_size % pack_size:
    raise ValueError(
      f"config.batch_size {config.batch_size} is not divisible by "
      f"variant.pack_size {pack_size}; PacGAN needs whole packs"
    )
  generator, discriminator = builders.make_models(config, data_shape, axis_name)
  return builders.create_state_from_config(
    config,
    data_shape,
    players=(generator, PackedDiscriminator(discriminator, pack_size)),
    init_batch_size=pack_size,
  )


RECIPE = register_recipe(Recipe("pacgan", create_state, options=("pack_size",)))
