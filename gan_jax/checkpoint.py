"""Saving and restoring a `GANState` with orbax.

A checkpoint holds the state's arrays (a nested dict of arrays, no code) and
plain JSON metadata: the run's config and the wall time so far. Restoring
needs a template state built from the same config, and never executes
anything stored in the checkpoint.
"""

from __future__ import annotations

import os
from typing import Any

import flax
import jax
import orbax.checkpoint as ocp

from gan_jax.state import GANState

# Config fields that define the model and the game: a checkpoint is refused
# by a run whose config differs in any of them.
IDENTITY_FIELDS = ("model", "loss", "data", "d_steps", "gradient_penalty_weight", "r1_weight",
                   "clip_value", "ema_decay", "g_optimizer", "d_optimizer", "seed", "recipe",
                   "variant", "augment")


class CheckpointMismatchError(ValueError):
  """The checkpoint was written by a run with a different model, game or data."""


def state_arrays(state: GANState) -> dict[str, Any]:
  """The state's array fields as a nested dict (no static fields)."""
  return flax.serialization.to_state_dict(state)


class Checkpointer:
  """Orbax `CheckpointManager` for GAN states in DIR, keeping the newest `max_to_keep`."""

  def __init__(self, directory: str, max_to_keep: int = 3, async_save: bool = True):
    self.directory = os.path.abspath(directory)
    options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                           enable_async_checkpointing=async_save)
    self.manager = ocp.CheckpointManager(self.directory, options=options)

  def latest_step(self) -> int | None:
    return self.manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self.manager.all_steps())

  def save(self, state: GANState, metadata: dict, *, force: bool = False) -> bool:
    """Saves the state at its step with JSON `metadata` (e.g. {'config': ..., 'wall_time': ...})."""
    step = int(jax.device_get(state.step))
    if step in self.manager.all_steps():
      return False
    return self.manager.save(step, force=force, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state_arrays(state)),
        metadata=ocp.args.JsonSave(metadata)))

  def read_metadata(self, step: int | None = None) -> dict:
    step = self.latest_step() if step is None else step
    return self.manager.restore(step, args=ocp.args.Composite(
        metadata=ocp.args.JsonRestore()))["metadata"]

  def restore(self, template: GANState, step: int | None = None) -> tuple[GANState, dict]:
    """Restores into the structure of `template`; returns (state, metadata)."""
    step = self.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError(f"no checkpoint in {self.directory}")
    target = jax.tree.map(ocp.utils.to_shape_dtype_struct, state_arrays(template))
    restored = self.manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(target), metadata=ocp.args.JsonRestore()))
    state = flax.serialization.from_state_dict(template, restored["state"])
    return state, restored["metadata"]

  def wait(self):
    self.manager.wait_until_finished()

  def close(self):
    self.manager.wait_until_finished()
    self.manager.close()


def check_compatible(saved_config: dict, config: dict) -> None:
  """Raises `CheckpointMismatchError` naming the first identity field that differs."""
  for field in IDENTITY_FIELDS:
    if saved_config.get(field) != config.get(field):
      raise CheckpointMismatchError(
          f"the checkpoint was written with {field}={saved_config.get(field)!r} but this run has "
          f"{field}={config.get(field)!r}; use a new --workdir or the same {field}")
