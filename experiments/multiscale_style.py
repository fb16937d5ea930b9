"""Short runs of the multi-scale and style variants on Fashion-MNIST, with their figures and FDs.

  PYTHONPATH=. python experiments/multiscale_style.py --steps 400 --workroot /tmp/ms

Trains progressive GAN (4 equal stages of steps/4 G steps, half of each a
fade-in), DCGAN for the progressive run's wall-clock time, StyleGAN, LAPGAN,
and CoGAN shared / unshared, `steps` G steps each; then writes
experiments/results/multiscale_style.json and the figures beside it. FD is the
Frechet distance in the library's Fashion-MNIST feature network (not FID),
`num_samples` generated against as many test images.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import evaluate, plotting, runs, sampling, train
from gan_jax.data import files
from gan_jax.logs import read_metrics
from gan_jax.metrics import features
from gan_jax.models import resample
from gan_jax.variants import cogan, lapgan, progressive, stylegan
from gan_jax.cli import load_config_file

RESULTS = os.path.join(os.path.dirname(__file__), "results")


def load_experiment_config(name: str):
  """get_config() of experiments/configs/NAME.py."""
  return load_config_file(os.path.join(os.path.dirname(__file__), "configs", name + ".py"))


def short(config, steps: int, **overrides):
  config.num_steps = steps
  config.log_every = max(steps // 20, 1)
  config.sample_every = steps
  config.checkpoint_every = steps
  config.update(overrides)
  return config


def fd(network, real, fake) -> float:
  return float(evaluate.image_metrics(network, real, np.asarray(fake))["fd"])


def wall(workdir) -> float:
  return float(read_metrics(workdir)[-1]["wall_time"])


VARIANTS = ("progressive", "stylegan", "lapgan", "cogan")


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument(
    "--steps", type=int, default=400, help="generator steps per run (>= 8: four stages)"
  )
  parser.add_argument(
    "--num_samples", type=int, default=2000, help="samples each FD and class KL is scored on"
  )
  parser.add_argument("--workroot", default="/tmp/multiscale_style", help="where runs go")
  parser.add_argument(
    "--only",
    default=",".join(VARIANTS),
    help=f"comma-separated, from {', '.join(VARIANTS)} (default: all)",
  )
  args = parser.parse_args()
  only = [name for name in args.only.split(",") if name]
  unknown = [name for name in only if name not in VARIANTS]
  if unknown or not only:
    parser.error(f"--only {args.only!r}: accepted: comma-separated from {', '.join(VARIANTS)}")
  if args.steps < 8 or args.num_samples < 4:
    parser.error(
      f"--steps must be >= 8 and --num_samples >= 4, got {args.steps} and {args.num_samples}"
    )
  network = features.load_or_train()
  test = files.load_idx_split(files.FASHION_MNIST_DIR, "test")[0][: args.num_samples]
  real = np.asarray(test, np.float32) / 127.5 - 1.0
  out_path = os.path.join(RESULTS, "multiscale_style.json")
  results = json.load(open(out_path)) if os.path.exists(out_path) else {}
  n = args.num_samples

  def save():
    with open(out_path, "w") as f:
      json.dump(results, f, indent=2, sort_keys=True)

  def z_for(state, num, seed=0):
    return state.noise(jax.random.PRNGKey(seed), num)

  if "progressive" in only:
    stage = args.steps // 4
    config = short(
      load_experiment_config("progressive_fashion_mnist"), args.steps, checkpoint_every=stage
    )
    config.variant.stage_steps, config.variant.fade_steps = stage, stage // 2
    workdir = os.path.join(args.workroot, "progressive")
    train.train_and_evaluate(config, workdir, progress=False)
    budget = wall(workdir)
    per_stage, rows = [], []
    for s in range(4):
      _, _, state = runs.load_run(workdir, (s + 1) * stage)
      z = z_for(state, n)
      fake = jax.jit(progressive.generate_at_stage, static_argnums=2)(state, z, s)
      fake = resample.crop_center(fake, 28, 28)
      real_s = resample.crop_center(
        progressive.real_at_stage(jnp.asarray(real), state.game, s, 1.0), 28, 28
      )
      per_stage.append(
        {
          "stage": s,
          "resolution": 4 * 2**s,
          "step": (s + 1) * stage,
          "fd_vs_real_at_resolution": fd(network, np.asarray(real_s), fake),
          "fd_vs_real_full": fd(network, real, fake),
        }
      )
      rows.append(np.asarray(fake[:10]))
    plotting.save_image_grid(
      np.concatenate(rows), os.path.join(RESULTS, "progressive_stages.png"), columns=10
    )
    results["progressive"] = {"steps": args.steps, "wall_s": budget, "stages": per_stage}
    save()
    dcgan = short(load_experiment_config("dcgan_fashion_mnist"), 100000)
    dcgan.model.generator.features = 32
    dcgan.model.discriminator.features = 32
    dcgan.batch_size = 32
    dcgan.log_every = 25
    dcgan.checkpoint_every = 25
    dcgan.sample_every = 100000
    dcgan_dir = os.path.join(args.workroot, "dcgan_equal_wall")
    start = time.time()

    def stop_at_budget(step, state, source):
      if time.time() - start > budget:
        raise KeyboardInterrupt("equal wall-clock reached")

    try:
      train.train_and_evaluate(dcgan, dcgan_dir, progress=False, step_hook=stop_at_budget)
    except KeyboardInterrupt:
      pass
    _, _, state = runs.load_run(dcgan_dir)
    results["dcgan_equal_wall"] = {
      "steps": int(state.step),
      "wall_s": wall(dcgan_dir),
      "batch_size": 32,
      "features": 32,
      "fd": fd(network, real, sampling.draw_samples(state, n, 0)),
    }
    save()

  if "stylegan" in only:
    config = short(load_experiment_config("stylegan_fashion_mnist"), args.steps)
    workdir = os.path.join(args.workroot, "stylegan")
    train.train_and_evaluate(config, workdir, progress=False)
    _, _, state = runs.load_run(workdir)
    z = z_for(state, n)
    sample = jax.jit(stylegan.generate, static_argnums=(2, 3))
    psis = [1.0, 0.7, 0.5, 0.0]
    fds = {str(p): fd(network, real, sample(state, z, None, p)) for p in psis}
    rows, cols = z_for(state, 5, 1), z_for(state, 6, 2)
    groups = stylegan.style_groups(6)
    panels = []
    for name in stylegan.STYLE_GROUPS:
      grid = jax.jit(stylegan.style_mixing, static_argnums=3)(state, rows, cols, groups[name])
      panels.append(np.asarray(grid))
    # Top row: the column latents; left column: the row latents; then coarse / middle / fine.
    plotting.save_image_grid(
      np.concatenate([np.asarray(sample(state, cols, None, 1.0))] + panels),
      os.path.join(RESULTS, "stylegan_mixing.png"),
      columns=6,
    )
    sweep = [np.asarray(sample(state, rows, None, p)) for p in [1.0, 0.7, 0.5, 0.25, 0.0, -0.5]]
    plotting.save_image_grid(
      np.stack(sweep, 1).reshape((-1, 28, 28, 1)),
      os.path.join(RESULTS, "stylegan_truncation.png"),
      columns=6,
    )
    results["stylegan"] = {"steps": args.steps, "wall_s": wall(workdir), "fd_by_psi": fds}
    save()

  if "lapgan" in only:
    config = short(load_experiment_config("lapgan_fashion_mnist"), args.steps)
    workdir = os.path.join(args.workroot, "lapgan")
    train.train_and_evaluate(config, workdir, progress=False)
    _, _, state = runs.load_run(workdir)
    fake = jax.jit(lapgan.generate)(state, z_for(state, n))
    images, bands = jax.jit(lapgan.sample_pyramid)(state, z_for(state, 8, 1))
    up = lambda x: resample.upsample_nearest(x, 28 // x.shape[1])
    columns = [up(images[0]), up(bands[1]), up(images[1]), bands[2], images[2]]
    plotting.save_image_grid(
      np.stack([np.asarray(c) for c in columns], 1).reshape((-1, 28, 28, 1)),
      os.path.join(RESULTS, "lapgan_pyramid.png"),
      columns=5,
    )
    results["lapgan"] = {
      "steps": args.steps,
      "wall_s": wall(workdir),
      "fd": fd(network, real, fake),
    }
    save()

  if "cogan" in only:
    results["cogan"] = {}
    for shared in (True, False):
      config = short(load_experiment_config("cogan_fashion_mnist"), args.steps)
      config.variant.shared = shared
      workdir = os.path.join(args.workroot, f"cogan_shared_{shared}")
      train.train_and_evaluate(config, workdir, progress=False)
      _, _, state = runs.load_run(workdir)
      a, b = jax.jit(cogan.generate_pair)(state, z_for(state, 500))
      entry = cogan.pair_correspondence(a, b, "edges")
      a_n, b_n = jax.jit(cogan.generate_pair)(state, z_for(state, n))
      entry.update(
        steps=args.steps,
        wall_s=wall(workdir),
        fd_domain_a=fd(network, real, a_n),
        fd_domain_b_vs_real_edges=fd(network, np.asarray(cogan.edge_map(jnp.asarray(real))), b_n),
      )
      results["cogan"]["shared" if shared else "separate"] = entry
      plotting.save_image_grid(
        np.asarray(cogan.generate(state, z_for(state, 16, 1))),
        os.path.join(RESULTS, f"cogan_pairs_{'shared' if shared else 'separate'}.png"),
        columns=4,
      )
      save()
  print(json.dumps(results, indent=2))


if __name__ == "__main__":
  main()
