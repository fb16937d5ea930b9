"""The faster formulations of layers compute what flax's layers compute.

SubpixelConvTranspose, PhaseConvTranspose and FourierConvTranspose against
nn.ConvTranspose, PhaseConv, PhaseGradientConv and FourierConv against nn.Conv: same
parameter shapes, same outputs and gradients (second-order ones too, for the gradient
penalties) up to float rounding.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models
from gan_jax.models.layers import (
  FourierConv,
  FourierConvTranspose,
  PhaseConv,
  PhaseConvTranspose,
  PhaseGradientConv,
  SubpixelConvTranspose,
  conv_fourier,
  conv_phases,
)


CASES = (
  [
    (kind, k, s, n)
    for kind in ("transposed", "transposed_phases")
    for k, s, n in [(5, 2, 7), (5, 2, 14), (4, 2, 8), (3, 2, 5), (5, 3, 4)]
  ]
  + [
    (kind, k, s, n)
    for kind in ("strided", "strided_phase_gradient")
    for k, s, n in [(5, 2, 14), (5, 2, 28), (4, 2, 8), (3, 2, 16), (5, 3, 12), (2, 2, 8), (1, 2, 8)]
  ]
  # Stride 1 by DFT: kernels larger than the map, even kernels (where Conv and
  # ConvTranspose pad differently), even and odd circular lengths.
  + [
    (kind, k, 1, n)
    for kind in ("fourier", "fourier_transposed")
    for k, n in [(5, 7), (5, 4), (4, 7), (4, 4), (3, 2), (2, 6), (1, 3)]
  ]
)


@pytest.mark.parametrize("kind, kernel, stride, size", CASES)
def test_fast_layer_equals_flax_layer_values_gradients_and_initial_parameters(
  kind, kernel, stride, size
):
  width = (
    size + 1 if kind.startswith("fourier") else size
  )  # the DFT layers: a map that is not square too
  x = jax.random.normal(jax.random.PRNGKey(0), (2, size, width, 3))
  flax_layer, fast_layer = {
    "transposed": (nn.ConvTranspose, SubpixelConvTranspose),
    "transposed_phases": (nn.ConvTranspose, PhaseConvTranspose),
    "strided": (nn.Conv, PhaseConv),
    "strided_phase_gradient": (nn.Conv, PhaseGradientConv),
    "fourier": (nn.Conv, FourierConv),
    "fourier_transposed": (nn.ConvTranspose, FourierConvTranspose),
  }[kind]
  reference = flax_layer(4, (kernel, kernel), strides=(stride, stride), padding="SAME")
  fast = fast_layer(4, (kernel, kernel), strides=(stride, stride))
  variables = reference.init(jax.random.PRNGKey(1), x)
  mine = fast.init(jax.random.PRNGKey(1), x)
  assert jax.tree.map(jnp.shape, mine) == jax.tree.map(jnp.shape, variables)
  for a, b in zip(jax.tree.leaves(mine), jax.tree.leaves(variables)):  # same initializers
    np.testing.assert_array_equal(a, b)
  np.testing.assert_allclose(fast.apply(variables, x), reference.apply(variables, x), atol=1e-5)
  loss = lambda module: lambda v, x: jnp.sum(jnp.sin(module.apply(v, x)))
  for argnum in (0, 1):
    want = jax.grad(loss(reference), argnums=argnum)(variables, x)
    got = jax.grad(loss(fast), argnums=argnum)(variables, x)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)
  # A gradient penalty differentiates the input gradient again, by the parameters.
  penalty = lambda module: lambda v: jnp.sum(jax.grad(loss(module), argnums=1)(v, x) ** 2)
  want, got = jax.grad(penalty(reference))(variables), jax.grad(penalty(fast))(variables)
  for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
    np.testing.assert_allclose(a, b, atol=1e-3, rtol=1e-4)


@pytest.mark.parametrize("conv_transpose", ["subpixel", "phases"])
def test_dcgan_generator_is_the_same_function_with_either_formulation(conv_transpose):
  z = jax.random.normal(jax.random.PRNGKey(0), (4, 16))
  fast = models.DCGANGenerator((28, 28, 1), features=8, conv_transpose=conv_transpose)
  slow = models.DCGANGenerator((28, 28, 1), features=8, conv_transpose="lax")
  variables = slow.init(jax.random.PRNGKey(1), z, train=False)
  np.testing.assert_allclose(
    fast.apply(variables, z, train=False), slow.apply(variables, z, train=False), atol=1e-5
  )


def test_phase_transposed_layers_take_the_layers_with_enough_output_channels():
  """'phases' computes a layer of at least PHASE_MIN_CHANNELS outputs by output phases (4
  convolutions at stride 2) and a narrower one sub-pixel (one); 'auto' is 'phases' on CPU."""
  z = jax.random.normal(jax.random.PRNGKey(0), (2, 16))
  convolutions = lambda module: str(
    jax.make_jaxpr(lambda z: module.init(jax.random.PRNGKey(1), z, train=False))(z)
  ).count("conv_general_dilated")
  # features 16: ConvTranspose_1 has 16 outputs (phases), the image layer 1 (sub-pixel).
  generator = lambda conv_transpose: models.DCGANGenerator(
    (28, 28, 1), features=16, first_conv="lax", conv_transpose=conv_transpose
  )
  assert convolutions(generator("phases")) == 1 + 4 + 1
  assert convolutions(generator("subpixel")) == 1 + 1 + 1
  auto = models.build_models(
    "dcgan", (28, 28, 1), options={"generator": {"features": 16, "first_conv": "lax"}}
  )[0]
  on_cpu = jax.default_backend() == "cpu"
  assert convolutions(auto) == (1 + 4 + 1 if on_cpu else 3)
  with pytest.raises(
    ValueError, match="conv_transpose 'fft' is unknown; accepted: phases, subpixel, lax"
  ):
    generator("fft").init(jax.random.PRNGKey(1), z)


def assert_same_function(fast, slow, inputs):
  """The same parameter tree and initial values (checkpoints move between the two), and the
  same outputs to 1e-5. Returns the variables."""
  variables = slow.init(jax.random.PRNGKey(1), inputs, train=False)
  fast_variables = fast.init(jax.random.PRNGKey(1), inputs, train=False)
  assert jax.tree.structure(fast_variables) == jax.tree.structure(variables)
  for a, b in zip(jax.tree.leaves(fast_variables), jax.tree.leaves(variables)):
    np.testing.assert_array_equal(a, b)
  np.testing.assert_allclose(
    fast.apply(variables, inputs, train=False),
    slow.apply(variables, inputs, train=False),
    atol=1e-5,
  )
  return variables


def test_dcgan_generator_first_layer_by_dft_is_the_same_function():
  z = jax.random.normal(jax.random.PRNGKey(0), (4, 16))
  for shape in [(28, 28, 1), (32, 32, 3)]:  # a 5x5 kernel on a 7x7 map, and on a 4x4 map
    fast = models.DCGANGenerator(shape, features=8, first_conv="fourier")
    slow = models.DCGANGenerator(shape, features=8, first_conv="lax")
    assert_same_function(fast, slow, z)
  # 'auto', the builder's default, takes the DFT on CPU where it pays (kernel 5 on a 7x7 map),
  # not for 3x3 kernels.
  convolutions = lambda module: str(
    jax.make_jaxpr(lambda z: module.init(jax.random.PRNGKey(1), z, train=False))(z)
  ).count("conv_general_dilated")
  on_cpu = jax.default_backend() == "cpu"
  generator = lambda **options: models.build_models(
    "dcgan", (28, 28, 1), options={"generator": dict(features=8, **options)}
  )[0]
  assert convolutions(generator()) == (2 if on_cpu else 3)
  assert convolutions(generator(kernel_size=3)) == 3
  assert (
    convolutions(generator(first_conv="fourier")) == 2
    and convolutions(generator(first_conv="lax")) == 3
  )
  with pytest.raises(ValueError, match="first_conv 'fft' is unknown; accepted: fourier, lax"):
    models.DCGANGenerator((28, 28, 1), features=8, first_conv="fft").init(jax.random.PRNGKey(1), z)
  with pytest.raises(
    ValueError, match="model.generator.first_conv 'fft' is unknown; accepted: auto, fourier, lax"
  ):
    generator(first_conv="fft")


def test_fourier_convolution_refuses_strides_and_padding_it_cannot_compute():
  x = jnp.zeros((1, 7, 7, 3))
  with pytest.raises(ValueError, match="Fourier convolutions need stride 1, got 2"):
    FourierConv(4, (5, 5), strides=(2, 2)).init(jax.random.PRNGKey(0), x)
  with pytest.raises(
    ValueError, match=r"padding between 0 and kernel - 1 = 4, got \(\(5, 0\), \(2, 2\)\)"
  ):
    conv_fourier(x, jnp.zeros((5, 5, 3, 4)), [(5, 0), (2, 2)])


def test_conv_phases_refuses_a_size_the_stride_does_not_divide():
  with pytest.raises(ValueError, match="divisible by the stride 2, got 7x8"):
    conv_phases(jnp.zeros((1, 7, 8, 3)), jnp.zeros((5, 5, 3, 4)), 2)


@pytest.mark.parametrize("spectral_norm, batch_norm", [(False, False), (True, True)])
def test_dcgan_discriminator_is_the_same_function_with_either_formulation(
  spectral_norm, batch_norm
):
  x = jax.random.normal(jax.random.PRNGKey(0), (4, 32, 32, 3))
  kwargs = dict(features=16, spectral_norm=spectral_norm, batch_norm=batch_norm)
  fast = models.DCGANDiscriminator((32, 32, 3), strided_conv="phases", **kwargs)
  mixed = models.DCGANDiscriminator((32, 32, 3), strided_conv="phase_gradient", **kwargs)
  slow = models.DCGANDiscriminator((32, 32, 3), strided_conv="lax", **kwargs)
  variables = assert_same_function(fast, slow, x)
  assert_same_function(mixed, slow, x)
  # 'auto', the builder's default, is 'phase_gradient' on CPU (measured there) and 'lax'
  # elsewhere; its layers from 16 input channels are custom-gradient ones.
  jaxpr = lambda module: str(jax.make_jaxpr(lambda v: module.apply(v, x, train=False))(variables))
  convolutions = lambda module: jaxpr(module).count("conv_general_dilated")
  custom = lambda module: jaxpr(module).count("custom_vjp_call")
  _, auto = models.build_models("dcgan", (32, 32, 3), options={"discriminator": kwargs})
  assert convolutions(fast) == 1 + 4 + 4 and convolutions(slow) == 3  # Conv_0 has 3 channels
  assert custom(mixed) == 2 and custom(slow) == 0 and custom(fast) == 0
  assert custom(auto) == custom(mixed if jax.default_backend() == "cpu" else slow)
  with pytest.raises(
    ValueError, match="strided_conv 'fft' is unknown; accepted: phase_gradient, phases, lax"
  ):
    models.DCGANDiscriminator((32, 32, 3), strided_conv="fft").init(jax.random.PRNGKey(1), x)
  with pytest.raises(
    ValueError,
    match="model.discriminator.strided_conv 'fft' is unknown; accepted: auto, phase_gradient, "
    "phases, lax",
  ):
    models.build_models("dcgan", (32, 32, 3), options={"discriminator": {"strided_conv": "fft"}})


def test_the_fast_layers_refuse_unequal_strides():
  for layer in (PhaseConv, PhaseGradientConv, PhaseConvTranspose, SubpixelConvTranspose):
    with pytest.raises(ValueError, match=f"{layer.__name__} needs equal strides, got \\(2, 1\\)"):
      layer(4, (3, 3), strides=(2, 1)).init(jax.random.PRNGKey(0), jnp.zeros((1, 8, 8, 3)))
