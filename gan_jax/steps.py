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

Variants plug into the player steps rather than copy them. The steps own the
keys, the noise, `value_and_grad`, the device means, the metrics and the
updates; a variant hands them functions (as Flax's examples nest a `loss_fn`):
  inputs_fn(state, batch, key, axis_name) -> PlayerInputs: what G and D are fed
    besides x, and the targets of the loss (ACGAN's labels, InfoGAN's codes);
  loss_fn: D's loss with the signature of `discriminator_loss`, G's with that of
    `generator_loss`; a D with a second head passes `head_loss` to them.
`conditioning` names batch entries passed to both players beside z and x (a
conditional GAN is `conditioning=('label',)`), `game.augment` is applied to every
input of D (DiffAugment), and `train_step` takes the two player steps as
arguments; `player_steps` makes all three from a variant's functions. Every draw
uses a named sub-stream of the step's key (the *_STREAM constants of `gan_jax.state`).

Names: "the train step" is `train_step` (Algorithm 1: k discriminator steps, then a
generator step) or a recipe's own (`recipes.Recipe.train_step`), pure, on a real batch.
What the training loop compiles wraps it, and each wrapper has its own name:
`guards.guard_train_step` (the non-finite policy), `train.sampled_train_step` (draws
the real batches from the on-device dataset first; `train.streamed_train_step` takes
them from the host pipeline), `train.fuse_steps` (several per call), and
`parallel.make_parallel_step` (jit, pmap, shard_map over the devices); `train.make_loop_step`
assembles them into the loop's step.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import lax

from gan_jax import diagnostics, losses, parallel
from gan_jax.state import (
  AUGMENT_FAKE_STREAM,
  AUGMENT_REAL_STREAM,
  D_DROPOUT_STREAM,
  G_DROPOUT_STREAM,
  G_STEP_AUGMENT_STREAM,
  G_STEP_D_DROPOUT_STREAM,
  INTERPOLATION_STREAM,
  NOISE_STREAM,
  GANState,
)

Metrics = dict[str, jax.Array]


def local_slice_of_global_draw(draw, key: jax.Array, local_batch: int, axis_name: str | None):
  """Draws for the global batch with `draw(key, n)` and keeps this device's rows.

  Without an axis this is `draw(key, local_batch)`. With one, every device
  draws the same (local_batch * axis_size) rows and keeps slice axis_index.
  `draw` may return an array or a tree of arrays (e.g. {'x': ..., 'label': ...}).
  """
  if axis_name is None:  # one device, or parallel='jit' (whose rows XLA splits)
    return parallel.constrain_batch(draw(key, local_batch))
  num_devices = lax.axis_size(axis_name)
  rows = draw(key, local_batch * num_devices)
  start = lax.axis_index(axis_name) * local_batch
  return jax.tree.map(lambda x: lax.dynamic_slice_in_dim(x, start, local_batch), rows)


def gradient_norm(grads) -> jax.Array:
  """Global L2 norm of a gradient tree: optax.tree.norm's value, up to float rounding.

  The squares are written |g| * |g| (the same numbers as g * g): XLA would share
  g * g with Adam's second moment and write it out as an array of its own; as
  written, the square stays inside the reduction (benchmarks/RESULTS.md, "Finding: one
  reduction for the guard and the gradient norm").
  """
  return jnp.sqrt(sum(jnp.sum(jnp.abs(g) * jnp.abs(g)) for g in jax.tree.leaves(grads)))


def device_key(key: jax.Array, axis_name: str | None) -> jax.Array:
  """A key that differs per device, for randomness drawn inside the players (dropout, StyleGAN's
  noise inputs), whose shapes are the device's rows: a run with such draws depends on the
  device count, where `local_slice_of_global_draw` does not."""
  return key if axis_name is None else jax.random.fold_in(key, lax.axis_index(axis_name))


def mean_over_devices(tree, axis_name: str | None):
  return tree if axis_name is None else lax.pmean(tree, axis_name)


def conditioning_inputs(batch: dict[str, Any], conditioning: tuple[str, ...]) -> tuple:
  """The batch entries named in `conditioning`, e.g. (labels int32 (B,),); () for none."""
  for name in conditioning:
    if name not in batch:
      raise ValueError(
        f"the step is conditioned on batch[{name!r}] but the batch holds only "
        f"{sorted(batch)}; use a labelled data source (idx, npz with 'label', or a "
        "folder of images with a subfolder per class)"
      )
  return tuple(batch[name] for name in conditioning)


def real_data(batch, what: str, layout: str, rows_axis: int) -> jax.Array:
  """batch['x'] after one-line refusals of what a step cannot take: a batch that is not a dict
  with 'x', an 'x' without `rows_axis` + 1 axes or without rows on that axis (B >= 1), or not
  in floating point. `layout` is the shape named in the messages. Only static facts (keys,
  shapes, dtypes) are read, so the checks cost nothing inside jit. Non-float32 x (float64
  with jax_enable_x64, bfloat16, float16) is refused too."""
  if not isinstance(batch, Mapping) or "x" not in batch:
    held = sorted(map(str, batch)) if isinstance(batch, Mapping) else type(batch).__name__
    raise ValueError(f"{what} needs a batch dict with 'x', real data {layout}, got {held}")
  x = batch["x"]
  shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
  if shape is None or dtype is None:
    raise ValueError(f"{what} needs batch['x'] an array {layout}, got {type(x).__name__}")
  if len(shape) <= rows_axis or shape[rows_axis] < 1:
    raise ValueError(f"{what} needs batch['x'] of shape {layout} with B >= 1, got {tuple(shape)}")
  if not jnp.issubdtype(dtype, jnp.floating):
    raise ValueError(
      f"{what} needs batch['x'] in floating point, scaled as the models expect (e.g. [-1, 1]), "
      f"got {dtype}; gan_jax.data.to_unit_range maps uint8 images to [-1, 1]"
    )
  # float64 reads as float32 unless jax_enable_x64 is on (as jit would pass it)
  if jax.dtypes.canonicalize_dtype(dtype) != jnp.float32:
    raise ValueError(
      f"{what} needs batch['x'] in float32 (the players' inputs, losses and metrics are float32; "
      f"config.dtype sets what they compute in), got {dtype}; pass x.astype(jnp.float32)"
    )
  return x


def check_rows_like_samples(what: str, rows_shape, samples) -> None:
  """Refuses (one line) real rows (B, ...) of another shape than the generator's samples
  (B', *data_shape), in the core game where D takes both. `samples` may be a
  jax.ShapeDtypeStruct; a tree of samples (a variant's) is not compared."""
  sample_shape = getattr(samples, "shape", None)
  if sample_shape is None or tuple(rows_shape[1:]) == tuple(sample_shape[1:]):
    return
  data_shape = ", ".join(map(str, sample_shape[1:]))
  raise ValueError(
    f"{what} got batch['x'] rows of shape {tuple(rows_shape[1:])} but the generator makes "
    f"samples of shape {tuple(sample_shape[1:])}: the player steps take x of shape "
    f"(B, {data_shape}), train_step (d_steps, B, {data_shape})"
  )


def check_d_index(d_index) -> None:
  """Refuses (one line) a discriminator step index that is not an integer >= 0; an integer
  scalar array (a loop's traced counter) is taken unread."""
  if isinstance(d_index, numbers.Integral) and not isinstance(d_index, bool):
    if d_index >= 0:
      return
  elif isinstance(d_index, jax.Array) and not d_index.shape:
    if jnp.issubdtype(d_index.dtype, jnp.integer):
      return
  raise ValueError(f"d_index must be an integer >= 0 (the discriminator step), got {d_index!r}")


def generator_samples(state: GANState, inputs: tuple):
  """The shape and dtype of G(*inputs) in a player step (jax.eval_shape: traced, never run)."""

  def samples(state, inputs, key):
    return apply_generator(state, state.g_params, *inputs, train=True, key=key)[0]

  return jax.eval_shape(samples, state, inputs, state.key)


def apply_generator(state: GANState, params, z, *inputs, train: bool, key: jax.Array):
  """G(z, *inputs) with the state's collections; returns (samples, updated collections)."""
  variables = {"params": params, **state.g_collections}
  if train and state.g_collections:
    return state.g_apply_fn(
      variables, z, *inputs, train=True, rngs={"dropout": key}, mutable=list(state.g_collections)
    )
  return (
    state.g_apply_fn(variables, z, *inputs, train=train, rngs={"dropout": key}),
    state.g_collections,
  )


def apply_discriminator(state: GANState, params, x, *inputs, train: bool, key: jax.Array):
  """D(x, *inputs) with the state's collections; returns (outputs, updated collections).

  The outputs are the logits (B,) for the plain game, or what a variant's D returns.
  """
  variables = {"params": params, **state.d_collections}
  if train and state.d_collections:
    return state.d_apply_fn(
      variables, x, *inputs, train=True, rngs={"dropout": key}, mutable=list(state.d_collections)
    )
  return (
    state.d_apply_fn(variables, x, *inputs, train=train, rngs={"dropout": key}),
    state.d_collections,
  )


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
  real_key = jax.random.fold_in(key, AUGMENT_REAL_STREAM)
  fake_key = jax.random.fold_in(key, AUGMENT_FAKE_STREAM)
  return (
    augment_batch(game.augment, real_key, real, axis_name),
    augment_batch(game.augment, fake_key, fake, axis_name),
  )


class PlayerInputs(NamedTuple):
  """What a player step feeds the players besides the real data.

  Attributes:
    generator: G's inputs, z first: (z (B, *latent_shape), *more), e.g. (z, labels int32 (B,));
      a translation G's single input is its condition image.
    discriminator: D's inputs after x, shared by the real and fake rows, e.g. (labels,); ().
    targets: what a variant's loss needs beyond the players' outputs (ACGAN's labels,
      InfoGAN's codes, a translation's condition); None for the plain game.
  """

  generator: tuple
  discriminator: tuple = ()
  targets: Any = None


class GeneratorKeys(NamedTuple):
  """The keys of one generator step's draws (sub-streams of `key_for('generator')`).

  generator_dropout, discriminator_dropout: per-device dropout keys of G and D;
  augment: the key of the fakes' DiffAugment draws (global; `augment_batch` slices them).
  """

  generator_dropout: jax.Array
  discriminator_dropout: jax.Array
  augment: jax.Array


def draw_noise(
  state: GANState, key: jax.Array, local_batch: int, axis_name: str | None
) -> jax.Array:
  """z (local_batch, *latent_shape) of a player step: the NOISE_STREAM of the step's `key`."""
  return local_slice_of_global_draw(
    state.noise, jax.random.fold_in(key, NOISE_STREAM), local_batch, axis_name
  )


def generator_dropout_key(key: jax.Array, axis_name: str | None) -> jax.Array:
  """G's per-device dropout key in a player step: the G_DROPOUT_STREAM of the step's `key`."""
  return device_key(jax.random.fold_in(key, G_DROPOUT_STREAM), axis_name)


def generator_keys(key: jax.Array, axis_name: str | None) -> GeneratorKeys:
  """The `GeneratorKeys` of the generator step whose stream key is `key`."""
  return GeneratorKeys(
    generator_dropout_key(key, axis_name),
    device_key(jax.random.fold_in(key, G_STEP_D_DROPOUT_STREAM), axis_name),
    jax.random.fold_in(key, G_STEP_AUGMENT_STREAM),
  )


def noise_and_conditioning(conditioning: tuple[str, ...] = ()):
  """The plain game's `inputs_fn`: G gets (z, *conditioning), D gets the conditioning entries.

  Returns:
    inputs_fn(state, batch, key, axis_name) -> `PlayerInputs`, z drawn by `draw_noise`.
  """

  def inputs_fn(state, batch, key, axis_name):
    inputs = conditioning_inputs(batch, conditioning)
    z = draw_noise(state, key, batch["x"].shape[0], axis_name)
    return PlayerInputs((z, *inputs), inputs)

  return inputs_fn


def discriminate(
  state: GANState, d_params, real, fake, *inputs, key: jax.Array, axis_name: str | None = None
):
  """D in train mode on a real and a fake batch of equal size, sharing `inputs` (e.g. labels).

  With collections (batch statistics, spectral norm's vectors), real and fake go
  through D apart (DCGAN practice); otherwise in one pass on their concatenation.
  The outputs (logits, or a tree of arrays) are split in halves, so a D that maps
  B rows to B/m (PacGAN) works too.

  BatchNorm's running statistics are updated by both passes, the real one first,
  as every train-mode forward of a PyTorch module updates them (the reference
  DCGAN code); only D in inference mode reads them. Spectral norm's vectors
  (kept in the same 'batch_stats' collection) start both passes from the state's
  values and keep the fake pass's power iteration, so both passes use one sigma.
  The generator step's pass through D leaves D's collections as they are.
  Returns:
    (real outputs, fake outputs, new d_collections).
  """
  dropout_key = device_key(jax.random.fold_in(key, D_DROPOUT_STREAM), axis_name)
  if state.d_collections:
    real_out, after_real = apply_discriminator(
      state, d_params, real, *inputs, train=True, key=dropout_key
    )
    state = state.replace(d_collections=with_running_statistics(state.d_collections, after_real))
    fake_out, collections = apply_discriminator(
      state, d_params, fake, *inputs, train=True, key=dropout_key
    )
    return real_out, fake_out, collections
  both = tuple(jnp.concatenate([a, a]) for a in inputs)
  out, collections = apply_discriminator(
    state, d_params, jnp.concatenate([real, fake]), *both, train=True, key=dropout_key
  )
  real_out = jax.tree.map(lambda o: o[: o.shape[0] // 2], out)
  fake_out = jax.tree.map(lambda o: o[o.shape[0] // 2 :], out)
  return real_out, fake_out, collections


def with_running_statistics(collections: dict, updated: dict) -> dict:
  """`collections` with BatchNorm's running statistics ('batch_stats' leaves named 'mean'
  and 'var') taken from `updated`; every other entry (spectral norm's u, sigma) kept."""
  if "batch_stats" not in collections:
    return collections

  def pick(path, old, new):
    return new if getattr(path[-1], "key", None) in ("mean", "var") else old

  return {
    **collections,
    "batch_stats": jax.tree_util.tree_map_with_path(
      pick, collections["batch_stats"], updated["batch_stats"]
    ),
  }


def discriminator_penalties(
  state: GANState, d_fn, real, fake, key: jax.Array, axis_name: str | None = None
):
  """The game's active regularizers on D: (weighted sum, {name: value}).

  Args:
    d_fn: maps inputs (B, *data_shape) to logits.
    key: the discriminator step's key (the interpolation weights use its INTERPOLATION_STREAM).
  """
  game = state.game
  total, aux = 0.0, {}
  if game.gradient_penalty_weight > 0:
    eps = local_slice_of_global_draw(
      lambda k, n: losses.interpolation_weights(k, (n,) + real.shape[1:], real.dtype),
      jax.random.fold_in(key, INTERPOLATION_STREAM),
      real.shape[0],
      axis_name,
    )
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
  return state.replace(
    d_params=d_params,
    d_opt_state=d_opt_state,
    d_collections=mean_over_devices(collections, axis_name),
  )


def update_generator(state: GANState, grads, collections, axis_name: str | None = None):
  """Applies the G optimizer and the EMA and advances `step`; returns the state.

  `grads` must already be averaged over devices; the new collections are averaged here,
  and, with the EMA on, folded into the EMA's collections (`average_collections`).
  """
  updates, g_opt_state = state.g_tx.update(grads, state.g_opt_state, state.g_params)
  g_params = optax.apply_updates(state.g_params, updates)
  collections = mean_over_devices(collections, axis_name)
  g_ema_params, g_ema_collections = state.g_ema_params, state.g_ema_collections
  if g_ema_params is not None:
    g_ema_params = optax.incremental_update(g_params, g_ema_params, 1.0 - state.ema_decay)
  if g_ema_collections is not None:
    g_ema_collections = average_collections(collections, g_ema_collections, state.ema_decay)
  return state.replace(
    step=state.step + 1,
    g_params=g_params,
    g_opt_state=g_opt_state,
    g_collections=collections,
    g_ema_params=g_ema_params,
    g_ema_collections=g_ema_collections,
  )


def average_collections(new, average, decay: float):
  """The EMA of G's collections: decay * average + (1 - decay) * new for floating leaves;
  other leaves (counters) take the new value."""

  def update(n, a):
    if jnp.issubdtype(jnp.result_type(n), jnp.floating):
      return optax.incremental_update(n, a, 1.0 - decay)
    return n

  return jax.tree.map(update, new, average)


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


def discriminator_loss(
  state: GANState,
  d_params,
  real,
  fake,
  key: jax.Array,
  axis_name: str | None = None,
  inputs: tuple = (),
  targets=None,
  *,
  head_loss=None,
):
  """The discriminator's objective with its regularizers; the default `loss_fn` of the D step.

  A variant's D loss has this signature (the player steps call it so). Variants whose D
  has a second head pass `head_loss` (e.g. with `functools.partial`).
  Args:
    real, fake: (B, *data_shape) batches; `fake` carries no generator gradient
      (except inside an unrolled generator loss).
    key: the stream key of this discriminator step (penalties, dropout, augmentation).
    inputs: further D inputs shared by the real and fake rows, e.g. (labels (B,),).
    targets: `PlayerInputs.targets`, passed to `head_loss`.
    head_loss: None when D returns logits; else D returns (logits, head outputs) and
      head_loss(game, real_head, fake_head, targets) -> (weighted loss term, metrics)
      is added to the game's loss (ACGAN's classes, InfoGAN's codes).
  Returns:
    (loss, (real_logits, fake_logits, new d_collections, metrics)): metrics holds
    diversity_ratio, the active penalties and the head's metrics.
  """
  game = state.game
  diversity = diagnostics.diversity_ratio(fake, real, axis_name)
  real, fake = augment_real_and_fake(game, key, real, fake, axis_name)
  real_out, fake_out, collections = discriminate(
    state, d_params, real, fake, *inputs, key=key, axis_name=axis_name
  )
  metrics = {}
  if head_loss is None:
    real_logits, fake_logits = real_out, fake_out
    loss = game.loss.discriminator_loss(real_logits, fake_logits, axis_name)
  else:
    (real_logits, real_head), (fake_logits, fake_head) = real_out, fake_out
    term, metrics = head_loss(game, real_head, fake_head, targets)
    loss = game.loss.discriminator_loss(real_logits, fake_logits, axis_name) + term
  dropout_key = device_key(jax.random.fold_in(key, D_DROPOUT_STREAM), axis_name)

  def d_fn(x):
    out = apply_discriminator(state, d_params, x, *inputs, train=True, key=dropout_key)[0]
    return out if head_loss is None else out[0]

  penalty, aux = discriminator_penalties(state, d_fn, real, fake, key, axis_name)
  metrics = {"diversity_ratio": diversity, **metrics, **aux}
  return loss + penalty, (real_logits, fake_logits, collections, metrics)


def discriminator_step(
  state: GANState,
  batch: dict[str, Any],
  *,
  d_index: int = 0,
  axis_name: str | None = None,
  conditioning: tuple[str, ...] = (),
  inputs_fn=None,
  loss_fn=discriminator_loss,
) -> tuple[GANState, Metrics]:
  """One discriminator update on a real batch and fresh fakes (inner loop of Algorithm 1).

  The step draws the players' inputs, makes G's fakes (train mode, no gradient) and
  runs `discriminator_update`; a variant plugs in through `inputs_fn` and `loss_fn`.
  Args:
    state: the current state; its step and `d_index` select the noise.
    batch: {'x': (B, *data_shape) real data, optionally 'label': int32 (B,)}.
    d_index: which of the k discriminator steps of this iteration this is.
    axis_name: the mapped device axis, or None.
    conditioning: names of batch entries given to both players, e.g. ('label',);
      the fakes are then made for the real rows' labels (used without `inputs_fn`).
    inputs_fn: inputs_fn(state, batch, key, axis_name) -> `PlayerInputs`; default
      `noise_and_conditioning(conditioning)`.
    loss_fn: D's loss with the signature of `discriminator_loss`.
  Returns:
    (new state, metrics): d_loss, d_real, d_fake, d_real_logit, d_fake_logit, d_acc_real,
    d_acc_fake, d_grad_norm, game_value, diversity_ratio, the active penalties and the loss's
    metrics.
  """
  real = real_data(batch, "discriminator_step", "(B, *data_shape)", rows_axis=0)
  check_d_index(d_index)
  key = state.key_for("discriminator", d_index)
  inputs = (inputs_fn or noise_and_conditioning(conditioning))(state, batch, key, axis_name)
  fake, _ = apply_generator(
    state, state.g_params, *inputs.generator, train=True, key=generator_dropout_key(key, axis_name)
  )
  if inputs_fn is None and loss_fn is discriminator_loss:  # the core game: D takes both
    check_rows_like_samples("discriminator_step", real.shape, fake)
  return discriminator_update(
    state,
    batch["x"],
    lax.stop_gradient(fake),
    key,
    axis_name,
    inputs.discriminator,
    inputs.targets,
    loss_fn=loss_fn,
  )


def discriminator_update(
  state: GANState,
  real,
  fake,
  key: jax.Array,
  axis_name: str | None = None,
  inputs: tuple = (),
  targets=None,
  *,
  loss_fn=discriminator_loss,
):
  """One discriminator update on given real and fake batches (B, *data_shape).

  `fake` must carry no generator gradient; `key` is the step's stream key; `inputs`,
  `targets` and `loss_fn` are passed on as `discriminator_step` does.
  Returns (new state, metrics), as `discriminator_step`.
  """
  grad_fn = jax.value_and_grad(loss_fn, argnums=1, has_aux=True)
  (loss, (real_logits, fake_logits, collections, aux)), grads = grad_fn(
    state, state.d_params, real, fake, key, axis_name, inputs, targets
  )
  grads = mean_over_devices(grads, axis_name)
  metrics = {
    "d_loss": loss,
    "d_grad_norm": gradient_norm(grads),
    **aux,
    **logit_metrics(real_logits, fake_logits, state.game.loss.threshold),
  }
  new_state = update_discriminator(state, grads, collections, axis_name)
  return new_state, mean_over_devices(metrics, axis_name)


def judge_fakes(
  state: GANState,
  d_params,
  fake,
  inputs: PlayerInputs,
  keys: GeneratorKeys,
  axis_name: str | None = None,
  *,
  head_loss=None,
):
  """G's adversarial loss on fakes (B, *data_shape), augmented when the game augments.

  Args:
    d_params: the D parameters G plays against (an unrolled G passes D's looked-ahead ones).
    head_loss: None, or head_loss(game, fake_head, targets) -> (weighted term, metrics)
      for a D that returns (logits, head outputs); the term is added to the loss.
  Returns:
    (loss, (fake_logits, metrics)).
  """
  game = state.game
  if game.augment is not None:
    fake = augment_batch(game.augment, keys.augment, fake, axis_name)
  out, _ = apply_discriminator(
    state, d_params, fake, *inputs.discriminator, train=True, key=keys.discriminator_dropout
  )
  if head_loss is None:
    return game.loss.generator_loss(out, axis_name), (out, {})
  fake_logits, fake_head = out
  term, metrics = head_loss(game, fake_head, inputs.targets)
  return game.loss.generator_loss(fake_logits, axis_name) + term, (fake_logits, metrics)


def generator_loss(
  state: GANState,
  g_params,
  batch: dict[str, Any],
  inputs: PlayerInputs,
  keys: GeneratorKeys,
  axis_name: str | None = None,
  *,
  head_loss=None,
):
  """G's objective, g_loss(D(G(z))); the default `loss_fn` of the generator step.

  A variant's G loss has this signature. `batch` is the step's minibatch (unused here);
  `head_loss` is passed to `judge_fakes`.
  Returns:
    (loss, (fake_logits, new g_collections, metrics)).
  """
  del batch
  fake, g_collections = apply_generator(
    state, g_params, *inputs.generator, train=True, key=keys.generator_dropout
  )
  loss, (fake_logits, metrics) = judge_fakes(
    state, state.d_params, fake, inputs, keys, axis_name, head_loss=head_loss
  )
  return loss, (fake_logits, g_collections, metrics)


def generator_step(
  state: GANState,
  batch: dict[str, Any],
  *,
  axis_name: str | None = None,
  conditioning: tuple[str, ...] = (),
  inputs_fn=None,
  loss_fn=generator_loss,
) -> tuple[GANState, Metrics]:
  """One generator update on fresh noise; advances `state.step` by one.

  Args:
    batch: {'x': (B, *data_shape)}; only its batch size (and the entries named
      in `conditioning`) are used by the plain game.
    inputs_fn: as in `discriminator_step`, on the generator step's key.
    loss_fn: G's loss with the signature of `generator_loss`.
  Returns:
    (new state, metrics): g_loss, g_grad_norm, d_fake_for_g (mean D(G(z)) seen by G)
    and the loss's metrics.
  """
  if inputs_fn is None or (isinstance(batch, Mapping) and "x" in batch):  # the core reads x
    real = real_data(batch, "generator_step", "(B, *data_shape)", rows_axis=0)
  key = state.key_for("generator")
  inputs = (inputs_fn or noise_and_conditioning(conditioning))(state, batch, key, axis_name)
  if inputs_fn is None and loss_fn is generator_loss:  # the core game: x and G's samples alike
    check_rows_like_samples(
      "generator_step", real.shape, generator_samples(state, inputs.generator)
    )
  (loss, (fake_logits, g_collections, aux)), grads = jax.value_and_grad(
    loss_fn, argnums=1, has_aux=True
  )(state, state.g_params, batch, inputs, generator_keys(key, axis_name), axis_name)
  return generator_update(state, grads, loss, fake_logits, g_collections, axis_name, aux)


def generator_update(
  state: GANState,
  grads,
  loss,
  fake_logits,
  g_collections,
  axis_name: str | None = None,
  aux: Metrics | None = None,
) -> tuple[GANState, Metrics]:
  """Averages G's gradients over devices, applies them (`update_generator`); returns metrics.

  `aux`: the loss's further metrics, averaged over devices with the others.
  """
  grads = mean_over_devices(grads, axis_name)
  metrics = {
    "g_loss": loss,
    "g_grad_norm": gradient_norm(grads),
    "d_fake_for_g": jnp.mean(jax.nn.sigmoid(fake_logits)),
    **(aux or {}),
  }
  new_state = update_generator(state, grads, g_collections, axis_name)
  return new_state, mean_over_devices(metrics, axis_name)


def discriminator_noise(state: GANState, d_index: int, local_batch: int, axis_name: str | None):
  """(key, z, G's dropout key) of discriminator step `d_index`, as `discriminator_step` draws."""
  key = state.key_for("discriminator", d_index)
  return key, draw_noise(state, key, local_batch, axis_name), generator_dropout_key(key, axis_name)


def shared_forward_steps(
  state: GANState, batch: dict[str, Any], d_index: int, axis_name: str | None = None
) -> tuple[GANState, Metrics]:
  """The last discriminator step and the generator step on one generator forward pass.

  G(z) is computed once with its VJP; the discriminator updates on the detached
  fakes, then the generator's loss is taken through the updated discriminator
  at the same fakes and pulled back through the saved VJP (PyTorch's DCGAN
  example does the same). Saves one generator forward per iteration.
  """
  real = batch["x"]
  key, z, g_dropout = discriminator_noise(state, d_index, real.shape[0], axis_name)
  fake, pullback, g_collections = jax.vjp(
    lambda p: apply_generator(state, p, z, train=True, key=g_dropout), state.g_params, has_aux=True
  )
  state, d_metrics = discriminator_update(state, real, lax.stop_gradient(fake), key, axis_name)
  keys = generator_keys(state.key_for("generator"), axis_name)
  (loss, (fake_logits, _)), fake_grads = jax.value_and_grad(
    lambda fakes: judge_fakes(state, state.d_params, fakes, PlayerInputs((z,)), keys, axis_name),
    has_aux=True,
  )(fake)
  (grads,) = pullback(fake_grads)
  state, g_metrics = generator_update(state, grads, loss, fake_logits, g_collections, axis_name)
  return state, {**d_metrics, **g_metrics}


def train_step(
  state: GANState,
  batch: dict[str, Any],
  *,
  axis_name: str | None = None,
  discriminator_step_fn=discriminator_step,
  generator_step_fn=generator_step,
) -> tuple[GANState, Metrics]:
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
  k = state.game.d_steps
  real = real_data(batch, "train_step", f"(d_steps={k}, B, *data_shape)", rows_axis=1)
  if real.shape[0] != k:
    raise ValueError(
      f"train_step needs batch['x'] of shape (d_steps={k}, batch, ...), got {real.shape}"
    )
  for name, value in batch.items():
    shape = tuple(getattr(value, "shape", ()))
    if shape[:2] != real.shape[:2]:
      raise ValueError(
        f"train_step needs every batch entry of shape (d_steps={k}, B={real.shape[1]}, ...) "
        f"as batch['x'], got batch[{name!r}] of shape {shape}"
      )
  shared = state.game.reuse_fakes
  if shared and (
    discriminator_step_fn is not discriminator_step or generator_step_fn is not generator_step
  ):
    raise ValueError(
      "reuse_fakes works with the plain player steps only; set reuse_fakes=False for this recipe"
    )
  if shared and k == 1:  # no discriminator_step to compare x with G's samples
    z = jax.ShapeDtypeStruct((real.shape[1],) + state.noise.latent_shape, jnp.float32)
    check_rows_like_samples("train_step", real.shape[1:], generator_samples(state, (z,)))
  metrics = {}
  # A Python loop, not lax.scan: k is small and static, and convolutions inside
  # scan run far slower on CPU (benchmarks/RESULTS.md, "Finding: convolutions inside lax.scan").
  for i in range(k - 1 if shared else k):
    minibatch = {name: value[i] for name, value in batch.items()}
    state, metrics = discriminator_step_fn(state, minibatch, d_index=i, axis_name=axis_name)
  last = {name: value[k - 1] for name, value in batch.items()}
  if shared:
    return shared_forward_steps(state, last, k - 1, axis_name)
  state, g_metrics = generator_step_fn(state, last, axis_name=axis_name)
  return state, {**metrics, **g_metrics}


class PlayerSteps(NamedTuple):
  """A recipe's player steps and Algorithm 1 over them, pure and with the core signatures:
  discriminator_step(state, batch, *, d_index, axis_name), generator_step(state, batch, *,
  axis_name) and train_step(state, batch, *, axis_name)."""

  discriminator_step: Any
  generator_step: Any
  train_step: Any


def player_steps(
  *,
  conditioning: tuple[str, ...] = (),
  inputs_fn=None,
  discriminator_loss_fn=discriminator_loss,
  generator_loss_fn=generator_loss,
) -> PlayerSteps:
  """The core player steps with a variant's inputs and losses plugged in, and its train step.

  A variant writes `discriminator_step, generator_step, train_step = steps.player_steps(...)`
  instead of three wrappers of its own. The arguments are those of `discriminator_step`
  and `generator_step` (`inputs_fn` and `conditioning` go to both, each loss to its player);
  the returned steps trace exactly the computation of the core steps called with them.
  """

  def variant_discriminator_step(state, batch, *, d_index: int = 0, axis_name=None):
    return discriminator_step(
      state,
      batch,
      d_index=d_index,
      axis_name=axis_name,
      conditioning=conditioning,
      inputs_fn=inputs_fn,
      loss_fn=discriminator_loss_fn,
    )

  def variant_generator_step(state, batch, *, axis_name=None):
    return generator_step(
      state,
      batch,
      axis_name=axis_name,
      conditioning=conditioning,
      inputs_fn=inputs_fn,
      loss_fn=generator_loss_fn,
    )

  def variant_train_step(state, batch, *, axis_name=None):
    return train_step(
      state,
      batch,
      axis_name=axis_name,
      discriminator_step_fn=variant_discriminator_step,
      generator_step_fn=variant_generator_step,
    )

  for fn, core in (
    (variant_discriminator_step, discriminator_step),
    (variant_generator_step, generator_step),
    (variant_train_step, train_step),
  ):
    fn.__name__ = fn.__qualname__ = core.__name__  # jit names its programs after these
    fn.__doc__ = f"`steps.{core.__name__}` with the variant's inputs and losses (`player_steps`)."
  return PlayerSteps(variant_discriminator_step, variant_generator_step, variant_train_step)
