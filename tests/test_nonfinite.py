"""NaN or Inf in a step: the run stops naming the step and the player, or skips and counts."""

import functools
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_jax import cli, data, guards, recipes, runs, steps, train
from tests.conftest import CONFIG_DIR, tiny_ring_config

RING = os.path.join(CONFIG_DIR, "ring_gan.py")
TINY = [
  "--config.num_steps=20",
  "--config.steps_per_call=1",
  "--config.batch_size=32",
  "--config.log_every=5",
  "--config.sample_every=100",
  "--config.checkpoint_every=5",
  "--config.model.generator.hidden=(16, 16)",
  "--config.model.discriminator.hidden=(16, 16)",
]


def poisoned_train_step(state, batch, *, axis_name=None, player="d", at_step=13, onwards=False):
  """steps.train_step, but `player`'s new parameters are NaN after step `at_step` (and after
  every later step when `onwards`)."""
  new, metrics = steps.train_step(state, batch, axis_name=axis_name)
  field = f"{player}_params"
  bad = new.step >= at_step if onwards else new.step == at_step
  poisoned = jax.tree.map(lambda p: jnp.where(bad, p * jnp.nan, p), getattr(new, field))
  return new.replace(**{field: poisoned}), metrics


for _player in ("d", "g"):
  recipes.register_recipe(
    recipes.Recipe(
      f"poison_{_player}_at_13", train_step=functools.partial(poisoned_train_step, player=_player)
    )
  )


recipes.register_recipe(
  recipes.Recipe(
    "poison_d_from_13", train_step=functools.partial(poisoned_train_step, player="d", onwards=True)
  )
)


def run_step(policy, player, state=None, num_steps=1):
  config = tiny_ring_config()
  source = data.make_data_source(config)
  state = state or recipes.RECIPES["gan"].create_state(config, source.data_shape)
  step = jax.jit(
    guards.guard_train_step(
      functools.partial(poisoned_train_step, player=player, at_step=int(state.step) + 1), policy
    )
  )
  batch = {"x": source.sample(source.arrays, jax.random.PRNGKey(0), 32)["x"][None]}
  return state, step(state, batch)


def leaves(tree):
  return [np.asarray(x) for x in jax.tree.leaves(tree)]


@pytest.mark.parametrize(
  "player, expected",
  [
    ("d", "the discriminator (d_params)"),
    ("g", "the generator (g_params)"),
  ],
)
def test_stop_flags_the_player_of_a_nonfinite_update(player, expected):
  _, (new, metrics) = run_step("stop", player)
  flags = int(metrics[guards.FLAGS_KEY])
  assert guards.describe(flags) == expected
  monitor = guards.NonFiniteMonitor("stop")
  monitor.push(7, metrics[guards.FLAGS_KEY])
  with pytest.raises(guards.NonFiniteError) as error:
    monitor.settle()
  assert str(error.value) == f"non-finite values (NaN or Inf) at step 7 in {expected}"


def test_skip_keeps_the_old_player_and_advances_the_step():
  old, (new, metrics) = run_step("skip", "d")
  assert int(new.step) == int(old.step) + 1
  for a, b in zip(leaves((old.d_params, old.d_opt_state)), leaves((new.d_params, new.d_opt_state))):
    np.testing.assert_array_equal(a, b)
  assert all(np.all(np.isfinite(x)) for x in leaves(new.g_params))
  assert any(not np.array_equal(a, b) for a, b in zip(leaves(old.g_params), leaves(new.g_params)))
  monitor = guards.NonFiniteMonitor("skip", skipped_d=2)
  monitor.push(1, metrics[guards.FLAGS_KEY])
  monitor.settle()
  assert monitor.counts() == {"skipped_d_updates": 3, "skipped_g_updates": 0}


def test_skip_ends_a_run_whose_every_step_is_bad_but_passes_over_a_bad_stretch():
  d_flag = jnp.int32(guards.D_MASK & -guards.D_MASK)  # one discriminator check failed
  limit = guards.MAX_STEPS_SKIPPED_IN_A_ROW
  monitor = guards.NonFiniteMonitor("skip")
  for step in range(1, limit):  # one step short of the limit, then a good step
    monitor.push(step, d_flag)
  monitor.push(limit, jnp.int32(0))
  monitor.settle()
  for step in range(limit + 1, 2 * limit):
    monitor.push(step, d_flag)
  monitor.settle()
  assert monitor.counts()["skipped_d_updates"] == 2 * limit - 2
  monitor.push(2 * limit, jnp.stack([d_flag]))  # a fused call's flags: the limit-th bad step
  with pytest.raises(guards.NonFiniteError, match=f"steps {limit + 1} to {2 * limit} all skipped"):
    monitor.settle()


def test_a_finite_step_is_bit_identical_to_the_unguarded_one():
  config = tiny_ring_config()
  source = data.make_data_source(config)
  state = recipes.RECIPES["gan"].create_state(config, source.data_shape)
  plain = train.sampled_train_step
  results = []
  for train_step in (steps.train_step, guards.guard_train_step(steps.train_step, "skip")):
    fn = jax.jit(
      functools.partial(plain, sample=source.sample, local_batch=32, train_step=train_step)
    )
    s = state
    for _ in range(5):
      s, _ = fn(s, source.arrays)
    results.append(leaves(s))
  for a, b in zip(*results):
    np.testing.assert_array_equal(a, b)


def steps_of(path):
  return [json.loads(line)["step"] for line in open(path)]


def test_a_nan_stops_the_run_at_its_step_and_the_last_good_checkpoint_stays(tmp_path, capsys):
  workdir = tmp_path / "run"
  argv = [
    "train",
    "--config",
    RING,
    "--workdir",
    str(workdir),
    "--no-progress",
    *TINY,
    "--config.recipe='poison_d_at_13'",
  ]
  assert cli.main(argv) == 1
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1, err
  assert err[0].startswith(
    "gan-jax: error: non-finite values (NaN or Inf) at step 13 in the "
    "discriminator (d_params); stopped without saving it (the newest "
    "checkpoint is step 10)"
  ), err
  assert sorted(int(s) for s in os.listdir(workdir / "checkpoints") if s.isdigit()) == [5, 10]
  assert steps_of(workdir / "metrics.jsonl") == [5, 10]
  # 'skip' continues from step 10 past the bad update and counts it.
  assert cli.main(argv + ["--config.nonfinite='skip'"]) == 0
  assert (
    "warning: 1 discriminator and 0 generator updates were skipped for non-finite values "
    "(nonfinite='skip')" in capsys.readouterr().out
  )
  records = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
  assert [r["step"] for r in records] == [5, 10, 15, 20]
  assert [r.get("skipped_d_updates") for r in records] == [None, None, 1, 1]
  assert [r.get("skipped_g_updates") for r in records] == [None, None, 0, 0]
  assert all(np.isfinite(r["d_loss"]) for r in records)
  _, _, state = runs.load_run(str(workdir))
  assert all(np.all(np.isfinite(x)) for x in leaves((state.d_params, state.g_params)))


def test_skip_stops_a_run_whose_every_step_from_one_on_is_bad(tmp_path, capsys):
  workdir = tmp_path / "run"
  argv = ["train", "--config", RING, "--workdir", str(workdir), "--no-progress", *TINY]
  argv += ["--config.num_steps=200", "--config.recipe='poison_d_from_13'"]
  assert cli.main(argv + ["--config.nonfinite='skip'"]) == 1
  limit = guards.MAX_STEPS_SKIPPED_IN_A_ROW
  last = 13 + limit - 1
  kept = last // 5 * 5
  assert capsys.readouterr().err.strip().splitlines() == [
    f"gan-jax: error: steps 13 to {last} all skipped an update (non-finite values, last in the "
    "discriminator (d_params)): the run does not recover; nonfinite='skip' passes over "
    f"occasional bad steps, not a run whose every step is bad; the newest checkpoint is step {kept}"
  ]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_all_finite_finds_one_bad_value_in_any_leaf_and_passes_the_largest_finite_ones(bad):
  check = jax.jit(guards.all_finite)
  biggest = np.finfo(np.float32).max
  tree = {"w": jnp.full((3, 4), biggest), "b": jnp.array([-biggest, 0.0]), "count": jnp.arange(3)}
  assert bool(check(tree))
  for name in ("w", "b"):
    poisoned = dict(tree, **{name: tree[name].reshape(-1).at[1].set(bad).reshape(tree[name].shape)})
    assert not bool(check(poisoned)), (name, bad)
  assert bool(check({"count": jnp.arange(3)}))  # integer leaves are not checked


def test_gradient_norm_is_optaxs_global_norm():
  grads = {"a": jax.random.normal(jax.random.PRNGKey(0), (64, 32)), "b": jnp.arange(5.0)}
  np.testing.assert_allclose(steps.gradient_norm(grads), optax.tree.norm(grads), rtol=1e-6)
