"""Short training runs for the multi-device tests, run as a subprocess with its own devices.

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python tests/parallel_runs.py OUT.npz RUN...

Each RUN is NAME:MODEL:PARALLEL:PIPELINE (e.g. toy_pmap:toy:pmap:device) and
trains 20 steps; OUT.npz holds every array of each final state under
'NAME/path'. With --process_id I --num_processes P --coordinator ADDRESS it
joins a multi-process run first (gan_jax.distributed) and only process 0 writes.
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import ml_collections
import numpy as np

from gan_jax import builders, checkpoint, data, distributed, parallel, train

NUM_STEPS = 20
IMAGES_PATH = "images.npz"


def make_config(model: str, mode: str, pipeline: str, images_path: str):
  """A tiny config: 'toy' (ring8 MLP, Adam), 'bn' (PyTorch-GAN's MLP with BatchNorm, SGD), 'image'
  (plain MLP on 8x8 images)."""
  config = ml_collections.ConfigDict()
  config.seed = 3
  config.num_steps = NUM_STEPS
  config.batch_size = 64
  config.loss = "non_saturating"
  config.d_steps = 1
  config.ema_decay = 0.0
  config.parallel = mode
  adam = {"name": "adam", "learning_rate": 1e-3, "b1": 0.5, "b2": 0.999}
  config.g_optimizer = ml_collections.ConfigDict(adam)
  config.d_optimizer = ml_collections.ConfigDict(adam)
  if model == "toy":
    config.data = ml_collections.ConfigDict(
      {"source": "toy", "name": "ring8", "pipeline": pipeline}
    )
    config.model = ml_collections.ConfigDict(
      {
        "name": "toy_mlp",
        "latent_dim": 8,
        "generator": {"hidden": (32, 32)},
        "discriminator": {"hidden": (32, 32)},
      }
    )
  elif model == "bn":
    # SGD, not Adam: the Dense bias before a BatchNorm has a zero gradient, which
    # Adam would turn into +-lr steps driven by rounding noise alone.
    config.g_optimizer = ml_collections.ConfigDict({"name": "sgd", "learning_rate": 0.05})
    config.d_optimizer = ml_collections.ConfigDict({"name": "sgd", "learning_rate": 0.05})
    config.data = ml_collections.ConfigDict(
      {"source": "toy", "name": "ring8", "pipeline": pipeline}
    )
    config.model = ml_collections.ConfigDict(
      {
        "name": "pytorch_gan_mlp",
        "latent_dim": 8,
        "generator": {"hidden": (16, 32, 32)},
        "discriminator": {"hidden": (32,)},
      }
    )
  elif model == "image":
    config.d_steps = 2
    config.data = ml_collections.ConfigDict(
      {"source": "npz", "path": images_path, "pipeline": pipeline}
    )
    config.model = ml_collections.ConfigDict(
      {
        "name": "plain_mlp",
        "latent_dim": 8,
        "generator": {"hidden": (32,)},
        "discriminator": {"hidden": (32,)},
      }
    )
  else:
    raise ValueError(f"model {model!r} is unknown; accepted: toy, bn, image")
  return config


def write_images(path: str, num: int = 200) -> None:
  """A small uint8 (num, 8, 8, 1) image set with labels."""
  rng = np.random.default_rng(0)
  np.savez(
    path,
    x=rng.integers(0, 256, (num, 8, 8, 1), dtype=np.uint8),
    label=rng.integers(0, 10, num).astype(np.int32),
  )


def run(config, num_steps: int = NUM_STEPS):
  """Trains `num_steps` steps as train_and_evaluate's loop does; returns the final state."""
  source = data.make_data_source(config)
  runner = train.make_loop_step(source, config)
  axis_name = parallel.model_axis_name(runner.mode)
  state = builders.create_state_from_config(config, source.data_shape, axis_name=axis_name)
  placed = runner.put_state(state)
  if train.streams(config):
    batches = train.make_host_pipeline(source, config, state.key).iterate(0)
    next_data = lambda: runner.put_data(next(batches))
  else:
    arrays = runner.put_data(source.arrays)
    next_data = lambda: arrays
  for _ in range(num_steps):
    placed, metrics = runner.step_fn(placed, next_data())
  run.last_metrics = {  # of the last step, as the loop logs them (one value per metric)
    name: np.asarray(jax.device_get(value)).reshape(-1)[0] for name, value in metrics.items()
  }
  return runner.get_state(placed)


def count_collectives(config) -> int:
  """All-reduces in the compiled step of `config` (run on its devices): XLA inserts them only
  where the step's batch is split over the devices."""
  source = data.make_data_source(config)
  runner = train.make_loop_step(source, config)
  state = runner.put_state(
    builders.create_state_from_config(
      config, source.data_shape, axis_name=parallel.model_axis_name(runner.mode)
    )
  )
  if train.streams(config):
    batch = next(train.make_host_pipeline(source, config, state.key).iterate(0))
    placed_data = runner.put_data(batch)
  else:
    placed_data = runner.put_data(source.arrays)
  text = runner.step_fn.lower(state, placed_data).compile().as_text()
  return text.count(" all-reduce(") + text.count(" all-reduce-start(")


def flat_arrays(state) -> dict[str, np.ndarray]:
  leaves = jax.tree_util.tree_flatten_with_path(checkpoint.state_arrays(state))[0]
  return {jax.tree_util.keystr(path): np.asarray(jax.device_get(x)) for path, x in leaves}


def main(argv=None):
  parser = argparse.ArgumentParser()
  parser.add_argument("out")
  parser.add_argument("runs", nargs="+")
  parser.add_argument("--coordinator", default="")
  parser.add_argument("--num_processes", type=int, default=1)
  parser.add_argument("--process_id", type=int, default=0)
  parser.add_argument("--workdir", default="")
  args = parser.parse_args(argv)
  if args.coordinator:
    distributed.initialize_from_config(
      ml_collections.ConfigDict(
        {
          "distributed": {
            "coordinator_address": args.coordinator,
            "num_processes": args.num_processes,
            "process_id": args.process_id,
          }
        }
      )
    )
  images_path = os.path.join(os.path.dirname(os.path.abspath(args.out)), IMAGES_PATH)
  if not os.path.exists(images_path):
    write_images(images_path)
  results = {}
  for spec in args.runs:
    name, model, mode, pipeline = spec.split(":")
    config = make_config(model, mode, pipeline, images_path)
    if pipeline == "train_and_evaluate":
      config.data.pipeline = "host" if model == "image" else "device"
      config.log_every = config.sample_every = config.checkpoint_every = NUM_STEPS
      if model == "bn":  # the sample picture recomputes the EMA generator's BatchNorm moments
        config.ema_decay = 0.9
      workdir = os.path.join(args.workdir, name)
      state = train.train_and_evaluate(config, workdir, progress=False)
      results[f"pictures/{name}"] = np.asarray(len(os.listdir(os.path.join(workdir, "samples"))))
    else:
      state = run(config)
      for metric, value in run.last_metrics.items():
        results[f"metrics/{name}/{metric}"] = value
    for key, value in flat_arrays(state).items():
      results[f"{name}/{key}"] = value
    if mode == "jit":
      results[f"collectives/{name}"] = np.asarray(count_collectives(config))
  results["device_count"] = np.asarray(jax.device_count())
  if jax.process_index() == 0:
    np.savez(args.out, **results)


if __name__ == "__main__":
  sys.exit(main())
