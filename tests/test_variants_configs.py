"""Every variant config ships, names a known recipe and builds its step-0 state through it."""

import importlib.util
import json
import os

import jax
import numpy as np
import pytest

from gan_jax import recipes
from tests.conftest import ROOT, load_experiment_config

VARIANT_CONFIGS = {
  "cgan_fashion_mnist": "conditional",
  "cgan_projection_fashion_mnist": "conditional",
  "acgan_fashion_mnist": "acgan",
  "infogan_fashion_mnist": "infogan",
  "infogan_paper_fashion_mnist": "infogan",
  "unrolled_ring": "unrolled",
  "pacgan_ring": "pacgan",
  "pacgan_ring_best": "pacgan",
  "pacgan_grid_best": "pacgan",
  "wgan_ring": "gan",
  "wgan_gp_ring": "gan",
  "wgan_fashion_mnist": "gan",
  "wgan_gp_fashion_mnist": "gan",
  "sngan_diffaugment_fashion_mnist": "gan",
}


@pytest.mark.parametrize("name", sorted(VARIANT_CONFIGS))
def test_variant_config_builds_through_its_recipe(name):
  config = load_experiment_config(name)
  assert config.recipe == VARIANT_CONFIGS[name]
  data_shape = (2,) if config.data.source == "toy" else (28, 28, 1)
  state = jax.eval_shape(lambda: recipes.recipe_of(config).create_state(config, data_shape))
  assert state.step.shape == () and jax.tree.leaves(state.g_params)


def test_wgan_configs_follow_the_papers():
  wgan = load_experiment_config("wgan_fashion_mnist")
  assert (wgan.loss, wgan.clip_value, wgan.d_steps) == ("wasserstein", 0.01, 5)
  assert wgan.d_optimizer.to_dict() == {"name": "rmsprop", "learning_rate": 5e-5}
  gp = load_experiment_config("wgan_gp_ring")
  assert (gp.gradient_penalty_weight, gp.d_steps) == (10.0, 5)
  assert gp.g_optimizer.to_dict() == {"name": "adam", "learning_rate": 1e-4, "b1": 0.0, "b2": 0.9}


@pytest.mark.parametrize("dataset", ["ring", "grid"])
def test_the_mixture_benchmarks_best_recipe_is_the_shipped_best_config(dataset):
  """mixture.md's `best` rows train pacgan_{ring,grid}_best.py (only the logging cadence
  differs)."""
  path = os.path.join(ROOT, "experiments", "mixture_benchmark.py")
  spec = importlib.util.spec_from_file_location("mixture_benchmark", path)
  benchmark = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(benchmark)
  shipped = load_experiment_config(f"pacgan_{dataset}_best")
  steps = benchmark.RECIPE_STEPS["best"][dataset]
  assert shipped.num_steps == steps
  cadence = ("log_every", "sample_every", "checkpoint_every")

  def drop(config):
    return {k: v for k, v in config.to_dict().items() if k not in cadence}

  assert drop(benchmark.recipe_config("best", dataset, 0, steps)) == drop(shipped)


def test_the_mixture_benchmark_gives_the_same_rows_with_two_jobs(monkeypatch):
  """--jobs 2 trains rows in spawned processes: the same samples and scores as one at a time."""
  monkeypatch.syspath_prepend(os.path.join(ROOT, "experiments"))
  import mixture_benchmark

  tasks = [("gan_ns", "ring", 1, 10), ("hinge", "grid", 1, 10)]
  apart = mixture_benchmark.run_rows(tasks, jobs=2)
  together = mixture_benchmark.run_rows(tasks, jobs=1)
  assert set(apart) == set(together) == {("gan_ns", "ring"), ("hinge", "grid")}
  for row, runs in together.items():
    (run,), (other,) = runs, apart[row]
    np.testing.assert_array_equal(run["points"], other["points"])
    assert (run["modes"], run["high_quality"]) == (other["modes"], other["high_quality"])
    assert other["distribution"] is not None


def test_the_mixture_page_keeps_studies_apart_and_says_when_a_run_is_reduced(monkeypatch, tmp_path):
  """The benchmark's rows (BENCHMARK recipes) form the tables; other recipes go under Studies."""
  monkeypatch.syspath_prepend(os.path.join(ROOT, "experiments"))
  import mixture_benchmark

  stat = {"mean": 0.5, "stderr": 0.1}

  def row(recipe, dataset):
    return {
      "recipe": recipe,
      "dataset": dataset,
      "seeds": 10,
      "steps": 4000,
      "description": mixture_benchmark.RECIPES[recipe][0],
      "modes": stat,
      "high_quality": stat,
      "reverse_kl": stat,
      "seconds_per_run": 6.0,
      "command": "python experiments/mixture_benchmark.py",
      "command_minutes": 42.0,
    }

  assert "gan_ns_lr1e-4" not in mixture_benchmark.BENCHMARK
  full = [row(r, d) for d in mixture_benchmark.DATASETS for r in mixture_benchmark.BENCHMARK]
  path = tmp_path / "mixture.md"
  mixture_benchmark.write_markdown(full + [row("gan_ns_lr1e-4", "ring")], str(path))
  page = path.read_text()
  assert "A reduced run" not in page and "(42.0 min wall-clock)" in page
  benchmark_part, studies_part = page.split("## Studies")
  assert "gan_ns_lr1e-4" in studies_part and "gan_ns_lr1e-4" not in benchmark_part
  assert f"sum to {6.0 * 10 * len(full) / 60:.1f} min of training" in page
  mixture_benchmark.write_markdown(full[1:], str(path))
  assert "A reduced run" in path.read_text()


def test_a_partial_mixture_run_does_not_drop_the_pages_other_rows(monkeypatch, tmp_path, capsys):
  """Before: `--recipes gan_ns --datasets ring` without --merge rewrote mixture.json with its
  one row after training; now it is refused before anything trains."""
  monkeypatch.syspath_prepend(os.path.join(ROOT, "experiments"))
  import mixture_benchmark

  rows = [{"recipe": "gan_ns", "dataset": "ring"}, {"recipe": "hinge", "dataset": "grid"}]
  (tmp_path / "mixture.json").write_text(json.dumps(rows))
  trained = []
  monkeypatch.setattr(mixture_benchmark, "run_rows", lambda *a: trained.append(a) or {})
  args = ["--seeds", "1", "--steps", "2", "--recipes", "gan_ns", "--datasets", "ring"]
  with pytest.raises(SystemExit) as exit_status:
    mixture_benchmark.main([*args, "--out", str(tmp_path)])
  assert exit_status.value.code == 2 and not trained
  assert "dropping 1 (hinge/grid, ...); pass --merge" in capsys.readouterr().err
  assert json.loads((tmp_path / "mixture.json").read_text()) == rows
