"""Mode coverage on PacGAN's ring (8) and grid (25) mixtures, every recipe, several seeds.

  python experiments/mixture_benchmark.py                      # the benchmark: 10 seeds
  python experiments/mixture_benchmark.py --seeds 2 --steps 1000 --recipes gan_ns --out /tmp/m
  python experiments/mixture_benchmark.py --jobs 1                # one row at a time

Each recipe is experiments/configs/ring_gan.py with the recipe's overrides. Its
seeds train together as one seed sweep (`gan_jax.sweep.train_seeds`: the
training loop's step, vmapped over the seeds' states; seed s is the run
`gan-jax train` makes with --config.seed=s, up to float reassociation), and each
seed is scored by PacGAN's protocol (2500 samples, gan_jax.metrics.mixture).
Writes OUT/mixture.md, OUT/mixture.json (one row per recipe and dataset: mean
and standard error over seeds of modes, high_quality (a fraction) and
reverse_kl, and the wall-clock per run: the sweep's time over its seeds) and
OUT/mixture_samples.png (samples over the data, first seed of each recipe).
Every row trains in its own process on one CPU core; --jobs N (default: as
many as the cores this process may use) trains N rows at once. A row's results
are the same bits whatever N, and on 2 cores two rows at once give 1.8x the rows
per hour of one row on both cores; each row's wall-clock per run is then
measured beside another row.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import math
import multiprocessing
import os
import platform
import time

import jax
import ml_collections
import numpy as np

from gan_jax import sampling, sweep, train
from gan_jax.metrics import mixture

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = {"ring": "ring8", "grid": "grid25"}


def _adam(learning_rate, b1=0.5, b2=0.999, **schedule):
  return {"name": "adam", "learning_rate": learning_rate, "b1": b1, "b2": b2, **schedule}


# name -> (description, config overrides; a dotted name sets a nested field). Unlisted
# fields keep ring_gan.py's values: toy_mlp 2 x 128 ReLU players, z = 16 normal,
# batch 256, Adam 1e-3 (0.5, 0.999). An optimizer with a schedule decays over the run
# (decay_steps is filled in from the step count).
RECIPES = {
  "gan_saturating": ("vanilla GAN, minimax (saturating) generator loss", {"loss": "minimax"}),
  "gan_ns": ("vanilla GAN, non-saturating generator loss", {"loss": "non_saturating"}),
  "wgan_clip": (
    "WGAN, weight clipping 0.01, 5 critic steps, RMSProp 5e-5",
    {
      "loss": "wasserstein",
      "clip_value": 0.01,
      "d_steps": 5,
      "g_optimizer": {"name": "rmsprop", "learning_rate": 5e-5},
      "d_optimizer": {"name": "rmsprop", "learning_rate": 5e-5},
    },
  ),
  "wgan_gp": (
    "WGAN-GP, lambda 10, 5 critic steps, Adam 1e-4 (0, 0.9)",
    {
      "loss": "wasserstein",
      "gradient_penalty_weight": 10.0,
      "d_steps": 5,
      "g_optimizer": _adam(1e-4, 0.0, 0.9),
      "d_optimizer": _adam(1e-4, 0.0, 0.9),
    },
  ),
  "hinge": ("hinge loss", {"loss": "hinge"}),
  "unrolled": (
    "unrolled GAN (Metz et al.), 5 unrolled discriminator steps",
    {
      "recipe": "unrolled",
      "variant": {"unrolled_steps": 5},
      "d_optimizer": {**_adam(1e-3), "eps_root": 1e-8},
    },
  ),
  "gan_ns_lr1e-4": (
    "vanilla GAN, non-saturating, at Metz et al.'s Adam 1e-4 (0.5, 0.999)",
    {"loss": "non_saturating", "g_optimizer": _adam(1e-4), "d_optimizer": _adam(1e-4)},
  ),
  "unrolled_lr1e-4": (
    "unrolled GAN, 5 unrolled steps, at Metz et al.'s Adam 1e-4 (0.5, 0.999)",
    {
      "recipe": "unrolled",
      "variant": {"unrolled_steps": 5},
      "g_optimizer": _adam(1e-4),
      "d_optimizer": {**_adam(1e-4), "eps_root": 1e-8},
    },
  ),
  "pacgan2": (
    "PacGAN2: D judges packs of 2 (batch 256 = 128 packs)",
    {"recipe": "pacgan", "variant": {"pack_size": 2}},
  ),
  "pacgan3": (
    "PacGAN3: D judges packs of 3 (batch 255 = 85 packs)",
    {"recipe": "pacgan", "variant": {"pack_size": 3}, "batch_size": 255},
  ),
  "pacgan4": (
    "PacGAN4: D judges packs of 4 (batch 256 = 64 packs)",
    {"recipe": "pacgan", "variant": {"pack_size": 4}},
  ),
  "best": (
    "PacGAN4, batch 512 (128 packs), Adam 5e-3 cosine-decayed to 0 for both players, "
    "z = one-hot code of 50 values + 4 uniform; on the grid, R1 gamma 1 cosine-decayed "
    "to 0 over the first half of the run",
    {
      "recipe": "pacgan",
      "variant": {"pack_size": 4},
      "batch_size": 512,
      "g_optimizer": _adam(5e-3, schedule="cosine"),
      "d_optimizer": _adam(5e-3, schedule="cosine"),
      "model.latent_dim": 4,
      "model.noise": "uniform",
      "model.noise_categories": 50,
    },
  ),
}


def half_the_run(steps: int) -> int:
  """A schedule over the first half of a run of `steps` generator steps."""
  return steps // 2


# Overrides of a recipe on one dataset only; a callable value is called with the run's
# step count. The best recipe's R1 penalty: on the grid it keeps every seed on all 25
# modes with even mass (10 seeds: 25.0 modes, 96.0%, reverse KL 0.018, against 24.4,
# 89.8%, 0.12 without); on the ring it costs precision (4 seeds: 97.5% high quality,
# below the 98% goal), as 50 code values cannot split evenly over 8 modes and G spreads
# the split values along the ring between modes.
DATASET_OVERRIDES = {"best": {"grid": {"r1_weight": 1.0, "r1_decay_steps": half_the_run}}}
# The benchmark: the rows `python experiments/mixture_benchmark.py` trains by default,
# the required rows and the packing and unrolling variants, sized to train in under
# an hour on 2 CPU cores. The other recipes are studies run by name (--recipes).
BENCHMARK = (
  "gan_saturating",
  "gan_ns",
  "wgan_clip",
  "wgan_gp",
  "hinge",
  "unrolled",
  "pacgan2",
  "pacgan3",
  "pacgan4",
  "best",
)
# Recipes that train longer than DEFAULT_STEPS (their schedule is part of the recipe).
RECIPE_STEPS = {
  "best": {"ring": 64000, "grid": 64000},
  "gan_ns_lr1e-4": {"ring": 16000, "grid": 16000},
  "unrolled_lr1e-4": {"ring": 16000, "grid": 16000},
}

# PacGAN (Lin et al. 2018), Table 1: modes / % high quality / reverse KL.
PUBLISHED = [
  ("GAN", "ring", 6.3, 98.2, 0.45),
  ("GAN", "grid", 17.3, 94.8, 0.70),
  ("PacGAN2", "ring", 7.9, 95.6, 0.07),
  ("PacGAN2", "grid", 23.8, 91.3, 0.13),
  ("PacGAN4", "ring", 7.8, 95.9, 0.07),
  ("PacGAN4", "grid", 24.8, 93.6, 0.04),
]


def base_config() -> ml_collections.ConfigDict:
  path = os.path.join(ROOT, "experiments", "configs", "ring_gan.py")
  spec = importlib.util.spec_from_file_location("ring_gan", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def recipe_config(recipe: str, dataset: str, seed: int, steps: int) -> ml_collections.ConfigDict:
  """ring_gan.py with the recipe's overrides (and its dataset's), the dataset, the seed, the
  steps."""
  if recipe not in RECIPES:
    raise ValueError(f"recipe {recipe!r} is unknown; accepted: {', '.join(RECIPES)}")
  if dataset not in DATASETS:
    raise ValueError(f"dataset {dataset!r} is unknown; accepted: {', '.join(DATASETS)}")
  config = base_config()
  overrides = {**RECIPES[recipe][1], **DATASET_OVERRIDES.get(recipe, {}).get(dataset, {})}
  for field, value in overrides.items():
    value = value(steps) if callable(value) else value
    *parents, leaf = field.split(".")
    node = config
    for parent in parents:
      node = node[parent]
    node[leaf] = ml_collections.ConfigDict(value) if isinstance(value, dict) else value
  config.data.name = DATASETS[dataset]
  config.seed = seed
  config.num_steps = steps
  for player, updates in (("g_optimizer", steps), ("d_optimizer", steps * config.d_steps)):
    if config[player].get("schedule", "constant") != "constant":
      config[player].decay_steps = updates
  config.steps_per_call = math.gcd(10, steps)  # fuse steps: small models are dispatch-bound
  config.log_every = max(steps // 20 // config.steps_per_call, 1) * config.steps_per_call
  config.sample_every = steps
  config.checkpoint_every = steps
  return config


def run_recipe(recipe: str, dataset: str, seeds: int, steps: int) -> list[dict]:
  """Trains seeds 0..seeds-1 of a recipe as one sweep and scores each seed.

  Returns per seed its metrics, samples and wall-clock (the sweep's, compile
  included, over the number of seeds).
  """
  config = recipe_config(recipe, dataset, 0, steps)
  start = time.perf_counter()
  states = jax.block_until_ready(sweep.train_seeds(config, range(seeds)))
  seconds = (time.perf_counter() - start) / seeds
  distribution = train.data.make_data_source(config).distribution
  runs = []
  for seed in range(seeds):
    points = sampling.draw_samples(
      sweep.select(states, seed), mixture.PROTOCOL_NUM_POINTS, seed=seed
    )
    result = mixture.evaluate_mixture(points, distribution)
    runs.append(
      {**result.as_dict(), "seconds": seconds, "points": points, "distribution": distribution}
    )
  return runs


def relative_cost(recipe: str, dataset: str, steps: int) -> float:
  """Roughly how long a row trains, to start the longest rows first."""
  config = recipe_config(recipe, dataset, 0, steps)
  unrolled = config.get("variant", {}).get("unrolled_steps", 0)
  return steps * config.d_steps * (1 + unrolled)


def _pin_to_core(cores) -> None:
  """Pool initializer: this worker runs on one CPU core, the next in the queue."""
  os.sched_setaffinity(0, {cores.get()})


def run_rows(tasks: list[tuple[str, str, int, int]], jobs: int) -> dict:
  """{(recipe, dataset): runs} for tasks (recipe, dataset, seeds, steps), `jobs` at a time.

  Every row trains in a spawned worker process on one CPU core (workers take
  the cores in turn), so a row's bits do not depend on `jobs`: XLA sizes its
  thread pool, and with it how a matrix product splits its sums, from the
  cores a process may use. On 2 cores two pinned rows at once train 1.8x the
  rows per hour of one row on both cores.
  """
  order = sorted(tasks, key=lambda t: -relative_cost(t[0], t[1], t[3]))
  context = multiprocessing.get_context("spawn")  # JAX must not be forked
  cores = sorted(os.sched_getaffinity(0))
  queue = context.Queue()
  for worker in range(jobs):
    queue.put(cores[worker % len(cores)])
  with concurrent.futures.ProcessPoolExecutor(
    max_workers=jobs, mp_context=context, initializer=_pin_to_core, initargs=(queue,)
  ) as pool:
    futures = {(r, d): pool.submit(run_recipe, r, d, n, s) for r, d, n, s in order}
    return {(r, d): futures[(r, d)].result() for r, d, _, _ in tasks}


def mean_and_stderr(values: list[float]) -> dict:
  """{'mean', 'stderr'} over seeds; stderr = sample std / sqrt(n), None for one seed."""
  values = np.asarray(values, np.float64)
  mean = float(np.mean(values))
  stderr = float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else None
  return {
    "mean": mean if math.isfinite(mean) else str(mean),
    "stderr": stderr if stderr is None or math.isfinite(stderr) else str(stderr),
  }


def _fmt(stat: dict, scale: float = 1.0, digits: int = 2) -> str:
  mean = stat["mean"]
  if isinstance(mean, str):
    return mean
  text = f"{mean * scale:.{digits}f}"
  if stat["stderr"] is not None and not isinstance(stat["stderr"], str):
    text += f" ± {stat['stderr'] * scale:.{digits}f}"
  return text


def command_line(args) -> str:
  return (
    f"python experiments/mixture_benchmark.py --seeds {args.seeds}"
    + (f" --steps {args.steps}" if args.steps else "")
    + f" --recipes {','.join(args.recipes)} --datasets {','.join(args.datasets)}"
    + (f" --jobs {args.jobs}" if args.jobs > 1 else "")
    + (" --merge" if args.merge else "")
  )


def _table(rows: list[dict], dataset: str, published: bool) -> list[str]:
  lines = [
    "| recipe | seeds | steps | modes | high quality (%) | reverse KL | s / run |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ]
  for name, published_dataset, modes, hq, kl in PUBLISHED if published else ():
    if published_dataset == dataset:
      lines.append(f"| {name} (PacGAN Table 1) | | | {modes} | {hq} | {kl} | |")
  for row in rows:
    if row["dataset"] == dataset:
      lines.append(
        f"| {row['recipe']}: {row['description']} | {row['seeds']} | "
        f"{row['steps']} | {_fmt(row['modes'], digits=1)} | "
        f"{_fmt(row['high_quality'], 100.0, 1)} | {_fmt(row['reverse_kl'], digits=3)} | "
        f"{row['seconds_per_run']:.1f} |"
      )
  return lines + [""]


def write_markdown(rows: list[dict], path: str) -> None:
  """The page from all rows; each row carries its command, figure and wall-clock.

  Rows of BENCHMARK recipes form the benchmark's tables; the other recipes' rows
  (studies run by name) follow in tables of their own.
  """
  commands = {}
  for row in rows:
    if row.get("command"):
      commands.setdefault(row["command"], row.get("command_minutes"))
  figures = list(dict.fromkeys(row.get("figure", "mixture_samples.png") for row in rows))
  benchmark = [row for row in rows if row["recipe"] in BENCHMARK]
  studies = [row for row in rows if row["recipe"] not in BENCHMARK]
  minutes = lambda part: sum(row["seconds_per_run"] * row["seeds"] for row in part) / 60
  datasets = [d for d in DATASETS if any(row["dataset"] == d for row in rows)]
  full = all(row["seeds"] >= 10 for row in benchmark) and {
    (r["recipe"], r["dataset"]) for r in benchmark
  } >= {(r, d) for r in BENCHMARK for d in DATASETS}
  lines = [
    "# Mode coverage on PacGAN's mixtures",
    "",
    "Written by "
    + ", then ".join(
      f"`{c}`" + (f" ({m:.1f} min wall-clock)" if m is not None else "")
      for c, m in commands.items()
    )
    + ".",
    "",
    f"Protocol (PacGAN, after VEEGAN): 2500 samples per run; a sample is high quality "
    f"within 3 standard deviations of its nearest mode; a mode is captured with at least "
    f"one high-quality sample; reverse KL = log K - H(histogram of high-quality samples). "
    f"Ours: mean ± standard error over seeds; each recipe's seeds train together as one "
    f"seed sweep (`gan_jax.sweep`), and s / run is the sweep's wall-clock (compile "
    f"included) over its seeds (when a row's command has `--jobs N`, N rows trained at once, "
    f"each in its own process on one core, and its s / run was measured beside the "
    f"others). "
    f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
    f"JAX {jax.__version__} on {jax.default_backend()}; the benchmark's rows below "
    f"sum to {minutes(benchmark):.1f} min of training"
    + (f", the studies' to {minutes(studies):.1f} min" if studies else "")
    + ".",
    "",
  ]
  lines += [
    (
      "Every row of ours is the library's generic setup, not a paper's: "
      "experiments/configs/ring_gan.py (2 x 128 ReLU MLPs, z = 16 normal, batch 256, "
      "Adam 1e-3 (0.5, 0.999), the steps in the row) with the recipe's overrides, on the "
      "library's ring (radius 1, std 0.01) and grid (spacing 2, std 0.05). The PacGAN "
      "Table 1 lines are the paper's figures from its own setup (4 x 400 BatchNorm "
      "generator, maxout discriminator, Adam 1e-4, 400,000 steps), shown for scale. The "
      "papers' own setups (PacGAN Table 1, Metz et al.'s unrolled GAN, WGAN-GP's "
      "gan_toy.py) are reproduced beside their published figures in "
      "[reproductions.md](reproductions.md)."
    ),
    "",
  ]
  if not full:
    lines += [
      "**A reduced run** (fewer seeds, recipes or datasets than the full benchmark's "
      "10 seeds of every benchmark recipe on both mixtures).",
      "",
    ]
  for dataset in datasets:
    k = 8 if dataset == "ring" else 25
    lines += [f"## {dataset} ({k} modes)", ""] + _table(benchmark, dataset, published=True)
  if studies:
    lines += ["## Studies", "", "Recipes outside the benchmark, run by name with `--recipes`.", ""]
    for dataset in datasets:
      if any(row["dataset"] == dataset for row in studies):
        lines += [f"### {dataset}", ""] + _table(studies, dataset, published=False)
  for figure in figures:
    lines += [f"![samples]({figure})", ""]
  lines += ["Samples (orange) over the data (blue), first seed of each recipe.", ""]
  with open(path, "w") as f:
    f.write("\n".join(lines))


def merge_rows(old: list[dict], new: list[dict]) -> list[dict]:
  """old rows with those of the same (recipe, dataset) replaced by new ones, in RECIPES order."""
  by_key = {(r["recipe"], r["dataset"]): r for r in old + new}
  order = {name: i for i, name in enumerate(RECIPES)}
  return sorted(
    by_key.values(),
    key=lambda r: (list(DATASETS).index(r["dataset"]), order.get(r["recipe"], len(order))),
  )


def save_figure(examples: dict, recipes: list[str], datasets: list[str], path: str) -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, axes = plt.subplots(
    len(datasets), len(recipes), figsize=(2.6 * len(recipes), 2.6 * len(datasets)), squeeze=False
  )
  for i, dataset in enumerate(datasets):
    for j, recipe in enumerate(recipes):
      ax = axes[i][j]
      example = examples.get((recipe, dataset))
      if example is None:
        ax.axis("off")
        continue
      distribution = example["distribution"]
      data = np.asarray(distribution.sample(jax.random.PRNGKey(0), 2500))
      ax.scatter(data[:, 0], data[:, 1], s=1, alpha=0.3, color="tab:blue")
      points = example["points"]
      ax.scatter(points[:, 0], points[:, 1], s=1, alpha=0.5, color="tab:orange")
      span = 1.5 if dataset == "ring" else 5.5
      ax.set_xlim(-span, span)
      ax.set_ylim(-span, span)
      ax.set_aspect("equal")
      ax.set_xticks([])
      ax.set_yticks([])
      ax.set_title(
        f"{recipe} / {dataset}\n{example['modes']} modes, {100 * example['high_quality']:.0f}% HQ",
        fontsize=8,
      )
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)


DEFAULT_STEPS = {"ring": 4000, "grid": 4000}


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 per recipe and dataset")
  parser.add_argument(
    "--steps", type=int, default=0, help=f"generator steps per run (default: {DEFAULT_STEPS})"
  )
  parser.add_argument(
    "--recipes",
    default=",".join(BENCHMARK),
    help=f"comma-separated recipe names (default: the benchmark's; all: {', '.join(RECIPES)})",
  )
  parser.add_argument("--datasets", default="ring,grid", help="comma-separated: ring, grid")
  parser.add_argument("--out", default=os.path.join(ROOT, "experiments", "results"))
  parser.add_argument(
    "--jobs",
    type=int,
    default=len(os.sched_getaffinity(0)),
    help="rows trained at once, each in its own process on one core "
    "(default: the number of cores this process may use)",
  )
  parser.add_argument(
    "--merge",
    action="store_true",
    help="keep OUT/mixture.json's other rows; replace only the rows run now",
  )
  args = parser.parse_args(argv)
  args.recipes = [r for r in args.recipes.split(",") if r]
  args.datasets = [d for d in args.datasets.split(",") if d]
  for recipe in args.recipes:
    if recipe not in RECIPES:
      parser.error(f"recipe {recipe!r} is unknown; accepted: {', '.join(RECIPES)}")
  for dataset in args.datasets:
    if dataset not in DATASETS:
      parser.error(f"dataset {dataset!r} is unknown; accepted: {', '.join(DATASETS)}")
  if args.seeds < 1 or args.steps < 0:
    parser.error(f"--seeds must be >= 1 and --steps >= 0, got {args.seeds} and {args.steps}")
  if args.jobs < 1:
    parser.error(f"--jobs must be >= 1, got {args.jobs}")
  json_path = os.path.join(args.out, "mixture.json")
  if not args.merge and os.path.isfile(json_path):  # before hours of training, not after
    with open(json_path) as f:
      kept = {(r["recipe"], r["dataset"]) for r in json.load(f)}
    dropped = kept - {(r, d) for r in args.recipes for d in args.datasets}
    if dropped:
      parser.error(
        f"{json_path} holds {len(kept)} rows and this run would keep only its own, dropping "
        f"{len(dropped)} ({', '.join(sorted('/'.join(key) for key in dropped)[:3])}, ...); "
        "pass --merge to replace only the rows run now, or another --out"
      )
  os.makedirs(args.out, exist_ok=True)

  rows, examples = [], {}
  begin = time.perf_counter()
  tasks = [
    (recipe, dataset, args.seeds, args.steps or RECIPE_STEPS.get(recipe, DEFAULT_STEPS)[dataset])
    for dataset in args.datasets
    for recipe in args.recipes
  ]
  results = run_rows(tasks, args.jobs)
  for recipe, dataset, _, steps in tasks:
    runs = results[(recipe, dataset)]
    examples[(recipe, dataset)] = runs[0]
    for seed, run in enumerate(runs):
      print(
        f"{recipe:15s} {dataset} seed {seed}: {run['modes']} modes, "
        f"{100 * run['high_quality']:.1f}% HQ, reverse KL {run['reverse_kl']:.3f}, "
        f"{run['seconds']:.1f} s per run",
        flush=True,
      )
    rows.append(
      {
        "recipe": recipe,
        "dataset": dataset,
        "seeds": args.seeds,
        "steps": steps,
        "description": RECIPES[recipe][0],
        **{
          key: mean_and_stderr([r[key] for r in runs])
          for key in mixture.MixtureMetrics._fields
          if key != "counts"
        },
        "seconds_per_run": float(np.mean([r["seconds"] for r in runs])),
        "per_seed": [
          {k: r[k] for k in ("modes", "high_quality", "reverse_kl", "seconds")} for r in runs
        ],
      }
    )
  total = time.perf_counter() - begin
  figure = (
    "mixture_samples.png" if not args.merge else f"mixture_samples_{'_'.join(args.recipes)}.png"
  )
  for row in rows:
    row.update(command=command_line(args), command_minutes=total / 60, figure=figure)
  json_path = os.path.join(args.out, "mixture.json")
  if args.merge and os.path.exists(json_path):
    with open(json_path) as f:
      rows = merge_rows(json.load(f), rows)
  with open(json_path, "w") as f:
    json.dump(
      [
        {
          **row,
          "per_seed": [
            {k: (v if isinstance(v, str) or math.isfinite(v) else str(v)) for k, v in r.items()}
            for r in row["per_seed"]
          ],
        }
        for row in rows
      ],
      f,
      indent=2,
    )
  write_markdown(rows, os.path.join(args.out, "mixture.md"))
  save_figure(examples, args.recipes, args.datasets, os.path.join(args.out, figure))
  print(f"wrote {args.out}/mixture.md, mixture.json, {figure} ({total / 60:.1f} min)")
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
