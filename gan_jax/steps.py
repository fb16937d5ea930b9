"""Pure training steps: `discriminator_step`, `generator_step` and `train_step`.

Each takes a `GANState` and a batch and returns the new state and a dict of
scalar metrics. None of them jits or places anything on devices: the caller
transforms them (`jax.jit`, `jax.pmap`, `jax.shard_map`; see `gan_jax.parallel`).
When `axis_name` names a mapped axis, gradients and metrics are averaged over
it with `lax.pmean`, and every random draw is made for the global batch and
sliced per device, so one device and N devices with the same global batch see
the same noise.

A batch is a dict: 'x' holds real data, (B, *data_shape) for the player steps
and (k, B, *data_shape) for `train_step`, one real minibatch per
discriminator step (Algorithm 1 samples fresh data for each).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from jax import lax

from gan_jax import losses
from gan_jax.state import GANState

Metrics = dict[str, jax.Array]


def local_slice_of_global_draw(draw, key: jax.Array, local_batch: int, axis_name: str | None):
  """Draws for the global batch with `draw(key, n)` and keeps this device's rows.

  Without an axis this is `draw(key, local_batch)`. With one, every device
  draws the same (local_batch * axis_size) rows and keeps slice axis_index.
  `draw` may return an array or a tree of arrays (e.g. {'x': ..., 'label': ...}).
  """
  if axis_name is None:
    return draw(key, local_batch)
  num_devices = lax.axis_size(axis_name)
  rows = draw(key, local_batch * num_devices)
  start = lax.axis_index(axis_name) * local_batch
  return jax.tree.map(lambda x: lax.dynamic_slice_in_dim(x, start, local_batch), rows)


def _device_key(key: jax.Array, axis_name: str | None) -> jax.Array:
  """A key that differs per device, for per-device randomness such as dropout."""
  return key if axis_name is None else jax.random.fold_in(key, lax.axis_index(axis_name))


def _mean_over_devices(tree, axis_name: str | None):
  return tree if axis_name is None else lax.pmean(tree, axis_name)


def apply_generator(state: GANState, params, z, *, train: bool, key: jax.Array):
  """G(z) with the state's collections; returns (samples, updated collections)."""
  variables = {"params": params, **state.g_collections}
  if train and state.g_collections:
    return state.g_apply_fn(variables, z, train=True, rngs={"dropout": key},
                            mutable=list(state.g_collections))
  return state.g_apply_fn(variables, z, train=train, rngs={"dropout": key}), state.g_collections


def apply_discriminator(state: GANState, params, x, *, train: bool, key: jax.Array):
  """D(x) logits (B,) with the state's collections; returns (logits, updated collections)."""
  variables = {"params": params, **state.d_collections}
  if train and state.d_collections:
    return state.d_apply_fn(variables, x, train=True, rngs={"dropout": key},
                            mutable=list(state.d_collections))
  return state.d_apply_fn(variables, x, train=train, rngs={"dropout": key}), state.d_collections


def _logit_metrics(real_logits, fake_logits, threshold: float) -> Metrics:
  return {
      "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
      "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
      "d_real_logit": jnp.mean(real_logits),
      "d_fake_logit": jnp.mean(fake_logits),
      "d_acc_real": jnp.mean((real_logits > threshold).astype(jnp.float32)),
      "d_acc_fake": jnp.mean((fake_logits <= threshold).astype(jnp.float32)),
      "game_value": losses.game_value(real_logits, fake_logits),
  }


def discriminator_loss(state: GANState, d_params, real, fake, key: jax.Array,
                       axis_name: str | None = None):
  """The discriminator's objective with its regularizers.

  Args:
    real, fake: (B, *data_shape) batches; `fake` carries no generator gradient.
    key: the stream key of this discriminator step (penalties, dropout).
  Returns:
    (loss, (real_logits (B,), fake_logits (B,), new d_collections, aux metrics)).
  """
  game = state.game
  dropout_key = _device_key(jax.random.fold_in(key, 0), axis_name)
  if state.d_collections:
    # Batch statistics are computed per batch, real and fake apart (DCGAN practice).
    real_logits, _ = apply_discriminator(state, d_params, real, train=True, key=dropout_key)
    fake_logits, collections = apply_discriminator(state, d_params, fake, train=True,
                                                   key=dropout_key)
  else:
    # One call on the concatenation: the same maths, one pass instead of two.
    logits, collections = apply_discriminator(
        state, d_params, jnp.concatenate([real, fake]), train=True, key=dropout_key)
    real_logits, fake_logits = logits[:real.shape[0]], logits[real.shape[0]:]
  loss = game.loss.discriminator(real_logits, fake_logits)
  aux = {}

  def d_fn(x):
    return apply_discriminator(state, d_params, x, train=True, key=dropout_key)[0]

  if game.gradient_penalty_weight > 0:
    eps = local_slice_of_global_draw(
        lambda k, n: losses.interpolation_weights(k, (n,) + real.shape[1:], real.dtype),
        jax.random.fold_in(key, 1), real.shape[0], axis_name)
    gp = losses.gradient_penalty(d_fn, real, fake, eps)
    loss = loss + game.gradient_penalty_weight * gp
    aux["gradient_penalty"] = gp
  if game.r1_weight > 0:
    r1 = losses.r1_penalty(d_fn, real)
    loss = loss + game.r1_weight * r1
    aux["r1_penalty"] = r1
  return loss, (real_logits, fake_logits, collections, aux)


def discriminator_update(state: GANState, real, fake, key: jax.Array,
                         axis_name: str | None = None) -> tuple[GANState, Metrics]:
  """Updates the discriminator on given real and fake batches (B, *data_shape).

  `fake` must carry no generator gradient; `key` is this step's stream key.
  """
  grad_fn = jax.value_and_grad(discriminator_loss, argnums=1, has_aux=True)
  (loss, (real_logits, fake_logits, collections, aux)), grads = grad_fn(
      state, state.d_params, real, fake, key, axis_name)
  grads = _mean_over_devices(grads, axis_name)
  updates, d_opt_state = state.d_tx.update(grads, state.d_opt_state, state.d_params)
  d_params = optax.apply_updates(state.d_params, updates)
  if state.game.clip_value > 0:
    d_params = losses.clip_weights(d_params, state.game.clip_value)
  metrics = {"d_loss": loss, "d_grad_norm": optax.tree.norm(grads), **aux,
             **_logit_metrics(real_logits, fake_logits, state.game.loss.threshold)}
  new_state = state.replace(d_params=d_params, d_opt_state=d_opt_state,
                            d_collections=_mean_over_devices(collections, axis_name))
  return new_state, _mean_over_devices(metrics, axis_name)


def _discriminator_noise(state: GANState, d_index: int, local_batch: int, axis_name):
  key = state.key_for("discriminator", d_index)
  z = local_slice_of_global_draw(state.noise, jax.random.fold_in(key, 2), local_batch, axis_name)
  return key, z, _device_key(jax.random.fold_in(key, 3), axis_name)


def discriminator_step(state: GANState, batch: dict[str, Any], *, d_index: int = 0,
                       axis_name: str | None = None) -> tuple[GANState, Metrics]:
  """One discriminator update on a real batch and fresh fakes (inner loop of Algorithm 1).

  Args:
    state: the current state; its step and `d_index` select the noise.
    batch: {'x': (B, *data_shape) real data}.
    d_index: which of the k discriminator steps of this iteration this is.
    axis_name: the mapped device axis, or None.
  Returns:
    (new state, metrics): d_loss, d_real, d_fake, d_acc_real, d_acc_fake,
    d_grad_norm, game_value and the active penalties.
  """
  real = batch["x"]
  key, z, g_dropout = _discriminator_noise(state, d_index, real.shape[0], axis_name)
  fake, _ = apply_generator(state, state.g_params, z, train=True, key=g_dropout)
  return discriminator_update(state, real, lax.stop_gradient(fake), key, axis_name)


def generator_update(state: GANState, grads, loss, fake_logits, g_collections,
                     axis_name: str | None = None) -> tuple[GANState, Metrics]:
  """Applies generator gradients: optimizer, EMA, collections; advances `state.step`."""
  grads = _mean_over_devices(grads, axis_name)
  updates, g_opt_state = state.g_tx.update(grads, state.g_opt_state, state.g_params)
  g_params = optax.apply_updates(state.g_params, updates)
  g_ema_params = state.g_ema_params
  if g_ema_params is not None:
    g_ema_params = optax.incremental_update(g_params, g_ema_params, 1.0 - state.ema_decay)
  metrics = {"g_loss": loss, "g_grad_norm": optax.tree.norm(grads),
             "d_fake_for_g": jnp.mean(jax.nn.sigmoid(fake_logits))}
  new_state = state.replace(
      step=state.step + 1, g_params=g_params, g_opt_state=g_opt_state,
      g_collections=_mean_over_devices(g_collections, axis_name), g_ema_params=g_ema_params)
  return new_state, _mean_over_devices(metrics, axis_name)


def generator_step(state: GANState, batch: dict[str, Any], *,
                   axis_name: str | None = None) -> tuple[GANState, Metrics]:
  """One generator update on fresh noise; advances `state.step` by one.

  Args:
    batch: {'x': (B, *data_shape)}; only its batch size is used by the plain game.
  Returns:
    (new state, metrics): g_loss, g_grad_norm, d_fake_for_g (mean D(G(z)) seen by G).
  """
  local_batch = batch["x"].shape[0]
  key = state.key_for("generator")
  z = local_slice_of_global_draw(state.noise, jax.random.fold_in(key, 2), local_batch, axis_name)
  g_dropout = _device_key(jax.random.fold_in(key, 3), axis_name)
  d_dropout = _device_key(jax.random.fold_in(key, 4), axis_name)

  def loss_fn(g_params):
    fake, g_collections = apply_generator(state, g_params, z, train=True, key=g_dropout)
    fake_logits, _ = apply_discriminator(state, state.d_params, fake, train=True, key=d_dropout)
    return state.game.loss.generator(fake_logits), (fake_logits, g_collections)

  (loss, (fake_logits, g_collections)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
      state.g_params)
  return generator_update(state, grads, loss, fake_logits, g_collections, axis_name)


def _shared_forward_steps(state: GANState, real, d_index: int, axis_name: str | None):
  """The last discriminator step and the generator step on one generator forward pass.

  G(z) is computed once with its VJP; the discriminator updates on the detached
  fakes, then the generator's loss is taken through the updated discriminator
  at the same fakes and pulled back through the saved VJP (PyTorch's DCGAN
  example does the same). Saves one generator forward per iteration.
  """
  key, z, g_dropout = _discriminator_noise(state, d_index, real.shape[0], axis_name)
  fake, pullback, g_collections = jax.vjp(
      lambda p: apply_generator(state, p, z, train=True, key=g_dropout), state.g_params,
      has_aux=True)
  state, d_metrics = discriminator_update(state, real, lax.stop_gradient(fake), key, axis_name)
  d_dropout = _device_key(jax.random.fold_in(state.key_for("generator"), 4), axis_name)

  def loss_of_fakes(fakes):
    fake_logits, _ = apply_discriminator(state, state.d_params, fakes, train=True, key=d_dropout)
    return state.game.loss.generator(fake_logits), fake_logits

  (loss, fake_logits), fake_grads = jax.value_and_grad(loss_of_fakes, has_aux=True)(fake)
  (grads,) = pullback(fake_grads)
  state, g_metrics = generator_update(state, grads, loss, fake_logits, g_collections, axis_name)
  return state, {**d_metrics, **g_metrics}


def train_step(state: GANState, batch: dict[str, Any], *,
               axis_name: str | None = None) -> tuple[GANState, Metrics]:
  """One iteration of Algorithm 1: k discriminator steps, then one generator step.

  With `state.game.reuse_fakes`, the generator step reuses the last
  discriminator step's noise and generator forward pass instead of drawing fresh
  noise (one generator forward per iteration; see `_shared_forward_steps`).

  Args:
    batch: {'x': (k, B, *data_shape)}, one real minibatch per discriminator step,
      k = state.game.d_steps.
  Returns:
    (new state, metrics of the last discriminator step and of the generator step).
  """
  real = batch["x"]
  k = state.game.d_steps
  if real.shape[0] != k:
    raise ValueError(
        f"train_step needs batch['x'] of shape (d_steps={k}, batch, ...), got {real.shape}")
  metrics = {}
  shared = state.game.reuse_fakes
  # A Python loop, not lax.scan: k is small and static, and convolutions inside
  # scan run far slower on CPU (benchmarks/RESULTS.md).
  for i in range(k - 1 if shared else k):
    minibatch = {name: value[i] for name, value in batch.items()}
    state, metrics = discriminator_step(state, minibatch, d_index=i, axis_name=axis_name)
  last = {name: value[k - 1] for name, value in batch.items()}
  if shared:
    return _shared_forward_steps(state, last["x"], k - 1, axis_name)
  state, g_metrics = generator_step(state, last, axis_name=axis_name)
  return state, {**metrics, **g_metrics}
