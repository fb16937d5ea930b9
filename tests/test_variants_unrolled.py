"""Unrolled GAN: k = 0 is the plain step, k > 0 looks ahead, k is validated."""

import jax
import numpy as np
import pytest

from gan_jax import steps
from gan_jax.variants import unrolled
from tests.variant_helpers import build, ring_batch, trees_equal


def test_unrolling_zero_steps_is_the_plain_generator_step():
  _, state = build("unrolled", unrolled_steps=0)
  batch = {"x": ring_batch(1, 32)["x"][0]}
  plain, plain_metrics = jax.jit(steps.generator_step)(state, batch)
  unroll, unroll_metrics = jax.jit(unrolled.generator_step)(state, batch)
  assert trees_equal(plain.g_params, unroll.g_params)
  assert float(plain_metrics["g_loss"]) == float(unroll_metrics["g_loss"])


def test_unrolling_changes_the_generator_update_and_one_unrolled_step_is_a_d_update():
  _, state = build("unrolled", unrolled_steps=2)
  real = ring_batch(1, 32)["x"][0]
  plain, _ = jax.jit(steps.generator_step)(state, {"x": real})
  ahead, metrics = jax.jit(unrolled.generator_step)(state, {"x": real})
  assert not trees_equal(plain.g_params, ahead.g_params)
  assert all(np.isfinite(float(v)) for v in metrics.values())
  # One unrolled update with the key of the 'unrolled' stream is the D update with that key.
  fake = jax.random.normal(jax.random.PRNGKey(0), real.shape)
  key = state.key_for("unrolled", 0)
  grads = jax.grad(lambda p: steps.discriminator_loss(state, p, real, fake, key)[0])(state.d_params)
  expected = steps.update_discriminator(state, grads, state.d_collections).d_params
  got = unrolled.unroll_discriminator(state, state.d_params, real, fake, num_steps=1)
  for a, b in zip(jax.tree.leaves(expected), jax.tree.leaves(got)):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_the_d_optimizer_gets_eps_root_and_k_is_validated():
  assert (
    unrolled.differentiable_optimizer_options({"name": "adam", "learning_rate": 1e-3})["eps_root"]
    == 1e-8
  )
  assert "eps_root" not in unrolled.differentiable_optimizer_options(
    {"name": "sgd", "learning_rate": 1e-3}
  )
  with pytest.raises(ValueError, match="variant.unrolled_steps must be an integer >= 0, got -1"):
    build("unrolled", unrolled_steps=-1)
