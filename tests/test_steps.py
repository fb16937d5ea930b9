"""The pure steps: Algorithm 1's schedule, determinism, one trace, metrics, EMA and clipping."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import builders, data, losses, steps
from tests.conftest import jitted_sampled_train_step, tiny_ring_config

METRIC_KEYS = {
  "d_loss",
  "g_loss",
  "d_real",
  "d_fake",
  "d_acc_real",
  "d_acc_fake",
  "d_grad_norm",
  "g_grad_norm",
}


def setup(config):
  source = data.make_data_source(config)
  state = builders.create_state_from_config(config, source.data_shape)
  return source, state


def real_batches(source, k, batch, seed=0):
  return {"x": source.sample({}, jax.random.PRNGKey(seed), k * batch)["x"].reshape(k, batch, -1)}


def trees_equal(a, b):
  return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def assert_trees_close(a, b):
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def stream_noise(state, batch, name, *indices):
  """z as the player steps draw it: from fold_in(key of stream `name` at this step, 2)."""
  return state.noise(jax.random.fold_in(state.key_for(name, *indices), 2), batch)


@jax.jit
def reference_discriminator_step(state, real, z, key):
  """A discriminator update on G(z), z given: (new state, d_loss)."""
  fake, _ = steps.apply_generator(
    state, state.g_params, z, train=True, key=jax.random.fold_in(key, 3)
  )
  new, metrics = steps.discriminator_update(state, real, fake, key)
  return new, metrics["d_loss"]


@jax.jit
def reference_generator_step(state, z, key):
  """A generator update on G(z), z given, written out: (new state, g_loss)."""

  def loss_fn(g_params):
    fake, cols = steps.apply_generator(
      state, g_params, z, train=True, key=jax.random.fold_in(key, 3)
    )
    logits, _ = steps.apply_discriminator(
      state, state.d_params, fake, train=True, key=jax.random.fold_in(key, 4)
    )
    return state.game.loss.generator(logits), (logits, cols)

  (loss, (logits, cols)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.g_params)
  return steps.generator_update(state, grads, loss, logits, cols)[0], loss


@jax.jit
def r1_on_the_reals(state, real):
  """R1 of the state's D at the real batch, computed apart from the step."""

  def d_fn(x):
    return steps.apply_discriminator(
      state, state.d_params, x, train=True, key=jax.random.PRNGKey(0)
    )[0]

  return losses.r1_penalty(d_fn, real)


@jax.jit
def gradient_penalty_of_the_first_d_step(state, real):
  """WGAN-GP as discriminator step 0 draws it: fakes from z of its stream, eps from fold_in 1."""
  key = state.key_for("discriminator", 0)
  z = stream_noise(state, real.shape[0], "discriminator", 0)
  fake, _ = steps.apply_generator(
    state, state.g_params, z, train=True, key=jax.random.fold_in(key, 3)
  )
  eps = losses.interpolation_weights(jax.random.fold_in(key, 1), real.shape)

  def d_fn(x):
    return steps.apply_discriminator(
      state, state.d_params, x, train=True, key=jax.random.fold_in(key, 0)
    )[0]

  return losses.gradient_penalty(d_fn, real, fake, eps)


def test_train_step_reports_the_metrics():
  source, state = setup(tiny_ring_config())
  state, metrics = jax.jit(steps.train_step)(state, real_batches(source, 1, 32))
  assert METRIC_KEYS <= set(metrics)
  assert int(state.step) == 1
  for value in metrics.values():
    assert np.isfinite(float(value))
  assert 0.0 <= float(metrics["d_acc_real"]) <= 1.0


def test_train_step_is_k_discriminator_steps_then_one_generator_step():
  """Against the k + 1 updates written out, each on the noise of its own stream.

  Fails if the k discriminator steps share one noise draw, or if the generator reuses
  a discriminator step's noise.
  """
  config = tiny_ring_config(d_steps=3)
  source, state = setup(config)
  batch = real_batches(source, 3, 32)
  fused, metrics = jax.jit(steps.train_step)(state, batch)
  manual = state
  draws = []
  for i in range(3):
    key = state.key_for("discriminator", i)
    draws.append(stream_noise(state, 32, "discriminator", i))
    manual, d_loss = reference_discriminator_step(manual, batch["x"][i], draws[-1], key)
  assert int(manual.step) == 0  # discriminator steps do not advance the step
  draws.append(stream_noise(state, 32, "generator"))
  manual, g_loss = reference_generator_step(manual, draws[-1], state.key_for("generator"))
  assert len({np.asarray(z).tobytes() for z in draws}) == 4  # four independent draws
  assert_trees_close(fused.d_params, manual.d_params)
  assert_trees_close(fused.g_params, manual.g_params)
  assert float(metrics["d_loss"]) == pytest.approx(float(d_loss), rel=1e-5)
  assert float(metrics["g_loss"]) == pytest.approx(float(g_loss), rel=1e-5)
  # Three discriminator updates differ from one.
  one, _ = jax.jit(steps.discriminator_step)(state, {"x": batch["x"][0]})
  assert not trees_equal(one.d_params, manual.d_params)


def test_train_step_rejects_a_batch_without_the_k_axis():
  source, state = setup(tiny_ring_config(d_steps=2))
  with pytest.raises(ValueError, match=r"needs batch\['x'\] of shape \(d_steps=2, batch, ...\)"):
    steps.train_step(state, real_batches(source, 1, 32))


def test_jitted_train_step_is_traced_once_across_many_calls():
  source, state = setup(tiny_ring_config())
  traces = []

  def counted(state, batch):
    traces.append(1)
    return steps.train_step(state, batch)

  step_fn = jax.jit(counted)
  for i in range(6):
    state, _ = step_fn(state, real_batches(source, 1, 32, seed=i))
  assert len(traces) == 1
  assert int(state.step) == 6


def test_same_seed_same_bits_and_other_seed_other_bits():
  def run(seed):
    config = tiny_ring_config(seed=seed)
    source, state = setup(config)
    step_fn = jitted_sampled_train_step(source, config.batch_size)
    for _ in range(10):
      state, _ = step_fn(state, source.arrays)
    return state

  a, b, c = run(0), run(0), run(1)
  assert trees_equal(a.g_params, b.g_params) and trees_equal(a.d_params, b.d_params)
  assert trees_equal(a.g_opt_state, b.g_opt_state)
  assert not trees_equal(a.g_params, c.g_params)


def test_each_draw_comes_from_its_own_named_stream():
  """The player steps draw z from their own streams ('discriminator', d_index; 'generator').

  Fails if G uses D's key (state.key_for("discriminator", 0) in generator_step).
  """
  source, state = setup(tiny_ring_config())
  keys = [state.key_for(name) for name in ("data", "discriminator", "generator")]
  keys.append(state.replace(step=state.step + 1).key_for("data"))
  keys.append(state.key_for("discriminator", 0))
  keys.append(state.key_for("discriminator", 1))
  assert len({tuple(np.asarray(k)) for k in keys}) == 6
  real = real_batches(source, 1, 32)["x"][0]

  g_new, g_metrics = jax.jit(steps.generator_step)(state, {"x": real})
  g_key = state.key_for("generator")
  expected, g_loss = reference_generator_step(state, stream_noise(state, 32, "generator"), g_key)
  assert_trees_close(g_new.g_params, expected.g_params)
  assert float(g_metrics["g_loss"]) == pytest.approx(float(g_loss), rel=1e-5)
  d_key = state.key_for("discriminator", 0)
  _, other_loss = reference_generator_step(
    state, stream_noise(state, 32, "discriminator", 0), d_key
  )
  assert float(other_loss) != pytest.approx(float(g_loss), rel=1e-5)  # the stream matters

  d_step = jax.jit(steps.discriminator_step, static_argnames="d_index")
  d_new, d_metrics = d_step(state, {"x": real}, d_index=1)
  d_key = state.key_for("discriminator", 1)
  expected, d_loss = reference_discriminator_step(
    state, real, stream_noise(state, 32, "discriminator", 1), d_key
  )
  assert_trees_close(d_new.d_params, expected.d_params)
  assert float(d_metrics["d_loss"]) == pytest.approx(float(d_loss), rel=1e-5)


def test_generator_ema_follows_its_definition():
  config = tiny_ring_config(ema_decay=0.9)
  source, state = setup(config)
  assert state.g_ema_params is not None
  new, _ = jax.jit(steps.train_step)(state, real_batches(source, 1, 32))
  for ema, old, params in zip(
    jax.tree.leaves(new.g_ema_params),
    jax.tree.leaves(state.g_ema_params),
    jax.tree.leaves(new.g_params),
  ):
    np.testing.assert_allclose(ema, 0.9 * old + 0.1 * params, rtol=1e-5, atol=1e-7)
  assert not trees_equal(new.g_ema_params, new.g_params)


@pytest.mark.parametrize("frozen", ["generator", "discriminator"])
def test_learning_rate_zero_freezes_its_player_and_only_it(frozen):
  """make_optimizer's learning rate 0 (optax.set_to_zero): the frozen player's parameters keep
  their bits over a few steps while the other player's all move.

  Fails if a zero learning rate still updates (e.g. make_optimizer builds the named optimizer
  at a nonzero rate), or if it freezes the other player too.
  """
  optimizer = {"generator": "g_optimizer", "discriminator": "d_optimizer"}[frozen]
  config = tiny_ring_config(**{optimizer + "__learning_rate": 0.0})
  source, state = setup(config)
  step_fn = jax.jit(steps.train_step)
  new = state
  for i in range(3):
    new, _ = step_fn(new, real_batches(source, 1, 32, seed=i))
  still, moving = ("g_params", "d_params") if frozen == "generator" else ("d_params", "g_params")
  assert trees_equal(getattr(new, still), getattr(state, still))
  for before, after in zip(
    jax.tree.leaves(getattr(state, moving)), jax.tree.leaves(getattr(new, moving)), strict=True
  ):
    assert not np.array_equal(before, after)


def test_weight_clipping_keeps_the_critic_in_the_box():
  config = tiny_ring_config(loss="wasserstein", clip_value=0.01, d_steps=5)
  config.d_optimizer = {"name": "rmsprop", "learning_rate": 5e-5}
  source, state = setup(config)
  state, metrics = jax.jit(steps.train_step)(state, real_batches(source, 5, 32))
  leaves = jax.tree.leaves(state.d_params)
  assert max(float(jnp.abs(p).max()) for p in leaves) <= 0.01


def test_penalties_are_reported_and_enter_the_loss():
  """The reported penalties are WGAN-GP at the step's interpolates and R1 at the reals.

  Fails if R1 is taken on the fakes (losses.r1_penalty(d_fn, fake) in discriminator_penalties).
  """
  config = tiny_ring_config(loss="wasserstein", gradient_penalty_weight=10.0, r1_weight=1.0)
  source, state = setup(config)
  batch = real_batches(source, 1, 32)
  real = batch["x"][0]
  _, metrics = jax.jit(steps.train_step)(state, batch)
  r1 = float(r1_on_the_reals(state, real))
  gp = float(gradient_penalty_of_the_first_d_step(state, real))
  assert gp > 0 and r1 > 0
  assert float(metrics["r1_penalty"]) == pytest.approx(r1, rel=1e-5)
  assert float(metrics["gradient_penalty"]) == pytest.approx(gp, rel=1e-5)
  plain = state.replace(game=state.game.__class__(loss=state.game.loss))
  _, plain_metrics = jax.jit(steps.train_step)(plain, batch)
  expected = float(plain_metrics["d_loss"]) + 10 * gp + r1
  assert float(metrics["d_loss"]) == pytest.approx(expected, rel=1e-5)


def test_a_decaying_r1_weight_enters_the_loss_in_full_at_first_and_not_at_all_after_decay():
  """The R1 term enters d_loss with the cosine-decayed weight, R1 itself at the reals.

  Fails if R1 is taken on the fakes (losses.r1_penalty(d_fn, fake) in discriminator_penalties).
  """
  config = tiny_ring_config(r1_weight=3.0, r1_decay_steps=40)
  source, state = setup(config)
  batch = real_batches(source, 1, 32)
  r1 = float(r1_on_the_reals(state, batch["x"][0]))  # the same D and reals at every step
  assert r1 > 0
  plain = state.replace(game=state.game.__class__(loss=state.game.loss))
  train_step = jax.jit(steps.train_step)
  for step, weight in ((0, 3.0), (20, 1.5), (40, 0.0), (90, 0.0)):
    _, metrics = train_step(state.replace(step=jnp.int32(step)), batch)
    _, plain_metrics = train_step(plain.replace(step=jnp.int32(step)), batch)
    assert float(metrics["r1_penalty"]) == pytest.approx(r1, rel=1e-5)
    expected = float(plain_metrics["d_loss"]) + weight * r1
    assert float(metrics["d_loss"]) == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_batchnorm_generator_updates_its_running_statistics_in_the_generator_step():
  """G's batch statistics move in the generator step only, on the generator's own noise.

  Fails if G's BatchNorm statistics are updated in the D step instead of the G step.
  """
  config = tiny_ring_config()
  config.model.name = "seed002_mlp"
  config.model.generator = {"hidden": (8, 8, 8, 8)}
  config.model.discriminator = {"hidden": (8, 8)}
  source, state = setup(config)
  batch = real_batches(source, 1, 32)
  after_d, _ = jax.jit(steps.discriminator_step)(state, {"x": batch["x"][0]})
  assert trees_equal(after_d.g_collections, state.g_collections)
  new, _ = jax.jit(steps.train_step)(state, batch)
  assert not trees_equal(new.g_collections, state.g_collections)
  z = stream_noise(state, 32, "generator")
  _, expected = jax.jit(
    lambda s, z: steps.apply_generator(s, s.g_params, z, train=True, key=jax.random.PRNGKey(0))
  )(state, z)
  assert_trees_close(new.g_collections, expected)


def test_reused_generator_forward_equals_separate_passes_on_the_same_noise():
  """reuse_fakes: one G forward (with its VJP) serves both players; the result equals a
  discriminator step, then a generator step recomputing G(z) on that same z."""
  config = tiny_ring_config(d_steps=2, reuse_fakes=True)
  config.model.name = "seed002_mlp"  # BatchNorm in G: its statistics must match too
  config.model.generator = {"hidden": (8, 8, 8, 8)}
  config.model.discriminator = {"hidden": (8, 8)}
  source, state = setup(config)
  batch = real_batches(source, 2, 32)
  fused, metrics = jax.jit(steps.train_step)(state, batch)

  @jax.jit
  def reference(state):
    state, _ = steps.discriminator_step(state, {"x": batch["x"][0]}, d_index=0)
    key, z, g_dropout = steps.discriminator_noise(state, 1, 32, None)
    state, _ = steps.discriminator_step(state, {"x": batch["x"][1]}, d_index=1)
    d_dropout = jax.random.fold_in(state.key_for("generator"), 4)

    def loss_fn(g_params):
      fake, cols = steps.apply_generator(state, g_params, z, train=True, key=g_dropout)
      logits, _ = steps.apply_discriminator(state, state.d_params, fake, train=True, key=d_dropout)
      return state.game.loss.generator(logits), (logits, cols)

    (loss, (logits, cols)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.g_params)
    return steps.generator_update(state, grads, loss, logits, cols)[0]

  expected = reference(state)
  for a, b in zip(jax.tree.leaves(fused), jax.tree.leaves(expected)):
    np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)
  assert int(fused.step) == 1 and {"d_loss", "g_loss"} <= set(metrics)


def test_player_steps_plug_a_variants_inputs_and_losses_into_the_core_steps():
  from tests.variant_helpers import build, ring_batch

  _, state = build("conditional", num_classes=8)
  batch = ring_batch(2, 16)
  state = state.replace(game=dataclasses.replace(state.game, d_steps=2))
  by_hand = jax.jit(
    lambda s, b: steps.train_step(
      s,
      b,
      discriminator_step_fn=lambda s, b, **kw: steps.discriminator_step(
        s, b, conditioning=("label",), **kw
      ),
      generator_step_fn=lambda s, b, **kw: steps.generator_step(
        s, b, conditioning=("label",), **kw
      ),
    )
  )
  plugged = steps.player_steps(conditioning=("label",))
  expected, got = by_hand(state, batch), jax.jit(plugged.train_step)(state, batch)
  for a, b in zip(jax.tree.leaves(expected), jax.tree.leaves(got)):
    np.testing.assert_array_equal(a, b)
  assert plugged.train_step.__name__ == "train_step"

  calls = []

  def discriminator_loss(*args, **kwargs):
    calls.append("d")
    return steps.discriminator_loss(*args, **kwargs)

  def generator_loss(*args, **kwargs):
    calls.append("g")
    return steps.generator_loss(*args, **kwargs)

  spied = steps.player_steps(
    conditioning=("label",),
    discriminator_loss_fn=discriminator_loss,
    generator_loss_fn=generator_loss,
  )
  jax.eval_shape(spied.train_step, state, batch)  # traced once: each loss called once a step
  assert calls == ["d", "d", "g"]
