"""The train step's XLA options: convolutions to XLA's own CPU kernels, the rest unchanged."""

import jax
import jax.numpy as jnp
import pytest
from jax import lax

from gan_jax import xla_options

pytestmark = pytest.mark.skipif(
  jax.default_backend() != "cpu", reason="the options are for XLA:CPU"
)


def _conv_then_dense(x, w, m):
  y = lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
  return jnp.tanh(y.reshape(y.shape[0], -1) @ m)


def test_cpu_steps_compile_convolutions_outside_ynnpack_and_matrix_products_inside():
  assert xla_options.step_compiler_options() == xla_options.CPU_STEP_OPTIONS
  # Large enough for YNNPACK to take both by default (it leaves tiny ones to XLA).
  args = (jnp.ones((8, 7, 7, 64)), jnp.ones((5, 5, 64, 128)), jnp.ones((7 * 7 * 128, 64)))
  default = jax.jit(_conv_then_dense).lower(*args).compile().as_text()
  ours = xla_options.jit(_conv_then_dense).lower(*args).compile().as_text()
  # XLA's default hands both to YNNPACK: two ynn fusions; ours keeps only the product's.
  assert default.count('"kind":"__ynn_fusion"') == 2
  assert ours.count('"kind":"__ynn_fusion"') == 1
  assert " convolution(" in ours


def test_a_program_without_convolutions_compiles_to_the_same_code():
  def mlp(x, a, b):
    return jnp.sum(jnp.tanh(jnp.tanh(x @ a) @ b), axis=1)

  args = (jnp.ones((64, 100)), jnp.ones((100, 128)), jnp.ones((128, 128)))
  default = jax.jit(mlp).lower(*args).compile().as_text()
  ours = xla_options.jit(mlp).lower(*args).compile().as_text()
  assert ours == default
