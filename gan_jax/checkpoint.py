"""Saving and restoring a `GANState` with orbax.

A checkpoint holds the state's arrays (a nested dict of arrays, no code) and
plain JSON metadata: the run's config, the wall time so far and the SHA-256 of
the arrays. Restoring needs a template of the state of the same config (its
shapes and dtypes suffice: `abstract_template`), and never executes anything
stored in the checkpoint (no pickle anywhere).

Crashes and damage:
- orbax writes each checkpoint into a temporary directory and renames it when
  complete, so a process killed mid-save leaves at most a temporary directory,
  which is ignored and, by the writing `Checkpointer`, removed.
- Old checkpoints are deleted only after a newer one is complete, by renaming
  them out of the way first (a kill mid-delete leaves no half checkpoint).
- `restore` verifies the SHA-256; a truncated or altered checkpoint is skipped
  with a one-line warning (and, by the writing `Checkpointer`, moved aside to
  `corrupt-STEP`), falling back to the previous one; when none is left it raises
  `CheckpointCorruptError`.
- A failed write (full disk, read-only directory) raises `CheckpointWriteError`
  naming the step and the cause; earlier checkpoints are untouched. What a failed
  background write leaves behind (tracebacks of callbacks that find orbax's event
  loop closed, warnings about coroutines never awaited) is held back: the one-line
  error says it all.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import sys
import time
import warnings
from typing import Any, Callable

import flax
import jax
import numpy as np
import orbax.checkpoint as ocp
from etils import epath

from gan_jax.state import GANState

# Config fields that define the model and the game: a checkpoint is refused
# by a run whose config differs in any of them.
IDENTITY_FIELDS = (
  "model",
  "loss",
  "data",
  "d_steps",
  "gradient_penalty_weight",
  "r1_weight",
  "r1_decay_steps",
  "clip_value",
  "ema_decay",
  "g_optimizer",
  "d_optimizer",
  "seed",
  "recipe",
  "variant",
  "augment",
  "batch_size",
  "reuse_fakes",
)
# Identity fields a run may change on resume when its config.resume_may_change names them:
# the state fits either value, but the resumed run is no continuation of the saved one.
CHANGEABLE_ON_RESUME = ("batch_size", "reuse_fakes")
# Identity fields added after checkpoints were written: absent from a config (a saved one,
# or one built without them), they read as these defaults (the behaviour without them).
LATER_DEFAULTS = {"r1_decay_steps": 0, "model": {"noise_categories": 0}, "reuse_fakes": False}
TRASH = "deleted"  # old checkpoints are renamed here, then removed


class CheckpointMismatchError(ValueError):
  """The checkpoint was written by a run with a different model, game or data."""


class CheckpointCorruptError(RuntimeError):
  """No readable, intact checkpoint is left."""


class CheckpointWriteError(RuntimeError):
  """A checkpoint could not be written (full disk, read-only directory, ...)."""


def state_arrays(state: GANState) -> dict[str, Any]:
  """The state's array fields as a nested dict (no static fields)."""
  return flax.serialization.to_state_dict(state)


def abstract_template(make_state: Callable[[], GANState]) -> GANState:
  """The state `make_state()` builds, as shapes and dtypes only: a template to restore into.

  Nothing is initialized (`jax.eval_shape`): on a 2-core CPU, building a state eagerly
  compiles each initializer shape, 6-15 s for the Fashion-MNIST configs, which a restored
  state would overwrite anyway. Each array is placed where `make_state()` would have put it
  (the default device).
  """
  sharding = jax.numpy.zeros(()).sharding
  return jax.tree.map(
    lambda leaf: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=sharding),
    jax.eval_shape(make_state),
  )


def arrays_digest(tree) -> str:
  """SHA-256 over every leaf's path, dtype, shape and bytes, in tree order."""
  digest = hashlib.sha256()
  leaves = jax.tree_util.tree_flatten_with_path(jax.device_get(tree))[0]
  for path, leaf in leaves:
    leaf = np.ascontiguousarray(np.asarray(leaf))
    digest.update(f"{jax.tree_util.keystr(path)}|{leaf.dtype.str}|{leaf.shape}|".encode())
    digest.update(leaf.tobytes())
  return digest.hexdigest()


def _warn(message: str) -> None:
  print(f"warning: {message}", file=sys.stderr, flush=True)


def _is_closed_loop_callback(unraisable) -> bool:
  """Whether an unraisable exception is asyncio's 'Event loop is closed' from a callback
  scheduled after the loop ended (what a failed background write leaves behind)."""
  frame = unraisable.exc_traceback
  while frame is not None and frame.tb_next is not None:
    frame = frame.tb_next
  return (
    unraisable.exc_type is RuntimeError
    and str(unraisable.exc_value) == "Event loop is closed"
    and frame is not None
    and frame.tb_frame.f_code.co_filename.endswith(os.path.join("asyncio", "base_events.py"))
  )


def _hold_back_closed_loop_callbacks() -> None:
  """Installs (once) a `sys.unraisablehook` that drops `_is_closed_loop_callback` exceptions
  and hands every other one to the hook it replaces.

  When a background write fails (full disk), orbax's event loop ends with the error, and
  tensorstore's callbacks for the writes still in flight find it closed: each printed a
  traceback, 20 on a full disk, before the `CheckpointWriteError` that names the failure.
  A restore that fails on one damaged array leaves the other reads' callbacks the same way
  (30 to 80 tracebacks before the one-line warning that names the damage).
  """
  previous = sys.unraisablehook
  if getattr(previous, "holds_back_closed_loop_callbacks", False):
    return

  def hook(unraisable):
    if not _is_closed_loop_callback(unraisable):
      previous(unraisable)

  hook.holds_back_closed_loop_callbacks = True
  sys.unraisablehook = hook


def _first_line(error: BaseException) -> str:
  """`Type: first line` of an error, without the JSON specs tensorstore appends to its own."""
  text = str(error).strip()
  if not text:
    return type(error).__name__
  return f"{type(error).__name__}: {text.splitlines()[0].split(' [tensorstore_spec')[0]}"


def complete_steps(directory: str) -> list[int]:
  """Steps of the complete checkpoints in `directory`, oldest first (none when it is missing;
  temporary directories excluded): what a `Checkpointer` there would restore from."""
  try:
    names = os.listdir(directory)
  except (FileNotFoundError, NotADirectoryError):
    return []
  return sorted(
    int(name) for name in names if name.isdigit() and os.path.isdir(os.path.join(directory, name))
  )


class Checkpointer:
  """Orbax `CheckpointManager` for GAN states in DIR, keeping the newest `max_to_keep`.

  Args:
    directory: where the step directories go.
    max_to_keep: complete checkpoints to keep.
    async_save: write in a background thread (training goes on meanwhile).
    writable: this process owns the directory: it removes what crashed runs
      left (temporary and half-deleted directories), moves corrupt checkpoints
      aside and deletes old ones. Readers (`gan-jax sample`) pass False.
    warn: fn(message) for one-line warnings; default prints to stderr.
  """

  def __init__(
    self,
    directory: str,
    max_to_keep: int = 3,
    async_save: bool = True,
    *,
    writable: bool = True,
    warn: Callable[[str], None] = _warn,
  ):
    self.directory = os.path.abspath(directory)
    self.max_to_keep = max_to_keep
    self.writable = writable
    self.warn = warn
    if writable:
      try:
        os.makedirs(self.directory, exist_ok=True)
      except OSError as error:
        raise CheckpointWriteError(
          f"cannot create the checkpoint directory {self.directory}: {error.strerror or error}"
        ) from None
      shutil.rmtree(os.path.join(self.directory, TRASH), ignore_errors=True)
    elif not os.path.isdir(self.directory):
      raise FileNotFoundError(f"no checkpoint directory {self.directory}")
    absl_logger = logging.getLogger("absl")
    level = absl_logger.level
    if not writable:  # orbax warns that a read-only manager is read-only: we asked for it
      absl_logger.setLevel(max(level, logging.ERROR))
    try:
      options = ocp.CheckpointManagerOptions(
        max_to_keep=None,
        create=writable,
        read_only=not writable,
        cleanup_tmp_directories=writable,
        enable_async_checkpointing=async_save,
      )
      self.manager = ocp.CheckpointManager(self.directory, options=options)
    finally:
      absl_logger.setLevel(level)
    _hold_back_closed_loop_callbacks()  # failed writes and failed reads leave such callbacks
    self._pending: int | None = None  # step of a save that may still be in flight
    self.failure: CheckpointWriteError | None = None  # the last write that failed

  def latest_step(self) -> int | None:
    steps = self.all_steps()
    return steps[-1] if steps else None

  def all_steps(self) -> list[int]:
    """Steps of the complete checkpoints on disk, oldest first (temporary directories excluded)."""
    return complete_steps(self.directory)

  def save(self, state: GANState, metadata: dict, *, force: bool = False) -> bool:
    """Saves the state at its step with JSON `metadata` (e.g. {'config': ..., 'wall_time': ...}).

    Raises `CheckpointWriteError` when this or the previous (background) save failed.
    """
    step = int(jax.device_get(state.step))
    self.wait()
    if step in self.all_steps():
      return False
    arrays = state_arrays(state)
    metadata = {**metadata, "step": step, "sha256": arrays_digest(arrays)}
    self._pending = step
    try:
      return self.manager.save(
        step,
        force=force,
        args=ocp.args.Composite(
          state=ocp.args.StandardSave(arrays), metadata=ocp.args.JsonSave(metadata)
        ),
      )
    except Exception as error:
      self._pending = None
      raise self._write_error(step, error) from error

  def _write_error(self, step: int, error: BaseException | None) -> CheckpointWriteError:
    cause = _first_line(error) if error is not None else "it was not committed"
    if isinstance(error, OSError) and error.strerror:
      cause = error.strerror
    elif (code := re.search(r"os_error_code='?(\d+)", str(error))) is not None:
      cause = os.strerror(int(code.group(1)))  # tensorstore's message for an OSError
    latest = self.latest_step()
    kept = (
      f"the newest complete checkpoint is step {latest}"
      if latest is not None
      else "no complete checkpoint exists yet"
    )
    # Coroutines of the failed write that orbax never awaited warn at exit, one pair of lines
    # each: the error below says what happened.
    warnings.filterwarnings("ignore", r"coroutine .* was never awaited", RuntimeWarning)
    self.failure = CheckpointWriteError(
      f"could not write the checkpoint of step {step} in {self.directory}: {cause}; {kept}"
    )
    return self.failure

  def wait(self) -> None:
    """Waits for a background save; raises `CheckpointWriteError` if it failed, else prunes."""
    step, self._pending = self._pending, None
    error = None
    try:
      self.manager.wait_until_finished()
      self.manager.check_for_errors()
    except Exception as caught:  # the background write failed
      error = caught
    if step is not None and (error is not None or step not in self.all_steps()):
      raise self._write_error(step, error)
    if self.writable:
      self._prune()

  def _prune(self) -> None:
    """Deletes all but the newest `max_to_keep` complete checkpoints (rename, then remove)."""
    steps = self.all_steps()
    if not self.max_to_keep or len(steps) <= self.max_to_keep:
      return
    trash = os.path.join(self.directory, TRASH)
    os.makedirs(trash, exist_ok=True)
    for step in steps[: -self.max_to_keep]:
      target = os.path.join(trash, f"{step}-{time.time_ns()}")
      os.rename(os.path.join(self.directory, str(step)), target)
      shutil.rmtree(target, ignore_errors=True)
    try:
      os.rmdir(trash)
    except OSError:
      pass
    self.manager.reload()

  def read_metadata(self, step: int | None = None) -> dict:
    step = self.latest_step() if step is None else step
    return self.manager.restore(step, args=ocp.args.Composite(metadata=ocp.args.JsonRestore()))[
      "metadata"
    ]

  def restore(
    self,
    template: GANState,
    step: int | None = None,
    *,
    check: Callable[[dict], None] | None = None,
  ) -> tuple[GANState, dict]:
    """Restores into the structure of `template`; returns (state, metadata).

    Without `step`, takes the newest checkpoint that reads back intact, warning
    about (and, when writable, moving aside) each damaged one it passes.
    `check(metadata)` runs before the arrays are read (e.g. `check_compatible`);
    its errors propagate. Raises `CheckpointCorruptError` when no intact
    checkpoint is left (with `step`, when that one is damaged; it is not moved),
    `CheckpointMismatchError` when the template's arrays differ from the saved ones in shape
    or dtype (a whole checkpoint of other players: not moved), FileNotFoundError when there
    is none at all. A save of this `Checkpointer` still in flight is waited for first (its
    checkpoint counts).
    """
    if self._pending is not None:
      self.wait()
    self.manager.reload()
    if step is not None and step not in self.all_steps():
      saved = ", ".join(map(str, self.all_steps())) or "none"
      raise ValueError(f"{self.directory} has no checkpoint of step {step}; accepted: {saved}")
    steps = [step] if step is not None else self.all_steps()[::-1]
    if not steps:
      raise FileNotFoundError(f"no checkpoint in {self.directory}")
    problems = []

    def damaged(candidate: int, reason: str) -> None:
      if step is not None:  # the one asked for: nothing to fall back to, nothing moved
        others = ", ".join(str(s) for s in self.all_steps() if s != step) or "none"
        raise CheckpointCorruptError(
          f"the checkpoint of step {step} in {self.directory} is damaged ({reason}); "
          f"the other checkpoints: {others}"
        )
      problems.append(self._damaged(candidate, reason))

    for candidate in steps:
      try:
        metadata = self.read_metadata(candidate)
        if not isinstance(metadata, dict):
          raise ValueError("its metadata is not a JSON object")
      except Exception as error:
        damaged(candidate, f"unreadable metadata ({_first_line(error)})")
        continue
      if check is not None:
        check(metadata)
      try:
        state = self._restore_arrays(template, candidate, metadata)
      except CheckpointMismatchError:
        raise  # arrays of another shape: the config does not fit, the checkpoint is whole
      except Exception as error:
        if "tree structures do not match" in str(error):  # orbax: another tree, not damage
          raise CheckpointMismatchError(
            f"the checkpoint of step {candidate} in {self.directory} holds another tree of "
            f"arrays than the state to restore into: {_first_line(error)}"
          ) from None
        damaged(candidate, _first_line(error))
        continue
      return state, metadata
    raise CheckpointCorruptError(
      f"no intact checkpoint is left in {self.directory}: {'; '.join(problems)}"
    )

  def _saved_arrays(self, step: int) -> dict | None:
    """The arrays stored at `step` as a nested dict of orbax metadata (shape, dtype), or None
    when orbax cannot say."""
    try:
      path = epath.Path(self.directory) / str(step) / "state"
      return dict(ocp.StandardCheckpointHandler().metadata(path))
    except Exception:
      return None

  def _restore_arrays(self, template: GANState, step: int, metadata: dict) -> GANState:
    arrays = state_arrays(template)
    saved = self._saved_arrays(step)
    # Written before the EMA kept G's statistics: the EMA starts from the online ones.
    without_ema_collections = saved is not None and "g_ema_collections" not in saved
    if without_ema_collections:
      arrays = {name: value for name, value in arrays.items() if name != "g_ema_collections"}
    target = jax.tree.map(ocp.utils.to_shape_dtype_struct, arrays)
    if saved is not None:
      check_shapes(step, saved, target)
    restored = self.manager.restore(
      step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target))
    )["state"]
    expected = metadata.get("sha256")
    if expected is None:
      self.warn(
        f"checkpoint at step {step} in {self.directory} has no checksum (written by "
        f"an older gan_jax); restored unverified"
      )
    elif arrays_digest(restored) != expected:
      raise ValueError("its arrays do not match the SHA-256 stored with them (altered or damaged)")
    if without_ema_collections:
      restored = {
        **restored,
        "g_ema_collections": (
          None if template.g_ema_collections is None else restored["g_collections"]
        ),
      }
    return flax.serialization.from_state_dict(template, restored)

  def _damaged(self, step: int, reason: str) -> str:
    problem = f"step {step}: {reason}"
    action = ""
    if self.writable:
      aside = os.path.join(self.directory, f"corrupt-{step}-{time.time_ns()}")
      try:
        os.rename(os.path.join(self.directory, str(step)), aside)
        self.manager.reload()
        action = f"; moved to {os.path.basename(aside)}"
      except OSError:
        pass
    self.warn(
      f"checkpoint at step {step} in {self.directory} is damaged ({reason}); "
      f"falling back to an earlier one{action}"
    )
    return problem

  def close(self):
    """Waits for a background save (raising `CheckpointWriteError` if it failed) and closes."""
    try:
      self.wait()
    finally:
      try:
        self.manager.close()
      except Exception:  # an error already reported by wait()
        pass


def _shapes_by_name(tree) -> dict[str, tuple]:
  """{'g_params.Dense_0.kernel': (shape, dtype name)} of the arrays in a nested dict."""
  flat = jax.tree_util.tree_leaves_with_path(tree, is_leaf=lambda leaf: hasattr(leaf, "shape"))
  return {
    ".".join(str(getattr(key, "key", getattr(key, "idx", key))) for key in path): (
      tuple(leaf.shape),
      str(np.dtype(leaf.dtype)),
    )
    for path, leaf in flat
    if hasattr(leaf, "shape")
  }


def check_shapes(step: int, saved, target) -> None:
  """Raises `CheckpointMismatchError` naming the first array of `target` that the checkpoint
  of `step` holds with another shape or dtype, or does not hold: the run's config builds other
  players than the ones that were saved (the checkpoint itself is whole)."""
  saved, target = _shapes_by_name(saved), _shapes_by_name(target)
  params_first = sorted(target, key=lambda name: not name.startswith(("g_params.", "d_params.")))
  for name in params_first:
    shape, dtype = target[name]
    if name not in saved:
      raise CheckpointMismatchError(
        f"the checkpoint of step {step} holds no array {name} (shape {shape}), which the run's "
        f"config builds: it was written with other players"
      )
    if saved[name] != (shape, dtype):
      raise CheckpointMismatchError(
        f"the checkpoint of step {step} holds {name} as {saved[name][0]} {saved[name][1]}, but "
        f"the run's config builds it as {shape} {dtype}: it was written with other players"
      )
  extra = sorted(set(saved) - set(target))
  if extra:
    raise CheckpointMismatchError(
      f"the checkpoint of step {step} holds {len(extra)} array(s) the state to restore into "
      f"lacks, {extra[0]} first (shape {saved[extra[0]][0]}): it was written with other players "
      "or another optimizer"
    )


def _with_later_defaults(config: dict) -> dict:
  """A config dict with LATER_DEFAULTS filled in where it lacks them."""
  filled = dict(config)
  for field, default in LATER_DEFAULTS.items():
    if isinstance(default, dict) and isinstance(filled.get(field), dict):
      filled[field] = {**default, **filled[field]}
    elif field not in filled:
      filled[field] = default
  return filled


def check_compatible(saved_config: dict, config: dict) -> None:
  """Raises `CheckpointMismatchError` naming the first identity field that differs.

  A field of CHANGEABLE_ON_RESUME may differ when config['resume_may_change'] names it.
  """
  allowed = set(config.get("resume_may_change") or ())
  saved_config, config = _with_later_defaults(saved_config), _with_later_defaults(config)
  for field in IDENTITY_FIELDS:
    if field in allowed and field in CHANGEABLE_ON_RESUME:
      continue
    if saved_config.get(field) != config.get(field):
      advice = (
        f" (or set resume_may_change=({field!r},) to continue with the new value)"
        if field in CHANGEABLE_ON_RESUME
        else ""
      )
      name, saved, now = first_difference(field, saved_config.get(field), config.get(field))
      raise CheckpointMismatchError(
        f"the checkpoint was written with {name}={saved!r} but this run has "
        f"{name}={now!r}; use a new --workdir or the same {field}{advice}"
      )


class _Absent:
  """A field one of two configs does not hold (printed as `absent`)."""

  def __repr__(self) -> str:
    return "absent"


MISSING = _Absent()


def first_difference(name: str, saved, now) -> tuple[str, object, object]:
  """(dotted name, saved value, new value) of the first leaf where two config values differ:
  ('model.generator.hidden', [128, 128], [64]) rather than the whole model sections."""
  if isinstance(saved, dict) and isinstance(now, dict):
    for key in sorted(set(saved) | set(now), key=str):
      if saved.get(key, MISSING) != now.get(key, MISSING):
        return first_difference(f"{name}.{key}", saved.get(key, MISSING), now.get(key, MISSING))
  return name, saved, now
