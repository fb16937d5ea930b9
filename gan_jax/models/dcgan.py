"""DCGAN players (Radford et al. 2016) for square images of 3, 4 or 7 times a power of two
(12, 16, 24, 28, 32, 48, 56, 64, 96, 128, ...), any channel count.

All-convolutional: strided (transposed) convolutions instead of pooling,
BatchNorm in the generator, LeakyReLU(0.2) in the discriminator, tanh output.

Generator for an H x W x C image, H = W = base * 2^n with base 3, 4 or 7 and n >= 1
(`upsampling_depth`: base 7 for 28, 4 for 32 and 64, 3 for 48):
Dense(base*base*F*2^n), BN, act -> ConvT(F*2^(n-1), stride 1), BN, act
-> n-1 ConvT stride 2 halving the width down to F, BN, act -> ConvT(C, stride 2), tanh.
For 28x28 with F=64 this is Dense(7*7*256) -> ConvT 128 s1 -> ConvT 64 s2 -> ConvT C s2.

Discriminator: Conv(F, stride 2), LeakyReLU -> Conv(2F, stride 2) [BN], LeakyReLU
-> ... down to base x base -> Dense(1): logits (B,).

Some layers have faster formulations on CPU (models.layers); the modules take the
one to use as a field ('lax' by default: flax's own layers), and
`models.layer_formulations` picks them for the backend when models are built. Same
parameters and outputs, to float rounding, either way.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.models import initializers
from gan_jax.models.layers import (
  batch_norm,
  FourierConvTranspose,
  PhaseConv,
  PhaseConvTranspose,
  PhaseGradientConv,
  SubpixelConvTranspose,
)
from gan_jax.models.spectral import maybe_spectral_norm

# H = base * 2^n: the generator starts from a base x base map and doubles it n >= 1 times.
BASES = (3, 4, 7)
# With strided_conv='phases' or 'phase_gradient', a layer with fewer input channels than
# this keeps lax's strided convolution: s*s convolutions of a few channels each are slower
# (on CPU, 1 -> 64 channels at 28x28: 32 ms against 12 ms, forward and gradients). With
# conv_transpose='phases', a layer with fewer output channels stays sub-pixel (the image
# layer, 64 -> 1 at 14x14: 3.8-4.0 ms against 5.3 ms; benchmarks/RESULTS.md, "Finding:
# DCGAN step formulations").
PHASE_MIN_CHANNELS = 16


def fourier_pays(size: int, kernel: int) -> bool:
  """Whether a stride-1 convolution of a size x size map is faster by DFT, on XLA's CPU backend.

  Measured there (benchmarks/RESULTS.md, "Finding: small maps by DFT"), forward and both
  gradients: a 5x5 kernel on a 7x7 map 1.8-2.4x faster, on a 4x4 map (a kernel larger
  than the map takes a slow path in XLA's CPU convolutions) about 100x. 3x3 kernels gained
  nothing clear (0.6x to 1.5x between measurements; sub-pixel layers by DFT made a
  DCGAN-28 step slower), so they stay XLA's.
  """
  return kernel > size or (kernel >= 5 and size <= 8)


def _base_of(size) -> int | None:
  """The base in BASES with size = base * 2^n, n >= 1, or None."""
  for base in BASES:
    if (
      isinstance(size, int) and size % (2 * base) == 0 and (size // base) & (size // base - 1) == 0
    ):
      return base
  return None


def supported_sizes(limit: int = 128) -> list[int]:
  """The image sizes DCGAN players make, up to `limit`: [6, 8, 12, 14, 16, 24, 28, 32, ...]."""
  return [size for size in range(1, limit + 1) if _base_of(size)]


def upsampling_depth(image_shape: Sequence[int]) -> tuple[int, int]:
  """(base, n) with height = width = base * 2^n, base in BASES, n >= 1; raises for other shapes.

  Powers of two take base 4 (64 = 4 * 2^4, as Radford et al.), 28 takes 7, 48 takes 3.
  """
  shape = tuple(int(d) for d in image_shape)
  base = _base_of(shape[0]) if len(shape) == 3 and shape[0] == shape[1] else None
  if base is None:
    raise ValueError(
      f"DCGAN image shape {shape} is not supported; accepted: (H, H, C) with H = 3, 4 or 7 "
      f"times a power of two >= 2 ({', '.join(map(str, supported_sizes()))}, ...) and any C; "
      "images of another size can be resized and center-cropped with data.image_size "
      "(--config.data.image_size=32)"
    )
  return base, (shape[0] // base).bit_length() - 1


class DCGANGenerator(nn.Module):
  """z (B, latent) -> images (B, H, W, C) in [-1, 1]."""

  image_shape: Sequence[int]
  features: int = 64
  kernel_size: int = 5
  activation: str = "relu"  # Radford et al.; 'leaky_relu' (slope 0.2) as in TF's tutorial
  # How stride-2 transposed convolutions are computed: 'phases' (one stride-1 convolution
  # per output phase with its own taps, models.layers.PhaseConvTranspose, for layers with
  # at least PHASE_MIN_CHANNELS output channels, sub-pixel below; fastest on CPU),
  # 'subpixel' (one stride-1 convolution and a depth-to-space shuffle,
  # models.layers.SubpixelConvTranspose; much faster gradients on CPU than 'lax') or
  # 'lax' (nn.ConvTranspose).
  conv_transpose: str = "lax"
  # How the first, stride-1 transposed convolution is computed: 'fourier' (by a small
  # DFT, models.layers.FourierConvTranspose; faster on CPU where fourier_pays) or 'lax'.
  first_conv: str = "lax"
  axis_name: str | None = None
  # Kernels, biases and BatchNorm scales (models.initializers): Radford et al.'s N(0, 0.02).
  weight_init: initializers.Initialization = initializers.RADFORD
  # Computation dtype (e.g. jnp.bfloat16); parameters stay float32 and the images come
  # out float32. None: flax's default (float32 here).
  dtype: Any = None

  def _inits(self, in_channels):
    fan_in = in_channels * self.kernel_size**2
    return dict(
      kernel_init=self.weight_init.kernel, bias_init=self.weight_init.bias(fan_in), dtype=self.dtype
    )

  def _upsample(self, features, in_channels, name, use_bias=False):
    k = (self.kernel_size, self.kernel_size)
    inits = self._inits(in_channels)
    if self.conv_transpose == "phases" and features >= PHASE_MIN_CHANNELS:
      return PhaseConvTranspose(features, k, strides=(2, 2), use_bias=use_bias, name=name, **inits)
    if self.conv_transpose in ("subpixel", "phases"):
      return SubpixelConvTranspose(
        features, k, strides=(2, 2), use_bias=use_bias, name=name, **inits
      )
    if self.conv_transpose == "lax":
      return nn.ConvTranspose(
        features, k, strides=(2, 2), padding="SAME", use_bias=use_bias, name=name, **inits
      )
    raise ValueError(
      f"conv_transpose {self.conv_transpose!r} is unknown; accepted: phases, subpixel, lax"
    )

  def _first_conv(self, features):
    k = (self.kernel_size, self.kernel_size)
    inits = self._inits(2 * features)
    if self.first_conv == "fourier":
      return FourierConvTranspose(features, k, use_bias=False, name="ConvTranspose_0", **inits)
    if self.first_conv == "lax":
      return nn.ConvTranspose(
        features, k, strides=(1, 1), padding="SAME", use_bias=False, name="ConvTranspose_0", **inits
      )
    raise ValueError(f"first_conv {self.first_conv!r} is unknown; accepted: fourier, lax")

  def _act(self, x):
    if self.activation == "relu":
      return nn.relu(x)
    if self.activation == "leaky_relu":
      return nn.leaky_relu(x, 0.2)
    raise ValueError(f"activation {self.activation!r} is unknown; accepted: relu, leaky_relu")

  def _bn(self, x, train):
    return batch_norm(train, self.axis_name, self.weight_init.scale, self.dtype)(x)

  @nn.compact
  def __call__(self, z, train: bool = True):
    base, n = upsampling_depth(self.image_shape)
    width = self.features * 2**n
    z = z.reshape(z.shape[0], -1)
    x = nn.Dense(
      base * base * width, use_bias=False, kernel_init=self.weight_init.kernel, dtype=self.dtype
    )(z)
    x = self._act(self._bn(x, train)).reshape(z.shape[0], base, base, width)
    x = self._first_conv(width // 2)(x)
    x = self._act(self._bn(x, train))
    for i in range(n - 1):
      x = self._upsample(self.features * 2 ** (n - 2 - i), x.shape[-1], f"ConvTranspose_{i + 1}")(x)
      x = self._act(self._bn(x, train))
    x = self._upsample(self.image_shape[2], x.shape[-1], f"ConvTranspose_{n}", use_bias=True)(x)
    return jnp.tanh(x).astype(jnp.float32)


class DCGANDiscriminator(nn.Module):
  """Images (B, H, W, C') -> logits (B,); C' may exceed image_shape's C (labels, packs).

  spectral_norm: normalize every layer (SNGAN). return_features: return
  (logits, h) with h (B, base*base*F*2^(n-1)) the flattened last feature map.
  """

  image_shape: Sequence[int]
  features: int = 64
  kernel_size: int = 5
  batch_norm: bool = False
  axis_name: str | None = None
  spectral_norm: bool = False
  return_features: bool = False
  # How stride-2 convolutions are computed: 'phase_gradient' (lax's forward and kernel
  # gradient, the input gradient by phases, models.layers.PhaseGradientConv; fastest on
  # CPU), 'phases' (a sum of 4 stride-1 convolutions, one per input phase,
  # models.layers.PhaseConv), both for layers with at least PHASE_MIN_CHANNELS input
  # channels, or 'lax' (nn.Conv).
  strided_conv: str = "lax"
  # Kernels, biases and BatchNorm scales (models.initializers): Radford et al.'s N(0, 0.02).
  weight_init: initializers.Initialization = initializers.RADFORD
  # Computation dtype (e.g. jnp.bfloat16); parameters stay float32 and the logits (and
  # features) come out float32. None: flax's default (float32 here).
  dtype: Any = None

  def _downsample(self, features, in_channels, name):
    k = (self.kernel_size, self.kernel_size)
    inits = dict(
      kernel_init=self.weight_init.kernel,
      bias_init=self.weight_init.bias(in_channels * self.kernel_size**2),
      dtype=self.dtype,
    )
    layers = {"phase_gradient": PhaseGradientConv, "phases": PhaseConv, "lax": None}
    if self.strided_conv not in layers:
      raise ValueError(
        f"strided_conv {self.strided_conv!r} is unknown; accepted: phase_gradient, phases, lax"
      )
    if layers[self.strided_conv] and in_channels >= PHASE_MIN_CHANNELS:
      return layers[self.strided_conv](features, k, strides=(2, 2), name=name, **inits)
    return nn.Conv(features, k, strides=(2, 2), padding="SAME", name=name, **inits)

  @nn.compact
  def __call__(self, x, train: bool = True):
    _, n = upsampling_depth(self.image_shape)
    sn = dict(spectral_norm=self.spectral_norm, train=train)
    for i in range(n):
      x = maybe_spectral_norm(
        self._downsample(self.features * 2**i, x.shape[-1], f"Conv_{i}"), x, **sn
      )
      if self.batch_norm and i > 0:
        x = batch_norm(train, self.axis_name, self.weight_init.scale, self.dtype)(x)
      x = nn.leaky_relu(x, 0.2)
    h = x.reshape(x.shape[0], -1)
    dense = nn.Dense(
      1,
      kernel_init=self.weight_init.kernel,
      bias_init=self.weight_init.bias(h.shape[-1]),
      dtype=self.dtype,
    )
    logits = maybe_spectral_norm(dense, h, **sn)[:, 0].astype(jnp.float32)
    return (logits, h.astype(jnp.float32)) if self.return_features else logits
