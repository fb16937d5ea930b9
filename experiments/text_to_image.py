"""Text-to-image GAN against a class-conditional GAN on captioned Fashion-MNIST test captions.

    python experiments/make_captions.py
    gan-jax train --config experiments/configs/text_to_image_fashion_mnist.py --workdir T2I
    gan-jax train --config experiments/configs/cgan_fashion_mnist.py --workdir CGAN
    python experiments/text_to_image.py --text_run T2I --class_run CGAN --step 2000

Every test image has two captions (make_captions.py): one in a held-out phrasing (a word
order never seen in training) and one in a training phrasing; --num of the 10,000 test
images (a seed-0 permutation) are scored. Each model draws one sample per caption (the same
z for both models; the cGAN gets only the caption's class). Measured with the library's
Fashion-MNIST feature network and `make_captions.measure`:
  class agreement: the share of samples the classifier puts in the caption's class;
  attribute agreement: per attribute (brightness, width, fill), within each class, Spearman's
    rank correlation between the level a caption names (low, middle, high third of the
    class) and the sample's measured attribute, over the captions naming it; the mean over
    the classes (within a class, so that the class alone, which the cGAN has, earns ~0);
  FD: Frechet distance of the samples' features to the 10,000 test images'.
The real test images under the same captions give the ceilings. Writes
experiments/results/text_to_image.{md,json} and text_to_image.png (captions beside samples).

A/B runs, one change each against the shipped config, are scored alone and kept as rows of
the page's A/B table (the baseline's row is the main table's):

    gan-jax train --config experiments/configs/text_to_image_fashion_mnist.py --workdir AB \
      --config.num_steps=2000 --config.variant.cond_dim=128 --config.variant.kl_weight=0.015625
    python experiments/text_to_image.py --text_run AB --step 2000 --ab cond_dim_128 \
      --change "StackGAN's conditioning augmentation sizes: cond_dim 128, KL 2.0 per coordinate"
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import matplotlib
import numpy as np
from scipy import stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from make_captions import ATTRIBUTES, HELD_OUT_TEMPLATES, TRAIN_TEMPLATES, measure
from recorded_runs import RESULTS, host

from gan_jax import recipes, runs, sampling
from gan_jax.data import captions
from gan_jax.metrics import features, frechet
from gan_jax.state import step_key

COLUMNS = ("held-out phrasing", "training phrasing")
FIGURE_CAPTIONS = (
  ("a bright sandal", False),
  ("a dark sandal", False),
  ("this is a wide, dark pullover", True),
  ("a narrow, pale pullover", False),
  ("the bag is dense and light", True),
  ("a sparse, black bag", False),
  ("dark and wide trousers", True),
  ("a picture of the boot that looks pale", True),
  ("this tee looks bright and narrow", False),
  ("the sneaker is dim", True),
)


def draw(state, recipe, conditions, seed: int = 1, batch: int = 500) -> np.ndarray:
  """One sample per row of `conditions` (tokens (N, L) or class ids (N,)), z from `seed`."""
  z = state.noise(step_key(jax.random.PRNGKey(seed), 0, "samples"), len(conditions))
  sample = sampling.jitted_sample(recipe)
  return np.concatenate(
    [
      np.asarray(sample(state, z[i : i + batch], conditions[i : i + batch]))
      for i in range(0, len(conditions), batch)
    ]
  )


def raw(state):
  """The state sampling with the online generator (raw G) instead of the EMA."""
  return state.replace(g_ema_params=None, g_ema_collections=None)


def within_class_spearman(levels: np.ndarray, values: np.ndarray, labels: np.ndarray) -> float:
  """Mean over classes of Spearman's rho between named levels and measured values (rows that
  name the attribute); a class whose samples do not vary counts as 0 (no agreement)."""
  rhos = []
  for c in np.unique(labels):
    rows = (labels == c) & (levels >= 0)
    if len(np.unique(levels[rows])) < 2:
      continue
    rho = stats.spearmanr(levels[rows], values[rows]).statistic
    rhos.append(0.0 if np.isnan(rho) else float(rho))
  return float(np.mean(rhos))


def scores(images, labels, levels, network, test_features) -> dict:
  """Class agreement, within-class Spearman per attribute (and their mean), FD to the test
  features."""
  feats, logits = network.embed(images)
  agree = float(np.mean(np.argmax(logits, axis=1) == labels))
  values = measure(images)
  rho = {
    name: within_class_spearman(levels[:, a], values[:, a], labels)
    for a, name in enumerate(ATTRIBUTES)
  }
  return {
    "class_agreement": agree,
    "spearman": rho,
    "spearman_mean": float(np.mean(list(rho.values()))),
    "fd": float(frechet.frechet_distance_from_features(feats, test_features)),
  }


def figure(state, recipe, path: str, per_row: int = 8) -> None:
  """Captions (held-out phrasings marked) beside `per_row` samples each, the same z per column."""
  fig, axes = plt.subplots(
    len(FIGURE_CAPTIONS), 1, figsize=(per_row * 0.9 + 3.2, len(FIGURE_CAPTIONS) * 0.95)
  )
  for ax, (text, held_out) in zip(axes, FIGURE_CAPTIONS):
    tokens = np.tile(captions.tokenize(text), (per_row, 1))
    images = (draw(state, recipe, tokens, seed=2)[..., 0] + 1) / 2
    ax.imshow(np.concatenate(list(images), axis=1), cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_ylabel(
      f'"{text}"' + ("\n(held-out phrasing)" if held_out else ""),
      rotation=0,
      ha="right",
      va="center",
      fontsize=8,
    )
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def pct(x: float) -> str:
  return f"{100 * x:.1f}%"


def ab_table(result: dict) -> list[str]:
  """The A/B rows: the baseline (the main table's text model) and each one-change run."""
  if not result.get("ab"):
    return []

  def row(name, change, step, date, scores_of):
    cells = []
    for column in COLUMNS:
      for weights in ("EMA", "raw G"):
        cells.append(pct(scores_of[column][f"text_to_image ({weights})"]["class_agreement"]))
    fd = scores_of[COLUMNS[0]]["text_to_image (raw G)"]["fd"]
    rho = scores_of[COLUMNS[0]]["text_to_image (raw G)"]["spearman_mean"]
    return f"| {name} | {change} | {step:,} | {' | '.join(cells)} | {rho:.3f} | {fd:.1f} | {date} |"

  lines = [
    "## A/B runs (seed 0)",
    "",
    "Class agreement of the text-to-image GAN with its EMA (BatchNorm statistics recomputed) "
    "and raw generator; rho mean and FD of the raw generator on held-out phrasings. Each run's "
    "change is against the run it names.",
    "",
    "| run | change | steps | held-out, EMA | held-out, raw G | training phrasing, EMA | "
    "training phrasing, raw G | rho mean | FD | date |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    row(
      "shipped",
      "the shipped config (the table above)",
      result["step"],
      result["date"],
      result["scores"],
    ),
  ]
  for name, ab in result["ab"].items():
    lines.append(row(name, ab["change"], ab["step"], ab["date"], ab["scores"]))
  lines.append("")
  for name, ab in result["ab"].items():
    trained = f"trained by `{ab['train_command']}`, " if ab.get("train_command") else ""
    lines.append(f"- `{name}`: {trained}scored by `{ab['command']}` ({ab['host']})")
  lines.append("")
  return lines


def write_page(result: dict, path: str) -> None:
  rows = []
  for column in COLUMNS:
    for model in result["scores"][column]:
      r = result["scores"][column][model]
      rho = r["spearman"]
      fd = "0 (reference)" if model == "real test images" else f"{r['fd']:.1f}"
      rows.append(
        f"| {column} | {model} | {pct(r['class_agreement'])} | "
        f"{rho['brightness']:.3f} | {rho['width']:.3f} | {rho['ink']:.3f} | "
        f"{r['spearman_mean']:.3f} | {fd} |"
      )
  held = max(
    v["class_agreement"]
    for k, v in result["scores"][COLUMNS[0]].items()
    if k.startswith("text_to_image")
  )
  goal = "met" if held >= 0.85 else "not met"
  lines = [
    "# Text-to-image GAN on captioned Fashion-MNIST",
    "",
    "GAN-INT-CLS's matching-aware discriminator (Reed et al. 2016) with StackGAN's conditioning "
    "augmentation (Zhang et al. 2017), `experiments/configs/text_to_image_fashion_mnist.py`, "
    "against the class-conditional GAN `experiments/configs/cgan_fashion_mnist.py` (given "
    "only the caption's class), both at "
    f"{result['step']:,} steps of batch 64, seed 0, each sampled with its EMA generator "
    "(decay 0.999; BatchNorm statistics recomputed for the EMA weights, as `gan-jax sample` "
    "does) and with its online generator (raw G).",
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
    f"{len(TRAIN_TEMPLATES)} phrasings. Each test image gets one caption in a "
    f"held-out phrasing ({len(HELD_OUT_TEMPLATES)} word orders never seen in training, e.g. "
    "\"this is a wide, dark pullover\", \"the bag is dense and light\") and one in a "
    "training phrasing, each naming 1-3 attributes. Scored: "
    f"{result['num']:,} test images (a seed-0 permutation), one sample per caption, the "
    "same z for both models.",
    "",
    "Class agreement: the feature network (`gan_jax.metrics.features`) puts the sample in the "
    "caption's class. Attribute agreement: within each class, Spearman's rho between the "
    "level a caption names (low, middle, high) and the sample's measured attribute, over "
    "the captions that name it, averaged over the 10 classes (within a class, so the class "
    "alone earns about 0; a class whose samples do not vary counts 0). FD: "
    "Frechet distance in the feature network's features to the 10,000 test images.",
    "",
    "| captions | model | class agreement | rho brightness | rho width | rho fill | "
    "rho mean | FD |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    *rows,
    "",
    f"Goal (class agreement >= 85% on held-out phrasings): **{goal}** "
    f"(best of EMA and raw G: {pct(held)}).",
    "",
    result.get("notes", ""),
    "",
    *ab_table(result),
    "![captions beside samples](text_to_image.png)",
    "",
    f"*Each row: a caption and 8 samples of the text-to-image GAN ({result['figure']} "
    "weights; the same 8 z in every row); rows marked held-out use phrasings never seen "
    "in training.*",
    "",
  ]
  with open(path, "w") as f:
    f.write("\n".join(lines))


def previous_notes() -> str:
  """The notes of the page's JSON, kept by a rerun without --notes."""
  path = os.path.join(RESULTS, "text_to_image.json")
  if not os.path.exists(path):
    return ""
  with open(path) as f:
    return json.load(f).get("notes", "")


def previous_ab() -> dict:
  """The A/B rows of the page's JSON, kept by a rerun of the main comparison."""
  path = os.path.join(RESULTS, "text_to_image.json")
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    return json.load(f).get("ab", {})


def score_ab(args, network, test, test_features, config, source, state) -> None:
  """Scores one A/B text run (EMA and raw G, both phrasings) into the page's A/B table."""
  recipe = recipes.get_recipe("text_to_image")
  rows = np.random.default_rng(0).permutation(len(test["x"]))[: args.num]
  labels = test["label"][rows].astype(np.int32)
  states = {
    "EMA": sampling.sampling_state(state, config, recipe, source.num_classes),
    "raw G": raw(state),
  }
  result_scores = {}
  for weights, text in states.items():
    for j, column in enumerate(COLUMNS):
      tokens = test["tokens"][rows, j].astype(np.int32)
      levels = test["levels"][rows, j]
      result_scores.setdefault(column, {})[f"text_to_image ({weights})"] = scores(
        draw(text, recipe, tokens), labels, levels, network, test_features
      )
      print(column, weights, json.dumps(result_scores[column]))
  path = os.path.join(RESULTS, "text_to_image.json")
  with open(path) as f:
    result = json.load(f)
  result.setdefault("ab", {})[args.ab] = {
    "change": args.change,
    "step": int(state.step),
    "date": args.date,
    "host": args.host,
    "num": args.num,
    "scores": result_scores,
    "train_command": args.train_command,
    "command": f"python experiments/text_to_image.py --text_run {args.text_run} "
    f"--step {int(state.step)} --ab {args.ab} --change '{args.change}'",
  }
  with open(path, "w") as f:
    json.dump(result, f, indent=1)
  write_page(result, os.path.join(RESULTS, "text_to_image.md"))
  print(f"wrote {os.path.join(RESULTS, 'text_to_image.md')}")


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--text_run", required=True)
  parser.add_argument("--class_run", help="the class-conditional baseline (not with --ab)")
  parser.add_argument("--ab", help="score --text_run alone as the A/B row of this name")
  parser.add_argument("--change", default="", help="the A/B run's one change, in words")
  parser.add_argument("--train_command", default="", help="how the A/B run was trained")
  parser.add_argument("--step", type=int, default=None, help="checkpoint step of both runs")
  parser.add_argument("--num", type=int, default=10000, help="test captions (of 10,000) scored")
  parser.add_argument("--class_step", type=int, default=None, help="default: --step")
  parser.add_argument("--captions", default="runs/data")
  parser.add_argument(
    "--date", default=time.strftime("%Y-%m-%d", time.gmtime()), help="default: today (UTC)"
  )
  parser.add_argument("--host", default=host(), help="default: this CPU (lscpu) and its cores")
  parser.add_argument("--notes", default="")
  parser.add_argument(
    "--figure", default="EMA", choices=("EMA", "raw G"), help="the generator weights of the figure"
  )
  parser.add_argument(
    "--page_only",
    action="store_true",
    help="rewrite the page (and its notes) from the JSON, scoring nothing",
  )
  args = parser.parse_args()
  if args.page_only:
    with open(os.path.join(RESULTS, "text_to_image.json")) as f:
      result = json.load(f)
    result["notes"] = args.notes or result.get("notes", "")
    with open(os.path.join(RESULTS, "text_to_image.json"), "w") as f:
      json.dump(result, f, indent=1)
    write_page(result, os.path.join(RESULTS, "text_to_image.md"))
    return
  if not args.ab and not args.class_run:
    parser.error("--class_run is needed unless --ab scores a text run alone")
  network = features.load_or_train()
  with np.load(os.path.join(args.captions, "fashion_mnist_captions_test.npz")) as f:
    test = {k: f[k] for k in f.files}
  test_features = network.embed(test["x"])[0]
  text_config, text_source, text_state = runs.load_run(args.text_run, args.step)
  if args.ab:
    score_ab(args, network, test, test_features, text_config, text_source, text_state)
    return
  class_config, class_source, class_state = runs.load_run(
    args.class_run, args.class_step or args.step
  )
  if int(text_state.step) != int(class_state.step):
    print(f"warning: steps differ, {int(text_state.step)} against {int(class_state.step)}")
  text_recipe = recipes.get_recipe("text_to_image")
  class_recipe = recipes.get_recipe("conditional")
  rows = np.random.default_rng(0).permutation(len(test["x"]))[: args.num]
  test_x = test["x"][rows]
  labels = test["label"][rows].astype(np.int32)
  common = (network, test_features)
  result = {
    "step": int(text_state.step),
    "date": args.date,
    "host": args.host,
    "notes": args.notes or previous_notes(),
    "scores": {},
    "num": args.num,
    "command": f"python experiments/text_to_image.py --text_run {args.text_run} "
    f"--class_run {args.class_run} --step {int(text_state.step)} "
    f"--num {args.num} --figure '{args.figure}'",
  }
  # the EMA as gan-jax sample draws it: BatchNorm statistics recomputed for its weights
  ema = (
    sampling.sampling_state(text_state, text_config, text_recipe, text_source.num_classes),
    sampling.sampling_state(class_state, class_config, class_recipe, class_source.num_classes),
  )
  states = {"EMA": ema, "raw G": (raw(text_state), raw(class_state))}
  for weights, (text, cgan) in states.items():
    class_samples = draw(cgan, class_recipe, labels)
    for j, column in enumerate(COLUMNS):
      tokens = test["tokens"][rows, j].astype(np.int32)
      levels = test["levels"][rows, j]
      row = result["scores"].setdefault(column, {})
      row[f"text_to_image ({weights})"] = scores(
        draw(text, text_recipe, tokens), labels, levels, *common
      )
      row[f"conditional ({weights})"] = scores(class_samples, labels, levels, *common)
      if weights == "EMA":
        row["real test images"] = scores(test_x, labels, levels, *common)
      print(column, weights, json.dumps(row))
  figure(states[args.figure][0], text_recipe, os.path.join(RESULTS, "text_to_image.png"))
  result["figure"] = args.figure
  result["ab"] = previous_ab()
  with open(os.path.join(RESULTS, "text_to_image.json"), "w") as f:
    json.dump(result, f, indent=1)
  write_page(result, os.path.join(RESULTS, "text_to_image.md"))
  print(f"wrote {os.path.join(RESULTS, 'text_to_image.md')}")


if __name__ == "__main__":
  main()
