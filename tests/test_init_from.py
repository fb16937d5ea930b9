"""config.init_from: a fresh run starts from the players of another run's checkpoint."""

import os

import jax
import numpy as np

from gan_jax import cli, runs
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
