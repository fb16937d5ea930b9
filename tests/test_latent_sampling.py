"""Sampling the latent space: walks between draws (`sampling.interpolate_latents`,
`draw_interpolations`, `gan-jax sample --interpolate`) and truncated draws (`--truncation`)."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import cli, recipes, runs, sampling
from tests.conftest import CONFIG_DIR, train_tiny_image_run
from tests.test_cli import TINY

RING = os.path.join(CONFIG_DIR, "ring_gan.py")


def gaussian_pairs(num=256, dim=100):
  a, b = jax.random.normal(jax.random.PRNGKey(0), (2, num, dim))
  return a, b


@pytest.mark.parametrize("method", sampling.INTERPOLATIONS)
def test_a_path_runs_from_one_latent_to_the_other_in_equal_steps(method):
  a, b = gaussian_pairs(8, 12)
  path = sampling.interpolate_latents(a.reshape(8, 3, 4), b.reshape(8, 3, 4), 7, method)
  assert path.shape == (8, 7, 3, 4)
  path = path.reshape(8, 7, 12)
  np.testing.assert_allclose(path[:, 0], a, atol=1e-5)
  np.testing.assert_allclose(path[:, -1], b, atol=1e-5)
  if method == "linear":
    steps = jnp.linalg.norm(jnp.diff(path, axis=1), axis=-1)
  else:  # equal angles between neighbours, and the norm on the line from |a| to |b|
    norms = jnp.linalg.norm(path, axis=-1)
    t = jnp.linspace(0, 1, 7)
    expected = (1 - t) * jnp.linalg.norm(a, axis=-1)[:, None] + t * jnp.linalg.norm(b, axis=-1)[
      :, None
    ]
    np.testing.assert_allclose(norms, expected, rtol=1e-5)
    unit = path / norms[..., None]
    steps = jnp.arccos(jnp.clip(jnp.sum(unit[:, 1:] * unit[:, :-1], -1), -1, 1))
  np.testing.assert_allclose(steps, steps[:, :1] * jnp.ones_like(steps), rtol=2e-3, atol=1e-5)


def test_slerp_keeps_gaussian_paths_where_the_prior_is_and_the_straight_line_does_not():
  """Between two draws of a 100-d standard normal (norm about 10 = sqrt(d)), the middle of
  the great circle stays at that norm; the straight line's middle falls to about sqrt(d/2)."""
  a, b = gaussian_pairs()
  d = a.shape[-1]
  middle = {m: sampling.interpolate_latents(a, b, 3, m)[:, 1] for m in sampling.INTERPOLATIONS}
  slerp = float(jnp.mean(jnp.linalg.norm(middle["slerp"], axis=-1))) / np.sqrt(d)
  linear = float(jnp.mean(jnp.linalg.norm(middle["linear"], axis=-1))) / np.sqrt(d)
  assert 0.97 < slerp < 1.03, slerp
  assert 0.66 < linear < 0.76, linear


def test_slerp_between_ends_of_equal_norm_is_whites_formula():
  a, b = gaussian_pairs(16, 10)
  b = b / jnp.linalg.norm(b, axis=-1, keepdims=True) * jnp.linalg.norm(a, axis=-1, keepdims=True)
  t = jnp.linspace(0, 1, 6)[None, :, None]
  w = jnp.arccos(jnp.sum(a * b, -1) / (jnp.linalg.norm(a, axis=-1) * jnp.linalg.norm(b, axis=-1)))[
    :, None, None
  ]
  white = (jnp.sin((1 - t) * w) * a[:, None] + jnp.sin(t * w) * b[:, None]) / jnp.sin(w)
  np.testing.assert_allclose(sampling.interpolate_latents(a, b, 6), white, atol=2e-5)


def test_ends_pointing_the_same_way_give_the_straight_line_not_nan():
  a = jnp.ones((2, 5))
  path = sampling.interpolate_latents(a, 2 * a, 5, "slerp")
  np.testing.assert_allclose(path, sampling.interpolate_latents(a, 2 * a, 5, "linear"))


@pytest.mark.parametrize(
  "kwargs, message",
  [
    ({"method": "cubic"}, "interpolation 'cubic' is unknown; accepted: slerp, linear"),
    ({"num_points": 1}, "num_points must be an integer >= 2 (both ends), got 1"),
    (
      {"one_path": True},
      "z_start and z_end must be batches (P, *latent_shape) of path ends, got shape (3,); "
      "for one path give z[None]",
    ),
  ],
)
def test_a_bad_path_is_refused_in_one_line(kwargs, message):
  a, b = gaussian_pairs(2, 3)
  if kwargs.pop("one_path", False):  # one latent each, not a batch: would walk each entry
    a, b = a[0], b[0]
  with pytest.raises(ValueError) as error:
    sampling.interpolate_latents(a, b, **{"num_points": 4, **kwargs})
  assert str(error.value) == message


def sample(workdir, out, *arguments):
  return cli.main(["sample", "--workdir", str(workdir), "--out", str(out), *arguments])


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
  """A tiny trained ring GAN run (20 steps), shared by the CLI tests of this file."""
  workdir = tmp_path_factory.mktemp("ring")
  args = ["train", "--config", RING, "--workdir", str(workdir), "--no-progress", *TINY]
  assert cli.main(args) == 0
  return workdir


def test_the_cli_writes_paths_whose_ends_are_the_generator_at_two_draws(ring_run, tmp_path, capsys):
  run = ring_run
  assert sample(run, tmp_path / "p.npz", "--interpolate", "5", "--num", "3") == 0
  paths = np.load(tmp_path / "p.npz")["samples"]
  assert paths.shape == (3, 5, 2)
  _, _, state = runs.load_run(str(run))
  ends = sampling.draw_interpolations(state, 3, 2, seed=0)
  np.testing.assert_allclose(paths[:, [0, -1]], ends, atol=1e-6)
  assert not np.allclose(paths[:, 1], paths[:, 0], atol=1e-3)  # the middle moves
  linear = sampling.draw_interpolations(state, 3, 5, seed=0, method="linear")
  assert not np.allclose(paths[:, 2], linear[:, 2], atol=1e-4)  # another path, same ends
  capsys.readouterr()
  assert sample(run, tmp_path / "p.png", "--interpolate", "5", "--num", "3") == 0
  assert (
    capsys.readouterr().out.strip()
    == f"wrote lines of 3 slerp paths of 5 samples to {tmp_path / 'p.png'}"
  )
  import matplotlib.pyplot as plt

  assert plt.imread(tmp_path / "p.png").shape[:2] == (400, 400)  # one 5x5-inch plot at 80 dpi
  for arguments, message in [
    (["--interpolate", "1"], "--interpolate must be >= 2 (the points of a path, both ends), got 1"),
    (["--interpolation", "linear"], "--interpolation linear needs --interpolate N"),
    (
      ["--interpolate", "3", "--interpolation", "cubic"],
      "--interpolation 'cubic' is unknown; accepted: slerp, linear",
    ),
  ]:
    assert sample(run, tmp_path / "q.npz", *arguments) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
  assert not os.path.exists(tmp_path / "q.npz")


def test_a_picture_of_image_paths_has_a_row_per_path(tmp_path):
  run = tmp_path / "run"
  assert train_tiny_image_run(tmp_path, run) == 0
  out = tmp_path / "walk.png"
  assert sample(run, out, "--interpolate", "5", "--num", "3", "--interpolation", "linear") == 0
  import matplotlib.pyplot as plt

  height, width = plt.imread(out).shape[:2]
  assert (height, width) == (3 * 29 + 1, 5 * 29 + 1)  # 28-pixel images, 1-pixel padding
  assert recipes.RECIPES["gan"] is recipes.recipe_of(runs.load_run(str(run))[0])


def test_a_recipes_default_for_a_row_is_held_along_its_path():
  """InfoGAN gives row i the category i mod K when no labels are passed: path i keeps it from
  end to end, so a walk changes the noise and not the code."""
  from gan_jax.variants import infogan
  from tests.variant_helpers import build

  _, state = build("infogan", num_categories=4, num_continuous=1, q_hidden=8)
  recipe = recipes.get_recipe("infogan")
  paths = sampling.draw_interpolations(state, 3, 4, seed=5, recipe=recipe)
  z = state.noise(sampling.step_key(jax.random.PRNGKey(5), 0, "samples"), 6)
  categories = jnp.arange(3) % 4
  np.testing.assert_allclose(paths[:, 0], infogan.generate(state, z[:3], categories), atol=1e-6)
  np.testing.assert_allclose(paths[:, -1], infogan.generate(state, z[3:], categories), atol=1e-6)


def test_the_cli_draws_truncated_latents_and_refuses_a_bad_truncation(ring_run, tmp_path, capsys):
  """`sample --truncation T` draws G of the truncated latents of the seed's "samples" stream."""
  run = ring_run
  assert sample(run, tmp_path / "t.npz", "--num", "40", "--truncation", "0.5") == 0
  truncated = np.load(tmp_path / "t.npz")["samples"]
  _, _, state = runs.load_run(str(run))
  z = state.noise(sampling.step_key(jax.random.PRNGKey(0), 0, "samples"), 40, truncation=0.5)
  np.testing.assert_allclose(truncated, recipes.RECIPES["gan"].sample(state, z), atol=1e-6)
  assert not np.allclose(truncated, sampling.draw_samples(state, 40, 0), atol=1e-4)
  capsys.readouterr()
  for arguments, message in [
    (["--truncation", "0"], "--truncation must be a number > 0 (or None: no truncation), got 0.0"),
    (["--truncation", "-1"], "--truncation must be a number > 0"),
  ]:
    assert sample(run, tmp_path / "q.npz", *arguments) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_evaluate_scores_truncated_samples_and_records_the_truncation(ring_run, capsys):
  """`evaluate --truncation T` computes the metrics of `draw_samples(..., truncation=T)`."""
  import json

  from gan_jax.metrics import mixture

  args = ["evaluate", "--workdir", str(ring_run), "--no-report", "--truncation", "0.5"]
  assert cli.main(args) == 0
  written = json.loads((ring_run / "eval.json").read_text())
  assert written["truncation"] == 0.5
  _, source, state = runs.load_run(str(ring_run))
  points = sampling.draw_samples(state, 2500, 0, truncation=0.5)
  expected = mixture.evaluate_mixture(points, source.distribution).as_dict()
  assert written["high_quality"] == pytest.approx(expected["high_quality"])
  assert written["modes"] == expected["modes"]
  assert cli.main(["evaluate", "--workdir", str(ring_run), "--no-report"]) == 0
  assert "truncation" not in json.loads((ring_run / "eval.json").read_text())
  capsys.readouterr()
  assert cli.main(args[:-1] + ["0"]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and "--truncation must be a number > 0" in err[0], err
  assert "truncation" not in json.loads((ring_run / "eval.json").read_text())  # kept as it was
