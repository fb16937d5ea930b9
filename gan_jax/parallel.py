"""Running one pure step on all devices: `jax.pmap`, `jax.jit` over `jax.shard_map`, or
`jax.jit` with `NamedSharding`s alone (parallel='jit').

A step here is a pure fn(state, data, *, axis_name) -> (state, metrics), such
as `train.sampled_train_step` (data: the dataset arrays, the same on every
device) or `train.streamed_train_step` (data: a real batch {'x': (k, B, ...)}
split along B). The wrappers below (`wrap_pmap`, `wrap_shard_map`, `wrap_jit`, picked by
`make_parallel_step`) take any such step, not only a train step, and map it over a named
device axis; inside,
`lax.pmean` averages gradients, BatchNorm statistics and metrics across
devices and every random draw is made for the global batch and sliced per
device (`steps.local_slice_of_global_draw`), so the run is a function of the
seed and the GLOBAL batch size, not of the device count. The exception: draws made
inside the players (dropout layers, StyleGAN's noise inputs) use `steps.device_key`, a
key per device, and depend on the device count too.

The state is replicated: for pmap each leaf gets a leading device axis
(`replicate` / `unreplicate`); for shard_map it is one global array with a
replicated `NamedSharding` on a 1-D `make_mesh()`. Both work with several
processes (`gan_jax.distributed`): the mesh and the collectives then span
every device of every process.

parallel='jit' is the path JAX recommends now that pmap is in maintenance: the step
runs once on the GLOBAL batch (no named axis), the state replicated and every batch
of rows (the real batch, noise, augmentation draws) split over the mesh
(`constrain_batch`, applied where `steps.local_slice_of_global_draw` draws), and
XLA's partitioner inserts the collectives. Same draws, same maths; sums over the
batch are reassociated, so it agrees with the other modes to float rounding.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import numbers
from typing import Any, Callable, NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from gan_jax import xla_options

PARALLEL_MODES = ("none", "pmap", "shard_map", "jit")
AXIS_NAME = "batch"

PyTree = Any

# The sharding of a batch's rows while a parallel='jit' step is traced (else None).
_BATCH_SHARDING: contextvars.ContextVar[NamedSharding | None] = contextvars.ContextVar(
  "batch_sharding", default=None
)


def check_mode(mode: str) -> str:
  """The rule of config.parallel: a name in `PARALLEL_MODES`."""
  if not isinstance(mode, str) or mode not in PARALLEL_MODES:
    raise ValueError(f"config.parallel {mode!r} is unknown; accepted: {', '.join(PARALLEL_MODES)}")
  return mode


def num_devices(mode: str) -> int:
  """How many devices share the global batch: 1 for 'none', else all devices of all processes."""
  return 1 if check_mode(mode) == "none" else jax.device_count()


def model_axis_name(mode: str) -> str | None:
  """The device axis the models' BatchNorm averages over: AXIS_NAME under pmap and
  shard_map, None under 'none' and 'jit' (whose step sees the global batch)."""
  return None if check_mode(mode) in ("none", "jit") else AXIS_NAME


def step_batch_size(global_batch: int, mode: str) -> int:
  """The rows the pure step sees per call: its device's share under pmap and shard_map,
  the whole global batch under 'none' and 'jit' (where XLA splits it)."""
  local = local_batch_size(global_batch, mode)
  return global_batch if mode == "jit" else local


@contextlib.contextmanager
def batch_sharding(sharding: NamedSharding | None):
  """Within it, `constrain_batch` splits rows by `sharding` (parallel='jit' tracing)."""
  token = _BATCH_SHARDING.set(sharding)
  try:
    yield
  finally:
    _BATCH_SHARDING.reset(token)


def constrain_batch(tree: PyTree) -> PyTree:
  """Each leaf's rows (axis 0) split over the devices while a parallel='jit' step is traced;
  unchanged otherwise (and for scalars)."""
  sharding = _BATCH_SHARDING.get()
  if sharding is None:
    return tree
  return jax.tree.map(
    lambda x: jax.lax.with_sharding_constraint(x, sharding) if getattr(x, "ndim", 0) else x, tree
  )


def local_batch_size(
  global_batch: int, mode: str, count: int | None = None, name: str = "config.batch_size"
) -> int:
  """The rows of the global batch that each of `count` devices (default: those of `mode`)
  gets; raises unless they divide evenly (the message names the batch `name`)."""
  count = num_devices(mode) if count is None else count
  if global_batch % count:
    what = "" if name == "global_batch" else " (the global batch)"
    raise ValueError(
      f"{name} {global_batch}{what} must be divisible by the {count} devices of parallel={mode!r}"
    )
  return global_batch // count


def make_mesh(devices=None, axis_name: str = AXIS_NAME) -> Mesh:
  """A 1-D mesh named `axis_name` over `devices` (default: all devices of all processes)."""
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), (axis_name,))


def put_replicated(tree: PyTree, mesh: Mesh) -> PyTree:
  """Each leaf as one global array replicated on every device of `mesh` (multi-process safe)."""
  sharding = NamedSharding(mesh, P())

  def put(x):
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

  return jax.tree.map(put, jax.device_get(tree))


def fetch_replicated(tree: PyTree) -> PyTree:
  """A replicated global tree as single-device arrays of this process (its first copy)."""
  return jax.tree.map(lambda x: x.addressable_data(0), tree)


def replicate(tree: PyTree, devices=None) -> PyTree:
  """For pmap: every leaf x becomes (n, *x.shape), one copy on each of the n local devices."""
  devices = jax.local_devices() if devices is None else devices
  sharding = NamedSharding(Mesh(np.asarray(devices), ("devices",)), P("devices"))

  def put(x):
    x = np.asarray(x)
    return jax.device_put(np.broadcast_to(x, (len(devices),) + x.shape), sharding)

  return jax.tree.map(put, jax.device_get(tree))


def unreplicate(tree: PyTree) -> PyTree:
  """Inverse of `replicate`: the copy of the first local device, as single-device arrays."""
  return jax.tree.map(lambda x: x.addressable_shards[0].data[0], tree)


def wrap_pmap(step_fn: Callable, axis_name: str = AXIS_NAME, *, donate: bool = False) -> Callable:
  """`jax.pmap` of step_fn(state, data, *, axis_name) over the local devices.

  Takes a `replicate`d state and data with a leading device axis: dataset
  arrays `replicate`d, or a batch split by `split_for_pmap`. Returns the
  replicated new state and unreplicated metrics (they are device means).
  """
  fn = functools.partial(step_fn, axis_name=axis_name)
  return jax.pmap(
    fn,
    axis_name=axis_name,
    in_axes=(0, 0),
    out_axes=(0, None),
    donate_argnums=(0,) if donate else (),
  )


def wrap_shard_map(
  step_fn: Callable,
  mesh: Mesh,
  axis_name: str = AXIS_NAME,
  *,
  shard_data: bool = False,
  donate: bool = False,
) -> Callable:
  """`jax.jit(jax.shard_map(step_fn))` on a 1-D `mesh` named `axis_name`.

  Takes a state replicated on the mesh (`put_replicated`) and data that is
  replicated (shard_data=False) or split along axis 1 (shard_data=True: a
  batch {'x': (k, B, ...)} with B split over the devices). Returns the new
  replicated state and the metrics (device means), both replicated.
  """
  data_spec = P(None, axis_name) if shard_data else P()

  # check_vma=False, as jax.pmap does: with it on, the gradient of a per-device
  # loss with respect to replicated parameters comes back already summed over
  # devices, and the step's own lax.pmean would leave it num_devices times too big.
  mapped = jax.shard_map(
    functools.partial(step_fn, axis_name=axis_name),
    mesh=mesh,
    in_specs=(P(), data_spec),
    out_specs=(P(), P()),
    check_vma=False,
  )

  def checked(state, data):  # the rows' split, refused in one line before shard_map's own
    if shard_data:
      check_rows_split(data, mesh.size, "the shard_map step")
    return mapped(state, data)

  return xla_options.jit(checked, donate_argnums=(0,) if donate else ())


def wrap_jit(
  step_fn: Callable,
  mesh: Mesh,
  axis_name: str = AXIS_NAME,
  *,
  shard_data: bool = False,
  donate: bool = False,
) -> Callable:
  """`jax.jit` of step_fn(state, data, axis_name=None) with NamedSharding data parallelism.

  The state is replicated on `mesh` (`put_replicated`); data is replicated
  (shard_data=False) or a batch {'x': (k, B, ...)} split along B (shard_data=True).
  The step sees the global batch; every batch it draws is split over the mesh
  (`constrain_batch`) and XLA inserts the collectives. Returns the new replicated
  state and the metrics, replicated.
  """
  rows = NamedSharding(mesh, P(axis_name))
  replicated = NamedSharding(mesh, P())
  data_sharding = NamedSharding(mesh, P(None, axis_name)) if shard_data else replicated

  def fn(state, data):
    with batch_sharding(rows):
      return step_fn(state, constrain_rows_of_batch(data) if shard_data else data, axis_name=None)

  def constrain_rows_of_batch(batch):
    return jax.tree.map(lambda x: jax.lax.with_sharding_constraint(x, data_sharding), batch)

  return xla_options.jit(
    fn,
    in_shardings=(replicated, data_sharding),
    out_shardings=(replicated, replicated),
    donate_argnums=(0,) if donate else (),
  )


def check_rows_split(batch: PyTree, num_devices: int, what: str) -> None:
  """Refuses (one-line ValueError) a batch leaf without the (k, rows, ...) axes, or whose rows
  do not split evenly over `num_devices`; reads shapes only (costs nothing inside jit)."""
  for leaf in jax.tree.leaves(batch):
    shape = tuple(np.shape(leaf))
    if len(shape) < 2:
      raise ValueError(
        f"{what} needs every batch entry as (k, rows, ...): one minibatch per discriminator "
        f"step, rows split over the {num_devices} devices; got shape {shape}"
      )
    if shape[1] % num_devices:
      raise ValueError(
        f"{what} got a batch of {shape[1]} rows (axis 1 of shape {shape}), which does not split "
        f"evenly over {num_devices} devices; give a multiple of {num_devices}"
      )


def split_for_pmap(batch: PyTree, devices=None) -> PyTree:
  """This process's rows (k, R, ...) of a batch as (n, k, R / n, ...) on its n local devices."""
  devices = jax.local_devices() if devices is None else devices
  n = len(devices)
  check_rows_split(batch, n, "split_for_pmap")
  sharding = NamedSharding(Mesh(np.asarray(devices), ("devices",)), P("devices"))

  def put(x):
    x = np.asarray(x)
    k, rows = x.shape[:2]
    x = x.reshape((k, n, rows // n) + x.shape[2:]).swapaxes(0, 1)
    return jax.device_put(x, sharding)

  return jax.tree.map(put, batch)


def put_batch_on_mesh(
  batch: PyTree, mesh: Mesh, global_rows: int, axis_name: str = AXIS_NAME
) -> PyTree:
  """This process's rows (k, R, ...) of a batch as a global (k, global_rows, ...) array split on
  axis 1."""
  sharding = NamedSharding(mesh, P(None, axis_name))

  def put(x):
    x = np.asarray(x)
    global_shape = (x.shape[0], global_rows) + x.shape[2:]
    return jax.make_array_from_process_local_data(sharding, x, global_shape)

  return jax.tree.map(put, batch)


def process_rows(global_batch: int, mode: str) -> slice:
  """The rows of the global batch that this process's devices hold (contiguous, in device order)."""
  if mode == "none" or jax.process_count() == 1:
    return slice(0, global_batch)
  local = local_batch_size(global_batch, mode)
  positions = [i for i, d in enumerate(jax.devices()) if d.process_index == jax.process_index()]
  if positions != list(range(positions[0], positions[0] + len(positions))):
    raise ValueError(
      f"devices of process {jax.process_index()} are not contiguous in jax.devices()"
    )
  return slice(positions[0] * local, (positions[-1] + 1) * local)


class ParallelStep(NamedTuple):
  """What the training loop needs to run a step on its devices.

  Attributes:
    step_fn: fn(placed state, placed data) -> (placed state, metrics of device means).
    put_state: host or single-device state -> placed state.
    get_state: placed state -> state on one device of this process (to save or sample).
    put_data: data -> placed data: dataset arrays (replicated) or, when the step
      takes batches, this process's rows (k, R, ...) of the global batch.
    num_devices: devices sharing the global batch.
    mode: one of PARALLEL_MODES.
  """

  step_fn: Callable
  put_state: Callable
  get_state: Callable
  put_data: Callable
  num_devices: int
  mode: str


def make_parallel_step(
  step_fn: Callable,
  mode: str,
  *,
  global_batch: int,
  shard_data: bool = False,
  donate: bool | None = None,
) -> ParallelStep:
  """Wraps the pure step_fn(state, data, *, axis_name) for `mode` in PARALLEL_MODES.

  Args:
    step_fn: the pure step; its batch must be `step_batch_size(global_batch, mode)`.
    mode: 'none' (jax.jit, one device), 'pmap', 'shard_map' or 'jit' (all devices).
    global_batch: the global batch size (config.batch_size); checked to divide evenly.
    shard_data: whether `data` is a batch split along axis 1 (else it is replicated); put_data
      then refuses a batch without this process's rows of global_batch (`process_rows`).
    donate: donate the state buffers; default: on everywhere but CPU.
  """
  check_mode(mode)
  integral = isinstance(global_batch, numbers.Integral) and not isinstance(global_batch, bool)
  if not integral or global_batch < 1:
    raise ValueError(f"global_batch must be an integer >= 1, got {global_batch!r}")
  local_batch_size(global_batch, mode, name="global_batch")
  donate = jax.default_backend() != "cpu" if donate is None else donate
  if shard_data:
    return _checking_rows(
      _make_parallel_step(step_fn, mode, global_batch, shard_data, donate), global_batch
    )
  return _make_parallel_step(step_fn, mode, global_batch, shard_data, donate)


def _checking_rows(step: ParallelStep, global_batch: int) -> ParallelStep:
  """`step` whose put_data first refuses (one line) a batch whose rows (axis 1 of every leaf)
  are not this process's share of `global_batch` (`process_rows`)."""
  share = process_rows(global_batch, step.mode)
  expected = share.stop - share.start

  def put_data(batch):
    for leaf in jax.tree.leaves(batch):
      shape = tuple(np.shape(leaf))
      if len(shape) < 2 or shape[1] != expected:
        rows = shape[1] if len(shape) >= 2 else None
        raise ValueError(
          f"put_data got a batch of {rows} rows (axis 1 of shape {shape}), but "
          f"global_batch={global_batch} over the {step.num_devices} devices of "
          f"parallel={step.mode!r} needs {expected} rows from this process: (k, {expected}, ...)"
        )
    return step.put_data(batch)

  return step._replace(put_data=put_data)


def _make_parallel_step(step_fn, mode, global_batch, shard_data, donate) -> ParallelStep:
  """`make_parallel_step` after its checks."""
  if mode == "none":
    device = jax.local_devices()[0]
    put = functools.partial(jax.device_put, device=device)
    return ParallelStep(
      xla_options.jit(
        functools.partial(step_fn, axis_name=None), donate_argnums=(0,) if donate else ()
      ),
      put,
      lambda state: state,
      put,
      1,
      mode,
    )
  if mode == "pmap":
    return ParallelStep(
      wrap_pmap(step_fn, donate=donate),
      replicate,
      unreplicate,
      split_for_pmap if shard_data else replicate,
      jax.device_count(),
      mode,
    )
  mesh = make_mesh()
  put_data = (
    functools.partial(put_batch_on_mesh, mesh=mesh, global_rows=global_batch)
    if shard_data
    else functools.partial(put_replicated, mesh=mesh)
  )
  wrap = wrap_jit if mode == "jit" else wrap_shard_map
  return ParallelStep(
    wrap(step_fn, mesh, shard_data=shard_data, donate=donate),
    functools.partial(put_replicated, mesh=mesh),
    fetch_replicated,
    put_data,
    jax.device_count(),
    mode,
  )
