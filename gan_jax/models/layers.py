"""Layers with a faster but equivalent formulation on some backends.

`SubpixelConvTranspose` computes exactly what `flax.linen.ConvTranspose` with
'SAME' padding and stride s computes, from the same `kernel` (kh, kw, Cin, Cout)
and `bias` parameters, but as one stride-1 convolution with s*s*Cout output
channels followed by a depth-to-space shuffle. No dilated input appears, in the
forward pass or in the kernel gradient, which on XLA's CPU backend is where a
stride-2 transposed convolution spends its time (benchmarks/RESULTS.md, "Finding: sub-pixel
transposed convolution").

`PhaseConv` computes what `flax.linen.Conv` with 'SAME' padding and stride s
computes, from the same parameters, as a sum of s*s stride-1 convolutions: one
per phase of the input (its rows r, r+s, ... and columns c, c+s, ...), each
with the kernel taps that land on that phase. It multiplies exactly the same
numbers, and its gradients are stride-1 convolutions too, where a strided
convolution's are dilated ones (benchmarks/RESULTS.md, "Finding: XLA's own convolutions and
phase convolutions").

`PhaseConvTranspose` computes what `flax.linen.ConvTranspose` with 'SAME' padding and
stride s computes as s*s stride-1 convolutions, one per phase of the output, each with
only its own kernel taps (3x3, 3x2, 2x3 and 2x2 of a 5x5 kernel at stride 2, where the
sub-pixel form zero-pads all four to 3x3: 36 taps for 25). `PhaseGradientConv` is
`flax.linen.Conv` with 'SAME' padding and stride s, whose forward pass and kernel gradient
are lax's strided convolution and whose input gradient is computed by phases: the
fastest of each on XLA's CPU backend (benchmarks/RESULTS.md, "Finding: DCGAN-28 layers
against PyTorch").

`FourierConv` and `FourierConvTranspose` compute what `flax.linen.Conv` and
`flax.linen.ConvTranspose` with stride 1 and 'SAME' padding compute, from the same
parameters, through a small 2-D discrete Fourier transform: the input and the kernel
are transformed by products with fixed DFT matrices, every frequency then needs one
(B, Cin) x (Cin, Cout) complex product instead of kh*kw real ones per output pixel,
and a last product transforms back. On maps of at most 8x8 with kernels of 5x5 and
more that is 4 to 7 times fewer multiplications, and on XLA's CPU backend it also
avoids a slow path that convolutions take when the kernel is larger than the input
(a 5x5 kernel on a 4x4 map ran at 4 GFLOP/s; benchmarks/RESULTS.md, "Finding: small maps by
DFT").

tests/test_layers.py checks every equivalence, values and gradients.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
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


def _phase_kernel(
  kernel: jnp.ndarray, stride: int
) -> tuple[jnp.ndarray, tuple[int, int], tuple[int, int]]:
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
      sub = jnp.pad(
        sub,
        (
          (off_r - row_lo, row_hi - (off_r + n_r - 1)),
          (off_c - col_lo, col_hi - (off_c + n_c - 1)),
          (0, 0),
          (0, 0),
        ),
      )
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
    raise ValueError(
      f"conv_phases needs height and width divisible by the stride {stride}, got {h}x{w}"
    )
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
        x[:, r::stride, c::stride, :],
        kernel[first_h::stride, first_w::stride].astype(x.dtype),
        (1, 1),
        ((-shift_h, taps_h - 1 + shift_h), (-shift_w, taps_w - 1 + shift_w)),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
      )
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
  y = lax.conv_general_dilated(
    x, stacked.astype(x.dtype), (1, 1), (pad_h, pad_w), dimension_numbers=("NHWC", "HWIO", "NHWC")
  )
  b, h, w, _ = y.shape
  cout = kernel.shape[-1]
  y = y.reshape(b, h, w, stride, stride, cout).transpose(0, 1, 3, 2, 4, 5)
  return y.reshape(b, h * stride, w * stride, cout)


def conv_transpose_phases(x: jnp.ndarray, kernel: jnp.ndarray, stride: int) -> jnp.ndarray:
  """lax.conv_transpose(x, kernel, (s, s), 'SAME') for NHWC x and HWIO kernel, by output phases.

  Output phase (a, b) (rows a, a+s, ..., columns b, b+s, ...) is one stride-1 convolution
  of x with the kernel taps that land on it; the phases are then interleaved.

  Args:
    x: (B, H, W, Cin).
    kernel: (kh, kw, Cin, Cout), as flax.linen.ConvTranspose stores it.
    stride: s.
  Returns:
    (B, H*s, W*s, Cout).
  """
  rows, cols = _phase_taps(kernel.shape[0], stride), _phase_taps(kernel.shape[1], stride)
  phase_rows = []
  for first_r, offset_r, taps_r in rows:
    row = []
    for first_c, offset_c, taps_c in cols:
      padding = ((-offset_r, taps_r - 1 + offset_r), (-offset_c, taps_c - 1 + offset_c))
      row.append(
        lax.conv_general_dilated(
          x,
          kernel[first_r::stride, first_c::stride].astype(x.dtype),
          (1, 1),
          padding,
          dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )
      )
    phase_rows.append(jnp.stack(row, axis=3))  # (B, H, W, s, Cout)
  y = jnp.stack(phase_rows, axis=2)  # (B, H, s, W, s, Cout)
  b, h, _, w, _, cout = y.shape
  return y.reshape(b, h * stride, w * stride, cout)


def _conv_strided(x, kernel, stride):
  return lax.conv_general_dilated(
    x, kernel.astype(x.dtype), (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
  )


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def conv_phase_gradient(x: jnp.ndarray, kernel: jnp.ndarray, stride: int) -> jnp.ndarray:
  """lax.conv_general_dilated(x, kernel, (s, s), 'SAME') for NHWC x and HWIO kernel, whose
  input gradient is computed by phases (`conv_phases`'s) and kernel gradient by lax.

  Args:
    x: (B, H, W, Cin), H and W divisible by s.
    kernel: (kh, kw, Cin, Cout), as flax.linen.Conv stores it.
    stride: s.
  Returns:
    (B, H/s, W/s, Cout).
  """
  return _conv_strided(x, kernel, stride)


def _conv_phase_gradient_forward(x, kernel, stride):
  return _conv_strided(x, kernel, stride), (x, kernel)


def _conv_phase_gradient_backward(stride, residuals, cotangent):
  x, kernel = residuals
  _, input_pullback = jax.vjp(lambda x: conv_phases(x, kernel, stride), x)
  _, kernel_pullback = jax.vjp(lambda kernel: _conv_strided(x, kernel, stride), kernel)
  return input_pullback(cotangent)[0], kernel_pullback(cotangent)[0]


conv_phase_gradient.defvjp(_conv_phase_gradient_forward, _conv_phase_gradient_backward)


def same_padding(kernel: int, transpose: bool) -> tuple[int, int]:
  """(low, high) padding of a stride-1 'SAME' convolution (transpose: lax.conv_transpose's rule).

  They differ for even kernels only: Conv puts the odd pixel high, ConvTranspose low.
  """
  low = _same_transpose_padding(kernel, 1) if transpose else (kernel - 1) // 2
  return low, kernel - 1 - low


@functools.lru_cache(maxsize=64)
def _fourier_matrices(
  size: tuple[int, int], kernel: tuple[int, int], padding: tuple[tuple[int, int], ...]
):
  """DFT matrices of a stride-1 convolution computed as a circular one (float64 numpy).

  The circular length per dim is large enough that no output reads a wrapped-around
  input. Frequencies are those of a real 2-D FFT: all along H, the first N//2 + 1 along W.

  Returns (forward (H*W, 2F), kernel (2F, kh*kw), inverse (Ho*Wo, 2F)); the 2F axis
  holds each frequency's cosine and sine parts next to each other.
  """
  outs, lengths = [], []
  for n, k, (low, high) in zip(size, kernel, padding):
    lengths.append(max(n + max(low, high), n + low + high - k + 1))
    outs.append(n + low + high - k + 1)
  (nh, nw), (kh, kw) = lengths, kernel
  fh, fw = np.meshgrid(np.arange(nh), np.arange(nw // 2 + 1), indexing="ij")
  fh, fw = fh.ravel(), fw.ravel()

  def angles(rows, cols):  # (len(rows) * len(cols), F)
    r, c = np.meshgrid(rows, cols, indexing="ij")
    return 2 * np.pi * (np.outer(r.ravel(), fh) / nh + np.outer(c.ravel(), fw) / nw)

  def cos_sin(theta, scale=1.0):  # (rows, F) angles -> (rows, 2F): cos, -sin of each
    return np.stack([np.cos(theta) * scale, -np.sin(theta) * scale], -1).reshape(theta.shape[0], -1)

  (low_h, _), (low_w, _) = padding
  forward = cos_sin(angles(np.arange(size[0]), np.arange(size[1])))
  # Output i reads input i + t - low through tap t: the kernel's spectrum is sum_t k[t] e^{-i w
  # (low - t)}.
  kernel_dft = cos_sin(angles(low_h - np.arange(kh), low_w - np.arange(kw))).T
  # A real signal's spectrum is Hermitian: the W frequencies other than 0 (and N/2) count twice.
  weight = np.where((fw == 0) | (2 * fw == nw), 1.0, 2.0) / (nh * nw)
  inverse = cos_sin(angles(np.arange(outs[0]), np.arange(outs[1])), weight)  # Re(Y e^{+i theta})
  return (forward, kernel_dft, inverse), tuple(outs)


def conv_fourier(
  x: jnp.ndarray, kernel: jnp.ndarray, padding: Sequence[tuple[int, int]]
) -> jnp.ndarray:
  """lax.conv_general_dilated(x, kernel, (1, 1), padding) for NHWC x and HWIO kernel, by DFT.

  Args:
    x: (B, H, W, Cin).
    kernel: (kh, kw, Cin, Cout).
    padding: ((low, high), (low, high)) for H and W, each at most kernel - 1.
  Returns:
    (B, Ho, Wo, Cout), Ho = H + low + high - kh + 1, in x's and kernel's dtype; float32
    arithmetic (or wider) also for bfloat16 inputs, where each of the transform's three
    products would otherwise round to 8 bits.

  Meant for small maps: the DFT matrices are dense, about (H*W) x (H*W) entries each.
  """
  b, h, w, cin = x.shape
  kh, kw, _, cout = kernel.shape
  padding = tuple((int(low), int(high)) for low, high in padding)
  for (low, high), k in zip(padding, (kh, kw)):
    if not 0 <= low < k or not 0 <= high < k:
      raise ValueError(
        f"conv_fourier needs padding between 0 and kernel - 1 = {k - 1}, got {padding}"
      )
  matrices, (ho, wo) = _fourier_matrices((h, w), (kh, kw), padding)
  dtype = jnp.promote_types(x.dtype, jnp.float32)
  forward, kernel_dft, inverse = (jnp.asarray(m, dtype) for m in matrices)
  freqs = forward.shape[1] // 2
  # Spectra: x_hat (F, 2B, Cin) holds each frequency's [cos part; sin part] of the batch.
  x_hat = jnp.dot(forward.T, x.astype(dtype).transpose(1, 2, 0, 3).reshape(h * w, b * cin))
  x_hat = x_hat.reshape(freqs, 2 * b, cin)
  k_hat = jnp.dot(kernel_dft, kernel.astype(dtype).reshape(kh * kw, cin * cout))
  k_hat = k_hat.reshape(freqs, 2, cin, cout)
  # One complex product per frequency, as two real products of the stacked parts.
  by_cos = jnp.einsum("fbc,fco->fbo", x_hat, k_hat[:, 0])  # [Xc Kc; Xs Kc]
  by_sin = jnp.einsum("fbc,fco->fbo", x_hat, k_hat[:, 1])  # [Xc Ks; Xs Ks]
  real = by_cos[:, :b] - by_sin[:, b:]
  imag = by_sin[:, :b] + by_cos[:, b:]
  y_hat = jnp.stack([real, imag], 1).reshape(2 * freqs, b * cout)
  y = jnp.dot(inverse, y_hat).reshape(ho, wo, b, cout)
  return y.transpose(2, 0, 1, 3).astype(jnp.result_type(x.dtype, kernel.dtype))


class _StridedLayer(nn.Module):
  """A (kh, kw, Cin, features) kernel and a bias, as flax's Conv and ConvTranspose store them,
  applied by the subclass's `compute(x, kernel, stride)`."""

  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int] = (2, 2)
  use_bias: bool = True
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  bias_init: nn.initializers.Initializer = nn.initializers.zeros_init()
  # Computation dtype, as flax's layers take it: x and the (float32) parameters are cast
  # to it. None: the input's dtype promoted with the parameters'.
  dtype: Any = None

  @staticmethod
  def compute(x, kernel, stride):
    raise NotImplementedError

  @nn.compact
  def __call__(self, x):
    if self.strides[0] != self.strides[1]:
      raise ValueError(f"{type(self).__name__} needs equal strides, got {tuple(self.strides)}")
    kh, kw = self.kernel_size
    kernel = self.param("kernel", self.kernel_init, (kh, kw, x.shape[-1], self.features))
    bias = self.param("bias", self.bias_init, (self.features,)) if self.use_bias else None
    if self.dtype is not None:
      x, kernel = x.astype(self.dtype), kernel.astype(self.dtype)
      bias = None if bias is None else bias.astype(self.dtype)
    y = self.compute(x, kernel, self.strides[0])
    if bias is not None:
      y = y + bias
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


class PhaseConvTranspose(_StridedLayer):
  """Drop-in for nn.ConvTranspose(features, kernel_size, strides=(s, s), padding='SAME').

  Same parameter names, shapes and initializers; same outputs up to float rounding.
  """

  compute = staticmethod(conv_transpose_phases)


class PhaseGradientConv(_StridedLayer):
  """Drop-in for nn.Conv(features, kernel_size, strides=(s, s), padding='SAME').

  Same parameter names, shapes and initializers; same outputs; the input gradient equal
  up to float rounding.
  """

  compute = staticmethod(conv_phase_gradient)


class FourierConv(_StridedLayer):
  """Drop-in for nn.Conv(features, kernel_size, strides=(1, 1), padding='SAME'), by DFT.

  Same parameter names, shapes and initializers; same outputs up to float rounding.
  """

  strides: Sequence[int] = (1, 1)
  transpose: ClassVar[bool] = False  # whose 'SAME' padding rule: Conv's or ConvTranspose's

  @classmethod
  def compute(cls, x, kernel, stride):
    if stride != 1:
      raise ValueError(f"Fourier convolutions need stride 1, got {stride}")
    return conv_fourier(x, kernel, [same_padding(k, cls.transpose) for k in kernel.shape[:2]])


class FourierConvTranspose(FourierConv):
  """Drop-in for nn.ConvTranspose(features, kernel_size, strides=(1, 1), padding='SAME'), by DFT.

  Same parameter names, shapes and initializers; same outputs up to float rounding.
  """

  transpose: ClassVar[bool] = True


def batch_norm(
  train: bool,
  axis_name: str | None,
  scale_init=nn.initializers.ones,
  dtype: Any = None,
  epsilon: float = 1e-5,
  name: str | None = None,
) -> nn.BatchNorm:
  """`nn.BatchNorm` with PyTorch's defaults, the players' normalization in every model here:
  running statistics moved by 0.1 of each batch's (Flax momentum 0.9), epsilon 1e-5, scales
  from 1 unless `scale_init` says otherwise; batch statistics when `train`, averaged over
  `axis_name`'s devices."""
  return nn.BatchNorm(
    use_running_average=not train,
    momentum=0.9,
    epsilon=epsilon,
    axis_name=axis_name,
    scale_init=scale_init,
    dtype=dtype,
    name=name,
  )
