"""ACGAN: D's class head, the class terms by hand, and a few training steps."""

import math

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import losses
from gan_jax.variants import acgan
from tests.variant_helpers import build, ring_batch


def test_discriminator_returns_logits_and_class_logits():
  _, state = build("acgan", num_classes=8)
  logits, classes = state.d_apply_fn(state.d_variables, jnp.ones((5, 2)), train=False)
  assert logits.shape == (5,) and classes.shape == (5, 8)
  assert isinstance(state.game, acgan.ACGANGame) and state.game.aux_weight == 1.0


def test_class_loss_of_uniform_logits_is_log_k_and_accuracy_counts_argmax():
  assert math.isclose(
    float(acgan.class_loss(jnp.zeros((3, 10)), jnp.array([0, 4, 9]))), math.log(10), rel_tol=1e-6
  )
  logits = jnp.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
  assert float(acgan.class_accuracy(logits, jnp.array([0, 1, 1]))) == np.float32(2 / 3)


def test_discriminator_loss_is_adversarial_plus_weighted_class_terms():
  _, state = build("acgan", num_classes=8, aux_weight=0.5)
  batch = ring_batch(1, 6)
  real, labels = batch["x"][0], batch["label"][0]
  fake = real[::-1] * 0.5
  key = jax.random.PRNGKey(3)
  loss, (*_, metrics) = acgan.discriminator_loss(
    state, state.d_params, real, fake, key, targets=labels
  )
  (real_logits, real_classes) = state.d_apply_fn(state.d_variables, real, train=True)
  (fake_logits, fake_classes) = state.d_apply_fn(state.d_variables, fake, train=True)
  ce = lambda c: -jnp.mean(jax.nn.log_softmax(c)[jnp.arange(6), labels])
  expected = losses.cross_entropy_discriminator_loss(real_logits, fake_logits) + 0.5 * (
    ce(real_classes) + ce(fake_classes)
  )
  np.testing.assert_allclose(loss, expected, rtol=1e-5)
  np.testing.assert_allclose(metrics["aux_loss_d"], ce(real_classes) + ce(fake_classes), rtol=1e-5)


def test_a_few_acgan_steps_train_and_its_classifier_learns_the_real_labels():
  _, state = build("acgan", num_classes=8)
  step = jax.jit(acgan.train_step)
  first = None
  for i in range(30):
    state, metrics = step(state, ring_batch(1, 32, i))
    first = first if first is not None else float(metrics["aux_loss_d"])
  assert int(state.step) == 30
  assert all(np.isfinite(float(v)) for v in metrics.values())
  assert float(metrics["aux_loss_d"]) < first
  assert acgan.generate(state, jnp.zeros((3, 16)), jnp.array([0, 1, 2])).shape == (3, 2)
