"""The latent space of a DCGAN on Fashion-MNIST: walks between draws, and truncated draws.

    python experiments/latent_space.py --root /tmp/latent                 # 2,000 steps
    python experiments/latent_space.py --root /tmp/latent --num_steps 5000

Trains experiments/configs/dcgan_fashion_mnist.py into ROOT/dcgan (resumed when it exists).
Walks: PATHS latent paths of POINTS samples each between pairs of draws of the generator's
100-d normal prior, as `gan-jax sample --interpolate POINTS` draws them, once along the
great circle (`slerp`) and once along the straight line (`linear`); at each position of
the path, the latents' norm over sqrt(100), the samples' pixel standard deviation
(contrast) and their FD, precision and recall against as many real images in the
library's Fashion-MNIST feature network (gan_jax.metrics.features). Truncation: SAMPLES
samples at each truncation T of `gan-jax sample --truncation T` (and without), with the
same metrics and the class KL. Writes experiments/results/latent_space.{md,json}, a picture
of 8 paths of each kind and one of 8 latents at each truncation.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys

import numpy as np
from recorded_runs import RESULTS, host, shipped_config

from gan_jax import evaluate, plotting, recipes, runs, sampling, train
from gan_jax.metrics import features


def parse_args(argv=None):
  parser = argparse.ArgumentParser(
    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
  )
  parser.add_argument("--root", required=True, help="directory for the run")
  parser.add_argument("--num_steps", type=int, default=2000)
  parser.add_argument("--paths", type=int, default=2000, help="paths per kind (FD's samples)")
  parser.add_argument("--points", type=int, default=9, help="samples per path, both ends")
  parser.add_argument("--samples", type=int, default=10000, help="samples per truncation")
  args = parser.parse_args(argv)
  if args.paths < 2 or args.points < 3 or args.points % 2 == 0:
    parser.error(
      f"--paths must be >= 2 and --points odd and >= 3 (a middle), got {args.paths} and "
      f"{args.points}"
    )
  return args


def walk_rows(state, recipe, source, network, paths: int, points: int) -> list[dict]:
  """One row per method and position t on the path: latent norm, contrast, FD, P, R."""
  real = evaluate._subset(source.arrays["x"], paths, seed=0)
  # The draws that draw_interpolations(state, paths, points, seed=0) walks between.
  latents = sampling.draw_latents(state, 2 * paths, seed=0)
  dim = int(np.prod(latents.shape[1:]))
  rows = []
  for method in sampling.INTERPOLATIONS:
    path = sampling.interpolate_latents(latents[:paths], latents[paths:], points, method)
    norms = np.linalg.norm(np.asarray(path).reshape(paths, points, -1), axis=-1)
    samples = sampling.draw_interpolations(state, paths, points, 0, method, recipe=recipe)
    for i in range(points):
      metrics = evaluate.image_metrics(network, real, samples[:, i])
      rows.append(
        {
          "method": method,
          "t": round(i / (points - 1), 4),
          "latent_norm_over_sqrt_d": float(norms[:, i].mean() / np.sqrt(dim)),
          "pixel_std": float(samples[:, i].reshape(paths, -1).std(axis=-1).mean()),
          "fd": metrics["fd"],
          "precision": metrics["precision"],
          "recall": metrics["recall"],
        }
      )
  return rows


TRUNCATIONS = (None, 2.0, 1.5, 1.0, 0.5, 0.25)
TRUNCATION_LABELS = tuple("none" if t is None else f"T = {t:g}" for t in TRUNCATIONS)


def truncation_rows(state, recipe, source, network, num: int) -> list[dict]:
  """One row per truncation T (None: the prior as trained): FD, precision, recall, class KL."""
  real = evaluate._subset(source.arrays["x"], num, seed=0)
  rows = []
  for truncation in TRUNCATIONS:
    samples = sampling.draw_samples(state, num, 0, recipe=recipe, truncation=truncation)
    metrics = evaluate.image_metrics(network, real, samples)
    rows.append(
      {
        "truncation": truncation,
        **{k: float(v) for k, v in metrics.items()},
        "pixel_std": float(samples.reshape(num, -1).std(axis=-1).mean()),
      }
    )
  return rows


def write_page(result: dict) -> None:
  lines = [
    "# The latent space of a DCGAN on Fashion-MNIST: walks and truncation",
    "",
    f"`{result['command']}` ({result['date']}, {result['host']}, {result['seconds']:.0f} s,"
    f" {result['training_seconds']:.0f} s of it training; a run already in ROOT is not"
    " trained again).",
    "",
    f"The DCGAN of `experiments/configs/dcgan_fashion_mnist.py` after {result['num_steps']:,}"
    " steps, sampled with its weights as trained (no EMA).",
    "",
    "## Walks between draws",
    "",
    f"{result['paths']:,} paths of {result['points']} samples between pairs of draws"
    " of its 100-d normal prior, for each kind of path (`gan-jax sample --interpolate"
    f" {result['points']} --interpolation slerp|linear`). Per position t: the latents' mean"
    " norm over sqrt(100), the samples' mean pixel standard deviation (contrast), and FD,"
    f" precision and recall of the {result['paths']:,} samples at t against as many real"
    " images in the library's Fashion-MNIST feature network.",
    "",
    "| path | t | latent norm / sqrt(d) | pixel std | FD | precision | recall |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ]
  for row in result["walks"]:
    lines.append(
      f"| {row['method']} | {row['t']:.3f} | {row['latent_norm_over_sqrt_d']:.3f} | "
      f"{row['pixel_std']:.3f} | {row['fd']:.1f} | {row['precision']:.3f} | "
      f"{row['recall']:.3f} |"
    )
  by = {(r["method"], r["t"]): r for r in result["walks"]}
  middle = 0.5
  s, ln, end = by[("slerp", middle)], by[("linear", middle)], by[("slerp", 0.0)]
  lines += [
    "",
    f"At the middle of the path (t = {middle}) the straight line's latents have"
    f" {ln['latent_norm_over_sqrt_d']:.2f} of the prior's typical norm and its samples"
    f" FD {ln['fd']:.1f} and contrast {ln['pixel_std']:.3f}, against"
    f" {s['latent_norm_over_sqrt_d']:.2f}, FD {s['fd']:.1f} and {s['pixel_std']:.3f} on the"
    f" great circle and FD {end['fd']:.1f}, contrast {end['pixel_std']:.3f} at the ends"
    " (plain draws from the prior). The generator was trained only where the prior puts its"
    " mass, a shell of radius about sqrt(d); the straight path leaves it, the spherical one"
    " does not, so its samples stay as good as the ends' (White 2016, \"Sampling Generative"
    ' Networks").',
    "",
    "8 paths of each kind, seed 0 (a row per path, from t = 0 to 1):",
    "",
    "| slerp | linear |",
    "| --- | --- |",
    "| ![slerp](latent_space_walk_slerp.png) | ![linear](latent_space_walk_linear.png) |",
    "",
    "## Truncated draws",
    "",
    f"{result['samples']:,} samples at each truncation T (`gan-jax sample --truncation T`:"
    " the latents' entries drawn from the normal truncated to [-T, T]; none: the prior as"
    " trained), seed 0, against as many real images in the same feature network; class KL:"
    " the KL divergence of the predicted classes' histogram from the uniform one (0 when"
    " every class is as frequent).",
    "",
    "| T | FD | precision | recall | class KL | pixel std |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
  ]
  for row in result["truncation"]:
    name = "none" if row["truncation"] is None else f"{row['truncation']:g}"
    lines.append(
      f"| {name} | {row['fd']:.1f} | {row['precision']:.3f} | {row['recall']:.3f} | "
      f"{row['class_kl']:.3f} | {row['pixel_std']:.3f} |"
    )
  by_t = {row["truncation"]: row for row in result["truncation"]}
  plain, mild, low = by_t[None], by_t[1.5], by_t[0.25]
  lines += [
    "",
    f"As T falls, precision rises and recall falls, the trade Brock et al. (2019) report for"
    f" BigGAN (T = 1.5: precision {plain['precision']:.3f} -> {mild['precision']:.3f}, recall"
    f" {plain['recall']:.3f} -> {mild['recall']:.3f}, FD {plain['fd']:.1f} ->"
    f" {mild['fd']:.1f}). On this generator the higher precision is not higher fidelity: the"
    f" samples lose contrast all the way (pixel std {plain['pixel_std']:.3f} ->"
    f" {mild['pixel_std']:.3f} at T = 1.5, {low['pixel_std']:.3f} at T = 0.25; the"
    f" picture's rows) and end in one almost black image of one class (class KL"
    f" {low['class_kl']:.3f}; log 10 = 2.303 is every sample in one class), which the"
    f" precision counts as real ({low['precision']:.3f}). The middle of this generator's"
    " latent space, where the prior has almost no mass, is dark, as the middles of the"
    " straight walks above are. BigGAN trains its generator to be amenable to truncation"
    " (orthogonal"
    " regularization); this DCGAN is trained without it.",
    "",
    f"The same 8 latents at each truncation ({', '.join(TRUNCATION_LABELS)}; a row each):",
    "",
    "![truncation](latent_space_truncation.png)",
    "",
  ]
  with open(os.path.join(RESULTS, "latent_space.md"), "w") as f:
    f.write("\n".join(lines))


def main(argv=None) -> None:
  args = parse_args(argv)
  start = datetime.datetime.now(datetime.timezone.utc)
  config = shipped_config("dcgan_fashion_mnist.py")
  config.num_steps = args.num_steps
  config.sample_every = config.checkpoint_every = args.num_steps
  workdir = os.path.join(args.root, "dcgan")
  train.train_and_evaluate(config, workdir, progress=False)
  trained = datetime.datetime.now(datetime.timezone.utc)
  config, source, state = runs.load_run(workdir)
  recipe = recipes.recipe_of(config)
  state = sampling.sampling_state(state, config, recipe, source.num_classes)
  network = features.load_or_train(None, progress=True)
  walks = walk_rows(state, recipe, source, network, args.paths, args.points)
  truncation = truncation_rows(state, recipe, source, network, args.samples)
  for method in sampling.INTERPOLATIONS:
    picture = sampling.draw_interpolations(state, 8, 10, 0, method, recipe=recipe)
    plotting.save_image_grid(
      picture.reshape((-1,) + picture.shape[2:]),
      os.path.join(RESULTS, f"latent_space_walk_{method}.png"),
      columns=10,
    )
  rows = [sampling.draw_samples(state, 8, 0, recipe=recipe, truncation=t) for t in TRUNCATIONS]
  plotting.save_image_grid(
    np.concatenate(rows), os.path.join(RESULTS, "latent_space_truncation.png"), columns=8
  )
  result = {
    "command": "python experiments/latent_space.py "
    + " ".join(sys.argv[1:] if argv is None else argv),
    "date": start.strftime("%Y-%m-%d %H:%M UTC"),
    "host": host(),
    "seconds": (datetime.datetime.now(datetime.timezone.utc) - start).total_seconds(),
    "training_seconds": (trained - start).total_seconds(),
    "num_steps": int(state.step),  # the checkpoint's: a run already past --num_steps keeps its own
    "paths": args.paths,
    "points": args.points,
    "samples": args.samples,
    "walks": walks,
    "truncation": truncation,
  }
  with open(os.path.join(RESULTS, "latent_space.json"), "w") as f:
    json.dump(result, f, indent=2)
  write_page(result)
  print(json.dumps(truncation))


if __name__ == "__main__":
  main()
