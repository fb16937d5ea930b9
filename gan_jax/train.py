"""The training loop: `train_and_evaluate(config, workdir)`.

This is the only place with a Python loop over steps. Everything it runs per
step is one jitted call of `sampled_train_step`, which draws the real
minibatches from the on-device data with the state's key and then runs
`steps.train_step`; so the whole run is a function of the config and the seed.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from gan_jax import checkpoint, data, diagnostics, plotting, recipes, steps
from gan_jax.logs import MetricWriter, truncate_metrics
from gan_jax.state import GANState, step_key


def sample_real_batches(state: GANState, arrays: dict, *, sample, local_batch: int,
                        axis_name: str | None = None) -> dict[str, jax.Array]:
  """k = d_steps real minibatches, {'x': (k, local_batch, ...)}, drawn from stream 'data'.

  Each minibatch is drawn for the global batch and sliced per device, so the
  examples do not depend on how many devices share the batch.
  """
  minibatches = []
  for i in range(state.game.d_steps):
    key = state.key_for("data", i)
    minibatches.append(steps.local_slice_of_global_draw(
        lambda k, n: sample(arrays, k, n), key, local_batch, axis_name))
  return jax.tree.map(lambda *xs: jnp.stack(xs), *minibatches)


def sampled_train_step(state: GANState, arrays: dict, *, sample, local_batch: int,
                       axis_name: str | None = None, train_step=steps.train_step):
  """Draws the real batches inside the step, then runs `train_step` (the recipe's)."""
  batch = sample_real_batches(state, arrays, sample=sample, local_batch=local_batch,
                              axis_name=axis_name)
  return train_step(state, batch, axis_name=axis_name)


def make_train_step_fn(source: data.DataSource, batch_size: int,
                       recipe: recipes.Recipe = recipes.RECIPES["gan"]):
  """The jitted step fn(state, arrays) -> (state, metrics) for one device."""
  fn = functools.partial(sampled_train_step, sample=source.sample, local_batch=batch_size,
                         train_step=recipe.train_step)
  donate = () if jax.default_backend() == "cpu" else (0,)
  return jax.jit(fn, donate_argnums=donate)


def config_to_dict(config) -> dict:
  return json.loads(config.to_json_best_effort()) if hasattr(config, "to_json_best_effort") else dict(config)


def validate_config(config) -> None:
  """Checks the fields every config has; raises one-line ValueErrors."""
  for name in ("seed", "num_steps", "batch_size"):
    if name not in config:
      raise ValueError(f"config has no field {name!r}; every config needs seed, num_steps, batch_size")
    value = config[name]
    if not isinstance(value, int) or isinstance(value, bool):
      raise ValueError(f"config.{name} must be an integer, got {value!r}")
  if config.num_steps < 1:
    raise ValueError(f"config.num_steps must be >= 1, got {config.num_steps}")
  if config.batch_size < 1:
    raise ValueError(f"config.batch_size must be >= 1, got {config.batch_size}")
  for name in ("log_every", "sample_every", "checkpoint_every"):
    value = config.get(name, 1)
    if not isinstance(value, int) or value < 1:
      raise ValueError(f"config.{name} must be an integer >= 1, got {value!r}")


def draw_samples(state: GANState, num: int, seed: int, batch_size: int = 1000,
                 recipe: recipes.Recipe = recipes.RECIPES["gan"], labels=None) -> np.ndarray:
  """`num` generator samples in data space from `seed`, with the sampling (EMA) weights.

  `labels` (num,) int, for recipes that condition on a class.
  """
  key = step_key(jax.random.PRNGKey(seed), 0, "samples")
  z = state.noise(key, num)
  sample_fn = jax.jit(recipe.sample)
  chunks = []
  for i in range(0, num, batch_size):
    chunk_labels = None if labels is None else jnp.asarray(labels[i:i + batch_size])
    chunks.append(np.asarray(sample_fn(state, z[i:i + batch_size], chunk_labels)))
  return np.concatenate(chunks)


def save_sample_picture(state: GANState, source: data.DataSource, path: str, num_images: int = 64,
                        recipe: recipes.Recipe = recipes.RECIPES["gan"]):
  """An image grid of `num_images` samples, or a scatter of 2500 points over the data.

  For recipes that need labels, the grid cycles through the classes.
  """
  labels = (np.arange(num_images) % max(source.num_classes, 1)) if recipe.needs_labels else None
  if source.kind == "image":
    plotting.save_image_grid(draw_samples(state, num_images, seed=0, recipe=recipe, labels=labels),
                             path)
  else:
    points = draw_samples(state, 2500, seed=0, recipe=recipe)
    reference = np.asarray(source.sample(source.arrays, jax.random.PRNGKey(0), 2500)["x"])
    plotting.save_scatter(points, reference, path, title=f"step {int(state.step)}")


class _StopRequested(Exception):
  pass


def train_and_evaluate(config, workdir: str, *, progress: bool = True) -> GANState:
  """Trains a GAN as `config` says, writing logs, pictures and checkpoints into `workdir`.

  Resumes from the newest checkpoint in `workdir/checkpoints` when there is one;
  a resumed run continues bit-exactly. Ctrl-C or SIGTERM saves a checkpoint and stops.
  Returns the final state.
  """
  validate_config(config)
  recipe = recipes.recipe_of(config)
  source = data.make_data_source(config)
  state = recipe.create_state(config, source.data_shape)
  os.makedirs(workdir, exist_ok=True)
  config_dict = config_to_dict(config)
  checkpointer = checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"),
                                         max_to_keep=config.get("keep_checkpoints", 3))
  wall_time = 0.0
  if checkpointer.latest_step() is not None:
    saved = checkpointer.read_metadata()
    checkpoint.check_compatible(saved["config"], config_dict)
    state, metadata = checkpointer.restore(state)
    wall_time = metadata.get("wall_time", 0.0)
  start = int(state.step)
  truncate_metrics(workdir, start)
  with open(os.path.join(workdir, "config.json"), "w") as f:
    json.dump(config_dict, f, indent=2, sort_keys=True)
  os.makedirs(os.path.join(workdir, "samples"), exist_ok=True)

  writer = MetricWriter(workdir, start_wall_time=wall_time)
  arrays = jax.device_put(source.arrays)
  step_fn = make_train_step_fn(source, config.batch_size, recipe)

  def save_checkpoint(state, force=False):
    checkpointer.save(state, {"config": config_dict, "wall_time": writer.elapsed()}, force=force)

  def request_stop(signum, frame):
    raise _StopRequested(signal.Signals(signum).name)

  previous_handler = signal.signal(signal.SIGTERM, request_stop) if _main_thread() else None
  bar = tqdm(total=config.num_steps, initial=start, disable=not progress, unit="step",
             dynamic_ncols=True)
  records, thresholds = [], diagnostics.Thresholds(**config.get("diagnostics", {}))
  try:
    for step in range(start + 1, config.num_steps + 1):
      state, metrics = step_fn(state, arrays)
      bar.update(1)
      if step % config.log_every == 0 or step == config.num_steps:
        record = writer.write(step, jax.device_get(metrics))
        records.append(record)
        for line in diagnostics.new_warnings(records, thresholds):
          bar.write(line)
        bar.set_postfix(d_loss=f"{record['d_loss']:.3f}", g_loss=f"{record['g_loss']:.3f}")
      if step % config.sample_every == 0 or step == config.num_steps:
        save_sample_picture(state, source, os.path.join(workdir, "samples", f"step_{step:07d}.png"),
                            config.get("num_sample_images", 64), recipe)
      if step % config.checkpoint_every == 0:
        save_checkpoint(state)
    save_checkpoint(state, force=True)
  except (KeyboardInterrupt, _StopRequested) as stop:
    bar.write(f"stopping at step {int(state.step)} ({type(stop).__name__} {stop}); saving a checkpoint")
    save_checkpoint(state, force=True)
    raise
  finally:
    bar.close()
    writer.close()
    checkpointer.close()
    if previous_handler is not None:
      signal.signal(signal.SIGTERM, previous_handler)
  return state


def _main_thread() -> bool:
  import threading
  return threading.current_thread() is threading.main_thread()


def load_run(workdir: str, step: int | None = None) -> tuple[Any, data.DataSource, GANState]:
  """(config, data source, state) of the run in `workdir`, restored from its newest checkpoint."""
  import ml_collections
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    raise FileNotFoundError(f"{workdir} holds no run (no config.json); train one with gan-jax train")
  with open(path) as f:
    config = ml_collections.ConfigDict(json.load(f))
  source = data.make_data_source(config)
  template = recipes.recipe_of(config).create_state(config, source.data_shape)
  checkpointer = checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"), async_save=False)
  try:
    state, _ = checkpointer.restore(template, step)
  finally:
    checkpointer.close()
  return config, source, state
