"""A host pipeline for datasets read row by row: the examples of step s depend on (seed, s) alone.

The on-device sampler (`data.sample_arrays` inside the jitted step) needs the
whole dataset in device memory. `HostPipeline` instead reads the rows of each
step on the host, from any random-access reader (in-memory arrays, a
`tfds.data_source`), in a background thread a few steps ahead. Its indices
are the very draws of the on-device sampler, `randint(step_key(root, s,
'data', i), (global_batch,), 0, N)`, so both pipelines feed the same examples
and resuming at step s needs only s, never a pickled iterator. Each process
reads only its own rows of the global batch.
"""

from __future__ import annotations

import concurrent.futures
import functools
from typing import Callable, Iterator

import jax
import numpy as np

from gan_jax.state import step_key

RowReader = Callable[[np.ndarray], dict]


def array_reader(arrays: dict) -> RowReader:
  """Reads rows of in-memory arrays: indices (n,) -> {name: (n, ...)}."""
  return lambda index: {name: value[index] for name, value in arrays.items()}


@functools.partial(jax.jit, static_argnames=("global_batch", "d_steps", "num_examples"))
def draw_indices(
  root_key: jax.Array, step: jax.Array, *, global_batch: int, d_steps: int, num_examples: int
) -> jax.Array:
  """int32 (d_steps, global_batch) example indices of `step`, as `data.sample_arrays` draws them."""
  return jax.numpy.stack(
    [
      jax.random.randint(step_key(root_key, step, "data", i), (global_batch,), 0, num_examples)
      for i in range(d_steps)
    ]
  )


class HostPipeline:
  """Real minibatches {'x': (d_steps, R, ...), ...} for each step, read on the host.

  Args:
    read_rows: fn(indices int (n,)) -> {'x': (n, *data_shape), optional 'label': (n,)}.
    num_examples: N, the dataset size.
    root_key: the run's root key (`state.key`, uint32[2]).
    global_batch: B, the batch size summed over all devices and processes.
    d_steps: k, real minibatches per step.
    rows: this process's rows of the global batch (`parallel.process_rows`).
    prefetch: how many steps to read ahead in a background thread.
  """

  def __init__(
    self,
    read_rows: RowReader,
    num_examples: int,
    root_key,
    *,
    global_batch: int,
    d_steps: int = 1,
    rows: slice | None = None,
    prefetch: int = 2,
  ):
    if num_examples < 1:
      raise ValueError(f"HostPipeline needs a non-empty dataset, got num_examples={num_examples}")
    self.read_rows = read_rows
    self.num_examples = int(num_examples)
    self.global_batch = int(global_batch)
    self.d_steps = int(d_steps)
    self.rows = slice(0, global_batch) if rows is None else rows
    self.prefetch = max(1, int(prefetch))
    self._cpu = jax.local_devices(backend="cpu")[0]
    self._root_key = jax.device_put(np.asarray(jax.device_get(root_key)), self._cpu)

  def indices(self, step: int) -> np.ndarray:
    """int32 (d_steps, R): this process's example indices for the state at `step`."""
    with jax.default_device(self._cpu):
      index = draw_indices(
        self._root_key,
        np.int32(step),
        global_batch=self.global_batch,
        d_steps=self.d_steps,
        num_examples=self.num_examples,
      )
    return np.asarray(index)[:, self.rows]

  def batch(self, step: int) -> dict[str, np.ndarray]:
    """This process's rows of the real minibatches of `step`: {'x': (d_steps, R, ...), ...}."""
    index = self.indices(step)
    rows = self.read_rows(index.reshape(-1))
    return {
      name: np.asarray(value).reshape(index.shape + np.shape(value)[1:])
      for name, value in rows.items()
    }

  def iterate(self, start_step: int) -> Iterator[dict[str, np.ndarray]]:
    """Batches of steps start_step, start_step + 1, ..., read `prefetch` steps ahead."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
      pending = [pool.submit(self.batch, start_step + i) for i in range(self.prefetch)]
      step = start_step + self.prefetch
      try:
        while True:
          batch = pending.pop(0).result()
          pending.append(pool.submit(self.batch, step))
          step += 1
          yield batch
      finally:
        for future in pending:
          future.cancel()
