"""Does InfoGAN's categorical code capture the class? Measured on trained Fashion-MNIST runs.

    python experiments/infogan_classes.py --workdirs /tmp/infogan/paper_s0 /tmp/infogan/paper_s1 \\
        --name paper --command "gan-jax train ..."

For each run (its newest checkpoint, or --step), two matchings of the 10 code values to
the 10 classes, each the best one-to-one map (Hungarian, scipy's linear_sum_assignment):

  samples: 1,000 samples per code value (continuous codes drawn from U[-1, 1]), classed by
    the library's Fashion-MNIST classifier; accuracy = share whose class is the class
    matched to their code (Chen et al.'s MNIST figure: 5% error);
  Q on real test images: Q's most likely code for each of the 10,000 test images against
    the true label (Q as a clustering of the real data).

It writes infogan_classes_NAME_sSEED_STEP.png (row i: the code matched to class i, 10 noise
vectors as columns, continuous codes 0), keeps each row in experiments/results/infogan.json
and rewrites experiments/results/infogan.md from those rows and NOTES.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
from recorded_runs import RESULTS
from scipy.optimize import linear_sum_assignment

from gan_jax import plotting
from gan_jax.data import files
from gan_jax.logs import read_metrics
from gan_jax.metrics import features
from gan_jax.state import step_key
from gan_jax.variants import infogan

try:
  from gan_jax.runs import load_run
except ImportError:  # before the run loading left train.py
  from gan_jax.train import load_run

CLASSES = (
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
)
PER_CODE = 1000
JSON = os.path.join(RESULTS, "infogan.json")
NOTES = [
  "## Reading",
  "",
  "Goal: the categorical code captures the class, at least 60% best code-to-class matching "
  "over 3 seeds (Chen et al. report 5% error on MNIST). The former config "
  "(`infogan_fashion_mnist.py`: DCGAN players, Q a 128-unit head without BatchNorm on D's "
  "flattened 7x7x128 map, no BatchNorm in D, Adam 2e-4 for both players, normal z) read "
  "13.6% after 2,000 steps (greedy matching, variants_fashion_mnist.md), chance level, while "
  "Q's own bound was 2.249 of log 10 = 2.303 nats: G carried the code, but not as the class. "
  "The loss was checked and is as the paper has it: D with Q and G both minimise the "
  "adversarial loss plus info_weight * (CE(Q_cat, c) + continuous term) on the fakes' codes, "
  "and G sees [z, one_hot(c), c_cont].",
  "",
  "`infogan_paper_fashion_mnist.py` takes the paper's MNIST setup where the library differed "
  "(appendix C.1 and the authors' openai/InfoGAN code): the `infogan_mnist` players (D conv "
  "64, conv 128 BN, FC 1024 BN as the body Q shares; Q FC 128 BN; G FC 1024 BN, FC 7x7x128 "
  "BN, deconv 64 BN, deconv 1), 62 U[-1, 1] noise values, weight 1 for both code kinds, "
  "Adam G 1e-3 and D 2e-4 (beta1 0.5). Two choices differ from the authors' code: batch 64 "
  "(theirs 128) and leaky ReLU slope 0.1 (the paper's text; their code uses 0.01); and the "
  "runs here are 1,000 steps (64,000 images, about one epoch), not their 5,000 steps of "
  "128, for the machine time. Which of the paper's choices makes the difference was not "
  "separated (no ablation was run).",
  "",
  "Result (2026-12-05): at 1,000 steps the code matches the class for 70.0%, 58.6% and "
  "74.4% of the samples (seeds 0, 1, 2; mean 67.7%), and Q, read as a clustering of the real "
  "test images, for 64.4%, 57.6% and 67.3% (mean 63.1%), against 13.6% before. The mean "
  "passes 60%; seed 1 stays 1.4 points (samples) and 2.4 points (Q on real) short. From 500 "
  "to 1,000 steps the samples' mean moved from 69.8% to 67.7% and Q's from 57.0% to 63.1%; "
  "the authors' 5,000 steps of 128 were not run. What keeps it from the paper's 95% on "
  "MNIST shows in the figures: the tops "
  "(T-shirt/top, Pullover, Coat, Shirt) share codes. The code matched to Shirt draws other "
  "tops and dresses (seeds 0 and 2) or shoes (seed 1), and in seed 0 the code matched to Bag "
  "draws tops too; trousers, dresses, sandals, sneakers and ankle boots get codes of their "
  "own in every seed. The judge itself reads real "
  "shirts at 74.1% and coats at 85.7%, so part of the tops' confusion is the judge's too.",
  "",
  "Figures: row i shows the code matched to class i (T-shirt/top, Trouser, Pullover, Dress, "
  "Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot), one noise vector per column.",
  "",
]


def matching(codes: np.ndarray, classes: np.ndarray, k: int) -> tuple[float, list[int]]:
  """(accuracy, class matched to each code) of the best one-to-one map, by the Hungarian method."""
  joint = np.zeros((k, k), int)
  np.add.at(joint, (codes, classes), 1)
  rows, cols = linear_sum_assignment(-joint)
  return float(joint[rows, cols].sum() / len(codes)), [int(c) for c in cols[np.argsort(rows)]]


def sample_matching(state, network) -> dict:
  """Code -> the classifier's class on PER_CODE samples per code value."""
  k = state.game.num_categories
  key = step_key(jax.random.PRNGKey(1), 0, "samples")
  z = state.noise(key, k * PER_CODE)
  codes = np.tile(np.arange(k), PER_CODE)
  shape = (k * PER_CODE, state.game.num_continuous)
  continuous = jax.random.uniform(jax.random.fold_in(key, 1), shape, minval=-1.0, maxval=1.0)
  generate = jax.jit(infogan.generate)
  images = np.concatenate(
    [
      np.asarray(
        generate(state, z[i : i + 1000], jnp.asarray(codes[i : i + 1000]), continuous[i : i + 1000])
      )
      for i in range(0, len(codes), 1000)
    ]
  )
  accuracy, matched = matching(codes, network.predict(images), k)
  return {"accuracy": accuracy, "matched_class": matched}


def q_matching(state) -> dict:
  """Q's most likely code on the real test images -> their true labels."""
  images, labels = files.load_idx_split(files.FASHION_MNIST_DIR, "test")
  k = state.game.num_categories

  @jax.jit
  def q_codes(x):
    variables = {"params": state.d_params, **state.d_collections}
    _, q = state.d_apply_fn(variables, x.astype(jnp.float32) / 127.5 - 1.0, train=False)
    return jnp.argmax(q[:, :k], axis=-1)

  codes = np.concatenate(
    [np.asarray(q_codes(images[i : i + 1000])) for i in range(0, len(images), 1000)]
  )
  accuracy, matched = matching(codes, labels, k)
  return {"accuracy": accuracy, "matched_class": matched}


def class_figure(state, matched: list[int], path: str) -> None:
  """Row i: samples of the code matched to class i (codes matched to no class last)."""
  k = state.game.num_categories
  order = [matched.index(c) for c in range(k)]
  z = state.noise(step_key(jax.random.PRNGKey(2), 0, "samples"), 10)
  images = infogan.generate(state, jnp.tile(z, (k, 1)), jnp.repeat(jnp.asarray(order), 10))
  plotting.save_image_grid(images, path, columns=10)


def write_markdown(rows: list[dict]) -> None:
  lines = [
    "# InfoGAN on Fashion-MNIST: does the categorical code capture the class?",
    "",
    "Written by `experiments/infogan_classes.py` from the rows of `infogan.json`; each row "
    "names its date and training command. 'samples': 1,000 samples per code value "
    "(continuous codes from U[-1, 1]) classed by the library's Fashion-MNIST classifier "
    "(`fmnist-cnn-4a977c3e9eb1`, 90.9% on the real test images), accuracy of the best "
    "one-to-one code-to-class map (Hungarian). 'Q on real': Q's most likely code for the "
    "10,000 real test images against their true labels, best map likewise. Host: AMD EPYC, "
    "2 cores, shared with other work (wall-clock figures are upper bounds).",
    "",
    "| setup | seed | steps | samples: accuracy | Q on real: accuracy | Q's bound (nats) "
    "| train wall-clock | date | figure |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  ]
  for r in rows:
    figure = f"[{r['figure']}]({r['figure']})" if r["figure"] else ""
    lines.append(
      f"| {r['name']} | {r['seed']} | {r['steps']} | **{r['samples']['accuracy']:.1%}** "
      f"| {r['q_on_real']['accuracy']:.1%} | {r['q_lower_bound_nats']:.3f} "
      f"| {r['train_wall_clock_s'] / 60:.1f} min | {r['date']} "
      f"| {figure} |"
    )
  groups: dict[tuple, list[dict]] = {}
  for r in rows:
    groups.setdefault((r["name"], r["steps"]), []).append(r)
  lines += [""]
  for (name, steps), group in groups.items():
    if len(group) > 1:
      samples = [r["samples"]["accuracy"] for r in group]
      real = [r["q_on_real"]["accuracy"] for r in group]
      lines.append(
        f"- {name}, {steps} steps, seeds {', '.join(str(r['seed']) for r in group)}: "
        f"samples {np.mean(samples):.1%} on average (lowest {min(samples):.1%}), Q on "
        f"real {np.mean(real):.1%} (lowest {min(real):.1%})."
      )
  lines += ["", "Commands:", ""]
  for command in dict.fromkeys(r["command"] for r in rows if r["command"]):
    lines.append(f"    {command}")
  lines += [""] + NOTES
  with open(os.path.join(RESULTS, "infogan.md"), "w") as f:
    f.write("\n".join(lines) + "\n")


def main() -> None:
  parser = argparse.ArgumentParser(
    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
  )
  parser.add_argument("--workdirs", nargs="+", required=True)
  parser.add_argument("--name", required=True, help="the setup's name in the results")
  parser.add_argument("--command", default="", help="the training command, kept with the row")
  parser.add_argument("--step", type=int, default=None)
  parser.add_argument("--page_only", action="store_true", help="only rewrite infogan.md")
  args = parser.parse_args()
  if args.page_only:
    with open(JSON) as f:
      write_markdown(json.load(f))
    return
  network = features.load_or_train()
  rows = []
  if os.path.exists(JSON):
    with open(JSON) as f:
      rows = json.load(f)
  for workdir in args.workdirs:
    config, _, state = load_run(workdir, args.step)
    step = int(state.step)
    samples = sample_matching(state, network)
    real = q_matching(state)
    figure = f"infogan_classes_{args.name}_s{config.seed}_{step}.png"
    class_figure(state, samples["matched_class"], os.path.join(RESULTS, figure))
    metrics = [m for m in read_metrics(workdir) if m["step"] <= step]
    row = {
      "name": args.name,
      "seed": config.seed,
      "steps": step,
      "samples": samples,
      "q_on_real": real,
      "q_lower_bound_nats": metrics[-1].get("mi_lower_bound"),
      "train_wall_clock_s": round(metrics[-1]["wall_time"], 1),
      "figure": figure,
      "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
      "command": args.command,
    }
    print(json.dumps(row), flush=True)
    rows = [r for r in rows if (r["name"], r["seed"], r["steps"]) != (args.name, config.seed, step)]
    rows.append(row)
    with open(JSON, "w") as f:
      json.dump(rows, f, indent=2)
  write_markdown(rows)


if __name__ == "__main__":
  main()
