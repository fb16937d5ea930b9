"""DiffAugment (Zhao et al. 2020): differentiable augmentation of D's inputs for small datasets.

The same random transformation family T is applied to real and fake images
before the discriminator, in both players' steps, so G is trained through T
and never learns to produce augmented images. Every operation is
differentiable in the images. Images are NHWC floats in [-1, 1].

Randomness: a transformation is a function of NUM_UNIFORMS uniforms per
example, `u` (B, 7): `draw(key, B)` makes them and `apply(u, x)` uses them, so
the steps can draw them for the global batch and slice per device.
`DiffAugment(policy)(key, x)` does both at once.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from jax import lax

POLICIES = ("color", "translation", "cutout")
# Columns of u: brightness, saturation, contrast, translation dy, dx, cutout y, x.
NUM_UNIFORMS = 7


def brightness(u: jax.Array, x: jax.Array) -> jax.Array:
  """x + (u - 0.5): one shift per image; u (B,)."""
  return x + (u - 0.5)[:, None, None, None]


def saturation(u: jax.Array, x: jax.Array) -> jax.Array:
  """Scales each pixel's deviation from its channel mean by 2u; u (B,)."""
  mean = jnp.mean(x, axis=3, keepdims=True)
  return (x - mean) * (2.0 * u)[:, None, None, None] + mean


def contrast(u: jax.Array, x: jax.Array) -> jax.Array:
  """Scales the deviation from the image mean by u + 0.5; u (B,)."""
  mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
  return (x - mean) * (u + 0.5)[:, None, None, None] + mean


def translation(u: jax.Array, x: jax.Array, ratio: float = 0.125) -> jax.Array:
  """Shifts each image by integers in [-s, s] (s = round(ratio * size)), zero padding; u (B, 2)."""
  _, height, width, channels = x.shape
  sy, sx = int(height * ratio + 0.5), int(width * ratio + 0.5)
  dy = jnp.minimum(jnp.floor(u[:, 0] * (2 * sy + 1)), 2 * sy).astype(jnp.int32)
  dx = jnp.minimum(jnp.floor(u[:, 1] * (2 * sx + 1)), 2 * sx).astype(jnp.int32)
  padded = jnp.pad(x, ((0, 0), (sy, sy), (sx, sx), (0, 0)))
  crop = lambda image, y0, x0: lax.dynamic_slice(image, (y0, x0, 0), (height, width, channels))
  return jax.vmap(crop)(padded, dy, dx)


def cutout(u: jax.Array, x: jax.Array, ratio: float = 0.5) -> jax.Array:
  """Zeroes one square of side round(ratio * size) at a random centre per image; u (B, 2)."""
  _, height, width, _ = x.shape
  ch, cw = int(height * ratio + 0.5), int(width * ratio + 0.5)
  cy = jnp.floor(u[:, 0] * (height + 1 - ch % 2)).astype(jnp.int32) - ch // 2
  cx = jnp.floor(u[:, 1] * (width + 1 - cw % 2)).astype(jnp.int32) - cw // 2
  rows, cols = jnp.arange(height), jnp.arange(width)
  inside_y = (rows[None] >= cy[:, None]) & (rows[None] < cy[:, None] + ch)  # (B, H)
  inside_x = (cols[None] >= cx[:, None]) & (cols[None] < cx[:, None] + cw)  # (B, W)
  keep = 1.0 - (inside_y[:, :, None] & inside_x[:, None, :]).astype(x.dtype)
  return x * keep[..., None]


@dataclasses.dataclass(frozen=True)
class DiffAugment:
  """T(x) for a policy, a tuple drawn from POLICIES, applied in the order given.

  Attributes:
    policy: e.g. ('color', 'translation', 'cutout'); () is the identity.
    translation_ratio: largest shift as a fraction of the image size (1/8).
    cutout_ratio: side of the cut square as a fraction of the image size (1/2).
  """

  policy: tuple[str, ...] = POLICIES
  translation_ratio: float = 0.125
  cutout_ratio: float = 0.5

  def __post_init__(self):
    policy = tuple(self.policy)
    for name in policy:
      if name not in POLICIES:
        raise ValueError(f"augmentation {name!r} is unknown; accepted: {', '.join(POLICIES)}")
    object.__setattr__(self, "policy", policy)

  def draw(self, key: jax.Array, num: int) -> jax.Array:
    """u: float32 (num, NUM_UNIFORMS) uniforms on [0, 1)."""
    return jax.random.uniform(key, (num, NUM_UNIFORMS))

  def apply(self, u: jax.Array, x: jax.Array) -> jax.Array:
    """T(x) for images x (B, H, W, C) and uniforms u (B, NUM_UNIFORMS)."""
    if self.policy and x.ndim != 4:
      raise ValueError(
        f"DiffAugment needs images (B, H, W, C), got shape {x.shape}; "
        "leave config.augment empty for point data"
      )
    for name in self.policy:
      if name == "color":
        x = contrast(u[:, 2], saturation(u[:, 1], brightness(u[:, 0], x)))
      elif name == "translation":
        x = translation(u[:, 3:5], x, self.translation_ratio)
      else:
        x = cutout(u[:, 5:7], x, self.cutout_ratio)
    return x

  def __call__(self, key: jax.Array, x: jax.Array) -> jax.Array:
    """T(x) with uniforms drawn from `key`; x (B, H, W, C)."""
    return self.apply(self.draw(key, x.shape[0]), x)


def from_policy(text: str) -> DiffAugment | None:
  """'color,translation,cutout' -> DiffAugment; '' or None -> None (no augmentation)."""
  if not text:
    return None
  if not isinstance(text, str):
    raise ValueError(
      f"augment must be a comma-separated string of {', '.join(POLICIES)}, got {text!r}"
    )
  return DiffAugment(tuple(name.strip() for name in text.split(",") if name.strip()))
