"""Text-to-image GAN against a class-conditional GAN on captioned Fashion-MNIST test captions.

    python experiments/make_captions.py
    gan-jax train --config experiments/configs/text_to_image_fashion_mnist.py --workdir T2I
    gan-jax train --config experiments/configs/cgan_fashion_mnist.py --workdir CGAN
    python experiments/text_to_image.py --text_run T2I --class_run CGAN --step 2000

For every one of the 10,000 test images there are two captions (make_captions.py): one in a
held-out phrasing (a word order never seen in training) and one in a training phrasing. Each
model draws one sample per caption (the same z for both models; the cGAN gets only the
caption's class). Measured with the library's Fashion-MNIST feature network:
  class agreement: the share of samples the classifier puts in the caption's class;
  attribute agreement: per attribute a caption names (brightness, width, fill), Spearman's
    rank correlation between the level it names (low, middle, high third of the class) and
    the sample's measured attribute as a percentile of the training images of its class;
  FD: Frechet distance of the samples' features to the 10,000 test images'.
The real test images under the same captions give the ceilings. Writes
experiments/results/text_to_image.{md,json} and text_to_image.png (captions beside samples).
"""

from __future__ import annotations

import argparse
import json
import os

import jax
import matplotlib
import numpy as np
from scipy import stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from make_captions import ATTRIBUTES, HELD_OUT_TEMPLATES, TRAIN_TEMPLATES, measure
from recorded_runs import RESULTS

from gan_jax import recipes, runs, sampling
from gan_jax.data import captions, files
from gan_jax.metrics import features, frechet
from gan_jax.state import step_key

COLUMNS = ("held-out phrasing", "training phrasing")
FIGURE_CAPTIONS = (("a bright sandal", False), ("a dark sandal", False),
                   ("this is a wide, dark pullover", True), ("a narrow, pale pullover", False),
                   ("the bag is dense and light", True), ("a sparse, black bag", False),
                   ("dark and wide trousers", True),
                   ("a picture of the boot that looks pale", True),
                   ("this tee looks bright and narrow", False), ("the sneaker is dim", True))


def draw(state, recipe, conditions, seed: int = 1, batch: int = 500) -> np.ndarray:
  """One sample per row of `conditions` (tokens (N, L) or class ids (N,)), z from `seed`."""
  z = state.noise(step_key(jax.random.PRNGKey(seed), 0, "samples"), len(conditions))
  sample = sampling.jitted_sample(recipe)
  return np.concatenate([np.asarray(sample(state, z[i:i + batch], conditions[i:i + batch]))
                         for i in range(0, len(conditions), batch)])


def percentiles(values: np.ndarray, labels: np.ndarray, reference: np.ndarray,
                reference_labels: np.ndarray) -> np.ndarray:
  """(N, 3): each value's percentile among the reference values of the same class."""
  out = np.zeros_like(values)
  for c in np.unique(labels):
    ref = np.sort(reference[reference_labels == c], axis=0)
    rows = labels == c
    for a in range(values.shape[1]):
      out[rows, a] = np.searchsorted(ref[:, a], values[rows, a]) / len(ref)
  return out


def scores(images, labels, levels, network, test_features, train_values, train_labels) -> dict:
  """Class agreement, Spearman per attribute (and their mean), FD to the test features."""
  feats, logits = network.embed(images)
  agree = float(np.mean(np.argmax(logits, axis=1) == labels))
  ranks = percentiles(measure(images), labels, train_values, train_labels)
  rho = {}
  for a, name in enumerate(ATTRIBUTES):
    named = levels[:, a] >= 0
    rho[name] = float(stats.spearmanr(levels[named, a], ranks[named, a]).statistic)
  return {"class_agreement": agree, "spearman": rho,
          "spearman_mean": float(np.mean(list(rho.values()))),
          "fd": float(frechet.frechet_distance_from_features(feats, test_features))}


def figure(state, recipe, path: str, per_row: int = 8) -> None:
  """Captions (held-out phrasings marked) beside `per_row` samples each, the same z per column."""
  fig, axes = plt.subplots(len(FIGURE_CAPTIONS), 1, figsize=(per_row * 0.9 + 3.2,
                                                              len(FIGURE_CAPTIONS) * 0.95))
  for ax, (text, held_out) in zip(axes, FIGURE_CAPTIONS):
    tokens = np.tile(captions.tokenize(text), (per_row, 1))
    images = (draw(state, recipe, tokens, seed=2)[..., 0] + 1) / 2
    ax.imshow(np.concatenate(list(images), axis=1), cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_ylabel(f'"{text}"' + ("\n(held-out phrasing)" if held_out else ""), rotation=0,
                  ha="right", va="center", fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def pct(x: float) -> str:
  return f"{100 * x:.1f}%"


def write_page(result: dict, path: str) -> None:
  rows = []
  for column in COLUMNS:
    for model in ("text_to_image", "conditional", "real test images"):
      r = result["scores"][column][model]
      rho = r["spearman"]
      fd = "0 (reference)" if model == "real test images" else f"{r['fd']:.1f}"
      rows.append(f"| {column} | {model} | {pct(r['class_agreement'])} | "
                  f"{rho['brightness']:.3f} | {rho['width']:.3f} | {rho['ink']:.3f} | "
                  f"{r['spearman_mean']:.3f} | {fd} |")
  held = result["scores"][COLUMNS[0]]["text_to_image"]
  goal = "met" if held["class_agreement"] >= 0.85 else "not met"
  lines = [
      "# Text-to-image GAN on captioned Fashion-MNIST",
      "",
      "GAN-INT-CLS's matching-aware discriminator (Reed et al. 2016) with StackGAN's conditioning "
      "augmentation (Zhang et al. 2017), `experiments/configs/text_to_image_fashion_mnist.py`, "
      "against the class-conditional GAN `experiments/configs/cgan_fashion_mnist.py` (given "
      "only the caption's class), both at "
      f"{result['step']:,} steps of batch 64, seed 0, sampled with the EMA generator.",
      "",
      f"Measured {result['date']} on {result['host']}:",
      "",
      "```bash",
      result["command"],
      "```",
      "",
      "Captions (`experiments/make_captions.py`, seed 0): class plus 0-3 measured attributes, "
      "each cut into thirds within its class: brightness (mean gray of the ink), width "
      "(horizontal extent) and fill (ink share of the bounding box; 'ink' words such as "
      "sparse/solid), several synonyms each, 5 captions per training image in "
      f"{len(TRAIN_TEMPLATES)} phrasings. Each of the 10,000 test images gets one caption in a "
      f"held-out phrasing ({len(HELD_OUT_TEMPLATES)} word orders never seen in training, e.g. "
      "\"this is a wide, dark pullover\", \"the bag is dense and light\") and one in a "
      "training phrasing, each naming 1-3 attributes. One sample per caption, the same z for "
      "both models.",
      "",
      "Class agreement: the feature network (`gan_jax.metrics.features`) puts the sample in the "
      "caption's class. Attribute agreement: Spearman's rho between the level a caption names "
      "(low, middle, high) and the sample's measured attribute as a percentile among the "
      "training images of its class, over the captions that name that attribute. FD: "
      "Frechet distance in the feature network's features to the 10,000 test images.",
      "",
      "| captions | model | class agreement | rho brightness | rho width | rho fill | "
      "rho mean | FD |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
      *rows,
      "",
      f"Goal (class agreement >= 85% on held-out phrasings): **{goal}** "
      f"({pct(held['class_agreement'])}).",
      "",
      result.get("notes", ""),
      "",
      "![captions beside samples](text_to_image.png)",
      "",
      "*Each row: a caption and 8 samples of the text-to-image GAN (the same 8 z in every "
      "row); rows marked held-out use phrasings never seen in training.*",
      "",
  ]
  with open(path, "w") as f:
    f.write("\n".join(lines))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--text_run", required=True)
  parser.add_argument("--class_run", required=True)
  parser.add_argument("--step", type=int, default=None, help="checkpoint step of both runs")
  parser.add_argument("--captions", default="runs/data")
  parser.add_argument("--date", default="2026-12-05")
  parser.add_argument("--host", default="AMD EPYC, 2 cores, shared with other work")
  parser.add_argument("--notes", default="")
  args = parser.parse_args()
  network = features.load_or_train()
  with np.load(os.path.join(args.captions, "fashion_mnist_captions_test.npz")) as f:
    test = {k: f[k] for k in f.files}
  train_x, train_y = files.load_idx_split(files.FASHION_MNIST_DIR, "train")
  train_values = measure(train_x)
  test_features = network.embed(test["x"])[0]
  _, _, text_state = runs.load_run(args.text_run, args.step)
  _, _, class_state = runs.load_run(args.class_run, args.step)
  assert int(text_state.step) == int(class_state.step), (text_state.step, class_state.step)
  text_recipe = recipes.get_recipe("text_to_image")
  class_recipe = recipes.get_recipe("conditional")
  labels = test["label"].astype(np.int32)
  common = (network, test_features, train_values, train_y)
  result = {"step": int(text_state.step), "date": args.date, "host": args.host,
            "notes": args.notes, "scores": {},
            "command": f"python experiments/text_to_image.py --text_run {args.text_run} "
                       f"--class_run {args.class_run} --step {int(text_state.step)}"}
  class_samples = draw(class_state, class_recipe, labels)
  for j, column in enumerate(COLUMNS):
    tokens = test["tokens"][:, j].astype(np.int32)
    levels = test["levels"][:, j]
    result["scores"][column] = {
        "text_to_image": scores(draw(text_state, text_recipe, tokens), labels, levels, *common),
        "conditional": scores(class_samples, labels, levels, *common),
        "real test images": scores(test["x"], labels, levels, *common)}
    print(column, json.dumps(result["scores"][column]))
  figure(text_state, text_recipe, os.path.join(RESULTS, "text_to_image.png"))
  with open(os.path.join(RESULTS, "text_to_image.json"), "w") as f:
    json.dump(result, f, indent=1)
  write_page(result, os.path.join(RESULTS, "text_to_image.md"))
  print(f"wrote {os.path.join(RESULTS, 'text_to_image.md')}")


if __name__ == "__main__":
  main()
