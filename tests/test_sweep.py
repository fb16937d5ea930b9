"""Seed sweeps (gan_jax.sweep): seed s of a sweep is the run with config.seed = s."""

import jax
import numpy as np
import optax
import pytest

from gan_jax import builders, guards, sweep, train, validation
from tests.conftest import tiny_ring_config


def max_difference(a, b) -> float:
  return max(
    float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))))
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b))
  )


@pytest.mark.parametrize(
  "recipe_overrides",
  [
    {},
    {"recipe": "pacgan", "variant": {"pack_size": 2}},
  ],
  ids=["gan", "pacgan2"],
)
def test_each_seed_of_a_sweep_matches_its_own_run(tmp_path, recipe_overrides):
  config = tiny_ring_config(
    steps_per_call=10,
    log_every=10,
    sample_every=20,
    checkpoint_every=20,
    ema_decay=0.9,
    **recipe_overrides,
  )
  seeds = [0, 3]
  states = sweep.train_seeds(config, seeds)
  assert sweep.num_seeds(states) == 2
  for index, seed in enumerate(seeds):
    single = config.copy_and_resolve_references()
    single.seed = seed
    alone = train.train_and_evaluate(single, str(tmp_path / f"seed{seed}"), progress=False)
    swept = sweep.select(states, index)
    assert int(swept.step) == int(alone.step) == 20
    np.testing.assert_array_equal(swept.key, alone.key)
    # Batched matmuls may sum in another order: equal up to float32 reassociation.
    assert max_difference(swept.g_params, alone.g_params) < 1e-5
    assert max_difference(swept.d_params, alone.d_params) < 1e-5
    assert max_difference(swept.g_ema_params, alone.g_ema_params) < 1e-5
  # Different seeds trained differently.
  assert max_difference(sweep.select(states, 0).g_params, sweep.select(states, 1).g_params) > 1e-3


def test_a_sweep_refuses_bad_input():
  config = tiny_ring_config()
  with pytest.raises(ValueError, match=r"seeds must be distinct and at least one, got \[1, 1\]"):
    sweep.train_seeds(config, [1, 1])
  with pytest.raises(ValueError, match="parallel='pmap'; accepted: 'device', 'none'"):
    sweep.train_seeds(tiny_ring_config(parallel="pmap"), [0])
  states = sweep.stack([train.recipes.recipe_of(config).create_state(config, (2,))])
  with pytest.raises(ValueError, match="seed index 1 is out of range; the sweep holds 1 seeds"):
    sweep.select(states, 1)


def test_a_diverging_seed_stops_the_sweep_naming_it():
  config = tiny_ring_config(num_steps=4)
  config.g_optimizer.learning_rate = 1e38
  config.d_optimizer.learning_rate = 1e38
  with pytest.raises(guards.NonFiniteError, match=r"seed 5: non-finite values .* at step \d"):
    sweep.train_seeds(config, [5])


def test_the_callback_never_sees_a_state_that_stop_refuses():
  config = tiny_ring_config(num_steps=8)
  config.g_optimizer.learning_rate = 1e38
  config.d_optimizer.learning_rate = 1e38
  seen = []
  with pytest.raises(guards.NonFiniteError, match=r"seed 5: "):
    sweep.train_seeds(config, [5], every=1, callback=lambda step, states: seen.append(step))
  assert len(seen) <= 1  # the first step's state is finite or the sweep stops before it


def test_skip_stops_a_sweep_whose_seed_skips_every_step_as_a_single_run_stops(monkeypatch):
  """Before: 'skip' ran to the end with frozen parameters and no word."""
  monkeypatch.setattr(guards, "MAX_STEPS_SKIPPED_IN_A_ROW", 3)
  config = tiny_ring_config(num_steps=8, nonfinite="skip")
  config.g_optimizer.learning_rate = 1e38
  config.d_optimizer.learning_rate = 1e38
  with pytest.raises(guards.NonFiniteError, match=r"seed 2: steps \d+ to \d+ all skipped"):
    sweep.train_seeds(config, [2])


@pytest.mark.parametrize("seeds", [[0, 2**32], [-1], [0.5], [2**70]])
def test_seeds_outside_config_seeds_range_are_refused(seeds):
  """Before: 2**32 and 0 trained the same run twice, 0.5 became 0, 2**70 overflowed."""
  with pytest.raises(ValueError, match=r"each seed must be"):
    sweep.train_seeds(tiny_ring_config(), seeds)


@pytest.mark.parametrize("schedule", ["cosine", "linear"])
def test_learning_rate_schedules_go_from_the_rate_to_the_final_rate(schedule):
  tx = builders.make_optimizer(
    {
      "name": "sgd",
      "learning_rate": 0.5,
      "schedule": schedule,
      "decay_steps": 10,
      "final_learning_rate": 0.1,
    }
  )
  params = np.zeros((), np.float32)
  opt_state = tx.init(params)
  steps = []
  for _ in range(12):  # gradient 1: the update is minus the learning rate of that update
    update, opt_state = tx.update(np.ones((), np.float32), opt_state, params)
    steps.append(-float(update))
  np.testing.assert_allclose(steps[0], 0.5, rtol=1e-6)
  np.testing.assert_allclose(steps[10:], [0.1, 0.1], rtol=1e-5)
  assert all(a > b for a, b in zip(steps[:10], steps[1:11]))  # decreasing over decay_steps
  if schedule == "linear":
    np.testing.assert_allclose(steps[5], 0.3, rtol=1e-5)
  else:
    np.testing.assert_allclose(steps[5], 0.1 + 0.4 * 0.5 * (1 + np.cos(np.pi * 0.5)), rtol=1e-5)


def test_schedules_are_checked_before_training():
  with pytest.raises(
    ValueError, match="schedule 'cos' is unknown; accepted: constant, cosine, linear"
  ):
    validation.validate_config(
      tiny_ring_config(g_optimizer={"name": "adam", "learning_rate": 1e-3, "schedule": "cos"})
    )
  with pytest.raises(
    ValueError, match="decay_steps must be an integer >= 1 with schedule 'cosine'"
  ):
    builders.make_optimizer(
      {"name": "adam", "learning_rate": 1e-3, "schedule": "cosine"}, "g_optimizer"
    )
  assert isinstance(
    builders.make_optimizer({"name": "adam", "learning_rate": 1e-3}), optax.GradientTransformation
  )


def test_a_fused_call_returns_its_last_steps_metrics_and_every_steps_flags():
  """steps_per_call=3: one call gives the metrics of its third step (as three single steps
  give them) and the non-finite flags of all three; the other steps' metrics are not made."""
  config = tiny_ring_config()
  source = train.data.make_data_source(config)
  state = builders.create_state_from_config(config, source.data_shape)
  single = train.make_loop_step(source, config).step_fn  # jitted already
  fused_config = tiny_ring_config(steps_per_call=3)
  fused = train.make_loop_step(source, fused_config).step_fn
  alone = state
  for _ in range(3):
    alone, last = single(alone, source.arrays)
  together, metrics = fused(state, source.arrays)
  assert metrics[guards.FLAGS_KEY].shape == (3,)
  assert not np.any(metrics[guards.FLAGS_KEY])
  assert set(metrics) == set(last)
  for name, value in last.items():
    if name != guards.FLAGS_KEY:
      assert np.shape(metrics[name]) == np.shape(value), name
      np.testing.assert_allclose(metrics[name], value, rtol=1e-4, atol=1e-5, err_msg=name)
  assert max_difference(together.g_params, alone.g_params) < 1e-5
  sweep_step = sweep.make_sweep_step(source, fused_config, train.recipes.recipe_of(fused_config))
  _, flags = sweep_step(sweep.stack([state, state]), source.arrays)
  assert flags.shape == (2, 3) and flags.dtype == np.int32
