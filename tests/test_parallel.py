"""pmap and shard_map run the same pure step; 1 and 8 devices with one global batch agree.

The 8-device runs happen in one subprocess with 8 fake CPU devices
(tests/parallel_runs.py), so this process keeps its single device.

Tolerance of 1 vs 8 devices: ATOL below, after 20 steps. With 8 devices each
device averages its 8 rows and lax.pmean averages the 8 means; one device
averages 64 rows at once. The same sum in another order differs by float32
rounding (about 1e-7 relative per step); measured after 20 steps: 9e-8 (MLP,
Adam), 2.4e-7 (BatchNorm MLP, SGD), 6e-8 (image MLP, 2 D steps). The BatchNorm
model trains with SGD because Adam divides by the gradient's own scale: the
Dense bias before a BatchNorm has a zero true gradient, so Adam turns pure
rounding noise into +-learning-rate steps there and 1 vs N devices drift apart
by up to lr * steps in that bias alone.
"""

import os
import subprocess
import sys

import jax
import ml_collections
import numpy as np
import pytest

from gan_jax import builders, data, parallel, train
from gan_jax import state as state_lib
from gan_jax.data import pipeline

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import parallel_runs  # noqa: E402

from tests.conftest import device_count_flags  # noqa: E402

ATOL = 1e-5
RUNS = [
  "toy_none:toy:none:device",
  "toy_pmap:toy:pmap:device",
  "toy_shard:toy:shard_map:device",
  "bn_none:bn:none:device",
  "bn_pmap:bn:pmap:device",
  "bn_shard:bn:shard_map:device",
  "img_none:image:none:device",
  "img_shard_host:image:shard_map:host",
  "img_loop:image:shard_map:train_and_evaluate",
  "bn_loop_pmap:bn:pmap:train_and_evaluate",
  "toy_jit:toy:jit:device",
  "bn_jit:bn:jit:device",
  "img_jit_host:image:jit:host",
]


def run_with_devices(tmp_path, runs, num_devices=8):
  out = tmp_path / "out.npz"
  # Fake devices are CPU devices: on a machine with one GPU the runs stay on the CPU.
  env = dict(
    os.environ,
    XLA_FLAGS=device_count_flags(num_devices),
    JAX_PLATFORMS="cpu",
    PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
  )
  command = [
    sys.executable,
    os.path.join(HERE, "parallel_runs.py"),
    str(out),
    *runs,
    "--workdir",
    str(tmp_path / "workdirs"),
  ]
  done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
  assert done.returncode == 0, done.stderr[-3000:]
  return np.load(out)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
  return run_with_devices(tmp_path_factory.mktemp("eight_devices"), RUNS)


def arrays_of(results, name):
  return {key.split("/", 1)[1]: results[key] for key in results.files if key.startswith(name + "/")}


def test_the_runs_saw_eight_devices(results):
  assert int(results["device_count"]) == 8


@pytest.mark.parametrize("model", ["toy", "bn"])
def test_pmap_and_shard_map_give_the_same_bits_and_jit_with_shardings_agrees(results, model):
  """pmap and shard_map run the same per-device program: the same bits. parallel='jit'
  runs the global-batch program split by XLA: the same draws and maths, its sums over the
  batch reassociated (measured after 20 steps: up to 1.0e-7 from shard_map)."""
  pmapped, sharded = arrays_of(results, f"{model}_pmap"), arrays_of(results, f"{model}_shard")
  jitted = arrays_of(results, f"{model}_jit")
  assert pmapped.keys() == sharded.keys() == jitted.keys()
  for key in pmapped:
    np.testing.assert_array_equal(pmapped[key], sharded[key], err_msg=key)
    np.testing.assert_allclose(jitted[key], sharded[key], rtol=0, atol=ATOL, err_msg=key)


@pytest.mark.parametrize("run", ["toy_jit", "bn_jit", "img_jit_host"])
def test_jit_with_shardings_splits_the_batch_over_the_devices(results, run):
  """Fails if the batch is left replicated (every device computing the whole step, no
  all-reduce needed) or if the run did not train."""
  assert int(results[f"collectives/{run}"]) > 0
  assert int(arrays_of(results, run)["['step']"]) == parallel_runs.NUM_STEPS


@pytest.mark.parametrize(
  "one,eight",
  [
    ("toy_none", "toy_shard"),
    ("bn_none", "bn_shard"),
    ("img_none", "img_shard_host"),
    ("img_none", "img_jit_host"),
  ],
)
def test_one_and_eight_devices_agree_up_to_reassociation(results, one, eight):
  single, multi = arrays_of(results, one), arrays_of(results, eight)
  assert int(multi["['step']"]) == parallel_runs.NUM_STEPS
  for key in single:
    np.testing.assert_allclose(multi[key], single[key], rtol=0, atol=ATOL, err_msg=key)


@pytest.mark.parametrize("model", ["toy", "bn"])
def test_the_logged_metrics_do_not_depend_on_the_devices(results, model):
  """Every metric of the last step, diversity_ratio included (the mean pairwise distance of the
  global batch's samples: each device's rows alone gave 0.68 on 8 devices against 0.63)."""
  one = {
    key.rsplit("/", 1)[1]: results[key]
    for key in results.files
    if key.startswith(f"metrics/{model}_none/")
  }
  assert "diversity_ratio" in one
  for mode in ("pmap", "shard", "jit"):
    for metric, value in one.items():
      np.testing.assert_allclose(
        results[f"metrics/{model}_{mode}/{metric}"], value, rtol=1e-5, atol=1e-6, err_msg=metric
      )


def test_training_moved_the_parameters(results):
  # Guards the comparisons above against a step that changes nothing.
  start = parallel_runs.make_config("toy", "none", "device", "")
  source = data.make_data_source(start)
  initial = parallel_runs.flat_arrays(builders.create_state_from_config(start, source.data_shape))
  trained = arrays_of(results, "toy_shard")
  moved = max(float(np.max(np.abs(trained[k] - initial[k]))) for k in initial if "params" in k)
  assert moved > 100 * ATOL


def test_train_and_evaluate_runs_the_parallel_step(results):
  loop, direct = arrays_of(results, "img_loop"), arrays_of(results, "img_shard_host")
  for key in direct:
    np.testing.assert_array_equal(loop[key], direct[key], err_msg=key)


def test_the_loop_under_pmap_draws_pictures_from_an_ema_generator_with_batch_norm(results):
  """The picture recomputes the EMA generator's BatchNorm moments in train mode, outside the
  mapped step: with the players of the step (BatchNorm averaging over the device axis) the
  run stopped at its first picture with an unbound axis name, before its checkpoint."""
  loop, direct = arrays_of(results, "bn_loop_pmap"), arrays_of(results, "bn_pmap")
  assert int(results["pictures/bn_loop_pmap"]) == 1
  assert "['g_ema_params']['Dense_0']['kernel']" in loop
  for key in direct:  # the EMA changes nothing the players train
    np.testing.assert_array_equal(loop[key], direct[key], err_msg=key)


def test_unknown_parallel_mode_is_refused():
  with pytest.raises(
    ValueError, match=r"config.parallel 'vmap' is unknown; accepted: none, pmap, shard_map, jit"
  ):
    parallel.make_parallel_step(lambda s, d, axis_name: (s, {}), "vmap", global_batch=8)


def test_global_batch_must_divide_over_the_devices(monkeypatch):
  monkeypatch.setattr(parallel.jax, "device_count", lambda: 8)
  with pytest.raises(ValueError, match=r"batch_size 60 .* divisible by the 8 devices"):
    parallel.local_batch_size(60, "shard_map")
  assert parallel.local_batch_size(64, "pmap") == 8
  assert parallel.local_batch_size(60, "none") == 60


def test_host_pipeline_reads_the_examples_the_device_sampler_draws(tmp_path):
  rng = np.random.default_rng(1)
  arrays = {
    "x": rng.integers(0, 256, (50, 4, 4, 1), dtype=np.uint8),
    "label": np.arange(50, dtype=np.int32),
  }
  key = jax.random.PRNGKey(7)
  host = pipeline.HostPipeline(pipeline.array_reader(arrays), 50, key, global_batch=16, d_steps=2)
  state = type("S", (), {})()  # sample_real_batches needs only key_for and game.d_steps
  for step in (0, 5):
    state.key_for = lambda name, *i, step=step: state_lib.step_key(key, step, name, *i)
    state.game = type("G", (), {"d_steps": 2})()
    drawn = jax.jit(
      lambda arrays: train.sample_real_batches(
        state, arrays, sample=data.sample_arrays, local_batch=16
      )
    )(arrays)
    read = host.batch(step)
    np.testing.assert_array_equal(read["label"], drawn["label"])
    # Both jitted: the step converts inside jit, where XLA may fold / 127.5 into a product.
    np.testing.assert_array_equal(jax.jit(data.to_unit_range)(read["x"]), drawn["x"])


def test_host_pipeline_resumes_from_the_step_alone():
  arrays = {"x": np.arange(30, dtype=np.float32).reshape(30, 1, 1, 1) / 30}
  make = lambda: pipeline.HostPipeline(
    pipeline.array_reader(arrays), 30, jax.random.PRNGKey(0), global_batch=8, rows=slice(4, 8)
  )
  straight = make().iterate(0)
  batches = [next(straight) for _ in range(6)]
  straight.close()
  resumed = make().iterate(4)
  np.testing.assert_array_equal(next(resumed)["x"], batches[4]["x"])
  resumed.close()
  assert batches[0]["x"].shape == (1, 4, 1, 1, 1)


def test_streaming_a_closed_form_distribution_is_refused():
  source = data.make_data_source(ml_collections.ConfigDict({"source": "toy", "name": "ring8"}))
  with pytest.raises(ValueError, match="sampled in closed form"):
    source.row_reader()


@pytest.mark.parametrize(
  "x_shape, message",
  [
    ((1, 60, 2), r"split_for_pmap got a batch of 60 rows .* does not split evenly over 8 devices"),
    ((64,), r"split_for_pmap needs every batch entry as \(k, rows, \.\.\.\).*got shape \(64,\)"),
  ],
)
def test_a_batch_that_does_not_split_over_the_devices_is_one_line(x_shape, message):
  """Before: numpy's 'cannot reshape array of size 120 into shape (1,8,7,2)'."""
  with pytest.raises(ValueError, match=message):
    parallel.split_for_pmap({"x": np.zeros(x_shape, np.float32)}, [jax.devices()[0]] * 8)
