"""InfoGAN: codes, the information loss and bound by hand, code traversal, training without
labels."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import cli, runs, sampling, train
from gan_jax.variants import infogan
from tests.conftest import tiny_ring_config
from tests.variant_helpers import build, ring_batch


def test_info_loss_and_bound_by_hand():
  game = infogan.InfoGANGame(num_categories=4, num_continuous=2, continuous_weight=0.5)
  categories = jnp.array([0, 3])
  continuous = jnp.array([[0.5, -1.0], [1.0, 0.0]])
  loss, metrics = infogan.info_loss(game, jnp.zeros((2, 6)), categories, continuous)
  sq = 0.5 * (0.25 + 1.0 + 1.0 + 0.0) / 2
  assert math.isclose(float(metrics["info_ce"]), math.log(4), rel_tol=1e-6)
  assert math.isclose(float(metrics["mi_lower_bound"]), 0.0, abs_tol=1e-6)
  assert math.isclose(float(loss), math.log(4) + 0.5 * sq, rel_tol=1e-6)
  # A Q that is sure of the right category attains the bound's maximum, log K.
  q = jnp.zeros((2, 6)).at[jnp.arange(2), categories].set(50.0)
  assert math.isclose(
    float(infogan.info_loss(game, q, categories, continuous)[1]["mi_lower_bound"]),
    math.log(4),
    abs_tol=1e-5,
  )


def test_codes_have_the_declared_law_and_layout():
  game = infogan.InfoGANGame(num_categories=3, num_continuous=2)
  categories, continuous = infogan.sample_codes(game, jax.random.PRNGKey(0), 3000)
  assert set(np.unique(categories)) == {0, 1, 2}
  assert continuous.shape == (3000, 2) and float(jnp.min(continuous)) >= -1.0
  assert float(jnp.max(continuous)) <= 1.0
  codes = infogan.code_vector(game, categories[:2], continuous[:2])
  assert codes.shape == (2, 5)
  np.testing.assert_array_equal(codes[:, :3], jax.nn.one_hot(categories[:2], 3))


def test_codes_steer_the_generator_and_traversal_has_one_row_per_noise():
  _, state = build("infogan", num_categories=4, num_continuous=2, q_hidden=8)
  z = jnp.ones((2, 16))
  assert not np.allclose(
    infogan.generate(state, z, jnp.array([0, 0])), infogan.generate(state, z, jnp.array([1, 1]))
  )
  assert infogan.code_traversal(state, z, "category").shape == (2 * 4, 2)
  assert infogan.code_traversal(state, z, 1, values=[-1.0, 0.0, 1.0]).shape == (2 * 3, 2)
  with pytest.raises(
    ValueError, match="code must be 'category' or a continuous index in \\[0, 1\\]"
  ):
    infogan.code_traversal(state, z, 2)


def test_a_few_infogan_steps_raise_the_bound_without_labels():
  _, state = build("infogan", num_categories=4, num_continuous=1, q_hidden=16)
  step = jax.jit(infogan.train_step)
  bounds = []
  for i in range(40):
    state, metrics = step(state, {"x": ring_batch(1, 32, i)["x"]})
    bounds.append(float(metrics["mi_lower_bound"]))
  assert all(np.isfinite(float(v)) for v in metrics.values())
  assert np.mean(bounds[-5:]) > np.mean(bounds[:5])


def test_the_papers_players_and_q_head():
  """Chen et al.'s MNIST players: Q's body is D's FC 1024; the paper config builds with BN in Q."""
  from gan_jax import models
  from tests.conftest import load_experiment_config

  generator, discriminator = models.build_models(
    "infogan_mnist", (28, 28, 1), options={"discriminator": {"return_features": True}}
  )
  g_vars = generator.init(jax.random.PRNGKey(0), jnp.zeros((2, 74)))
  images, _ = generator.apply(g_vars, jnp.zeros((2, 74)), mutable=["batch_stats"])
  assert images.shape == (2, 28, 28, 1)
  d_vars = discriminator.init(jax.random.PRNGKey(1), images)
  (logits, body), _ = discriminator.apply(d_vars, images, mutable=["batch_stats"])
  assert logits.shape == (2,) and body.shape == (2, 1024)
  with pytest.raises(ValueError, match=r"infogan_mnist image shape \(30, 30, 1\) is not supported"):
    generator.clone(image_shape=(30, 30, 1)).init(jax.random.PRNGKey(0), jnp.zeros((2, 74)))
  config = load_experiment_config("infogan_paper_fashion_mnist")
  state = jax.eval_shape(lambda: infogan.create_state(config, (28, 28, 1)))
  assert "BatchNorm_0" in state.d_params and "batch_stats" in state.d_collections
  config.variant = {**config.variant.to_dict(), "q_batch_norm": "yes"}
  with pytest.raises(ValueError, match="variant.q_batch_norm must be True or False, got 'yes'"):
    infogan.create_state(config, (28, 28, 1))


def test_sample_label_picks_the_category_code_from_the_cli(tmp_path, capsys):
  config = tiny_ring_config(recipe="infogan", num_steps=2, log_every=2, sample_every=2)
  config.checkpoint_every = 2
  config.variant = {"num_categories": 3, "num_continuous": 1, "q_hidden": 8}
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(config, workdir, progress=False)
  out = str(tmp_path / "s.npz")
  assert cli.main(["sample", "--workdir", workdir, "--num", "4", "--label", "2", "--out", out]) == 0
  samples = np.load(out)["samples"]
  _, _, state = runs.load_run(workdir)
  # The npz's rows are G(z, category 2) for the "samples" stream's latents, not the default
  # cycle of categories 0, 1, 2, 0.
  chosen = sampling.draw_samples(state, 4, 0, recipe=infogan.RECIPE, labels=np.full(4, 2))
  np.testing.assert_allclose(samples, chosen)
  assert not np.allclose(samples, sampling.draw_samples(state, 4, 0, recipe=infogan.RECIPE))
  assert cli.main(["sample", "--workdir", workdir, "--label", "3", "--out", out]) == 2
  assert "--label must be a category in [0, 2], got 3" in capsys.readouterr().err
