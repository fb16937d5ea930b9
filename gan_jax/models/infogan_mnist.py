"""The players of InfoGAN's MNIST experiment (Chen et al. 2016, appendix C.1; openai/InfoGAN's
'mnist' network), for images of any size divisible by 4.

  D: conv 64 4x4 s2, lrelu; conv 128 4x4 s2, BN, lrelu; FC 1024, BN, lrelu; FC 1.
  G: FC 1024, BN, relu; FC (H/4)(W/4)128, BN, relu; deconv 64 4x4 s2, BN, relu;
     deconv C 4x4 s2, tanh.

D's FC 1024 layer is the shared body: with return_features=True, D returns (logits,
that layer's output), on which InfoGAN puts its Q head. Weights N(0, 0.02), as the
authors' code and Radford et al. conv_transpose='subpixel' and strided_conv='phases' compute
the same layers faster on CPU (models.layers); the builder picks them there.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.models import initializers
from gan_jax.models.layers import PhaseConv, SubpixelConvTranspose, batch_norm


def _check_shape(image_shape: Sequence[int]) -> None:
  if len(image_shape) != 3 or image_shape[0] % 4 or image_shape[1] % 4:
    raise ValueError(
      f"infogan_mnist image shape {tuple(image_shape)} is not supported; "
      f"accepted: (H, W, C) with H and W multiples of 4, e.g. (28, 28, 1)"
    )


class InfoGANMNISTGenerator(nn.Module):
  """z (B, latent) -> images (B, H, W, C) in [-1, 1]."""

  image_shape: Sequence[int]
  hidden: int = 1024
  features: int = 64
  conv_transpose: str = "lax"  # or 'subpixel'
  axis_name: str | None = None
  weight_init: initializers.Initialization = initializers.RADFORD

  def _deconv(self, features, use_bias, name):
    layers = {"lax": nn.ConvTranspose, "subpixel": SubpixelConvTranspose}
    if self.conv_transpose not in layers:
      raise ValueError(
        f"conv_transpose {self.conv_transpose!r} is unknown; accepted: lax, subpixel"
      )
    kwargs = {"padding": "SAME"} if self.conv_transpose == "lax" else {}
    return layers[self.conv_transpose](
      features,
      (4, 4),
      strides=(2, 2),
      use_bias=use_bias,
      kernel_init=self.weight_init.kernel,
      name=name,
      **kwargs,
    )

  def _bn(self, x, train):
    return batch_norm(train, self.axis_name, self.weight_init.scale)(x)

  @nn.compact
  def __call__(self, z, train: bool = True):
    _check_shape(self.image_shape)
    h, w, c = self.image_shape
    init = dict(kernel_init=self.weight_init.kernel, use_bias=False)
    x = z.reshape(z.shape[0], -1)
    x = nn.relu(self._bn(nn.Dense(self.hidden, **init)(x), train))
    x = nn.relu(self._bn(nn.Dense(h // 4 * w // 4 * 2 * self.features, **init)(x), train))
    x = x.reshape(x.shape[0], h // 4, w // 4, 2 * self.features)
    x = nn.relu(self._bn(self._deconv(self.features, False, "Deconv_0")(x), train))
    return jnp.tanh(self._deconv(c, True, "Deconv_1")(x))


class InfoGANMNISTDiscriminator(nn.Module):
  """Images (B, H, W, C) -> logits (B,), or (logits, features (B, hidden)) with return_features."""

  image_shape: Sequence[int]
  hidden: int = 1024
  features: int = 64
  batch_norm: bool = True
  return_features: bool = False
  strided_conv: str = "lax"  # or 'phases'
  axis_name: str | None = None
  weight_init: initializers.Initialization = initializers.RADFORD

  def _bn(self, x, train):
    if not self.batch_norm:
      return x
    return batch_norm(train, self.axis_name, self.weight_init.scale)(x)

  @nn.compact
  def __call__(self, x, train: bool = True):
    _check_shape(self.image_shape)
    init = dict(kernel_init=self.weight_init.kernel)
    x = nn.Conv(self.features, (4, 4), strides=(2, 2), padding="SAME", name="Conv_0", **init)(x)
    x = nn.leaky_relu(x, 0.1)
    layers = {"lax": nn.Conv, "phases": PhaseConv}
    if self.strided_conv not in layers:
      raise ValueError(f"strided_conv {self.strided_conv!r} is unknown; accepted: lax, phases")
    kwargs = {"padding": "SAME"} if self.strided_conv == "lax" else {}
    x = layers[self.strided_conv](
      2 * self.features, (4, 4), strides=(2, 2), name="Conv_1", **init, **kwargs
    )(x)
    x = nn.leaky_relu(self._bn(x, train), 0.1)
    h = nn.Dense(self.hidden, **init)(x.reshape(x.shape[0], -1))
    h = nn.leaky_relu(self._bn(h, train), 0.1)
    logits = nn.Dense(1, **init)(h)[:, 0]
    return (logits, h) if self.return_features else logits
