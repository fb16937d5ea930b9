"""The sub-pixel transposed convolution computes what flax's ConvTranspose computes."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models
from gan_jax.models.layers import SubpixelConvTranspose


@pytest.mark.parametrize("kernel, stride, size", [(5, 2, 7), (5, 2, 14), (4, 2, 8), (3, 2, 5), (5, 3, 4)])
def test_subpixel_equals_conv_transpose_values_and_gradients(kernel, stride, size):
  x = jax.random.normal(jax.random.PRNGKey(0), (2, size, size, 3))
  reference = nn.ConvTranspose(4, (kernel, kernel), strides=(stride, stride), padding="SAME")
  subpixel = SubpixelConvTranspose(4, (kernel, kernel), strides=(stride, stride))
  variables = reference.init(jax.random.PRNGKey(1), x)
  assert jax.tree.map(jnp.shape, subpixel.init(jax.random.PRNGKey(1), x)) == jax.tree.map(jnp.shape, variables)
  np.testing.assert_allclose(subpixel.apply(variables, x), reference.apply(variables, x), atol=1e-5)
  loss = lambda module: lambda v, x: jnp.sum(jnp.sin(module.apply(v, x)))
  for argnum in (0, 1):
    want = jax.grad(loss(reference), argnums=argnum)(variables, x)
    got = jax.grad(loss(subpixel), argnums=argnum)(variables, x)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
      np.testing.assert_allclose(a, b, atol=1e-4, rtol=1e-4)


def test_dcgan_generator_is_the_same_function_with_either_formulation():
  z = jax.random.normal(jax.random.PRNGKey(0), (4, 16))
  fast = models.DCGANGenerator((28, 28, 1), features=8, conv_transpose="subpixel")
  slow = models.DCGANGenerator((28, 28, 1), features=8, conv_transpose="lax")
  variables = slow.init(jax.random.PRNGKey(1), z, train=False)
  np.testing.assert_allclose(fast.apply(variables, z, train=False), slow.apply(variables, z, train=False),
                             atol=1e-5)
