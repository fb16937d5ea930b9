"""The noise sampler: continuous draws, and the categorical code of a disconnected latent."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import builders
from gan_jax.state import NoiseSampler
from tests.conftest import tiny_ring_config

KEY = jax.random.PRNGKey(3)


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_without_categories_the_sampler_draws_the_plain_distribution(distribution):
  z = NoiseSampler((5,), distribution)(KEY, 7)
  plain = (
    jax.random.normal(KEY, (7, 5))
    if distribution == "normal"
    else jax.random.uniform(KEY, (7, 5), minval=-1.0, maxval=1.0)
  )
  np.testing.assert_array_equal(z, plain)


def test_a_categorical_code_is_one_hot_equally_likely_and_followed_by_the_noise():
  categories, draws = 10, 50_000
  z = np.asarray(NoiseSampler((categories + 3,), "uniform", categories)(KEY, draws))
  assert z.shape == (draws, categories + 3)
  code, noise = z[:, :categories], z[:, categories:]
  assert set(np.unique(code)) == {0.0, 1.0}
  np.testing.assert_array_equal(code.sum(axis=1), 1.0)
  counts = code.sum(axis=0)
  expected = draws / categories
  spread = np.sqrt(draws * (1 / categories) * (1 - 1 / categories))
  assert np.all(np.abs(counts - expected) < 5 * spread), counts
  assert noise.min() >= -1.0 and noise.max() < 1.0
  assert abs(noise.mean()) < 0.01 and abs(noise.var() - 1 / 3) < 0.01
  # the code and the noise are independent: the noise's mean is the same in every category
  means = [noise[code[:, c] == 1].mean() for c in range(categories)]
  assert np.ptp(means) < 0.05


def test_a_code_per_leading_position_when_the_latent_has_several_axes():
  z = np.asarray(NoiseSampler((3, 6), "normal", 4)(KEY, 5))
  assert z.shape == (5, 3, 6)
  np.testing.assert_array_equal(z[..., :4].sum(axis=-1), 1.0)


@pytest.mark.parametrize("categories", [1, -2, True, 2.0])
def test_a_bad_number_of_categories_is_refused_by_name(categories):
  with pytest.raises(
    ValueError,
    match=f"num_categories must be 0 \\(no categorical code\\) or an "
    f"integer >= 2, got {categories!r}",
  ):
    NoiseSampler((8,), "uniform", categories)


@pytest.mark.parametrize("categories", [8, 9])
def test_a_code_must_leave_room_for_a_continuous_entry(categories):
  with pytest.raises(
    ValueError, match=f"num_categories must be < latent_shape\\[-1\\] = 8 .*, got {categories}"
  ):
    NoiseSampler((8,), "uniform", categories)


def test_the_config_adds_the_categories_to_latent_dim_and_g_sees_them():
  config = tiny_ring_config()
  config.model.latent_dim, config.model.noise_categories = 4, 6
  noise = builders.make_noise(config)
  assert (noise.latent_shape, noise.num_categories) == ((10,), 6)
  state = builders.create_state_from_config(config, (2,))
  first_layer = jax.tree.leaves(state.g_params)
  assert any(leaf.shape[0] == 10 for leaf in first_layer if leaf.ndim == 2)
  x = state.g_apply_fn(state.g_variables, state.noise(KEY, 3), train=False)
  assert jnp.shape(x) == (3, 2)


def test_truncation_draws_the_normal_within_the_bounds_and_none_is_the_prior():
  sampler = NoiseSampler((4, 6), "normal", num_categories=3)
  plain = sampler(KEY, 20000)
  np.testing.assert_array_equal(plain, sampler(KEY, 20000, truncation=None))
  z = np.asarray(sampler(KEY, 20000, truncation=1.0))
  np.testing.assert_array_equal(z[..., :3], plain[..., :3])  # the categorical code as before
  continuous = z[..., 3:]
  assert np.abs(continuous).max() <= 1.0
  # The standard normal truncated to [-1, 1] has standard deviation 0.5378.
  assert abs(continuous.std() - 0.5378) < 0.005, continuous.std()
  assert abs(np.asarray(plain[..., 3:]).std() - 1.0) < 0.01


@pytest.mark.parametrize(
  "sampler, truncation, message",
  [
    (NoiseSampler((5,)), 0.0, "truncation must be a number > 0 (or None: no truncation), got 0.0"),
    (NoiseSampler((5,)), float("nan"), "truncation must be a number > 0"),
    (NoiseSampler((5,)), True, "truncation must be a number > 0"),
    (
      NoiseSampler((5,), "uniform"),
      1.0,
      "truncation 1.0 needs normal noise; this sampler's is 'uniform'",
    ),
  ],
)
def test_a_bad_truncation_is_refused_in_one_line(sampler, truncation, message):
  with pytest.raises(ValueError) as error:
    sampler(KEY, 2, truncation=truncation)
  assert message in str(error.value) and "\n" not in str(error.value)
