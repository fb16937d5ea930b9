"""The train step's XLA options: convolutions to XLA's own CPU kernels, the rest unchanged."""

import os
import sys

import jax
import jax.numpy as jnp
import pytest
from jax import lax

from gan_jax import xla_options

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
import xla_cpu_findings as findings  # noqa: E402

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


REGION_ANALYSIS = "xla_cpu_copy_insertion_use_region_analysis"


def _fused_ring_steps(nonfinite: str, *option_sets: dict):
  """The loop's fused step (3 steps per call) of a tiny ring GAN compiled with each of
  `option_sets`; returns (compiled steps, state, data, the shapes of G's parameters)."""
  from gan_jax import builders, data, train
  from tests.conftest import tiny_ring_config

  config = tiny_ring_config(steps_per_call=3, nonfinite=nonfinite)
  source = data.toy_source(data.toy.ring())
  state = builders.create_state_from_config(config, source.data_shape)
  compiled = []
  for options in option_sets:
    with xla_options.cpu_step_options(options):
      runner = train.make_loop_step(source, config)
      state, arrays = runner.put_state(state), runner.put_data(source.arrays)
      compiled.append(runner.step_fn.lower(state, arrays).compile())
  shapes = {findings.hlo_shape(x) for x in jax.tree.leaves(state.g_params)}
  return compiled, state, arrays, shapes


@pytest.mark.parametrize("nonfinite", ["stop", "skip"])
def test_fused_steps_copy_no_parameters_and_keep_the_bits(nonfinite):
  # "Finding: copies of the loop-carried state": without region analysis XLA copies G's
  # parameters (and Adam's moments) at the start of every fused step under the default
  # policy; 'skip' selects between old and new values, which XLA writes without copies.
  without = {k: v for k, v in xla_options.CPU_STEP_OPTIONS.items() if k != REGION_ANALYSIS}
  (ours, theirs), state, arrays, shapes = _fused_ring_steps(
    nonfinite, xla_options.CPU_STEP_OPTIONS, without
  )
  assert xla_options.CPU_STEP_OPTIONS[REGION_ANALYSIS] is True
  copied = [findings.loop_body_copies(c.as_text()) for c in (ours, theirs)]
  assert not shapes.intersection(copied[0])
  if nonfinite == "stop":
    assert len([s for s in copied[1] if s in shapes]) >= len(shapes)
  a = b = state
  for _ in range(3):
    a, metrics_a = ours(a, arrays)
    b, metrics_b = theirs(b, arrays)
  for x, y in zip(jax.tree.leaves((a, metrics_a)), jax.tree.leaves((b, metrics_b)), strict=True):
    assert jnp.array_equal(x, y, equal_nan=True)


def test_an_option_this_xla_refuses_is_dropped_and_the_others_kept():
  unknown = {"xla_cpu_no_such_option_for_this_test": True}
  with xla_options.cpu_step_options({**xla_options.CPU_STEP_OPTIONS, **unknown}):
    options = xla_options.step_compiler_options()
    assert "xla_cpu_no_such_option_for_this_test" in xla_options.CPU_STEP_OPTIONS
  assert options == xla_options.CPU_STEP_OPTIONS  # the shipped ones, restored after the block
  assert "xla_cpu_no_such_option_for_this_test" not in xla_options.CPU_STEP_OPTIONS
