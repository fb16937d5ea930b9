"""Seed sweeps: several runs of one config, differing only in `config.seed`, as one program.

GAN results are judged over seeds (mean and standard error), and small models
(the 2D mixtures) leave a CPU or accelerator mostly idle on one run. A sweep
stacks the runs' `GANState`s along a leading seed axis and maps the same pure
step the training loop runs (`train.sampled_train_step` of the recipe, with the
non-finite guard, fused `config.steps_per_call` at a time) over it with
`jax.vmap`. Each seed keeps its own key, so seed s of a sweep draws the same
noise and data as `train_and_evaluate` with `config.seed = s`; the parameters
agree with that run up to float reassociation in the batched matmuls
(tests/test_sweep.py, 20 steps). Those rounding differences grow over a long run,
as any change of rounding does in GAN training (at 1,000 steps of the ring GAN the
largest parameter difference reached 1.8, and the modes covered 4 against 5): a
sweep's seed is a run of the same distribution, not the same bits, so compare sweeps
with sweeps, and statistics over seeds with a single run's.

A sweep writes no logs or checkpoints: it is for measuring, e.g. by
experiments/mixture_benchmark.py. Train one seed with `train_and_evaluate`
to keep its logs, pictures and checkpoints.

    states = sweep.train_seeds(config, seeds=range(10))
    state_3 = sweep.select(states, 3)   # an ordinary GANState: sample, evaluate, save
"""

from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import data, guards, recipes, train, validation, xla_options
from gan_jax.state import GANState


def stack(states: Sequence[GANState]) -> GANState:
  """GANStates of the same config (any seeds) as one state with leaves (num_seeds, ...)."""
  if not states:
    raise ValueError("stack needs at least one state, got none")
  treedef = jax.tree.structure(states[0])
  leaves = [jax.tree.leaves(s) for s in states]
  return jax.tree.unflatten(treedef, [jnp.stack(xs) for xs in zip(*leaves)])


def select(states: GANState, index: int) -> GANState:
  """The state of seed number `index` (a position along the seed axis) of a stacked state."""
  num = num_seeds(states)
  if not 0 <= index < num:
    raise ValueError(f"seed index {index} is out of range; the sweep holds {num} seeds")
  return jax.tree.map(lambda x: x[index], states)


def num_seeds(states: GANState) -> int:
  return int(states.step.shape[0])


def create_states(config, seeds: Sequence[int], data_shape, recipe: recipes.Recipe) -> GANState:
  """The step-0 states of `config` with config.seed = each of `seeds`, stacked."""
  states = []
  for seed in seeds:
    seeded = config.copy_and_resolve_references()
    seeded.seed = int(seed)
    states.append(recipe.prepared(recipe.create_state(seeded, data_shape), seeded))
  return stack(states)


def make_sweep_step(
  source: data.DataSource, config, recipe: recipes.Recipe, phase: int | None = None
):
  """jit(vmap(step)): fn(stacked state, dataset arrays) -> (stacked state, flags).

  The step is the training loop's for one device (config.parallel is ignored):
  real batches drawn from each seed's key, the recipe's train step under the
  non-finite guard, `config.steps_per_call` steps per call. A sweep logs
  nothing, so only the non-finite flags come back, int32 (S,) or
  (S, steps_per_call) (`guards.FLAGS_KEY`), and XLA drops the logged metrics
  (losses aside, which the guard reads). `phase`: the training phase of a
  recipe with phases.
  """
  train_step = guards.guard_train_step(
    recipe.train_step_for(phase), config.get("nonfinite", "stop")
  )
  step = functools.partial(
    train.sampled_train_step,
    sample=source.sample,
    local_batch=config.batch_size,
    train_step=train_step,
  )
  step = train.fuse_steps(step, config.get("steps_per_call", 1))

  def step_and_flags(state, arrays):
    state, metrics = step(state, arrays, axis_name=None)
    return state, metrics[guards.FLAGS_KEY]

  return xla_options.jit(jax.vmap(step_and_flags, in_axes=(0, None)))


def train_seeds(config, seeds: Sequence[int], *, every: int = 0, callback=None) -> GANState:
  """Trains config.num_steps steps of `config` for every seed in `seeds`, all at once.

  Returns the final states stacked along a leading axis of len(seeds) (`select`
  picks one). Under config.nonfinite = 'stop' a NaN or Inf in any seed raises
  `guards.NonFiniteError` naming the seed and the step; 'skip' skips that
  seed's update, as in a single run, and stops the sweep as a single run stops
  (`guards.NonFiniteMonitor`) when a seed skips an update on too many steps in a row.
  `callback(step, states)`, when given, is called every `every` steps (a multiple of
  config.steps_per_call), e.g. to score the seeds along the run, after the flags of
  the steps so far are read: it never sees a state that 'stop' refuses.
  """
  seeds = list(seeds)
  for seed in seeds:
    validation.integer(0, 2**32 - 1)(seed, "each seed")  # config.seed's rule
  seeds = [int(s) for s in seeds]
  if not seeds or len(set(seeds)) != len(seeds):
    raise ValueError(f"seeds must be distinct and at least one, got {seeds}")
  validation.validate_config(config)
  if config.get("init_from", ""):
    raise ValueError(
      f"init_from {config.init_from!r}: a seed sweep starts each seed's players from its own "
      "seed; accepted: init_from '' (fine-tune one run with gan-jax train)"
    )
  if train.streams(config) or config.get("parallel", "none") != "none":
    raise ValueError(
      f"a seed sweep runs on one device from the on-device data; got "
      f"data.pipeline={config.data.get('pipeline', 'device')!r}, "
      f"parallel={config.get('parallel', 'none')!r}; accepted: 'device', 'none'"
    )
  recipe = recipes.recipe_of(config)
  source = data.make_data_source(config)
  validation.validate_models(config, source.data_shape, recipe)
  validation.check_classes(config, source, recipe)
  states = create_states(config, seeds, source.data_shape, recipe)
  step_fns = train.PhasedStepFns(
    recipe, states.game, lambda phase: make_sweep_step(source, config, recipe, phase)
  )
  arrays = jax.device_put(source.arrays)
  fused = config.get("steps_per_call", 1)
  if callback is not None and (every < 1 or every % fused):
    raise ValueError(
      f"every must be a positive multiple of steps_per_call {fused} with a callback, got {every}"
    )
  monitors = [guards.NonFiniteMonitor(config.get("nonfinite", "stop")) for _ in seeds]
  pending = []
  for step in range(fused, config.num_steps + 1, fused):
    states, flags = step_fns.at(step - fused, fused)(states, arrays)
    pending.append((step, flags))
    calling_back = callback is not None and step % every == 0
    if calling_back or len(pending) >= 100 or step + fused > config.num_steps:
      _check_flags(pending, seeds, monitors)
      pending = []
    if calling_back:
      callback(step, states)
  return states


def _check_flags(pending, seeds, monitors) -> None:
  """Reads the flags of `pending` [(step, flags (S, fused))] into each seed's
  `guards.NonFiniteMonitor`; raises its NonFiniteError with the seed named."""
  steps, flags_on_device = zip(*pending)
  for step, flags in zip(steps, jax.device_get(flags_on_device)):
    flags = np.asarray(flags).reshape(len(seeds), -1)  # (S, fused)
    for monitor, seed_flags in zip(monitors, flags):
      monitor.push(step, seed_flags)
  for seed, monitor in zip(seeds, monitors):
    try:
      monitor.settle()
    except guards.NonFiniteError as error:
      raise guards.NonFiniteError(f"seed {seed}: {error}") from None
