"""BatchNorm statistics in the steps: D's from both passes, penalties refused, EMA statistics."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest

from gan_jax import checkpoint, losses, state as state_lib, steps, validation
from tests.conftest import load_experiment_config

MOMENTUM = 0.9


class NormedDiscriminator(nn.Module):
  """x (B, 2) -> logits (B,): Dense(4), BatchNorm (momentum 0.9), Dense(1)."""

  @nn.compact
  def __call__(self, x, train: bool = True):
    h = nn.Dense(4, name="hidden")(x)
    h = nn.BatchNorm(use_running_average=not train, momentum=MOMENTUM, name="bn")(h)
    return nn.Dense(1)(nn.relu(h))[:, 0]


class NormedGenerator(nn.Module):
  """z (B, 2) -> x (B, 2): Dense(4), BatchNorm (momentum 0.9), Dense(2)."""

  @nn.compact
  def __call__(self, z, train: bool = True):
    h = nn.Dense(4)(z)
    h = nn.BatchNorm(use_running_average=not train, momentum=MOMENTUM, name="bn")(h)
    return nn.Dense(2)(nn.relu(h))


def tiny_state(ema_decay=0.0, game=losses.Game()):
  return state_lib.create_state(
    seed=0,
    generator=NormedGenerator(),
    discriminator=NormedDiscriminator(),
    noise=state_lib.NoiseSampler((2,)),
    data_shape=(2,),
    g_tx=optax.adam(1e-2),
    d_tx=optax.adam(1e-2),
    game=game,
    ema_decay=ema_decay,
  )


def hidden_moments(state, x):
  """Batch mean and (biased) variance of D's pre-BatchNorm features on x."""
  layer = state.d_params["hidden"]
  h = x @ layer["kernel"] + layer["bias"]
  return jnp.mean(h, 0), jnp.var(h, 0)


def test_discriminator_running_statistics_see_the_real_then_the_fake_batch():
  """D's running mean and variance after one step are m(m s + (1-m) real) + (1-m) fake.

  Fails if the real pass's update is dropped (the statistics of the fakes alone), if
  the fake pass starts from the old statistics, or if the order of the passes flips.
  """
  state = tiny_state()
  real = jax.random.normal(jax.random.PRNGKey(5), (16, 2)) * 2.0 + 1.0
  new, _ = jax.jit(steps.discriminator_step)(state, {"x": real})
  _, z, g_key = steps.discriminator_noise(state, 0, 16, None)
  fake = state.g_apply_fn(
    state.g_variables, z, train=True, rngs={"dropout": g_key}, mutable=["batch_stats"]
  )[0]
  old = state.d_collections["batch_stats"]["bn"]
  got = new.d_collections["batch_stats"]["bn"]
  for name, (real_moment, fake_moment) in (
    ("mean", (hidden_moments(state, real)[0], hidden_moments(state, fake)[0])),
    ("var", (hidden_moments(state, real)[1], hidden_moments(state, fake)[1])),
  ):
    after_real = MOMENTUM * old[name] + (1 - MOMENTUM) * real_moment
    expected = MOMENTUM * after_real + (1 - MOMENTUM) * fake_moment
    np.testing.assert_allclose(got[name], expected, rtol=1e-5, atol=1e-6)


class SpectralDiscriminator(nn.Module):
  """x (B, 2) -> logits (B,): spectrally normalized Dense(4), Dense(1)."""

  @nn.compact
  def __call__(self, x, train: bool = True):
    h = nn.SpectralNorm(nn.Dense(4), name="sn")(x, update_stats=train)
    return nn.Dense(1)(nn.relu(h))[:, 0]


def test_spectral_norm_vectors_keep_one_power_iteration_per_step():
  """Spectral norm's u and sigma (in 'batch_stats' too) after a D step are those of one
  iteration from the state's values on the fake pass: both passes share one sigma.

  Fails if every 'batch_stats' entry is chained through the real pass (two iterations).
  """
  state = state_lib.create_state(
    seed=0,
    generator=NormedGenerator(),
    discriminator=SpectralDiscriminator(),
    noise=state_lib.NoiseSampler((2,)),
    data_shape=(2,),
    g_tx=optax.adam(1e-2),
    d_tx=optax.adam(1e-2),
  )
  real = jax.random.normal(jax.random.PRNGKey(5), (16, 2))
  new, _ = jax.jit(steps.discriminator_step)(state, {"x": real})
  _, once = state.d_apply_fn(state.d_variables, real, train=True, mutable=["batch_stats"])
  for got, want in zip(jax.tree.leaves(new.d_collections), jax.tree.leaves(once), strict=True):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("penalty", [{"gradient_penalty_weight": 10.0}, {"r1_weight": 1.0}])
def test_a_penalty_with_batch_norm_in_the_discriminator_is_refused(penalty):
  """Validation refuses GP or R1 when D has BatchNorm, and accepts D without it.

  Fails if validate_models stops calling the check, or if the check ignores R1 or GP.
  """
  config = load_experiment_config("dcgan_fashion_mnist")
  config.model.generator.features = 4
  config.model.discriminator.features = 4
  for name, value in penalty.items():
    config[name] = value
  validation.validate_models(config, (28, 28, 1))  # no BatchNorm in D: accepted
  config.model.discriminator.batch_norm = True
  with pytest.raises(ValueError, match=f"{next(iter(penalty))}=.* without BatchNorm"):
    validation.validate_models(config, (28, 28, 1))


def test_the_ema_averages_the_generator_statistics_and_sampling_uses_them():
  """With the EMA on, G's batch statistics are averaged like its weights, and `generate`
  pairs the EMA weights with the EMA statistics.

  Fails if sampling uses the online statistics with the EMA weights, or if the EMA's
  statistics are not updated (or updated with the wrong weight).
  """
  decay = 0.5
  state = tiny_state(ema_decay=decay)
  real = jax.random.normal(jax.random.PRNGKey(1), (1, 16, 2))
  step = jax.jit(steps.train_step)
  history = [state.g_collections]
  for _ in range(2):
    state, _ = step(state, {"x": real})
    history.append(state.g_collections)
  expected = jax.tree.map(
    lambda s0, s1, s2: decay * (decay * s0 + (1 - decay) * s1) + (1 - decay) * s2, *history
  )
  for got, want in zip(
    jax.tree.leaves(state.g_ema_collections), jax.tree.leaves(expected), strict=True
  ):
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
  z = jax.random.normal(jax.random.PRNGKey(2), (8, 2))
  sampled = state_lib.generate(state, z)
  matching = state.g_apply_fn(
    {"params": state.g_ema_params, **state.g_ema_collections}, z, train=False
  )
  online = state.g_apply_fn({"params": state.g_ema_params, **state.g_collections}, z, train=False)
  np.testing.assert_array_equal(sampled, matching)
  assert not np.allclose(sampled, online)


def test_a_checkpoint_without_ema_statistics_restores_them_from_the_online_ones(tmp_path):
  """A checkpoint written before the EMA kept statistics still restores (EMA statistics =
  the online ones, what sampling used then). Fails if restore needs the missing field."""
  state = tiny_state(ema_decay=0.9)
  state, _ = jax.jit(steps.train_step)(state, {"x": jnp.ones((1, 8, 2))})
  arrays = {k: v for k, v in checkpoint.state_arrays(state).items() if k != "g_ema_collections"}
  manager = ocp.CheckpointManager(str(tmp_path))
  manager.save(
    1,
    args=ocp.args.Composite(
      state=ocp.args.StandardSave(arrays),
      metadata=ocp.args.JsonSave({"step": 1, "sha256": checkpoint.arrays_digest(arrays)}),
    ),
  )
  manager.close()
  reader = checkpoint.Checkpointer(str(tmp_path), writable=False)
  restored, _ = reader.restore(tiny_state(ema_decay=0.9))
  reader.close()
  for got, want in zip(
    jax.tree.leaves(restored.g_ema_collections), jax.tree.leaves(state.g_collections), strict=True
  ):
    np.testing.assert_array_equal(got, want)
  np.testing.assert_array_equal(restored.step, state.step)
