"""Two processes on localhost (2 fake CPU devices each, gloo collectives) train like one process.

Each process joins with gan_jax.distributed, feeds only its 32 rows of the
global batch of 64 (the host pipeline reads only those rows; the on-device
sampler gathers only its devices' rows) and runs 20 steps. The result must
equal a one-process, one-device run with the same global batch up to float32
reassociation (ATOL as in test_parallel: the 4 device means are reduced by
gloo in another order; measured difference 6e-8).
"""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import parallel_runs  # noqa: E402

from tests.conftest import device_count_flags  # noqa: E402

ATOL = 1e-5
RUNS = ["shard_map_host:image:shard_map:host", "pmap_device:image:pmap:device"]


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("two_processes")
  out = tmp / "out.npz"
  parallel_runs.write_images(str(tmp / parallel_runs.IMAGES_PATH))  # before, not by both processes
  env = dict(
    os.environ,
    XLA_FLAGS=device_count_flags(2),
    JAX_PLATFORMS="cpu",
    PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
  )
  address = f"localhost:{free_port()}"
  processes = [
    subprocess.Popen(
      [
        sys.executable,
        os.path.join(HERE, "parallel_runs.py"),
        str(out),
        *RUNS,
        "--coordinator",
        address,
        "--num_processes",
        "2",
        "--process_id",
        str(i),
      ],
      env=env,
      stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT,
      text=True,
    )
    for i in range(2)
  ]
  logs = []
  try:
    for process in processes:
      logs.append(process.communicate(timeout=300)[0])
  finally:
    for process in processes:
      if process.poll() is None:
        process.kill()
  for process, log in zip(processes, logs):
    assert process.returncode == 0, log[-3000:]
  return np.load(out), str(tmp / parallel_runs.IMAGES_PATH)


@pytest.fixture(scope="module")
def one_process(two_processes):
  _, images_path = two_processes
  config = parallel_runs.make_config("image", "none", "device", images_path)
  return parallel_runs.flat_arrays(parallel_runs.run(config))


def test_the_two_processes_shared_four_devices(two_processes):
  results, _ = two_processes
  assert int(results["device_count"]) == 4


@pytest.mark.parametrize("name", ["shard_map_host", "pmap_device"])
def test_two_processes_match_one_process_with_the_same_global_batch(
  two_processes, one_process, name
):
  results, _ = two_processes
  assert int(results[f"{name}/['step']"]) == parallel_runs.NUM_STEPS
  for key, expected in one_process.items():
    np.testing.assert_allclose(results[f"{name}/{key}"], expected, rtol=0, atol=ATOL, err_msg=key)


def test_importing_every_module_starts_no_backend_so_distributed_can_initialize_after():
  """`jax.distributed.initialize` must run before JAX starts a backend; a module-level jnp array
  anywhere in the package would start one on import, in every process of a multi-host run."""
  code = (
    "import importlib, pkgutil, gan_jax\n"
    "from jax._src import xla_bridge\n"
    "for module in pkgutil.walk_packages(gan_jax.__path__, 'gan_jax.'):\n"
    "  importlib.import_module(module.name)\n"
    "  assert not xla_bridge.backends_are_initialized(), module.name\n"
    "print('ok')\n"
  )
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  done = subprocess.run(
    [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
  )
  assert done.returncode == 0 and done.stdout.split() == ["ok"], done.stderr[-2000:]


def test_train_refuses_several_processes_at_once_without_joining_a_coordinator(ring_config):
  """Before: with parallel != 'none' JAX's "initialize() must be called before any JAX
  calls"; with an unreachable coordinator, minutes of silence."""
  from gan_jax import train

  ring_config.distributed = {"coordinator_address": "10.255.255.1:1", "num_processes": 2}
  ring_config.distributed.process_id = 0
  ring_config.parallel = "shard_map"
  with pytest.raises(NotImplementedError, match="from one process, but config.distributed names 2"):
    train.train_and_evaluate(ring_config, "/nonexistent/never-written")


def test_a_process_id_past_the_process_count_is_refused_by_validation(ring_config):
  from gan_jax import validation

  ring_config.distributed = {"coordinator_address": "localhost:1", "num_processes": 2}
  ring_config.distributed.process_id = 2
  with pytest.raises(ValueError, match=r"process_id must be < num_processes=2, got 2"):
    validation.validate_config(ring_config)
