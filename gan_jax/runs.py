"""A run's directory: its config.json, checkpoints/ and the files written beside them.

`load_run(workdir)` gives back (config, data source, state) of a trained run, as
`gan-jax sample` and `gan-jax evaluate` use it; `check_workdir` and
`write_json_atomically` are what the training loop writes the directory with.
"""

from __future__ import annotations

import json
import numbers
import os
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections

from gan_jax import checkpoint, data, logs, models, recipes
from gan_jax.validation import first_line
from gan_jax.state import GANState

CONFIG_FILE = "config.json"
DATA_FILE = "data.json"  # what the run's data looked like: name, kind, shape, classes
CHECKPOINT_DIR = "checkpoints"


def config_to_dict(config) -> dict:
  """A ConfigDict (or dict) as plain JSON values, as config.json holds it."""
  if hasattr(config, "to_json_best_effort"):
    return json.loads(config.to_json_best_effort())
  return dict(config)


class WorkdirError(ValueError):
  """The workdir cannot be created or written (found before training)."""


class WorkdirWriteError(RuntimeError):
  """Writing logs or pictures into the workdir failed during training (full disk, ...)."""


def probe_writable(folder: str) -> None:
  """Creates `folder` and writes and removes a probe file in it; raises the OSError when it
  cannot."""
  os.makedirs(folder, exist_ok=True)
  probe = os.path.join(folder, f".write-test-{os.getpid()}")
  with open(probe, "w") as f:
    f.write("ok")
  os.remove(probe)


def check_workdir(workdir: str) -> None:
  """Creates `workdir` and writes a probe file in it; raises `WorkdirError` when it cannot."""
  try:
    probe_writable(workdir)
  except OSError as error:
    raise WorkdirError(
      f"workdir {workdir!r} cannot be written: {error.strerror or error}; give a writable --workdir"
    ) from None


def check_no_earlier_logs(workdir: str) -> None:
  """Refuses (`WorkdirError`) to start a run at step 0 in a `workdir` that holds the logs or
  sample pictures of an earlier run but no checkpoint to resume from (one killed before its
  first checkpoint, or whose checkpoints were all damaged): training there would write over
  them."""
  records = (
    logs.read_metrics(workdir) if os.path.isfile(os.path.join(workdir, "metrics.jsonl")) else []
  )
  samples = os.path.join(workdir, "samples")
  pictures = os.listdir(samples) if os.path.isdir(samples) else []
  if not records and not pictures:
    return
  held = f"metrics.jsonl up to step {records[-1]['step']}" if records else "sample pictures"
  raise WorkdirError(
    f"{workdir} holds an earlier run's logs ({held}) but no checkpoint to resume from, and "
    f"training would write over them; train into a new --workdir, or delete its "
    f"metrics.jsonl and samples/ first"
  )


def write_json_atomically(path: str, value) -> None:
  """Writes JSON to path.tmp, then renames it over `path` (never a half-written file)."""
  tmp = path + ".tmp"
  try:
    with open(tmp, "w") as f:
      json.dump(value, f, indent=2, sort_keys=True)
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):  # no half-written or stray file stays behind
      os.remove(tmp)
    raise


def _restore_advice(written_by: str) -> str:
  again = "train the run again" if written_by == "gan-jax train" else f"run {written_by} again"
  return f"it is written by {written_by}: restore it from a copy, or {again}"


def read_json(path: str, written_by: str = "gan-jax train") -> dict:
  """The JSON object in `path`; a damaged file (not JSON, or not an object) is a one-line
  ValueError that names it and the command that writes it."""
  advice = _restore_advice(written_by)
  if os.path.isdir(path):
    raise ValueError(f"{path} is a folder where a JSON file belongs; {advice}")
  with open(path) as f:
    try:
      value = json.load(f)
    except json.JSONDecodeError as error:
      raise ValueError(
        f"{path} is damaged (not JSON: {error.msg} at line {error.lineno}); {advice}"
      ) from None
  if not isinstance(value, dict):
    raise ValueError(f"{path} is damaged (a JSON {type(value).__name__}, not an object); {advice}")
  return value


def data_description(source: data.DataSource) -> dict:
  """The name, kind, example shape and classes of a data source, as DIR/data.json holds them."""
  return {
    "name": source.name,
    "kind": source.kind,
    "data_shape": list(source.data_shape),
    "num_classes": int(source.num_classes),
  }


def write_data_description(workdir: str, source: data.DataSource) -> None:
  """DIR/data.json: the name, kind, example shape and classes of the run's data, which
  is all that sampling and reports need of it (`load_run(..., need_data=False)`)."""
  write_json_atomically(os.path.join(workdir, DATA_FILE), data_description(source))


def changed_data(workdir: str, source: data.DataSource) -> str | None:
  """None when the run in `workdir` was trained on data of `source`'s kind, example shape
  and classes (or records none: a run older than DIR/data.json); else a one-line account of
  what changed ('... DIR/data.json records classes 3, the data now gives 5')."""
  path = os.path.join(workdir, DATA_FILE)
  if not os.path.isfile(path):
    return None
  recorded, now = read_json(path), data_description(source)
  for field, what in (
    ("kind", "kind"),
    ("data_shape", "example shape"),
    ("num_classes", "classes"),
  ):
    if field in recorded and recorded[field] != now[field]:
      was, is_now = recorded[field], now[field]
      if field == "data_shape":
        was, is_now = tuple(was), tuple(is_now)
      return (
        f"the data at config.data has changed since the run was trained: {path} records "
        f"{what} {was}, the data now gives {is_now}"
      )
  return None


def check_same_data(workdir: str, source: data.DataSource) -> None:
  """Refuses (one-line ValueError) to resume or evaluate a run on data that changed since it
  was trained (`changed_data`)."""
  change = changed_data(workdir, source)
  if change:
    raise ValueError(f"{change}; restore the run's data, or train into a new --workdir")


def described_source(workdir: str, missing: Exception) -> data.DataSource:
  """A `DataSource` without rows, from DIR/data.json, for a run whose data is gone (moved,
  archived, another machine); re-raises `missing` when the run has no description."""
  path = os.path.join(workdir, DATA_FILE)
  if not os.path.exists(path):
    raise missing
  description = read_json(path)

  def no_rows(arrays, key, num):
    raise ValueError(
      f"the data of this run cannot be read ({missing}); sampling and reports work "
      "without it, evaluation and training do not"
    )

  return data.DataSource(
    name=description["name"],
    kind=description["kind"],
    data_shape=tuple(description["data_shape"]),
    arrays={},
    sample=no_rows,
    num_classes=int(description["num_classes"]),
  )


def load_run(
  workdir: str, step: int | None = None, *, need_data: bool = True
) -> tuple[Any, data.DataSource, GANState]:
  """(config, data source, state) of the run in `workdir`, restored from its newest checkpoint
  (or the checkpoint of `step`).

  With need_data=False (sampling, reports), a run whose data files are gone, unreadable or
  changed (another kind, example shape or class count than DIR/data.json records) loads
  with a source that has its name, kind, shape and classes from DIR/data.json but no rows.
  With need_data=True, changed data is a one-line ValueError.
  """
  if step is not None and (not isinstance(step, numbers.Integral) or isinstance(step, bool)):
    raise ValueError(
      f"step must be an integer (the step of one of the run's checkpoints), got {step!r}"
    )
  step = None if step is None else int(step)
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.exists(path):
    raise FileNotFoundError(
      f"{workdir or repr(workdir)} holds no run (no config.json); train one with gan-jax train"
    )
  saved = read_json(path)
  missing = [field for field in ("model", "data", "seed", "batch_size") if field not in saved]
  if missing:
    raise ValueError(
      f"{path} is damaged (no field {missing[0]!r}, which a run's config holds); "
      f"{_restore_advice('gan-jax train')}"
    )
  config = ml_collections.ConfigDict(saved)
  models.import_module(config.get("model", {}).get("module", ""))  # it registers the model
  data_config = config
  if not need_data and config.get("data", {}).get("download", False):
    # Sampling and reports never download: a run whose tfds data is gone uses DIR/data.json.
    data_config = ml_collections.ConfigDict(config.to_dict())
    data_config.data.download = False
  try:
    source = data.make_data_source(data_config)
  except (FileNotFoundError, ValueError) as unreadable:  # gone, emptied, damaged
    if need_data:
      raise
    source = described_source(workdir, unreadable)
  else:
    change = changed_data(workdir, source)
    if change and need_data:
      raise ValueError(f"{change}; restore the run's data to evaluate it")
    if change:  # samples and reports come from data.json's description, as without the data
      source = described_source(workdir, ValueError(change))
  recipe = recipes.recipe_of(config)
  template = checkpoint.abstract_template(lambda: recipe.create_state(config, source.data_shape))
  checkpointer = checkpoint.Checkpointer(
    os.path.join(workdir, CHECKPOINT_DIR), async_save=False, writable=False
  )
  try:
    state, _ = checkpointer.restore(template, step)
  finally:
    checkpointer.close()
  return config, source, state


INIT_FIELDS = ("g_params", "d_params", "g_collections", "d_collections")


def parse_init_from(value: str) -> tuple[str, int | None]:
  """'DIR' or 'DIR:STEP' of config.init_from -> (DIR, STEP or None for the newest).

  The text after the last ':' is the step, a whole number (a directory whose own name holds
  a ':' is taken whole when it exists); anything else there is a one-line ValueError.
  This is config.init_from's rule in `validation` (its form only: whether DIR holds a run
  is for `check_init_from`).
  """
  if not isinstance(value, str):
    raise ValueError(f"config.init_from must be a string 'DIR' or 'DIR:STEP', got {value!r}")
  path, colon, step = value.rpartition(":")
  if colon and step.isdigit() and path:
    return path, int(step)
  if not colon or os.path.isdir(value):
    return value, None
  problem = (
    " names no directory before ':'"
    if step.isdigit()
    else f": the step after ':' must be a whole number, got {step!r}"
  )
  raise ValueError(
    f"config.init_from {value!r}{problem}; accepted: 'DIR' (its newest checkpoint) or 'DIR:STEP'"
  )


def check_init_from(init_from, workdir: str | None = None) -> None:
  """Refuses (one-line ValueError) a config.init_from that names no run, or a step that run
  has no checkpoint of, before anything is built. A run in `workdir` that already has a
  checkpoint resumes from it and does not read config.init_from: nothing to check then.
  A value that is not a string is left to `validation` ('' is no init_from)."""
  if not isinstance(init_from, str) or not init_from:
    return
  directory, step = parse_init_from(init_from)
  if workdir is not None and checkpoint.complete_steps(os.path.join(workdir, CHECKPOINT_DIR)):
    return
  if not os.path.isfile(os.path.join(directory, CONFIG_FILE)):
    what = "does not exist" if not os.path.exists(directory) else f"holds no run (no {CONFIG_FILE})"
    raise ValueError(
      f"config.init_from {init_from!r} names no run: {directory} {what}; accepted: 'DIR' or "
      "'DIR:STEP' of a run written by gan-jax train"
    )
  steps = checkpoint.complete_steps(os.path.join(directory, CHECKPOINT_DIR))
  if not steps:
    raise ValueError(
      f"config.init_from {init_from!r}: the run in {directory} has no checkpoint; accepted: "
      "a run that has saved one"
    )
  if step is not None and step not in steps:
    raise ValueError(
      f"config.init_from {init_from!r}: the run in {directory} has no checkpoint of step "
      f"{step}; accepted: {', '.join(f'{directory}:{s}' for s in steps)} or {directory} "
      "(the newest)"
    )


def _shapes(tree) -> dict[str, tuple]:
  leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
  return {jax.tree_util.keystr(path): tuple(getattr(leaf, "shape", ())) for path, leaf in leaves}


def initialized_from(state: GANState, init_from: str) -> GANState:
  """`state` (a fresh run's step-0 state) with the players of another run's checkpoint.

  config.init_from 'DIR' (its newest checkpoint) or 'DIR:STEP': both players' parameters
  and collections (batch statistics, spectral norm's vectors) and the generator EMA (the
  other run's, or its generator when it kept none) are taken from it; the step, the
  optimizer states, the key and everything else start fresh, as this run's config says
  (fine-tuning with another learning rate, loss or data of the same shape). A player that
  differs from this run's (another width, another model) is a one-line ValueError naming
  the first array that differs.
  """
  workdir, step = parse_init_from(init_from)
  try:
    _, _, other = load_run(workdir, step, need_data=False)
  except (FileNotFoundError, ValueError) as error:  # not a failed write of this run's
    raise ValueError(f"config.init_from {init_from!r}: {first_line(error)}") from None
  taken = {}
  for field in INIT_FIELDS:
    ours, theirs = _shapes(getattr(state, field)), _shapes(getattr(other, field))
    if ours != theirs:
      name = (sorted(set(ours) ^ set(theirs)) or [k for k in ours if ours[k] != theirs[k]])[0]
      if name not in theirs:
        difference = f" has no {field}{name} but this run's has shape {ours[name]}"
      elif name not in ours:
        difference = f": its {field}{name} has shape {theirs[name]} but this run has no such array"
      else:
        difference = f": its {field}{name} has shape {theirs[name]} but this run's has {ours[name]}"
      raise ValueError(f"init_from {init_from!r}{difference}; accepted: a run of the same players")
    taken[field] = jax.tree.map(jnp.asarray, getattr(other, field))
  if state.g_ema_params is not None:  # this run keeps an EMA: start it at the other run's
    taken["g_ema_params"] = jax.tree.map(jnp.asarray, other.sampling_params)
    if state.g_ema_collections is not None:
      collections = other.g_ema_collections
      taken["g_ema_collections"] = taken["g_collections"] if collections is None else collections
  return state.replace(**taken)
