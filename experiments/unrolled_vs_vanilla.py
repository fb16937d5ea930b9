"""Unrolled vs vanilla GAN on the ring of 8, same networks, optimizers, data and seed.

Counts the modes each generator covers (a mode is covered when one of 2500
samples lies within 3 std of its mean) and the share of samples within 3 std
of some mode, and saves a scatter of each. A small local check; the mixture
metrics of gan_jax.metrics will supersede it.

  python experiments/unrolled_vs_vanilla.py --steps 5000 --out /tmp/unrolled
"""

import argparse
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gan_jax import data, plotting, recipes, train  # noqa: E402
from tests.conftest import load_experiment_config  # noqa: E402


def modes_covered(points: np.ndarray, means: np.ndarray, std: float) -> tuple[int, float]:
  """(modes with a sample within 3 std, share of samples within 3 std of some mode)."""
  distances = np.linalg.norm(points[:, None, :] - means[None], axis=-1)  # (N, K)
  near = distances < 3 * std
  return int(np.sum(near.any(axis=0))), float(np.mean(near.any(axis=1)))


def run(name: str, steps: int, seed: int, out: str):
  config = load_experiment_config(name)
  config.num_steps, config.seed = steps, seed
  recipe = recipes.recipe_of(config)
  source = data.make_data_source(config)
  state = recipe.create_state(config, source.data_shape)
  step_fn = train.make_train_step_fn(source, config.batch_size, recipe)
  arrays = jax.device_put(source.arrays)
  start = time.time()
  for _ in range(steps):
    state, _ = step_fn(state, arrays)
  jax.block_until_ready(state.g_params)
  seconds = time.time() - start
  points = train.draw_samples(state, 2500, seed=0, recipe=recipe)
  covered, quality = modes_covered(points, source.distribution.means, source.distribution.std)
  reference = np.asarray(source.sample({}, jax.random.PRNGKey(0), 2500)["x"])
  plotting.save_scatter(points, reference, os.path.join(out, f"{name}_seed{seed}.png"),
                        title=f"{name} seed {seed}: {covered}/8 modes, {quality:.0%} near a mode")
  return covered, quality, seconds


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--steps", type=int, default=5000)
  parser.add_argument("--seeds", type=int, nargs="+", default=[0])
  parser.add_argument("--out", default="/tmp/unrolled_vs_vanilla")
  args = parser.parse_args()
  os.makedirs(args.out, exist_ok=True)
  print("config          seed  modes  near-mode  seconds")
  for seed in args.seeds:
    for name in ("ring_gan", "unrolled_ring"):
      covered, quality, seconds = run(name, args.steps, seed, args.out)
      print(f"{name:15s} {seed:4d}  {covered}/8    {quality:6.1%}   {seconds:7.1f}")


if __name__ == "__main__":
  main()
