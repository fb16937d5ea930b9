"""Image resampling for multi-scale GANs: padding to a power-of-two canvas, box
downsampling, nearest and bilinear upsampling, and the Laplacian pyramid.

All functions take NHWC float arrays (B, H, W, C) and are pure and jittable.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

BACKGROUND = -1.0  # the value of an empty pixel in [-1, 1] images (black)


def canvas_size(height: int) -> int:
  """The smallest power of two >= height: 28 -> 32, 8 -> 8."""
  return 1 << (int(height) - 1).bit_length()


def pad_to_canvas(x: jax.Array, size: int) -> jax.Array:
  """(B, H, W, C) -> (B, size, size, C), centred, the border filled with BACKGROUND (-1).

  Fashion-MNIST 28x28 becomes 32x32 with a 2-pixel black border.
  """
  h, w = x.shape[1:3]
  if size < h or size < w:
    raise ValueError(f"canvas size {size} is smaller than the image {h}x{w}")
  top, left = (size - h) // 2, (size - w) // 2
  return jnp.pad(
    x, ((0, 0), (top, size - h - top), (left, size - w - left), (0, 0)), constant_values=BACKGROUND
  )


def crop_center(x: jax.Array, height: int, width: int) -> jax.Array:
  """The inverse of `pad_to_canvas`: the centred (B, height, width, C) window."""
  h, w = x.shape[1:3]
  top, left = (h - height) // 2, (w - width) // 2
  return x[:, top : top + height, left : left + width]


def downsample(x: jax.Array, factor: int = 2) -> jax.Array:
  """Average pooling by `factor` (box filter): (B, H, W, C) -> (B, H/f, W/f, C)."""
  if factor == 1:
    return x
  b, h, w, c = x.shape
  if h % factor or w % factor:
    raise ValueError(f"downsample by {factor} needs H and W divisible by it, got {h}x{w}")
  return x.reshape(b, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


def upsample_nearest(x: jax.Array, factor: int = 2) -> jax.Array:
  """Nearest-neighbour upsampling: each pixel becomes a factor x factor block."""
  if factor == 1:
    return x
  return jnp.repeat(jnp.repeat(x, factor, axis=1), factor, axis=2)


def upsample_bilinear(x: jax.Array, factor: int = 2) -> jax.Array:
  """Bilinear upsampling by `factor` (jax.image.resize, half-pixel centres)."""
  b, h, w, c = x.shape
  return jax.image.resize(x, (b, h * factor, w * factor, c), method="bilinear")


def laplacian_pyramid(x: jax.Array, num_levels: int) -> tuple[list[jax.Array], list[jax.Array]]:
  """The Laplacian pyramid of x (B, H, W, C), coarsest level first.

  low-pass images I_0 (coarsest, H/2^(L-1)) ... I_{L-1} = x, each the box
  downsample of the next; bands h_0 = I_0 and h_l = I_l - up(I_{l-1}) with
  bilinear `up`. So I_l = up(I_{l-1}) + h_l exactly (up to float rounding).
  Returns:
    (bands [h_0, ..., h_{L-1}], lowpass [I_0, ..., I_{L-1}]).
  """
  lowpass = [x]
  for _ in range(num_levels - 1):
    lowpass.insert(0, downsample(lowpass[0]))
  bands = [lowpass[0]] + [
    lowpass[l] - upsample_bilinear(lowpass[l - 1]) for l in range(1, num_levels)
  ]
  return bands, lowpass
