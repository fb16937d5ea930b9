"""Layers with a faster but equivalent formulation on some backends.

`SubpixelConvTranspose` computes exactly what `flax.linen.ConvTranspose` with
'SAME' padding and stride s computes, from the same `kernel` (kh, kw, Cin, Cout)
and `bias` parameters, but as one stride-1 convolution with s*s*Cout output
channels followed by a depth-to-space shuffle. No dilated input appears, in the
forward pass or in the kernel gradient, which on XLA's CPU backend is where a
stride-2 transposed convolution spends its time (benchmarks/RESULTS.md).

`PhaseConv` computes what `flax.linen.Conv` with 'SAME' padding and stride s
computes, from the same parameters, as a sum of s*s stride-1 convolutions: one
per phase of the input (its rows r, r+s, ... and columns c, c+s, ...), each
with the kernel taps that land on that phase. It multiplies exactly the same
numbers, and its gradients are stride-1 convolutions too, where a strided
convolution's are dilated ones (benchmarks/RESULTS.md, finding 8).

tests/test_layers.py checks both equivalences, values and gradients.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp
from jax import lax


def _same_transpose_padding(kernel: int, stride: int) -> int:
  """Low-side padding lax.conv_transpose uses for 'SAME' (of the dilated input)."""
  pad_len = kernel + stride - 2
  return kernel - 1 if stride > kernel - 1 else -(-pad_len // 2)


def _phase_taps(kernel: int, stride: int):
  """For each output phase a: (first tap, input offset of that tap, number of taps)."""
  pad_lo = _same_transpose_padding(kernel, stride)
  phases = []
  for a in range(stride):
    first = (pad_lo - a) % stride
    offset = (a + first - pad_lo) // stride
    count = len(range(first, kernel, stride))
    phases.append((first, offset, count))
  return phases


def _phase_kernel(kernel: jnp.ndarray, stride: int) -> tuple[jnp.ndarray, tuple[int, int], tuple[int, int]]:
  """Stacks every phase's sub-kernel into one (th, tw, Cin, s*s*Cout) kernel.

  Returns the kernel and, per spatial dim, (low padding, high padding) of the
  stride-1 convolution.
  """
  kh, kw, cin, cout = kernel.shape
  rows, cols = _phase_taps(kh, stride), _phase_taps(kw, stride)

  def extent(phases):
    low = min(offset for _, offset, _ in phases)
    high = max(offset + count - 1 for _, offset, count in phases)
    return low, high

  (row_lo, row_hi), (col_lo, col_hi) = extent(rows), extent(cols)
  th, tw = row_hi - row_lo + 1, col_hi - col_lo + 1
  blocks = []
  for first_r, off_r, n_r in rows:
    for first_c, off_c, n_c in cols:
      sub = kernel[first_r::stride, first_c::stride]  # (n_r, n_c, Cin, Cout)
      sub = jnp.pad(sub, ((off_r - row_lo, row_hi - (off_r + n_r - 1)),
                          (off_c - col_lo, col_hi - (off_c + n_c - 1)), (0, 0), (0, 0)))
      blocks.append(sub)
  stacked = jnp.stack(blocks, axis=-2).reshape(th, tw, cin, stride * stride * cout)
  return stacked, (-row_lo, th - 1 + row_lo), (-col_lo, tw - 1 + col_lo)


def _same_padding_low(size: int, kernel: int, stride: int) -> int:
  """Low-side padding of a 'SAME' strided convolution (lax's rule: the odd pixel goes high)."""
  out = -(-size // stride)
  return max((out - 1) * stride + kernel - size, 0) // 2


def conv_phases(x: jnp.ndarray, kernel: jnp.ndarray, stride: int) -> jnp.ndarray:
  """lax.conv_general_dilated(x, kernel, (s, s), 'SAME') for NHWC x and HWIO kernel, by phases.

  Args:
    x: (B, H, W, Cin), H and W divisible by s.
    kernel: (kh, kw, Cin, Cout), as flax.linen.Conv stores it.
    stride: s.
  Returns:
    (B, H/s, W/s, Cout).
  """
  _, h, w, _ = x.shape
  if h % stride or w % stride:
    raise ValueError(f"conv_phases needs height and width divisible by the stride {stride}, got {h}x{w}")
  kh, kw = kernel.shape[:2]
  low_h, low_w = _same_padding_low(h, kh, stride), _same_padding_low(w, kw, stride)
  # Output o reads input s*o + k - low through tap k: input phase r = (k - low) mod s,
  # at row o + (k - low - r) / s of that phase.
  y = None
  for r in range(stride):
    first_h = (r + low_h) % stride
    shift_h = (first_h - low_h - r) // stride
    taps_h = len(range(first_h, kh, stride))
    for c in range(stride):
      first_w = (c + low_w) % stride
      shift_w = (first_w - low_w - c) // stride
      taps_w = len(range(first_w, kw, stride))
      if not taps_h or not taps_w:
        continue
      part = lax.conv_general_dilated(
          x[:, r::stride, c::stride, :], kernel[first_h::stride, first_w::stride].astype(x.dtype), (1, 1),
          ((-shift_h, taps_h - 1 + shift_h), (-shift_w, taps_w - 1 + shift_w)),
          dimension_numbers=("NHWC", "HWIO", "NHWC"))
      y = part if y is None else y + part
  return y


def conv_transpose_subpixel(x: jnp.ndarray, kernel: jnp.ndarray, stride: int) -> jnp.ndarray:
  """lax.conv_transpose(x, kernel, (s, s), 'SAME') for NHWC x and HWIO kernel, via sub-pixels.

  Args:
    x: (B, H, W, Cin).
    kernel: (kh, kw, Cin, Cout), as flax.linen.ConvTranspose stores it.
    stride: s.
  Returns:
    (B, H*s, W*s, Cout).
  """
  stacked, pad_h, pad_w = _phase_kernel(kernel, stride)
  y = lax.conv_general_dilated(x, stacked.astype(x.dtype), (1, 1), (pad_h, pad_w),
                               dimension_numbers=("NHWC", "HWIO", "NHWC"))
  b, h, w, _ = y.shape
  cout = kernel.shape[-1]
  y = y.reshape(b, h, w, stride, stride, cout).transpose(0, 1, 3, 2, 4, 5)
  return y.reshape(b, h * stride, w * stride, cout)


class _StridedLayer(nn.Module):
  """A (kh, kw, Cin, features) kernel and a bias, as flax's Conv and ConvTranspose store them,
  applied by the subclass's `compute(x, kernel, stride)`."""

  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int] = (2, 2)
  use_bias: bool = True
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  bias_init: nn.initializers.Initializer = nn.initializers.zeros_init()

  @staticmethod
  def compute(x, kernel, stride):
    raise NotImplementedError

  @nn.compact
  def __call__(self, x):
    if self.strides[0] != self.strides[1]:
      raise ValueError(f"{type(self).__name__} needs equal strides, got {tuple(self.strides)}")
    kh, kw = self.kernel_size
    kernel = self.param("kernel", self.kernel_init, (kh, kw, x.shape[-1], self.features))
    y = self.compute(x, kernel, self.strides[0])
    if self.use_bias:
      y = y + self.param("bias", self.bias_init, (self.features,))
    return y


class SubpixelConvTranspose(_StridedLayer):
  """Drop-in for nn.ConvTranspose(features, kernel_size, strides=(s, s), padding='SAME').

  Same parameter names, shapes and initializers; same outputs up to float rounding.
  """

  compute = staticmethod(conv_transpose_subpixel)


class PhaseConv(_StridedLayer):
  """Drop-in for nn.Conv(features, kernel_size, strides=(s, s), padding='SAME').

  Same parameter names, shapes and initializers; same outputs up to float rounding.
  """

  compute = staticmethod(conv_phases)
