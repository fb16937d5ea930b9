"""XLA options the library compiles its train steps with, per backend.

On CPU, jaxlib 0.10's XLA hands every convolution to YNNPACK by default. On the
DCGAN shapes XLA's own (Eigen) convolutions are faster: a 5x5 256 -> 128 layer
at 7x7, forward and both gradients, takes 82 ms against 108 ms, and a whole
DCGAN-28 step about 1.25x less time (benchmarks/RESULTS.md, "Finding: XLA's own convolutions
and phase convolutions").
YNNPACK stays on for matrix products and reductions, where it is the faster of
the two (the MLP step runs 0.76x as fast without it). A program without
convolutions or loops compiles to the same code with these options as without.

Copy insertion uses XLA's region analysis: without it, a fused loop step
(`steps_per_call` > 1, a lax.scan) copies parameters and Adam moments at the
start of every step, since XLA cannot tell that their last reads come before
their in-place updates. The MLP step then runs about 1.1x faster, with the same
bits (benchmarks/RESULTS.md, "Finding: copies of the loop-carried state").

`jit(fn, **kwargs)` is `jax.jit` with these options; the train loop, the
'jit' and 'shard_map' parallel steps and the seed sweeps compile through it
(`jax.pmap` takes no compiler options: 'pmap' steps compile with XLA's
defaults). Their steps are jitted already: call them as they are (JAX refuses
compiler options on a jit nested inside another). The pure steps of
`gan_jax.steps` carry no options.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Callable, Iterator

import jax

# jaxlib's default list minus LIBRARY_FUSION_TYPE_INDIVIDUAL_CONVOLUTION. Products stay alone
# (INDIVIDUAL_DOT, not DOT): fusing them with their elementwise neighbours helps only the
# 2D toy on two cores (benchmarks/RESULTS.md, "Finding: dot fusion types").
# Reductions stay with YNNPACK although a batch norm's gradient runs faster without: whole
# steps do not (benchmarks/RESULTS.md, "Finding: batch-norm reductions").
CPU_STEP_OPTIONS = {
  "xla_cpu_experimental_ynn_fusion_type": (
    "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"
  ),
  "xla_cpu_copy_insertion_use_region_analysis": True,
}


def _accepted(options: dict) -> bool:
  try:
    jax.jit(lambda x: x + 1, compiler_options=options).lower(1.0).compile()
  except Exception:  # noqa: BLE001 - any refusal means: not this XLA
    return False
  return True


@functools.cache
def step_compiler_options() -> dict | None:
  """The compiler options for a train step on the default backend (None: XLA's defaults).

  On CPU, those of CPU_STEP_OPTIONS that this jaxlib accepts (the options are
  experimental: an XLA that does not know one compiles without it).
  """
  if jax.default_backend() != "cpu":
    return None
  if _accepted(CPU_STEP_OPTIONS):
    return dict(CPU_STEP_OPTIONS)
  accepted = {name: value for name, value in CPU_STEP_OPTIONS.items() if _accepted({name: value})}
  return accepted or None


@contextlib.contextmanager
def cpu_step_options(options: dict) -> Iterator[None]:
  """Within the block, steps compile with `options` in place of CPU_STEP_OPTIONS (an A/B of
  XLA options: build and compile the step inside the block); restored after it."""
  options, shipped = dict(options), dict(CPU_STEP_OPTIONS)
  CPU_STEP_OPTIONS.clear()
  CPU_STEP_OPTIONS.update(options)
  step_compiler_options.cache_clear()
  try:
    yield
  finally:
    CPU_STEP_OPTIONS.clear()
    CPU_STEP_OPTIONS.update(shipped)
    step_compiler_options.cache_clear()


def jit(fn: Callable, **kwargs) -> Callable:
  """`jax.jit(fn, **kwargs)`, compiled with `step_compiler_options()`."""
  return jax.jit(fn, compiler_options=step_compiler_options(), **kwargs)
