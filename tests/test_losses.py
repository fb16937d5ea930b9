"""Each game loss against a hand-computed case, stability on extreme logits, the regularizers,
and the seeds' saturation claim shown by training."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import losses
from tests.conftest import jitted_sampled_train_step, load_experiment_config

LOG3 = math.log(3.0)
REAL = jnp.array([0.0, LOG3])  # D(x) = 0.5, 0.75
FAKE = jnp.array([0.0, -LOG3])  # D(G(z)) = 0.5, 0.25


def test_cross_entropy_discriminator_loss_by_hand():
  # -(mean log D(x) + mean log(1 - D(G(z)))) = -((log .5 + log .75)/2 + (log .5 + log .75)/2)
  expected = -(math.log(0.5) + math.log(0.75))
  assert float(losses.cross_entropy_discriminator_loss(REAL, FAKE)) == pytest.approx(
    expected, rel=1e-6
  )
  assert float(losses.game_value(REAL, FAKE)) == pytest.approx(-expected, rel=1e-6)


def test_minimax_generator_loss_is_eq5_by_hand():
  expected = (math.log(1 - 0.5) + math.log(1 - 0.25)) / 2
  assert float(losses.minimax.generator(FAKE)) == pytest.approx(expected, rel=1e-6)


def test_non_saturating_generator_loss_is_eq6_by_hand():
  expected = -(math.log(0.5) + math.log(0.25)) / 2
  assert float(losses.non_saturating.generator(FAKE)) == pytest.approx(expected, rel=1e-6)


def test_wasserstein_losses_by_hand():
  real, fake = jnp.array([1.0, 3.0]), jnp.array([-2.0, 0.0])
  assert float(losses.wasserstein.discriminator(real, fake)) == pytest.approx(-1.0 - 2.0)
  assert float(losses.wasserstein.generator(fake)) == pytest.approx(1.0)


def test_hinge_losses_by_hand():
  real, fake = jnp.array([0.5, 2.0]), jnp.array([-2.0, 0.5])
  # relu(1 - r) = [0.5, 0] -> 0.25 ; relu(1 + f) = [0, 1.5] -> 0.75
  assert float(losses.hinge.discriminator(real, fake)) == pytest.approx(1.0)
  assert float(losses.hinge.generator(fake)) == pytest.approx(0.75)


def test_least_squares_losses_by_hand():
  real, fake = jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0])
  assert float(losses.least_squares.discriminator(real, fake)) == pytest.approx(0.5)
  assert float(losses.least_squares.generator(fake)) == pytest.approx(0.25)
  assert losses.least_squares.threshold == 0.5


@pytest.mark.parametrize("name", sorted(losses.LOSSES))
def test_losses_and_gradients_are_finite_on_extreme_logits(name):
  loss = losses.get_loss(name)
  logits = jnp.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
  d_value, d_grads = jax.value_and_grad(loss.discriminator, argnums=(0, 1))(logits, -logits)
  g_value, g_grad = jax.value_and_grad(loss.generator)(logits)
  for value in (d_value, g_value, *d_grads, g_grad):
    assert np.all(np.isfinite(np.asarray(value)))


def test_unknown_loss_error_names_the_choices():
  with pytest.raises(
    ValueError, match=r"loss 'vanilla' is unknown; accepted: minimax, non_saturating"
  ):
    losses.get_loss("vanilla")


def test_logit_gradients_of_the_generator_losses():
  """d/do log(1 - sigmoid(o)) = -sigmoid(o) -> 0 as D(G(z)) -> 0; -log sigmoid(o) keeps slope -1."""
  o = jnp.array([-12.0])
  saturating = jax.grad(lambda x: losses.minimax.generator(x))(o)[0]
  non_saturating = jax.grad(lambda x: losses.non_saturating.generator(x))(o)[0]
  assert abs(float(saturating)) < 1e-5
  assert float(non_saturating) == pytest.approx(-1.0, abs=1e-5)


def test_gradient_penalty_and_r1_of_a_quadratic_critic_by_hand():
  """D(x) = ||x||^2 has gradient 2x, so the penalty depends on where it is taken.

  Fails if x_hat = fake in gradient_penalty (also if x_hat = real, or eps and 1 - eps swap).
  """
  critic = lambda x: jnp.sum(x**2, axis=-1)
  real = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
  fake = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 3.0]])
  eps = np.array([[0.25], [0.5], [0.9]])
  assert losses.interpolation_weights(jax.random.PRNGKey(0), real.shape).shape == eps.shape
  x_hat = np.array([[0.25, 0.0], [0.5, 1.0], [0.8, 1.2]])  # eps * real + (1 - eps) * fake
  expected_gp = np.mean((2.0 * np.linalg.norm(x_hat, axis=-1) - 1.0) ** 2)
  expected_r1 = 0.5 * np.mean(np.sum((2.0 * real) ** 2, axis=-1))  # (4 + 16 + 8) / 6
  gp = losses.gradient_penalty(
    critic,
    jnp.asarray(real, jnp.float32),
    jnp.asarray(fake, jnp.float32),
    jnp.asarray(eps, jnp.float32),
  )
  assert float(gp) == pytest.approx(expected_gp, rel=1e-5)
  assert float(losses.r1_penalty(critic, jnp.asarray(real, jnp.float32))) == pytest.approx(
    expected_r1, rel=1e-5
  )


def test_r1_weight_is_constant_or_decays_along_a_cosine_to_zero():
  constant = losses.Game(r1_weight=2.0)
  decaying = losses.Game(r1_weight=2.0, r1_decay_steps=100)
  for step in (0, 50, 100, 1000):
    assert float(losses.r1_weight_at(constant, jnp.int32(step))) == 2.0
  expected = {0: 2.0, 25: 1.0 + math.sqrt(0.5), 50: 1.0, 100: 0.0, 1000: 0.0}
  for step, weight in expected.items():
    assert float(losses.r1_weight_at(decaying, jnp.int32(step))) == pytest.approx(weight, abs=1e-6)
  for bad, rule in ((-1, ">= 0"), (2.5, "an integer"), (True, "an integer")):
    with pytest.raises(ValueError, match=f"r1_decay_steps must be {rule}, got {bad!r}"):
      losses.Game(r1_decay_steps=bad)


def test_clip_weights_bounds_every_parameter():
  params = {"a": jnp.array([-1.0, 0.005, 2.0]), "b": {"c": jnp.array([[0.5]])}}
  clipped = losses.clip_weights(params, 0.01)
  np.testing.assert_allclose(clipped["a"], [-0.01, 0.005, 0.01])
  np.testing.assert_allclose(clipped["b"]["c"], [[0.01]])


def test_game_rejects_bad_values():
  with pytest.raises(ValueError, match="d_steps must be >= 1, got 0"):
    losses.Game(d_steps=0)
  with pytest.raises(ValueError, match="clip_value must be >= 0"):
    losses.Game(clip_value=-1.0)
  with pytest.raises(ValueError, match="loss 'hing' is unknown; accepted: minimax"):
    losses.Game(loss="hing")
  with pytest.raises(ValueError, match="loss must be a GANLoss or the name of one, got 3"):
    losses.Game(loss=3)


def test_a_game_takes_its_loss_by_name_as_config_loss_does():
  assert losses.Game(loss="hinge").loss is losses.hinge
  assert losses.Game(loss="hinge") == losses.Game(loss=losses.hinge)


def test_saturating_generator_gets_vanishing_gradients_when_d_wins():
  """Seed 000/002: train D against a fixed, far-off generator until D(G(z)) -> 0; then the
  saturating loss gives the generator almost no gradient and the non-saturating one does."""
  from gan_jax import builders, data, steps

  config = load_experiment_config("ring_gan")
  config.data.name = "gaussian1d"
  config.model.name = "gaussian"
  config.model.latent_dim = 1
  config.model.generator = {"init_loc": 4.0, "init_scale": 0.5}
  config.model.discriminator = {"hidden": (32, 32), "activation": "tanh"}
  config.g_optimizer.learning_rate = 0.0  # generator held fixed while D trains
  config.batch_size = 256
  source = data.make_data_source(config)
  state = builders.create_state_from_config(config, source.data_shape)
  step_fn = jitted_sampled_train_step(source, config.batch_size)
  for _ in range(1000):
    state, metrics = step_fn(state, source.arrays)
  assert float(metrics["d_fake"]) < 0.01  # D has won: D(G(z)) -> 0

  norms = {}
  for name in ("minimax", "non_saturating"):
    game_state = state.replace(game=state.game.__class__(loss=losses.get_loss(name)))
    z = game_state.noise(jax.random.PRNGKey(1), config.batch_size)

    def g_loss(params):
      fake, _ = steps.apply_generator(game_state, params, z, train=True, key=jax.random.PRNGKey(2))
      logits, _ = steps.apply_discriminator(
        game_state, game_state.d_params, fake, train=True, key=jax.random.PRNGKey(3)
      )
      return game_state.game.loss.generator(logits)

    grads = jax.grad(g_loss)(game_state.g_params)
    norms[name] = float(jnp.sqrt(sum(jnp.sum(g**2) for g in jax.tree.leaves(grads))))
  assert norms["non_saturating"] > 0.1
  # The saturating gradient is weighted by D(G(z)), the non-saturating one by 1 - D(G(z)).
  assert norms["minimax"] < 0.1 * norms["non_saturating"]
