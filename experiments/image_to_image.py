"""Trains and evaluates the image-to-image recipes on Fashion-MNIST
(experiments/results/image_to_image.md).

    python experiments/image_to_image.py --task pix2pix --num_steps 2000 --root /tmp/i2i
    python experiments/image_to_image.py --task cyclegan --config.variant.identity_weight=0.0

Further arguments `--config.FIELD=VALUE` override the shipped config (as `gan-jax train`).

For pix2pix, superres and inpainting it trains the GAN (the shipped config)
and the same generator without the adversarial term (variant.adversarial_weight
= 0), each with `gan_jax.train.train_and_evaluate` into ROOT/TASK[_baseline]
(an existing run is resumed, so a second call only evaluates); for cyclegan
the one run. It then evaluates on the whole test split and writes
experiments/results/image_to_image_TASK.json and .png. Pixel metrics are on
images in [-1, 1] (L1 = mean absolute error on that scale, PSNR and SSIM with
data range 2); FD is the Frechet distance in the features of the library's
Fashion-MNIST classifier (gan_jax.metrics.features) between the outputs and
the real test images.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import cli, evaluate, train
from gan_jax.data import files, paired, to_unit_range
from gan_jax.metrics import features, frechet
from gan_jax.variants import cyclegan, inpainting, translation

ROOT = os.path.dirname(os.path.abspath(__file__))
TASKS = ("pix2pix", "superres", "inpainting", "cyclegan")
BATCH = 500
CLASS_NAMES = (
  "T-shirt",
  "trouser",
  "pullover",
  "dress",
  "coat",
  "sandal",
  "shirt",
  "sneaker",
  "bag",
  "ankle boot",
)


def load_config(task: str):
  path = os.path.join(ROOT, "configs", f"{task}_fashion_mnist.py")
  spec = importlib.util.spec_from_file_location(f"config_{task}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def run(config, workdir: str):
  start = time.time()
  state = train.train_and_evaluate(config, workdir, progress=False)
  return state, time.time() - start


def batched(fn, *arrays):
  outputs = [
    np.asarray(fn(*(jnp.asarray(a[i : i + BATCH]) for a in arrays)))
    for i in range(0, len(arrays[0]), BATCH)
  ]
  return np.concatenate(outputs)


def fd(network, outputs, reference_features) -> float:
  return frechet.frechet_distance_from_features(
    network.embed(np.clip(outputs, -1, 1))[0], reference_features
  )


def save_rows(rows: list[tuple[str, np.ndarray]], path: str, columns: int = 10):
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, axes = plt.subplots(len(rows), columns, figsize=(columns * 0.9, len(rows) * 1.0))
  for r, (name, images) in enumerate(rows):
    for c in range(columns):
      ax = axes[r, c]
      ax.imshow(np.asarray(images[c])[..., 0], cmap="gray", vmin=-1, vmax=1)
      ax.set_xticks([]), ax.set_yticks([])
      if c == 0:
        ax.set_ylabel(name, fontsize=7, rotation=0, ha="right", va="center")
  fig.tight_layout(pad=0.2)
  fig.savefig(path, dpi=100)
  plt.close(fig)


def evaluate_paired(
  task: str, states: dict, test_images, network, real_features
) -> tuple[dict, list]:
  """Metrics of each state's outputs on the test split, and the figure's rows."""
  x = np.asarray(to_unit_range(jnp.asarray(test_images)))
  results, rows = {}, []
  if task == "inpainting":
    num = len(x)
    masks = {
      "centre": np.asarray(paired.draw_masks(jax.random.PRNGKey(1), num, (28, 28), "centre")),
      "random": np.asarray(paired.draw_masks(jax.random.PRNGKey(2), num, (28, 28), "random")),
    }
    for kind, mask in masks.items():
      cond = np.asarray(paired.inpainting_input(jnp.asarray(x), jnp.asarray(mask)))
      rows.append((f"masked ({kind})", cond[:10, ..., :1]))
      for name, state in states.items():
        out = batched(jax.jit(lambda c, s=state: inpainting.inpaint(s, c)), cond)
        results[f"{name}/{kind}"] = {
          **evaluate.pixel_metrics(out, x, mask),
          "fd": fd(network, out, real_features),
        }
        rows.append((f"{name} ({kind})", out[:10]))
    rows.append(("original", x[:10]))
    return results, rows
  source = paired.task_arrays("edges" if task == "pix2pix" else "superres", test_images, None)
  cond = np.asarray(to_unit_range(jnp.asarray(source["cond"])))
  rows.append(
    (
      "input",
      cond[:10]
      if task == "pix2pix"
      else np.asarray(jax.image.resize(cond[:10], (10, 28, 28, 1), "nearest")),
    )
  )
  if task == "superres":
    bicubic = np.clip(np.asarray(jax.image.resize(jnp.asarray(cond), x.shape, "bicubic")), -1, 1)
    results["bicubic"] = {
      **evaluate.pixel_metrics(bicubic, x),
      "fd": fd(network, bicubic, real_features),
    }
    rows.append(("bicubic", bicubic[:10]))
  for name, state in states.items():
    out = batched(jax.jit(lambda c, s=state: translation.translate(s, c)), cond)
    results[name] = {**evaluate.pixel_metrics(out, x), "fd": fd(network, out, real_features)}
    rows.append((name, out[:10]))
  rows.append(("ground truth", x[:10]))
  return results, rows


def evaluate_cyclegan(config, state, test_images, test_labels, network) -> tuple[dict, list]:
  a_class, b_class = config.data.domains
  a = np.asarray(to_unit_range(jnp.asarray(test_images[test_labels == a_class])))
  b = np.asarray(to_unit_range(jnp.asarray(test_images[test_labels == b_class])))
  g = jax.jit(lambda x: cyclegan.translate_a_to_b(state, x))
  f = jax.jit(lambda x: cyclegan.translate_b_to_a(state, x))
  a_to_b, b_to_a = batched(g, a), batched(f, b)
  a_cycle, b_cycle = batched(f, a_to_b), batched(g, b_to_a)
  results = {
    "a_to_b_classified_as_b": float(np.mean(network.predict(a_to_b) == b_class)),
    "b_to_a_classified_as_a": float(np.mean(network.predict(b_to_a) == a_class)),
    "real_a_classified_as_a": float(np.mean(network.predict(a) == a_class)),
    "real_b_classified_as_b": float(np.mean(network.predict(b) == b_class)),
    "cycle_l1_a": float(np.mean(np.abs(a_cycle - a))),
    "cycle_l1_b": float(np.mean(np.abs(b_cycle - b))),
    "fd_a_to_b_vs_real_b": fd(network, a_to_b, network.embed(b)[0]),
    "fd_b_to_a_vs_real_a": fd(network, b_to_a, network.embed(a)[0]),
    "fd_real_a_vs_real_b": fd(network, a, network.embed(b)[0]),
  }
  a_name, b_name = CLASS_NAMES[a_class], CLASS_NAMES[b_class]
  rows = [
    (f"A ({a_name})", a[:10]),
    ("G(A)", a_to_b[:10]),
    ("F(G(A))", a_cycle[:10]),
    (f"B ({b_name})", b[:10]),
    ("F(B)", b_to_a[:10]),
    ("G(F(B))", b_cycle[:10]),
  ]
  return results, rows


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--task", choices=TASKS, required=True, help="the variant to train")
  parser.add_argument(
    "--num_steps", type=int, default=None, help="generator steps (default: the config's)"
  )
  parser.add_argument("--root", default="/tmp/i2i_runs", help="where the runs go")
  parser.add_argument(
    "--out", default=os.path.join(ROOT, "results"), help="folder of the page and figures"
  )
  args, overrides = parser.parse_known_args()
  if args.num_steps is not None and args.num_steps < 1:
    parser.error(f"--num_steps must be >= 1, got {args.num_steps}")
  try:
    config = cli.apply_overrides(load_config(args.task), overrides)
  except (cli.UsageError, ValueError) as error:
    parser.error(str(error))  # e.g. an unknown flag: one line, exit 2
  if args.num_steps is not None:
    config.num_steps = args.num_steps
  configs = {"gan": config}
  if args.task != "cyclegan":
    baseline = cli.apply_overrides(load_config(args.task), overrides)
    baseline.num_steps = config.num_steps
    baseline.variant.adversarial_weight = 0.0
    configs["no_adversarial"] = baseline
  states, seconds = {}, {}
  for name, cfg in configs.items():
    workdir = os.path.join(args.root, args.task + ("" if name == "gan" else "_" + name))
    states[name], seconds[name] = run(cfg, workdir)
    print(
      f"{args.task}/{name}: {cfg.num_steps} steps in {seconds[name]:.0f} s ({workdir})", flush=True
    )
  network = features.load_or_train(progress=True)
  test_images, test_labels = files.load_idx_split(config.data.path, "test")
  if args.task == "cyclegan":
    results, rows = evaluate_cyclegan(config, states["gan"], test_images, test_labels, network)
  else:
    real_features = network.embed(test_images)[0]
    results, rows = evaluate_paired(args.task, states, test_images, network, real_features)
  report = {
    "task": args.task,
    "overrides": overrides,
    "num_steps": config.num_steps,
    "batch_size": config.batch_size,
    "train_seconds": seconds,
    "feature_network": network.identity,
    "backend": jax.default_backend(),
    "test_examples": int(len(test_images)),
    "results": results,
  }
  os.makedirs(args.out, exist_ok=True)
  with open(os.path.join(args.out, f"image_to_image_{args.task}.json"), "w") as f:
    json.dump(report, f, indent=2)
  save_rows(rows, os.path.join(args.out, f"image_to_image_{args.task}.png"))
  print(json.dumps(report, indent=2))


if __name__ == "__main__":
  main()
