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
discriminator step (Algorithm 1 samples fresh data for each). Labelled
sources add 'label', int32 (B,) (resp. (k, B)).

Variants reuse these pieces: `conditioning` names batch entries passed to both
players beside z and x (a conditional GAN is `conditioning=('label',)`),
`game.augment` is applied to every input of D (DiffAugment), and `train_step`
takes the two player steps as arguments (an unrolled GAN swaps the generator's).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from jax import lax

from gan_jax import diagnostics, losses
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


def gradient_norm(grads) -> jax.Array:
  """Global L2 norm of a gradient tree: optax.tree.norm's value, up to float rounding.

  The squares are written |g| * |g| (the same numbers as g * g): XLA would share
  g * g with Adam's second moment and write it out as an array of its own; as
  written, the square stays inside the reduction (benchmarks/RESULTS.md).
  """
  return jnp.sqrt(sum(jnp.sum(jnp.abs(g) * jnp.abs(g)) for g in jax.tree.leaves(grads)))


def device_key(key: jax.Array, axis_name: str | None) -> jax.Array:
  """A key that differs per device, for per-device randomness such as dropout."""
  return key if axis_name is None else jax.random.fold_in(key, lax.axis_index(axis_name))


def mean_over_devices(tree, axis_name: str | None):
  return tree if axis_name is None else lax.pmean(tree, axis_name)


def conditioning_inputs(batch: dict[str, Any], conditioning: tuple[str, ...]) -> tuple:
  """The batch entries named in `conditioning`, e.g. (labels int32 (B,),); () for none."""
  for name in conditioning:
    if name not in batch:
      raise ValueError(f"the step is conditioned on batch[{name!r}] but the batch holds only "
                       f"{sorted(batch)}; use a labelled data source (idx, or npz with 'label')")
  return tuple(batch[name] for name in conditioning)


def apply_generator(state: GANState, params, z, *inputs, train: bool, key: jax.Array):
  """G(z, *inputs) with the state's collections; returns (samples, updated collections)."""
  variables = {"params": params, **state.g_collections}
  if train and state.g_collections:
    return state.g_apply_fn(variables, z, *inputs, train=True, rngs={"dropout": key},
                            mutable=list(state.g_collections))
  return (state.g_apply_fn(variables, z, *inputs, train=train, rngs={"dropout": key}),
          state.g_collections)


def apply_discriminator(state: GANState, params, x, *inputs, train: bool, key: jax.Array):
  """D(x, *inputs) with the state's collections; returns (outputs, updated collections).

  The outputs are the logits (B,) for the plain game, or what a variant's D returns.
  """
  variables = {"params": params, **state.d_collections}
  if train and state.d_collections:
    return state.d_apply_fn(variables, x, *inputs, train=True, rngs={"dropout": key},
                            mutable=list(state.d_collections))
  return (state.d_apply_fn(variables, x, *inputs, train=train, rngs={"dropout": key}),
          state.d_collections)


def augment_batch(augment, key: jax.Array, x: jax.Array, axis_name: str | None) -> jax.Array:
  """`augment` (e.g. `gan_jax.augment.DiffAugment`) applied to x (B, ...), device-independently.

  Its per-example uniforms are drawn for the global batch and sliced, like the noise.
  """
  u = local_slice_of_global_draw(augment.draw, key, x.shape[0], axis_name)
  return augment.apply(u, x)


def augment_real_and_fake(game: losses.Game, key: jax.Array, real, fake, axis_name: str | None):
  """(T(real), T(fake)) with independent draws when `game.augment` is set, else (real, fake)."""
  if game.augment is None:
    return real, fake
  return (augment_batch(game.augment, jax.random.fold_in(key, 5), real, axis_name),
          augment_batch(game.augment, jax.random.fold_in(key, 6), fake, axis_name))


def discriminate(state: GANState, d_params, real, fake, *inputs, key: jax.Array,
                 axis_name: str | None = None):
  """D in train mode on a real and a fake batch of equal size, sharing `inputs` (e.g. labels).

  With batch statistics, real and fake go through D apart (DCGAN practice);
  otherwise in one pass on their concatenation. The outputs (logits, or a
  tree of arrays) are split in halves, so a D that maps B rows to B/m
  (PacGAN) works too.
  Returns:
    (real outputs, fake outputs, new d_collections).
  """
  dropout_key = device_key(jax.random.fold_in(key, 0), axis_name)
  if state.d_collections:
    real_out, _ = apply_discriminator(state, d_params, real, *inputs, train=True, key=dropout_key)
    fake_out, collections = apply_discriminator(state, d_params, fake, *inputs, train=True,
                                                key=dropout_key)
    return real_out, fake_out, collections
  both = tuple(jnp.concatenate([a, a]) for a in inputs)
  out, collections = apply_discriminator(state, d_params, jnp.concatenate([real, fake]), *both,
                                         train=True, key=dropout_key)
  real_out = jax.tree.map(lambda o: o[:o.shape[0] // 2], out)
  fake_out = jax.tree.map(lambda o: o[o.shape[0] // 2:], out)
  return real_out, fake_out, collections


def discriminator_penalties(state: GANState, d_fn, real, fake, key: jax.Array,
                            axis_name: str | None = None):
  """The game's active regularizers on D: (weighted sum, {name: value}).

  Args:
    d_fn: maps inputs (B, *data_shape) to logits.
    key: the discriminator step's key (the interpolation weights use fold_in(key, 1)).
  """
  game = state.game
  total, aux = 0.0, {}
  if game.gradient_penalty_weight > 0:
    eps = local_slice_of_global_draw(
        lambda k, n: losses.interpolation_weights(k, (n,) + real.shape[1:], real.dtype),
        jax.random.fold_in(key, 1), real.shape[0], axis_name)
    gp = losses.gradient_penalty(d_fn, real, fake, eps)
    total = total + game.gradient_penalty_weight * gp
    aux["gradient_penalty"] = gp
  if game.r1_weight > 0:
    r1 = losses.r1_penalty(d_fn, real)
    total = total + losses.r1_weight_at(game, state.step) * r1
    aux["r1_penalty"] = r1
  return total, aux


def update_discriminator(state: GANState, grads, collections, axis_name: str | None = None):
  """Applies the D optimizer and WGAN clipping; returns the state.

  `grads` must already be averaged over devices (`mean_over_devices`); the new
  collections are averaged here.
  """
  updates, d_opt_state = state.d_tx.update(grads, state.d_opt_state, state.d_params)
  d_params = optax.apply_updates(state.d_params, updates)
  if state.game.clip_value > 0:
    d_params = losses.clip_weights(d_params, state.game.clip_value)
  return state.replace(d_params=d_params, d_opt_state=d_opt_state,
                       d_collections=mean_over_devices(collections, axis_name))


def update_generator(state: GANState, grads, collections, axis_name: str | None = None):
  """Applies the G optimizer and the EMA and advances `step`; returns the state.

  `grads` must already be averaged over devices; the new collections are averaged here.
  """
  updates, g_opt_state = state.g_tx.update(grads, state.g_opt_state, state.g_params)
  g_params = optax.apply_updates(state.g_params, updates)
  g_ema_params = state.g_ema_params
  if g_ema_params is not None:
    g_ema_params = optax.incremental_update(g_params, g_ema_params, 1.0 - state.ema_decay)
  return state.replace(
      step=state.step + 1, g_params=g_params, g_opt_state=g_opt_state,
      g_collections=mean_over_devices(collections, axis_name), g_ema_params=g_ema_params)


def logit_metrics(real_logits, fake_logits, threshold: float) -> Metrics:
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
                       axis_name: str | None = None, inputs: tuple = ()):
  """The discriminator's objective with its regularizers.

  Args:
    real, fake: (B, *data_shape) batches; `fake` carries no generator gradient
      (except inside an unrolled generator loss).
    key: the stream key of this discriminator step (penalties, dropout, augmentation).
    inputs: further D inputs shared by the real and fake rows, e.g. (labels (B,),).
  Returns:
    (loss, (real_logits, fake_logits, new d_collections, aux metrics)).
  """
  game = state.game
  real, fake = augment_real_and_fake(game, key, real, fake, axis_name)
  real_logits, fake_logits, collections = discriminate(state, d_params, real, fake, *inputs,
                                                       key=key, axis_name=axis_name)
  loss = game.loss.discriminator(real_logits, fake_logits)
  dropout_key = device_key(jax.random.fold_in(key, 0), axis_name)

  def d_fn(x):
    return apply_discriminator(state, d_params, x, *inputs, train=True, key=dropout_key)[0]

  penalty, aux = discriminator_penalties(state, d_fn, real, fake, key, axis_name)
  return loss + penalty, (real_logits, fake_logits, collections, aux)


def discriminator_step(state: GANState, batch: dict[str, Any], *, d_index: int = 0,
                       axis_name: str | None = None,
                       conditioning: tuple[str, ...] = ()) -> tuple[GANState, Metrics]:
  """One discriminator update on a real batch and fresh fakes (inner loop of Algorithm 1).

  Args:
    state: the current state; its step and `d_index` select the noise.
    batch: {'x': (B, *data_shape) real data, optionally 'label': int32 (B,)}.
    d_index: which of the k discriminator steps of this iteration this is.
    axis_name: the mapped device axis, or None.
    conditioning: names of batch entries given to both players, e.g. ('label',);
      the fakes are then made for the real rows' labels.
  Returns:
    (new state, metrics): d_loss, d_real, d_fake, d_acc_real, d_acc_fake,
    d_grad_norm, game_value, diversity_ratio and the active penalties.
  """
  real = batch["x"]
  inputs = conditioning_inputs(batch, conditioning)
  key = state.key_for("discriminator", d_index)
  z = local_slice_of_global_draw(state.noise, jax.random.fold_in(key, 2), real.shape[0], axis_name)
  fake, _ = apply_generator(state, state.g_params, z, *inputs, train=True,
                            key=device_key(jax.random.fold_in(key, 3), axis_name))
  return discriminator_update(state, real, lax.stop_gradient(fake), key, axis_name, inputs)


def discriminator_update(state: GANState, real, fake, key: jax.Array,
                         axis_name: str | None = None, inputs: tuple = ()):
  """One discriminator update on given real and fake batches (B, *data_shape).

  `fake` must carry no generator gradient; `key` is the step's stream key.
  Returns (new state, metrics), as `discriminator_step`.
  """
  grad_fn = jax.value_and_grad(discriminator_loss, argnums=1, has_aux=True)
  (loss, (real_logits, fake_logits, collections, aux)), grads = grad_fn(
      state, state.d_params, real, fake, key, axis_name, inputs)
  grads = mean_over_devices(grads, axis_name)
  metrics = {"d_loss": loss, "d_grad_norm": gradient_norm(grads),
             "diversity_ratio": diagnostics.diversity_ratio(fake, real), **aux,
             **logit_metrics(real_logits, fake_logits, state.game.loss.threshold)}
  new_state = update_discriminator(state, grads, collections, axis_name)
  return new_state, mean_over_devices(metrics, axis_name)


def generator_step(state: GANState, batch: dict[str, Any], *, axis_name: str | None = None,
                   conditioning: tuple[str, ...] = ()) -> tuple[GANState, Metrics]:
  """One generator update on fresh noise; advances `state.step` by one.

  Args:
    batch: {'x': (B, *data_shape)}; only its batch size (and the entries named
      in `conditioning`) are used by the plain game.
  Returns:
    (new state, metrics): g_loss, g_grad_norm, d_fake_for_g (mean D(G(z)) seen by G).
  """
  local_batch = batch["x"].shape[0]
  inputs = conditioning_inputs(batch, conditioning)
  key = state.key_for("generator")
  z = local_slice_of_global_draw(state.noise, jax.random.fold_in(key, 2), local_batch, axis_name)
  g_dropout = device_key(jax.random.fold_in(key, 3), axis_name)
  d_dropout = device_key(jax.random.fold_in(key, 4), axis_name)

  def loss_fn(g_params):
    fake, g_collections = apply_generator(state, g_params, z, *inputs, train=True, key=g_dropout)
    if state.game.augment is not None:
      fake = augment_batch(state.game.augment, jax.random.fold_in(key, 5), fake, axis_name)
    fake_logits, _ = apply_discriminator(state, state.d_params, fake, *inputs, train=True,
                                         key=d_dropout)
    return state.game.loss.generator(fake_logits), (fake_logits, g_collections)

  (loss, (fake_logits, g_collections)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
      state.g_params)
  return generator_update(state, grads, loss, fake_logits, g_collections, axis_name)


def generator_update(state: GANState, grads, loss, fake_logits, g_collections,
                     axis_name: str | None = None) -> tuple[GANState, Metrics]:
  """Averages G's gradients over devices, applies them (`update_generator`); returns metrics."""
  grads = mean_over_devices(grads, axis_name)
  metrics = {"g_loss": loss, "g_grad_norm": gradient_norm(grads),
             "d_fake_for_g": jnp.mean(jax.nn.sigmoid(fake_logits))}
  new_state = update_generator(state, grads, g_collections, axis_name)
  return new_state, mean_over_devices(metrics, axis_name)


def discriminator_noise(state: GANState, d_index: int, local_batch: int, axis_name: str | None):
  """(key, z, generator dropout key) of discriminator step `d_index`, as `discriminator_step` draws them."""
  key = state.key_for("discriminator", d_index)
  z = local_slice_of_global_draw(state.noise, jax.random.fold_in(key, 2), local_batch, axis_name)
  return key, z, device_key(jax.random.fold_in(key, 3), axis_name)


def shared_forward_steps(state: GANState, batch: dict[str, Any], d_index: int,
                         axis_name: str | None = None) -> tuple[GANState, Metrics]:
  """The last discriminator step and the generator step on one generator forward pass.

  G(z) is computed once with its VJP; the discriminator updates on the detached
  fakes, then the generator's loss is taken through the updated discriminator
  at the same fakes and pulled back through the saved VJP (PyTorch's DCGAN
  example does the same). Saves one generator forward per iteration.
  """
  real = batch["x"]
  key, z, g_dropout = discriminator_noise(state, d_index, real.shape[0], axis_name)
  fake, pullback, g_collections = jax.vjp(
      lambda p: apply_generator(state, p, z, train=True, key=g_dropout), state.g_params,
      has_aux=True)
  state, d_metrics = discriminator_update(state, real, lax.stop_gradient(fake), key, axis_name)
  g_key = state.key_for("generator")
  d_dropout = device_key(jax.random.fold_in(g_key, 4), axis_name)

  def loss_of_fakes(fakes):
    if state.game.augment is not None:
      fakes = augment_batch(state.game.augment, jax.random.fold_in(g_key, 5), fakes, axis_name)
    fake_logits, _ = apply_discriminator(state, state.d_params, fakes, train=True, key=d_dropout)
    return state.game.loss.generator(fake_logits), fake_logits

  (loss, fake_logits), fake_grads = jax.value_and_grad(loss_of_fakes, has_aux=True)(fake)
  (grads,) = pullback(fake_grads)
  state, g_metrics = generator_update(state, grads, loss, fake_logits, g_collections, axis_name)
  return state, {**d_metrics, **g_metrics}


def train_step(state: GANState, batch: dict[str, Any], *, axis_name: str | None = None,
               discriminator_step_fn=discriminator_step,
               generator_step_fn=generator_step) -> tuple[GANState, Metrics]:
  """One iteration of Algorithm 1: k discriminator steps, then one generator step.

  With `state.game.reuse_fakes` (plain player steps only), the generator step
  reuses the last discriminator step's noise and generator forward pass instead
  of drawing fresh noise (see `shared_forward_steps`).

  Args:
    batch: {'x': (k, B, *data_shape)}, one real minibatch per discriminator step,
      k = state.game.d_steps; other entries (e.g. 'label' (k, B)) are sliced alike.
    discriminator_step_fn, generator_step_fn: the player steps, with the
      signatures of `discriminator_step` and `generator_step`; variants pass theirs.
  Returns:
    (new state, metrics of the last discriminator step and of the generator step).
  """
  real = batch["x"]
  k = state.game.d_steps
  if real.shape[0] != k:
    raise ValueError(
        f"train_step needs batch['x'] of shape (d_steps={k}, batch, ...), got {real.shape}")
  shared = state.game.reuse_fakes
  if shared and (discriminator_step_fn is not discriminator_step
                 or generator_step_fn is not generator_step):
    raise ValueError("reuse_fakes works with the plain player steps only; set reuse_fakes=False "
                     "for this recipe")
  metrics = {}
  # A Python loop, not lax.scan: k is small and static, and convolutions inside
  # scan run far slower on CPU (benchmarks/RESULTS.md).
  for i in range(k - 1 if shared else k):
    minibatch = {name: value[i] for name, value in batch.items()}
    state, metrics = discriminator_step_fn(state, minibatch, d_index=i, axis_name=axis_name)
  last = {name: value[k - 1] for name, value in batch.items()}
  if shared:
    return shared_forward_steps(state, last, k - 1, axis_name)
  state, g_metrics = generator_step_fn(state, last, axis_name=axis_name)
  return state, {**metrics, **g_metrics}
