"""The training loop: `train_and_evaluate(config, workdir)`.

This is the only place with a Python loop over steps. Everything it runs per
step is one jitted call of `sampled_train_step`, which draws the real
minibatches from the on-device data with the state's key and then runs
`steps.train_step`; so the whole run is a function of the config and the seed.
With config.data.pipeline = 'host' the same examples are read on the host
(`data.HostPipeline`) and `streamed_train_step` runs instead. config.parallel
('none', 'pmap', 'shard_map', 'jit') maps the step over all devices (`gan_jax.parallel`).
"""

from __future__ import annotations

import collections
import functools
import json
import os
import signal
import sys
from typing import Callable

import jax
import jax.numpy as jnp
from jax import lax
from tqdm.auto import tqdm

from gan_jax import (
  checkpoint,
  data,
  diagnostics,
  distributed,
  guards,
  host_memory,
  logs,
  parallel,
  recipes,
  steps,
  validation,
)
from gan_jax.logs import MetricWriter, truncate_metrics
from gan_jax.runs import (
  WorkdirWriteError,
  check_no_earlier_logs,
  check_workdir,
  config_to_dict,
  initialized_from,
  check_same_data,
  write_data_description,
  write_json_atomically,
)
from gan_jax.sampling import sampling_state, save_sample_picture
from gan_jax.state import GANState


def sample_real_batches(
  state: GANState, arrays: dict, *, sample, local_batch: int, axis_name: str | None = None
) -> dict[str, jax.Array]:
  """k = d_steps real minibatches, {'x': (k, local_batch, ...)}, drawn from stream 'data'.

  Each minibatch is drawn for the global batch and sliced per device, so the
  examples do not depend on how many devices share the batch.
  """
  minibatches = []
  for i in range(state.game.d_steps):
    key = state.key_for("data", i)
    minibatches.append(
      steps.local_slice_of_global_draw(
        lambda k, n: sample(arrays, k, n), key, local_batch, axis_name
      )
    )
  return jax.tree.map(lambda *xs: jnp.stack(xs), *minibatches)


def sampled_train_step(
  state: GANState,
  arrays: dict,
  *,
  sample,
  local_batch: int,
  axis_name: str | None = None,
  train_step=steps.train_step,
):
  """Draws the real batches inside the step, then runs `train_step` (the recipe's)."""
  batch = sample_real_batches(
    state, arrays, sample=sample, local_batch=local_batch, axis_name=axis_name
  )
  return train_step(state, batch, axis_name=axis_name)


def fuse_steps(step_fn, num_steps: int):
  """step_fn(state, data, *, axis_name) repeated `num_steps` times in one compiled call.

  The data (on-device dataset arrays) is the same for every step; each step
  draws its own batch from its own step's key, so a fused run visits the same
  examples as an unfused one. The call returns the metrics of its last step;
  of the steps before it only the non-finite flags (`guards.FLAGS_KEY`, when the
  step is guarded), which come back stacked, (num_steps,). The other steps'
  metrics are never computed (XLA drops what nothing reads): on a 2D toy
  GAN the mode-collapse diagnostic alone costs about a fifth of a step.
  Pays for small models, where dispatching one step costs as much as running
  it; convolutions inside lax.scan run much slower on CPU (benchmarks/RESULTS.md, "Finding:
  convolutions inside lax.scan").
  """
  if num_steps == 1:
    return step_fn

  def fused(state, data, *, axis_name=None):
    def body(state, _):
      state, metrics = step_fn(state, data, axis_name=axis_name)
      return state, metrics.get(guards.FLAGS_KEY)

    state, flags = lax.scan(body, state, None, length=num_steps - 1)
    state, metrics = step_fn(state, data, axis_name=axis_name)
    if flags is not None:
      metrics = {
        **metrics,
        guards.FLAGS_KEY: jnp.concatenate([flags, metrics[guards.FLAGS_KEY][None]]),
      }
    return state, metrics

  return fused


def streamed_train_step(
  state: GANState, batch: dict, *, axis_name: str | None = None, train_step=steps.train_step
):
  """Runs `train_step` (the recipe's) on real batches read by the host pipeline.

  Args:
    batch: {'x': (k, local_batch, *data_shape) uint8 in [0, 255] or float in [-1, 1], ...}.
  """
  batch = {**batch, "x": data.to_unit_range(batch["x"])}
  return train_step(state, batch, axis_name=axis_name)


def streams(config) -> bool:
  """Whether the run reads its batches with the host pipeline (config.data.pipeline == 'host')."""
  return config.get("data", {}).get("pipeline", "device") == "host"


def make_loop_step(
  source: data.DataSource, config, recipe: recipes.Recipe | None = None, phase: int | None = None
) -> parallel.ParallelStep:
  """The loop's step: the recipe's train step, guarded, with its real batches (drawn on the
  device or streamed), fused, on the devices config.parallel names.

  `phase`: the training phase, for recipes whose step changes during training
  (`recipes.Recipe.phase`); the step then holds only that phase's program.
  """
  recipe = recipe or recipes.recipe_of(config)
  mode = config.get("parallel", "none")
  local_batch = parallel.step_batch_size(config.batch_size, mode)
  train_step = guards.guard_train_step(
    recipe.train_step_for(phase), config.get("nonfinite", "stop")
  )
  if streams(config):
    step = functools.partial(streamed_train_step, train_step=train_step)
    return parallel.make_parallel_step(step, mode, global_batch=config.batch_size, shard_data=True)
  step = functools.partial(
    sampled_train_step, sample=source.sample, local_batch=local_batch, train_step=train_step
  )
  step = fuse_steps(step, config.get("steps_per_call", 1))
  return parallel.make_parallel_step(step, mode, global_batch=config.batch_size)


make_parallel_train_step = make_loop_step  # its former name


class PhasedStepFns:
  """The compiled step for each phase of a recipe, built on first use and kept.

  `build(phase)` makes the step fn of a phase (phase None: the recipe has none).
  `at(step, num_steps)` is the fn that runs generator steps step + 1 ..
  step + num_steps (one call of a fused step); they must share a phase.
  """

  def __init__(self, recipe: recipes.Recipe, game, build):
    self.recipe, self.game, self.build = recipe, game, build
    self.fns: dict = {}

  def at(self, step: int, num_steps: int = 1):
    phase = None
    if self.recipe.phase is not None:
      phase = self.recipe.phase(self.game, step)
      last = self.recipe.phase(self.game, step + num_steps - 1)
      if last != phase:
        raise ValueError(
          f"steps {step + 1}..{step + num_steps} of one call span phases "
          f"{phase} and {last} of recipe {self.recipe.name!r}; choose "
          f"steps_per_call so that no call crosses a phase boundary"
        )
    if phase not in self.fns:
      self.fns[phase] = self.build(phase)
    return self.fns[phase]


def make_host_pipeline(
  source: data.DataSource, config, root_key, *, prefetch: int = 2
) -> data.HostPipeline:
  """The host pipeline of a streamed run: this process's rows of each step's global batch."""
  return data.HostPipeline(
    source.row_reader(),
    len(source),
    root_key,
    global_batch=config.batch_size,
    d_steps=config.get("d_steps", 1),
    prefetch=prefetch,
    rows=parallel.process_rows(config.batch_size, config.get("parallel", "none")),
  )


PROGRESS_MODES = ("auto", "bar", "lines", "none")


def progress_mode(progress: bool | str) -> str:
  """'bar', 'lines' or 'none' for `train_and_evaluate(progress=...)`.

  True and 'auto' mean a bar when stderr is a terminal or the run is in a
  notebook, else plain lines (a batch job's log gets no carriage returns);
  False means 'none'.
  """
  if progress is True or progress == "auto":
    in_notebook = tqdm.__module__.startswith("tqdm.notebook")  # tqdm.auto picked its widget
    return "bar" if in_notebook or sys.stderr.isatty() else "lines"
  if progress is False:
    return "none"
  if progress not in PROGRESS_MODES:
    raise ValueError(
      f"progress={progress!r} is not understood; accepted: True, False, "
      f"{', '.join(map(repr, PROGRESS_MODES))}"
    )
  return progress


def make_progress(mode: str, total: int, initial: int):
  """The loop's progress display: a tqdm bar, or `logs.ProgressLines` for 'lines' and 'none'."""
  if mode == "bar":
    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True)
  return logs.ProgressLines(total, initial, show=mode == "lines")


class _StopRequested(Exception):
  pass


# Calls of the step dispatched and not yet finished, at most: after dispatching a call the
# loop waits for the one before it, so the device always has the next call queued (the host's
# dispatch overlaps the device's work) and a stop request waits for at most two calls.
MAX_CALLS_IN_FLIGHT = 2


def train_and_evaluate(
  config, workdir: str, *, progress: bool | str = True, step_hook=None
) -> GANState:
  """Trains a GAN as `config` says, writing logs, pictures and checkpoints into `workdir`.

  `progress`: True ('auto') shows a bar when stderr is a terminal or in a
  notebook and otherwise prints a plain line on stdout every `config.log_every`
  steps (step, steps/s, ETA, losses); 'bar', 'lines', or False ('none') for
  nothing but warnings. TensorBoard (with the tensorboard extra) gets the scalars, the
  sample pictures and the config.

  Resumes from the newest intact checkpoint in `workdir/checkpoints` when there
  is one; a resumed run continues bit-exactly. Ctrl-C or SIGTERM saves a
  checkpoint and stops: SIGTERM is acted on between steps, and the host keeps
  at most `MAX_CALLS_IN_FLIGHT` calls of the step dispatched, so a stop waits
  for at most two calls, then the save. Every config field, the data and the
  models' shapes are checked before anything is compiled (`gan_jax.validation`).
  A NaN or Inf in a loss, gradient or parameter stops the run with
  `guards.NonFiniteError` without saving it (config.nonfinite = 'stop', the
  default) or skips that player's update and counts it ('skip').
  `step_hook(step, state, source)`, when given, runs on the host after every
  step (e.g. `gan_jax.evaluate.PeriodicEvaluator`); it must not change the state.
  Returns the final state.
  """
  settings = distributed.settings_from_config(config)
  if settings is not None and settings["num_processes"] > 1:  # before JAX starts, or any wait
    raise NotImplementedError(
      f"train_and_evaluate writes logs and checkpoints from one process, but config.distributed"
      f" names {settings['num_processes']}; with several, run parallel.make_parallel_step in "
      "your own loop (tests/parallel_runs.py is one)"
    )
  validation.validate_config(config)
  progress = progress_mode(progress)
  if distributed.initialize_from_config(config):
    raise NotImplementedError(
      "train_and_evaluate writes logs and checkpoints from one process; "
      "with several, run parallel.make_parallel_step in your own loop"
    )
  created = not os.path.exists(workdir)
  check_workdir(workdir)
  if config.get("retain_host_memory", True) and jax.default_backend() == "cpu":
    host_memory.retain_freed_memory()
  recipe = recipes.recipe_of(config)
  try:
    source = data.make_data_source(config)
    validation.check_against_data(config, source, recipe)
  except Exception:
    if created and not os.listdir(workdir):  # a refused run leaves no empty folder behind
      os.rmdir(workdir)
    raise
  runner = make_loop_step(source, config, recipe)
  axis_name = parallel.model_axis_name(runner.mode)
  config_dict = config_to_dict(config)
  checkpointer = checkpoint.Checkpointer(
    os.path.join(workdir, "checkpoints"), max_to_keep=config.get("keep_checkpoints", 3)
  )
  try:
    return _run(
      config,
      workdir,
      config_dict,
      checkpointer,
      runner,
      source,
      recipe,
      functools.partial(recipe.create_state, config, source.data_shape, axis_name=axis_name),
      progress,
      step_hook,
    )
  except guards.NonFiniteError as error:
    latest = checkpointer.latest_step()
    kept = f"the newest checkpoint is step {latest}" if latest is not None else "no checkpoint"
    if config.get("nonfinite", "stop") == "skip":  # a stretch of skipped steps ended the run
      raise guards.NonFiniteError(f"{error}; {kept}") from None
    raise guards.NonFiniteError(
      f"{error}; stopped without saving it ({kept}); config.nonfinite='skip' skips such "
      f"updates instead"
    ) from None
  except OSError as error:
    if checkpointer.failure is not None:  # a background checkpoint write failed first
      raise checkpointer.failure from None
    if error.errno is None:  # a message of ours (a run that is not there), not a failed write
      raise
    latest = checkpointer.latest_step()
    kept = (
      f"the newest complete checkpoint is step {latest}"
      if latest is not None
      else "no checkpoint was written"
    )
    raise WorkdirWriteError(
      f"writing into {workdir} failed: {error.strerror or error}"
      f"{f' ({error.filename})' if error.filename else ''}; {kept}"
    ) from None


def _run(
  config,
  workdir,
  config_dict,
  checkpointer,
  runner,
  source,
  recipe,
  make_state,
  progress,
  step_hook,
) -> GANState:
  """The loop of `train_and_evaluate` from the restored (or initial) state.

  `make_state()` builds the step-0 state; a resumed run restores into its shapes alone.
  """
  outside_step = models_outside_the_step(recipe, config, source.data_shape, runner.mode)
  resumed = {}
  if checkpointer.all_steps():
    check_same_data(workdir, source)
    state, resumed = checkpointer.restore(
      checkpoint.abstract_template(make_state),
      check=lambda saved: checkpoint.check_compatible(saved.get("config", {}), config_dict),
    )
  elif config.get("init_from", ""):  # a fresh run that starts from another run's players
    check_no_earlier_logs(workdir)
    state = initialized_from(make_state(), config.init_from)  # (`prepare`'s work, trained)
  else:
    check_no_earlier_logs(workdir)
    state = recipe.prepared(make_state(), config)
  start = int(state.step)
  if start >= config.num_steps:
    past = "complete" if start == config.num_steps else f"past config.num_steps {config.num_steps}"
    print(
      f"the run in {workdir} is already {past}: its checkpoint is at step {start}; nothing "
      f"to train (raise config.num_steps to train further)",
      flush=True,
    )
    checkpointer.close()
    return outside_step(state)
  truncate_metrics(workdir, start)
  write_json_atomically(os.path.join(workdir, "config.json"), config_dict)
  write_data_description(workdir, source)
  os.makedirs(os.path.join(workdir, "samples"), exist_ok=True)
  monitor = guards.NonFiniteMonitor(
    config.get("nonfinite", "stop"),
    resumed.get("skipped_d_updates", 0),
    resumed.get("skipped_g_updates", 0),
    skipped_in_a_row=resumed.get("skipped_in_a_row", 0),
  )

  writer = MetricWriter(workdir, start_wall_time=resumed.get("wall_time", 0.0))
  if start > 0:
    writer.mark_resumed(start)
  if writer.tensorboard:
    writer.write_text(
      start,
      "config",
      "    " + json.dumps(config_dict, indent=2, sort_keys=True).replace("\n", "\n    "),
    )  # a markdown code block
  elif progress != "none":
    print(logs.TENSORBOARD_MISSING, flush=True)
  batches = None
  if streams(config):
    batches = make_host_pipeline(source, config, state.key).iterate(start)
    next_data = lambda: runner.put_data(next(batches))
  else:
    arrays = runner.put_data(source.arrays)
    next_data = lambda: arrays
  placed = runner.put_state(state)
  step_fns = PhasedStepFns(
    recipe,
    state.game,
    lambda phase: (
      runner.step_fn if phase is None else make_loop_step(source, config, recipe, phase).step_fn
    ),
  )

  def save_checkpoint(placed, force=False):
    checkpointer.save(
      runner.get_state(placed),
      {"config": config_dict, "wall_time": writer.elapsed(), **monitor.resume_counts()},
      force=force,
    )

  stop_signals = []  # set by SIGTERM; the loop stops before its next step

  def request_stop(signum, frame):
    stop_signals.append(signal.Signals(signum).name)

  previous_handler = signal.signal(signal.SIGTERM, request_stop) if _main_thread() else None
  bar = make_progress(progress, config.num_steps, start)
  finished = False
  records, thresholds = [], diagnostics.thresholds_for(config)
  fused = config.get("steps_per_call", 1)
  in_flight = collections.deque()  # an output of each call not known to be finished
  try:
    try:
      for step in range(start + fused, config.num_steps + 1, fused):
        if stop_signals:
          raise _StopRequested(stop_signals[0])
        placed, metrics = step_fns.at(step - fused, fused)(placed, next_data())
        metrics = dict(metrics)
        flags = metrics.pop(guards.FLAGS_KEY)  # (fused,) flags when fused > 1
        in_flight.append(flags)  # never donated, unlike the state
        while len(in_flight) >= MAX_CALLS_IN_FLIGHT:
          jax.block_until_ready(in_flight.popleft())
        monitor.push(step, flags)
        bar.update(fused)
        logged = step % config.log_every == 0 or step == config.num_steps
        samples = step % config.sample_every == 0 or step == config.num_steps
        saves = step % config.checkpoint_every == 0
        if logged or samples or saves or step_hook is not None:
          monitor.settle()  # nothing of a non-finite step is written
        if logged:
          record = writer.write(step, {**jax.device_get(metrics), **monitor.counts()})
          records.append(record)
          for line in diagnostics.new_warnings(records, thresholds):
            bar.write(line)
          if isinstance(bar, logs.ProgressLines):
            bar.log(step, record)
          else:
            bar.set_postfix(d_loss=f"{record['d_loss']:.3f}", g_loss=f"{record['g_loss']:.3f}")
        if samples:
          picture = os.path.join(workdir, "samples", f"step_{step:07d}.png")
          save_sample_picture(
            sampling_state(
              outside_step(runner.get_state(placed)), config, recipe, source.num_classes
            ),
            source,
            picture,
            config.get("num_sample_images", 64),
            recipe,
          )
          if writer.tensorboard:
            with open(picture, "rb") as f:
              writer.write_image(step, "samples", f.read())
        if saves:
          save_checkpoint(placed)
        if step_hook is not None:
          step_hook(step, outside_step(runner.get_state(placed)), source)
      monitor.settle()
      save_checkpoint(placed, force=True)
      checkpointer.wait()
      summary = monitor.summary()
      if summary:
        bar.write(summary)
    except (KeyboardInterrupt, _StopRequested) as stop:
      monitor.settle()
      stopped_at = int(jax.device_get(runner.get_state(placed).step))
      reason = "Ctrl-C" if isinstance(stop, KeyboardInterrupt) else str(stop)  # the signal
      bar.write(f"stopping at step {stopped_at} ({reason}); saving a checkpoint")
      save_checkpoint(placed, force=True)
      checkpointer.wait()
      raise
    finished = True
  finally:
    bar.close()
    if batches is not None:
      batches.close()
    writer.close()
    try:
      checkpointer.close()
    except checkpoint.CheckpointWriteError:
      if finished:
        raise  # else an error is already on its way
    if previous_handler is not None:
      signal.signal(signal.SIGTERM, previous_handler)
  return outside_step(runner.get_state(placed))


def models_outside_the_step(recipe, config, data_shape, mode: str) -> Callable:
  """fn(state) -> the same arrays, with the players as built for use outside the step.

  Under pmap and shard_map the players' BatchNorm averages its batch moments over the
  device axis, which is bound only inside the mapped step: a train-mode call elsewhere
  (the EMA generator's recomputed statistics for a sample picture) would fail on the unbound
  axis. The sample pictures, the step hook and the state returned use players built
  without it (traced only, nothing initialized); under 'none' and 'jit' states pass as
  they are.
  """
  if parallel.model_axis_name(mode) is None:
    return lambda state: state
  structure = jax.tree.structure(jax.eval_shape(lambda: recipe.create_state(config, data_shape)))
  return lambda state: jax.tree.unflatten(structure, jax.tree.leaves(state))


def _main_thread() -> bool:
  import threading

  return threading.current_thread() is threading.main_thread()
