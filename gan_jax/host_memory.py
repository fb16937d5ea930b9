"""Host memory of a training process: freed blocks stay in the process for reuse.

XLA's CPU executables allocate their temporary buffers at every call and free them at the
end. glibc's malloc serves a block above its mmap threshold (at most 32 MiB) with fresh
pages from the kernel and unmaps it at free, so every call of a compiled step touches its
temporaries as new pages again: for the DCGAN-28 step on one core, about 12,000 page
faults and 17 ms of kernel time in a 190 ms step (benchmarks/RESULTS.md, "Finding: page
faults of the step's temporaries"). With mmap off for large blocks and the heap never
trimmed, the second call reuses the first call's pages.

`retain_freed_memory()` sets that for the whole process through `mallopt`; the training
loop calls it on CPU when `config.retain_host_memory` is True (the default). It changes
where buffers live, never what is computed: the same seed gives the same bits either way.
The environment variables `MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647` do the same
for any process (PyTorch's included) when set before it starts. The price: memory freed by
the process is not given back to the system until it exits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform

# glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_ARENA_MAX = -8
TRIM_THRESHOLD = 2**31 - 1  # bytes: the largest an int holds, so the heap is never trimmed


@functools.cache
def retain_freed_memory() -> bool:
  """Keeps freed host memory in the process (glibc only; once per process).

  Returns True when glibc took all three settings, False elsewhere (macOS, musl, Windows),
  where nothing changes.
  """
  if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
    return False
  libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
  mallopt = libc.mallopt
  mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
  # mallopt returns 1 on success.
  # One arena: a thread's own arena gives a whole free heap back to the system at once,
  # whatever the trim threshold.
  settings = ((M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, TRIM_THRESHOLD), (M_ARENA_MAX, 1))
  return all(mallopt(option, value) == 1 for option, value in settings)
