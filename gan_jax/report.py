"""A run report: DIR/report.md with PNG figures in DIR/report/.

Figures: the final samples (image grid or scatter over the data), slerp walks between
pairs of latents (for recipes whose generator input is a latent), the losses,
D(x) and D(G(z)) over steps, the gradient norms, and the metrics over steps
when the run was evaluated during training (DIR/eval_metrics.jsonl).
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gan_jax import evaluate, recipes, runs, sampling  # noqa: E402
from gan_jax.logs import read_metrics  # noqa: E402

REPORT_DIR = "report"


def _series(records: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
  """(steps, values) of `key` over records, skipping records without a finite value."""
  steps, values = [], []
  for record in records:
    try:
      value = float(record[key])
    except (KeyError, TypeError, ValueError):
      continue
    steps.append(record["step"])
    values.append(value)
  return np.asarray(steps), np.asarray(values)


def plot_curves(
  records: list[dict],
  keys: list[tuple[str, str]],
  path: str,
  title: str,
  ylabel: str = "",
  log_y: bool = False,
) -> bool:
  """Line plot of (key, label) pairs over steps into `path`; False when no key has data."""
  fig, ax = plt.subplots(figsize=(6, 3.5))
  drawn = False
  for key, label in keys:
    steps, values = _series(records, key)
    if len(steps):
      ax.plot(steps, values, label=label, linewidth=1.2)
      drawn = True
  if not drawn:
    plt.close(fig)
    return False
  if log_y:
    ax.set_yscale("log")
  ax.set_xlabel("generator step")
  ax.set_ylabel(ylabel)
  ax.set_title(title)
  ax.legend(loc="best")
  ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)
  return True


def plot_eval_history(history: list[dict], path: str) -> bool:
  """One panel per metric over steps; False when there is no history."""
  names = evaluate.MIXTURE_KEYS + evaluate.CONDITION_KEYS + evaluate.IMAGE_KEYS
  keys = [k for k in names if any(k in r for r in history)]
  if not keys:
    return False
  counts = {r.get("num_samples") for r in history}
  samples = f", {counts.pop()} samples" if len(counts) == 1 and None not in counts else ""
  fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3), squeeze=False)
  for ax, key in zip(axes[0], keys):
    steps, values = _series(history, key)
    ax.plot(steps, values, marker="o", markersize=3)
    ax.set_title(key)
    ax.set_xlabel("generator step" + samples)
    ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)
  return True


def write_report(workdir: str, state=None, source=None, config=None, step=None) -> str:
  """Writes DIR/report.md and its figures; returns the report's path.

  `state`, `source` and `config` default to the run's checkpoint of `step` (None: the newest).
  """
  if state is None:
    config, source, state = runs.load_run(workdir, step, need_data=False)
  figures_dir = os.path.join(workdir, REPORT_DIR)
  os.makedirs(figures_dir, exist_ok=True)
  records = read_metrics(workdir) if os.path.exists(os.path.join(workdir, "metrics.jsonl")) else []
  history = evaluate.read_history(workdir)
  figures = []

  def figure(name, caption, made):
    if made:
      figures.append((caption, f"{REPORT_DIR}/{name}"))

  recipe = recipes.recipe_of(config)
  drawing_state = sampling.sampling_state(state, config, recipe, source.num_classes)
  notes = []
  draws_samples = recipe.latent_input or bool(source.arrays)  # conditions come from the data
  shown = None
  if draws_samples:
    shown = sampling.save_sample_picture(
      drawing_state,
      source,
      os.path.join(figures_dir, "samples.png"),
      config.get("num_sample_images", 64),
      recipe,
    )
  else:  # a condition recipe's samples need conditions from the data
    notes.append(
      f"(no samples: G maps conditions drawn from data {source.name!r}, whose files are gone)"
    )
  step = int(state.step)
  final = "Final" if step >= config.num_steps else f"Step {step}"
  eval_path = os.path.join(workdir, evaluate.EVAL_FILE)
  saved = (
    runs.read_json(eval_path, written_by="gan-jax evaluate") if os.path.exists(eval_path) else None
  )
  # The metrics of another checkpoint stay out.
  result = saved if saved is not None and saved.get("step") == step else None
  untruncated = (
    f" (drawn without truncation; the metrics use truncation {result['truncation']})"
    if result is not None and "truncation" in result
    else ""
  )
  caption = f"{final} samples" + (" over the data" if source.kind == "points" else "") + untruncated
  if not recipe.latent_input:
    caption = f"{final} outputs for conditions from the data" + (
      f" (rows: {shown})" if shown else ""
    )
  figure("samples.png", caption, draws_samples)
  if recipe.latent_input:
    num_points = 8 if source.kind == "image" else 16
    sampling.save_latent_walks(
      drawing_state, source, os.path.join(figures_dir, "latent_walks.png"), recipe, 8, num_points
    )
    figure("latent_walks.png", f"Latent walks (slerp between pairs of draws){untruncated}", True)
  logged = records[-1]["step"] if records else step
  past = f" (logged to step {logged}, past this checkpoint)" if logged > step else ""
  figure(
    "losses.png",
    "Losses" + past,
    plot_curves(
      records,
      [("d_loss", "discriminator"), ("g_loss", "generator")],
      os.path.join(figures_dir, "losses.png"),
      "losses",
    ),
  )
  figure(
    "discriminator.png",
    "D(x) and D(G(z))" + past,
    plot_curves(
      records,
      [("d_real", "D(x)"), ("d_fake", "D(G(z))")],
      os.path.join(figures_dir, "discriminator.png"),
      "discriminator outputs (sigmoid of logits)",
    ),
  )
  figure(
    "grad_norms.png",
    "Gradient norms" + past,
    plot_curves(
      records,
      [("d_grad_norm", "discriminator"), ("g_grad_norm", "generator")],
      os.path.join(figures_dir, "grad_norms.png"),
      "global gradient norms",
      log_y=True,
    ),
  )
  figure(
    "eval_metrics.png",
    "Metrics over steps",
    plot_eval_history(history, os.path.join(figures_dir, "eval_metrics.png")),
  )

  lines = [f"# Run report: {os.path.basename(os.path.abspath(workdir))}", ""]
  lines += [
    f"- data: `{source.name}`; model: `{config.model.name}`; loss: `{config.loss}`, "
    f"d_steps {config.get('d_steps', 1)}, gradient penalty "
    f"{config.get('gradient_penalty_weight', 0.0)}, clip {config.get('clip_value', 0.0)}",
    f"- training seed {config.seed}; step {step} of {config.num_steps}; batch {config.batch_size}",
  ]
  if records:
    lines.append(
      f"- wall-clock at the last logged step ({logged}): {records[-1].get('wall_time', 'n/a')} s"
    )
  if result is not None:
    lines += ["", "## Metrics", "", "```", evaluate.format_table(result), "```"]
  elif saved is not None:
    lines += [
      "",
      f"(DIR/eval.json holds the metrics of step {saved.get('step')}; "
      f"`gan-jax evaluate --step {step}` computes this step's)",
    ]
  else:
    try:
      evaluate.check_evaluable(config)
    except ValueError as error:  # CoGAN: say why the report has no metrics
      lines += ["", f"(no metrics: {error})"]
  lines += ["", *notes] if notes else []
  for caption, path in figures:
    lines += ["", f"## {caption}", "", f"![{caption}]({path})"]
  report_path = os.path.join(workdir, "report.md")
  with open(report_path, "w") as f:
    f.write("\n".join(lines) + "\n")
  return report_path
