"""CoGAN: weight sharing between the domains' players, D judging each domain apart, unpaired
training batches, the correspondence measure, and a few core steps on the coupled pair."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from gan_jax.variants import cogan
from tests.variant_helpers import variant_config

X = jax.random.uniform(jax.random.PRNGKey(0), (4, 28, 28, 1), minval=-1, maxval=1)


def tiny_state(shared=True):
  config = variant_config("cogan", features=4, shared=shared, domain_b="edges")
  config.batch_size = 4
  config.model = ml_collections.ConfigDict({"name": "cogan", "latent_dim": 8, "noise": "normal"})
  return cogan.create_state(config, (28, 28, 1))


STATE = tiny_state()


def outputs(state, params):
  z = jnp.ones((2, 8))
  return cogan.generate_pair(state.replace(g_params=params), z)


def shifted(params, name):
  params = dict(params)
  params[name] = jax.tree.map(lambda p: p + 0.5, params[name])
  return params


def test_generators_share_their_first_layers_and_not_their_heads():
  fn = jax.jit(outputs)
  a, b = fn(STATE, STATE.g_params)
  a_shared, b_shared = fn(STATE, shifted(STATE.g_params, "shared_dense"))
  assert not np.allclose(a, a_shared) and not np.allclose(b, b_shared)
  a_head, b_head = fn(STATE, shifted(STATE.g_params, "head_a_out"))
  assert not np.allclose(a, a_head)
  np.testing.assert_array_equal(b, b_head)
  separate = tiny_state(shared=False)
  assert "shared_dense" not in separate.g_params and "a_dense" in separate.g_params
  assert "shared_conv" in STATE.d_params and "a_conv" in separate.d_params


def test_each_discriminator_sees_only_its_domain():
  pair = cogan.unpaired_batch(X, "edges")
  apply = jax.jit(lambda x: STATE.d_apply_fn({"params": STATE.d_params}, x, train=False))
  logits = apply(pair)
  assert logits.shape == (4, 2)
  other = apply(pair.at[..., 1:].set(0.0))
  np.testing.assert_array_equal(logits[:, 0], other[:, 0])
  assert not np.allclose(logits[:, 1], other[:, 1])


def test_training_pairs_are_unpaired():
  pair = cogan.unpaired_batch(X, "edges")
  np.testing.assert_array_equal(pair[..., :1], X)
  np.testing.assert_allclose(pair[..., 1:], cogan.edge_map(jnp.roll(X, -2, axis=0)), atol=1e-6)
  np.testing.assert_array_equal(cogan.unpaired_batch(X, "negative")[0, ..., 1], -X[2, ..., 0])


def test_edge_map_marks_edges_only():
  flat = jnp.full((1, 8, 8, 1), 0.3)
  np.testing.assert_allclose(cogan.edge_map(flat)[:, 1:-1, 1:-1], -1.0, atol=1e-5)
  step = jnp.where(jnp.arange(8) < 4, -1.0, 1.0)[None, None, :, None] * jnp.ones((1, 8, 8, 1))
  edges = cogan.edge_map(step)
  assert float(edges[0, 4, 3, 0]) == 1.0 and abs(float(edges[0, 4, 1, 0]) + 1.0) < 1e-5


def test_correspondence_is_one_for_matching_pairs_and_low_for_shuffled():
  a = X
  matched = cogan.pair_correspondence(a, cogan.edge_map(a), "edges")
  assert matched["retrieval"] == 1.0 and matched["mse_pair"] < 1e-6 < matched["mse_other"]
  shuffled = cogan.pair_correspondence(a, cogan.edge_map(jnp.roll(a, 1, axis=0)), "edges")
  assert shuffled["retrieval"] == 0.0 and shuffled["chance"] == 0.25


def test_a_few_core_steps_train_both_coupled_gans():
  step = jax.jit(cogan.train_step)
  state = STATE
  for _ in range(2):
    state, metrics = step(state, {"x": X[None]})
  assert all(np.isfinite(float(v)) for v in metrics.values())
  assert jax.jit(cogan.generate)(state, jnp.ones((3, 8))).shape == (3, 28, 56, 1)


def test_the_shipped_config_passes_validation_with_pairs_shown_side_by_side():
  from gan_jax import recipes, validation
  from tests.conftest import load_experiment_config

  config = load_experiment_config("cogan_fashion_mnist")
  validation.validate_config(config)
  validation.validate_models(config, (28, 28, 1))  # generate gives (28, 56, 1): A | B
  assert recipes.get_recipe("cogan").shape_of_sample((28, 28, 1)) == (28, 56, 1)
  assert recipes.get_recipe("gan").shape_of_sample((28, 28, 1)) == (28, 28, 1)


def test_the_report_of_a_run_says_why_it_has_no_metrics(tmp_path):
  """evaluate refuses CoGAN runs (pairs of domains side by side); the report's Metrics section
  was missing without a word."""
  from gan_jax import cli, report
  from tests.conftest import CONFIG_DIR

  workdir = str(tmp_path / "run")
  args = ["train", "--config", f"{CONFIG_DIR}/cogan_fashion_mnist.py", "--workdir", workdir]
  short = ["--config.num_steps=2", "--config.batch_size=4", "--config.variant.features=4"]
  intervals = ["--config.log_every=2", "--config.sample_every=2", "--config.checkpoint_every=2"]
  assert cli.main([*args, "--no-progress", *short, *intervals, "--config.num_sample_images=4"]) == 0
  text = open(report.write_report(workdir)).read()
  assert "(no metrics: recipe 'cogan' draws samples that are not the data's shape" in text
