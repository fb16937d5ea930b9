"""Host-pipeline throughput vs the train step's rate, and the cost of 8 devices vs 1.

    PYTHONPATH=. python benchmarks/data_and_devices.py [--steps 50]

1. Fashion-MNIST (Debian's idx files) through `data.HostPipeline`: images/s
   read on the host (indices of (seed, step), gather, reshape), with and without
   the transfer to the device, against the images/s the jitted train step of
   experiments/configs/mlp_fashion_mnist.py consumes on one device. The input
   must not be the bottleneck: the pipeline rate must be well above the step's.
2. The same pure step on 8 fake CPU devices (a subprocess with
   --xla_force_host_platform_device_count=8): ms per step for parallel=none on
   1 device and pmap / shard_map on 8, same global batch. On one CPU the 8
   "devices" share its cores, so this measures the overhead of the mapping and
   the collectives, not a speed-up.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import jax

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_config(name):
  from gan_jax.cli import load_config_file

  return load_config_file(os.path.join(ROOT, "experiments", "configs", name + ".py"))


def time_steps(fn, steps: int) -> float:
  """Seconds per call of fn() after one warm-up call; fn returns something to block on."""
  jax.block_until_ready(fn())
  start = time.perf_counter()
  for _ in range(steps):
    out = fn()
  jax.block_until_ready(out)
  return (time.perf_counter() - start) / steps


def step_seconds(config, steps: int) -> float:
  """Seconds per train step of `config` with its config.parallel and config.data.pipeline."""
  from gan_jax import builders, data, parallel, train

  source = data.make_data_source(config)
  runner = train.make_loop_step(source, config)
  axis_name = parallel.model_axis_name(runner.mode)
  state = builders.create_state_from_config(config, source.data_shape, axis_name=axis_name)
  holder = {"state": runner.put_state(state)}
  if train.streams(config):
    batches = train.make_host_pipeline(source, config, state.key, prefetch=4).iterate(0)
    next_data = lambda: runner.put_data(next(batches))
  else:
    arrays = runner.put_data(source.arrays)
    next_data = lambda: arrays

  def one_step():
    holder["state"], metrics = runner.step_fn(holder["state"], next_data())
    return metrics

  return time_steps(one_step, steps)


def pipeline_rates(config, steps: int) -> tuple[float, float]:
  """(images/s read on the host, images/s read and put on the device) of the host pipeline."""
  from gan_jax import data, train

  source = data.make_data_source(config)
  host = train.make_host_pipeline(source, config, jax.random.PRNGKey(0))
  images = config.batch_size * config.d_steps
  step = iter(range(10**9))
  read = time_steps(lambda: host.batch(next(step))["x"], steps)
  put = time_steps(lambda: jax.device_put(host.batch(next(step))), steps)
  return images / read, images / put


def devices_report(steps: int) -> None:
  """Runs inside the 8-device subprocess: ms per step for each parallel mode."""
  for name, batch in (("ring_gan", 256), ("mlp_fashion_mnist", 64)):
    for mode in ("none", "pmap", "shard_map"):
      config = load_config(name)
      config.batch_size = batch
      config.parallel = mode
      seconds = step_seconds(config, steps)
      print(
        f"  {name:18s} batch {batch:3d}  parallel={mode:9s} devices={1 if mode == 'none' else 8}"
        f"  {1000 * seconds:7.2f} ms/step",
        flush=True,
      )


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--steps", type=int, default=50)
  parser.add_argument("--devices_only", action="store_true", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.devices_only:
    devices_report(args.steps)
    return
  print(f"jax {jax.__version__}, backend {jax.default_backend()}, {os.cpu_count()} CPU cores")
  config = load_config("mlp_fashion_mnist")
  config.data.pipeline = "host"
  read, put = pipeline_rates(config, 20 * args.steps)
  print(f"host pipeline, Fashion-MNIST, batch {config.batch_size}:")
  print(f"  read on host        {read:10.0f} images/s")
  print(f"  read + device_put   {put:10.0f} images/s")
  streamed = step_seconds(config, args.steps)
  config.data.pipeline = "device"
  sampled = step_seconds(config, args.steps)
  images = config.batch_size * config.d_steps
  print("train step, mlp_fashion_mnist (seed 002 MLP), 1 device:")
  print(f"  on-device sampler   {images / sampled:10.0f} images/s ({1000 * sampled:.2f} ms/step)")
  print(f"  host pipeline       {images / streamed:10.0f} images/s ({1000 * streamed:.2f} ms/step)")
  print(f"  pipeline / step rate: {put / (images / sampled):.1f}x")
  print("8 fake CPU devices vs 1 (same global batch):", flush=True)
  env = dict(
    os.environ,
    XLA_FLAGS="--xla_force_host_platform_device_count=8",
    PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
  )
  subprocess.run(
    [sys.executable, os.path.abspath(__file__), "--devices_only", "--steps", str(args.steps)],
    env=env,
    check=True,
  )


if __name__ == "__main__":
  main()
