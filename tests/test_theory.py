"""Seed 004's theory, shown by running the library's own steps on 1D Gaussians.

The generator is G(z) = loc + scale * z, held fixed (learning rate 0), so p_g is
known in closed form; only the discriminator trains.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.stats import norm

from gan_jax import builders, data, losses, steps
from tests.conftest import jitted_sampled_train_step, load_experiment_config


def fixed_generator_run(loc, scale, num_steps, seed=0):
  config = load_experiment_config("ring_gan")
  config.seed = seed
  config.data.name = "gaussian1d"  # p_data = N(0, 1)
  config.model.name = "gaussian"
  config.model.latent_dim = 1
  config.model.generator = {"init_loc": loc, "init_scale": scale}
  config.model.discriminator = {"hidden": (32, 32), "activation": "tanh"}
  config.g_optimizer.learning_rate = 0.0
  config.d_optimizer = {"name": "adam", "learning_rate": 1e-3, "b1": 0.5, "b2": 0.999}
  config.batch_size = 512
  source = data.make_data_source(config)
  state = builders.create_state_from_config(config, source.data_shape)
  step_fn = jitted_sampled_train_step(source, config.batch_size)
  for _ in range(num_steps):
    state, _ = step_fn(state, source.arrays)
  return state


def discriminator_probability(state, x):
  logits, _ = steps.apply_discriminator(
    state, state.d_params, x[:, None], train=False, key=jax.random.PRNGKey(0)
  )
  return jax.nn.sigmoid(logits)


def test_trained_discriminator_approaches_the_optimal_discriminator():
  """D*(x) = p_data(x) / (p_data(x) + p_g(x)), p_data = N(0, 1), p_g = N(1, 1)."""
  state = fixed_generator_run(loc=1.0, scale=1.0, num_steps=1500)
  x = jnp.linspace(-1.5, 2.5, 81)  # both densities above 0.05 here
  p_data, p_g = norm.pdf(x, 0.0, 1.0), norm.pdf(x, 1.0, 1.0)
  assert float(jnp.minimum(p_data, p_g).min()) > 0.015
  d_star = p_data / (p_data + p_g)
  error = jnp.abs(discriminator_probability(state, x) - d_star)
  assert float(error.max()) < 0.05, f"max |D - D*| = {float(error.max()):.4f}"


def test_game_value_reaches_minus_log_4_when_p_g_equals_p_data():
  state = fixed_generator_run(loc=0.0, scale=1.0, num_steps=1000)
  key_real, key_fake = jax.random.split(jax.random.PRNGKey(123))
  real = jax.random.normal(key_real, (200_000, 1))
  fake = state.noise(key_fake, 200_000)  # G is the identity map here: loc 0, scale 1
  real_logits, _ = steps.apply_discriminator(state, state.d_params, real, train=False, key=key_real)
  fake_logits, _ = steps.apply_discriminator(state, state.d_params, fake, train=False, key=key_real)
  value = float(losses.game_value(real_logits, fake_logits))
  assert value == pytest.approx(-np.log(4.0), abs=0.02)
