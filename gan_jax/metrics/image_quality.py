"""Pixel-level image quality: PSNR and SSIM, per image, in pure jnp.

Images are (N, H, W, C) float arrays on a common scale whose range is
`data_range` (2.0 for images in [-1, 1], 255 for uint8 values).

  PSNR = 10 log10(data_range^2 / MSE)           (inf for identical images)
  SSIM = mean over windows of (2 mu_x mu_y + C1)(2 s_xy + C2) /
         ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2))
with Gaussian windows of size 7 and sigma 1.5 (Wang et al. 2004 use 11; 7
suits 28x28 images), 'valid' windows only, biased (1/N) local moments,
C1 = (0.01 L)^2, C2 = (0.03 L)^2; channels are averaged.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

SSIM_WINDOW = 7
SSIM_SIGMA = 1.5


def _check(a, b):
  if a.shape != b.shape or a.ndim != 4:
    raise ValueError(f"images must both be (N, H, W, C) of one shape, got {a.shape} and {b.shape}")


def mse(a: jax.Array, b: jax.Array) -> jax.Array:
  """(N,) mean squared error per image."""
  _check(a, b)
  return jnp.mean((jnp.asarray(a, jnp.float32) - jnp.asarray(b, jnp.float32)) ** 2, axis=(1, 2, 3))


def psnr(a: jax.Array, b: jax.Array, data_range: float = 2.0) -> jax.Array:
  """(N,) peak signal-to-noise ratio in dB per image."""
  return 10.0 * jnp.log10(data_range**2 / mse(a, b))


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> jax.Array:
  """(size,) normalized 1-D Gaussian weights."""
  x = jnp.arange(size, dtype=jnp.float32) - (size - 1) / 2.0
  w = jnp.exp(-(x**2) / (2.0 * sigma**2))
  return w / jnp.sum(w)


def _filter(x: jax.Array, window: jax.Array) -> jax.Array:
  """Separable 'valid' filtering of (N, H, W, C) with the 1-D window on H and W, per channel."""
  n, h, w, c = x.shape
  x = jnp.moveaxis(x, -1, 1).reshape(n * c, h, w, 1)
  kernel = jnp.outer(window, window)[:, :, None, None]
  y = jax.lax.conv_general_dilated(
    x, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
  )
  return jnp.moveaxis(y.reshape(n, c, y.shape[1], y.shape[2]), 1, -1)


def ssim(
  a: jax.Array,
  b: jax.Array,
  data_range: float = 2.0,
  window_size: int = SSIM_WINDOW,
  sigma: float = SSIM_SIGMA,
) -> jax.Array:
  """(N,) structural similarity per image, in [-1, 1]; 1 for identical images."""
  _check(a, b)
  if min(a.shape[1:3]) < window_size:
    raise ValueError(f"SSIM window {window_size} is larger than the images {a.shape[1:3]}")
  a, b = jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32)
  window = gaussian_window(window_size, sigma)
  mu_a, mu_b = _filter(a, window), _filter(b, window)
  var_a = _filter(a * a, window) - mu_a**2
  var_b = _filter(b * b, window) - mu_b**2
  cov = _filter(a * b, window) - mu_a * mu_b
  c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
  index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
    (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
  )
  return jnp.mean(index, axis=(1, 2, 3))
