"""config.init_from: a fresh run starts from the players of another run's checkpoint."""

import os
import shutil

import jax
import pytest
import numpy as np

from gan_jax import cli, runs, validation
from tests.conftest import load_experiment_config
from tests.test_cli import RING, TINY


def train(workdir, *overrides):
  argv = ["train", "--config", RING, "--workdir", str(workdir), "--no-progress", *TINY]
  return cli.main([*argv, *overrides])


def leaves(tree):
  return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_a_fresh_run_starts_from_the_players_of_another_runs_checkpoint(tmp_path, capsys):
  source = tmp_path / "source"
  assert train(source) == 0  # checkpoints at steps 10 and 20
  frozen = ["--config.g_optimizer.learning_rate=0", "--config.d_optimizer.learning_rate=0"]
  for init_from, step in ((str(source), 20), (f"{source}:10", 10)):
    tuned = tmp_path / f"tuned{step}"
    assert train(tuned, f"--config.init_from={init_from}", "--config.num_steps=1", *frozen) == 0
    _, _, theirs = runs.load_run(str(source), step)
    _, _, ours = runs.load_run(str(tuned))
    assert int(ours.step) == 1  # the step and the optimizers start fresh
    for field in ("g_params", "d_params", "g_collections", "d_collections"):
      for a, b in zip(leaves(getattr(ours, field)), leaves(getattr(theirs, field))):
        np.testing.assert_array_equal(a, b)  # frozen players: still the other run's
  other_width = ["--config.model.generator.hidden=(8, 8)"]
  capsys.readouterr()
  assert train(tmp_path / "bad", f"--config.init_from={source}", *other_width) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith(f"gan-jax: error: init_from '{source}': its g_params")
  assert "has shape (" in err[0] and "accepted: a run of the same players" in err[0]
  assert not [name for name in os.listdir(tmp_path / "bad" / "checkpoints") if name.isdigit()]
  for hidden, difference in (  # players with an array more, or one fewer, than the other run's
    ("(16, 16, 16)", " has no g_params['Dense_3']['bias'] but this run's has shape (2,)"),
    ("(16,)", ": its g_params['Dense_2']['bias'] has shape (2,) but this run has no such array"),
  ):
    hidden = f"--config.model.generator.hidden={hidden}"
    assert train(tmp_path / "bad", f"--config.init_from={source}", hidden) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
      f"gan-jax: error: init_from '{source}'{difference}; accepted: a run of the same players"
    ]
  assert train(tmp_path / "bad", f"--config.init_from={source}:15") == 2
  assert capsys.readouterr().err.strip().splitlines() == [
    f"gan-jax: error: config.init_from '{source}:15': the run in {source} has no checkpoint of "
    f"step 15; accepted: {source}:10, {source}:20 or {source} (the newest)"
  ]
  shutil.rmtree(source)  # a fine-tuned run resumes without the run it started from
  again = [f"--config.init_from={source}", "--config.num_steps=2", *frozen]
  assert train(tmp_path / "tuned20", *again) == 0
  assert int(runs.load_run(str(tmp_path / "tuned20"))[2].step) == 2


def test_init_from_naming_no_run_is_refused_before_anything_is_built(tmp_path, monkeypatch):
  """In Python too: a one-line ValueError naming config.init_from, not a failed write of
  the workdir; and an OSError of ours without an errno is not reported as one either."""
  from gan_jax import train as training
  from tests.conftest import tiny_ring_config

  config = tiny_ring_config()
  config.init_from = str(tmp_path / "missing")
  with pytest.raises(ValueError, match=r"^config.init_from '.*missing': .*missing holds no run"):
    training.train_and_evaluate(config, str(tmp_path / "run"), progress=False)

  def gone(state, init_from):
    raise FileNotFoundError(f"{init_from} holds no run")

  monkeypatch.setattr(training, "initialized_from", gone)
  with pytest.raises(FileNotFoundError, match=r"missing holds no run$"):
    training.train_and_evaluate(config, str(tmp_path / "run2"), progress=False)


def test_the_form_of_init_from(tmp_path):
  assert runs.parse_init_from("runs/a:20") == ("runs/a", 20)
  assert runs.parse_init_from("runs/a") == ("runs/a", None)
  colon = tmp_path / "run:best"  # a directory whose own name holds a ':'
  colon.mkdir()
  assert runs.parse_init_from(str(colon)) == (str(colon), None)
  for value, message in (
    ("runs/a:abc", "the step after ':' must be a whole number, got 'abc'"),
    ("runs/a:", "the step after ':' must be a whole number, got ''"),
    (":20", "names no directory before ':'"),
  ):
    with pytest.raises(ValueError, match=f"^config.init_from '{value}'.*{message}"):
      runs.parse_init_from(value)
  config = load_experiment_config("ring_gan")
  config.init_from = "runs/a:abc"
  with pytest.raises(ValueError, match="config.init_from 'runs/a:abc': the step after"):
    validation.validate_config(config)
  assert cli.main(["config", "--config", RING, "--config.init_from=runs/a:abc"]) == 2


def test_a_step_of_load_run_must_be_an_integer(tmp_path):
  with pytest.raises(ValueError, match=r"^step must be an integer .*, got '20'$"):
    runs.load_run(str(tmp_path), step="20")


def test_batch_statistics_and_the_ema_come_from_the_other_run(tmp_path):
  """The seeds' MLP GAN (BatchNorm in G) with an EMA: a fresh state initialized from a run
  holds that run's batch statistics and EMA; from a run without an EMA, its EMA starts at
  the other run's generator."""
  from gan_jax import recipes
  from tests.conftest import train_tiny_image_run

  for name, ema in (("ema", "0.9"), ("plain", "0.0")):
    assert train_tiny_image_run(tmp_path, tmp_path / name, f"--config.ema_decay={ema}") == 0
  config, source, with_ema = runs.load_run(str(tmp_path / "ema"))
  _, _, without_ema = runs.load_run(str(tmp_path / "plain"))
  assert jax.tree.leaves(with_ema.g_collections)  # BatchNorm statistics to carry over
  fresh = recipes.recipe_of(config).create_state(config, source.data_shape)
  for other, ema_params in ((with_ema, with_ema.g_ema_params), (without_ema, without_ema.g_params)):
    started = runs.initialized_from(
      fresh, str(tmp_path / ("ema" if other is with_ema else "plain"))
    )
    for ours, theirs in (
      (started.g_collections, other.g_collections),
      (started.d_params, other.d_params),
      (started.g_ema_params, ema_params),
      (started.g_ema_collections, other.g_ema_collections or other.g_collections),
    ):
      for a, b in zip(leaves(ours), leaves(theirs), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(started.step) == 0
    for a, b in zip(leaves(started.g_opt_state), leaves(fresh.g_opt_state), strict=True):
      np.testing.assert_array_equal(a, b)  # the optimizer starts fresh


def test_a_seed_sweep_refuses_init_from():
  from gan_jax import sweep
  from tests.conftest import tiny_ring_config

  config = tiny_ring_config()
  config.init_from = "runs/elsewhere"
  with pytest.raises(ValueError, match="init_from 'runs/elsewhere': a seed sweep starts each"):
    sweep.train_seeds(config, [0, 1])
