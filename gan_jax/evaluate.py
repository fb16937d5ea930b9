"""Evaluating a trained run: the metrics that fit its data, written to DIR/eval.json.

Mixtures (ring8, grid25, gaussian1d): PacGAN's protocol on 2500 samples:
`modes`, `high_quality` (a fraction) and `reverse_kl`.
28 x 28 x 1 images: the library's Fashion-MNIST feature network gives `fd`
(Frechet distance, not FID), `precision`, `recall` (k = 3) and `class_kl`,
each beside its floor (the training split against the test split, same
sample count). With Inception weights supplied, `fid` too.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Callable

import numpy as np

from gan_jax.data import DataSource, files
from gan_jax.metrics import coverage, frechet, mixture, precision_recall
from gan_jax.state import GANState

DEFAULT_IMAGE_SAMPLES = 10000
EVAL_FILE = "eval.json"
EVAL_HISTORY_FILE = "eval_metrics.jsonl"
MIXTURE_KEYS = ("modes", "high_quality", "reverse_kl")
IMAGE_KEYS = ("fd", "precision", "recall", "class_kl")


def evaluate_mixture_state(state: GANState, source: DataSource, *, seed: int = 0,
                           num_samples: int = mixture.PROTOCOL_NUM_POINTS) -> dict[str, Any]:
  """PacGAN metrics of `state`'s generator on a toy mixture source."""
  from gan_jax.train import draw_samples
  points = draw_samples(state, num_samples, seed)
  result = mixture.evaluate_mixture(points, source.distribution)
  return {**result.as_dict(), "num_modes": int(source.distribution.num_modes),
          "num_samples": int(num_samples)}


def image_metrics(network, real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
  """fd, precision, recall and class_kl of fake (N, 28, 28, 1) against real images, in
  the feature space of `network` (a `features.FeatureNetwork`)."""
  real_features, _ = network.embed(real)
  fake_features, fake_logits = network.embed(fake)
  pr = precision_recall.precision_recall(real_features, fake_features)
  return {"fd": frechet.frechet_distance_from_features(real_features, fake_features),
          "precision": pr.precision, "recall": pr.recall,
          "class_kl": coverage.class_kl(np.argmax(fake_logits, axis=1), network.num_classes)}


def _subset(images: np.ndarray, num: int, seed: int) -> np.ndarray:
  """`num` images without replacement, in a seeded order (all of them when fewer)."""
  order = np.random.default_rng(seed).permutation(len(images))
  return images[order[:num]]


def _test_split(config) -> np.ndarray | None:
  data = config.get("data", {})
  if data.get("source") != "idx":
    return None
  try:
    return files.load_idx_split(data.get("path", files.FASHION_MNIST_DIR), "test")[0]
  except FileNotFoundError:
    return None


def evaluate_image_state(state: GANState, source: DataSource, config, *, seed: int = 0,
                         num_samples: int = DEFAULT_IMAGE_SAMPLES, network=None,
                         feature_network_path: str | None = None,
                         inception_weights: str | None = None, floor: bool = True) -> dict[str, Any]:
  """Feature-network metrics (and FID with Inception weights) of `state` on an image source."""
  from gan_jax.metrics import features
  from gan_jax.train import draw_samples
  if source.data_shape != features.IMAGE_SHAPE and not inception_weights:
    raise ValueError(f"image metrics need 28 x 28 x 1 images for the library's feature network, "
                     f"this run's are {source.data_shape}; pass --inception-weights for FID")
  fake = draw_samples(state, num_samples, seed)
  real = _subset(source.arrays["x"], num_samples, seed)
  result: dict[str, Any] = {"num_samples": int(num_samples), "num_real": int(len(real))}
  if source.data_shape == features.IMAGE_SHAPE:
    network = network or features.load_or_train(feature_network_path, progress=True)
    result.update(image_metrics(network, real, fake))
    result["feature_network"] = network.identity
    result["feature_network_test_accuracy"] = network.test_accuracy
    test = _test_split(config) if floor else None
    if test is not None:
      result["floor"] = image_metrics(network, real, _subset(test, num_samples, seed + 1))
  if inception_weights:
    from gan_jax.metrics import inception
    extractor = inception.InceptionFeatures(inception_weights)
    result["fid"] = frechet.frechet_distance_from_features(extractor(real), extractor(fake))
    result["inception_weights"] = extractor.identity
  return result


def evaluate_state(state: GANState, source: DataSource, config, **options) -> dict[str, Any]:
  """The metrics that fit `source`: mixture metrics for toy mixtures, image metrics for images."""
  if source.kind == "points":
    if source.distribution is None:
      raise ValueError(f"data {source.name!r} has no known mixture; nothing to evaluate against")
    num = options.get("num_samples") or mixture.PROTOCOL_NUM_POINTS
    return evaluate_mixture_state(state, source, seed=options.get("seed", 0), num_samples=num)
  if source.kind == "image":
    options = dict(options)
    options["num_samples"] = options.get("num_samples") or DEFAULT_IMAGE_SAMPLES
    return evaluate_image_state(state, source, config, **options)
  raise ValueError(f"data kind {source.kind!r} is unknown; accepted: points, image")


def _json_safe(value):
  if isinstance(value, dict):
    return {k: _json_safe(v) for k, v in value.items()}
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)
  if isinstance(value, (np.floating, np.integer)):
    return _json_safe(value.item())
  return value


def evaluate_run(workdir: str, *, step: int | None = None, **options) -> dict[str, Any]:
  """Evaluates the newest (or given) checkpoint of the run in `workdir`; writes DIR/eval.json.

  Options go to `evaluate_state`: seed, num_samples, feature_network_path,
  inception_weights. Non-finite values are written as strings ("inf").
  """
  from gan_jax.train import load_run
  config, source, state = load_run(workdir, step)
  result = {"data": source.name, "step": int(state.step),
            **evaluate_state(state, source, config, **options)}
  with open(os.path.join(workdir, EVAL_FILE), "w") as f:
    json.dump(_json_safe(result), f, indent=2, sort_keys=True)
  return result


def format_table(result: dict[str, Any]) -> str:
  """The metrics of an `evaluate_run` result as a two- or three-column text table."""
  keys = [k for k in MIXTURE_KEYS + IMAGE_KEYS + ("fid",) if k in result]
  floor = result.get("floor", {})
  rows = [("metric", "value", "floor (train vs test)" if floor else "")]
  for key in keys:
    value = result[key]
    text = f"{value:.4f}" if isinstance(value, float) else str(value)
    if key == "modes" and "num_modes" in result:
      text += f" / {result['num_modes']}"
    rows.append((key, text, f"{floor[key]:.4f}" if key in floor else ""))
  width = [max(len(r[i]) for r in rows) for i in range(3)]
  lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, width)).rstrip() for row in rows]
  info = [f"{k}: {result[k]}" for k in ("data", "step", "num_samples", "feature_network",
                                         "inception_weights") if k in result]
  return "\n".join(lines + info)


class PeriodicEvaluator:
  """A `train_and_evaluate` step hook: every `every` steps, appends evaluate_state's metrics
  with the step to DIR/eval_metrics.jsonl (for the report's metrics-over-steps figure)."""

  def __init__(self, workdir: str, config, every: int, **options):
    if not isinstance(every, int) or every < 1:
      raise ValueError(f"eval_every must be an integer >= 1, got {every!r}")
    self.path = os.path.join(workdir, EVAL_HISTORY_FILE)
    self.config, self.every, self.options = config, every, options

  def __call__(self, step: int, state: GANState, source: DataSource) -> None:
    if step % self.every:
      return
    if source.kind == "image" and "network" not in self.options:
      from gan_jax.metrics import features
      self.options["network"] = features.load_or_train(
          self.options.pop("feature_network_path", None), progress=True)
      self.options.setdefault("floor", False)
    result = evaluate_state(state, source, self.config, **self.options)
    record = {"step": int(step), **{k: v for k, v in result.items()
                                    if k in MIXTURE_KEYS + IMAGE_KEYS}}
    with open(self.path, "a") as f:
      f.write(json.dumps(_json_safe(record)) + "\n")


def read_history(workdir: str) -> list[dict]:
  """Records of DIR/eval_metrics.jsonl by step (the last record of a step wins, as after a resume)."""
  path = os.path.join(workdir, EVAL_HISTORY_FILE)
  if not os.path.exists(path):
    return []
  by_step = {}
  with open(path) as f:
    for line in f:
      if line.strip():
        record = json.loads(line)
        by_step[record["step"]] = record
  return [by_step[s] for s in sorted(by_step)]


StepHook = Callable[[int, GANState, DataSource], None]
