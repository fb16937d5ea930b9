"""Evaluating a trained run: the metrics that fit its data, written to DIR/eval.json.

Mixtures (ring8, grid25, gaussian1d): PacGAN's protocol on 2500 samples:
`modes`, `high_quality` (a fraction) and `reverse_kl`.
28 x 28 x 1 images: the library's Fashion-MNIST feature network gives `fd`
(Frechet distance, not FID), `precision`, `recall` (k = 3) and `class_kl`,
each beside its floor (the training split against the test split, or the test split
against the training split for a run trained on the test split; same
sample count): the idx splits, or for an npz or captions file named after its split
(NAME_train.npz) the file of the other split beside it.
Recipes whose generator maps a condition (`Recipe.condition`: pix2pix, super-resolution,
inpainting, CycleGAN, speech) are scored on the conditions of the held-out split (the
split the floor uses; the run's own data when there is none), each row once: a paired
recipe's outputs against their own targets, `l1` (`masked_l1` over inpainting's masks),
`psnr` and `ssim` (data range 2), and on 28 x 28 x 1 images `fd`, `precision` and
`recall` of the outputs against the targets and `class_match`, the fraction of outputs
that the feature network puts in the class it gives their target; CycleGAN's translations
G(a) against the held-out domain-B images, with `class_match` the fraction put in the
class it gives most domain-B images.
Images of any size, gray or RGB, with Inception weights supplied
(`inception_weights`, pytorch-fid's converted: gan_jax.metrics.inception):
`fid`, `kid` (x 1, with `kid_std` over subsets) and, when the weights hold the
classifier, `inception_score` (with `inception_score_std` over 10 splits and
the real images' score). Without weights the result names what they would add
(`needs_inception_weights`) instead of failing.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Callable

import ml_collections
import numpy as np

from gan_jax import data, logs, recipes
from gan_jax.data import DataSource, files
from gan_jax.metrics import (
  coverage,
  features,
  frechet,
  inception,
  inception_score,
  kernel_distance,
  mixture,
  image_quality,
  precision_recall,
)
from gan_jax.runs import check_workdir, load_run, write_json_atomically
from gan_jax.sampling import (
  as_data,
  check_latent_input,
  check_memory,
  draw_samples,
  generate_from_conditions,
  sampling_state,
)
from gan_jax.state import GANState

DEFAULT_IMAGE_SAMPLES = 10000
EVAL_FILE = "eval.json"
EVAL_HISTORY_FILE = "eval_metrics.jsonl"
MIXTURE_KEYS = ("modes", "high_quality", "reverse_kl")
IMAGE_KEYS = ("fd", "precision", "recall", "class_kl")
CONDITION_KEYS = ("l1", "masked_l1", "psnr", "ssim", "class_match")
SPLIT_SOURCES = ("idx", "image_to_image")  # config.data.source values with idx splits
# config.data.source values whose splits are files named after them, in one directory
# (`split_file`): experiments/make_speech.py writes DIR/train.npz and DIR/test.npz
FILE_SPLIT_SOURCES = ("speech",)
# config.data.source values of images whose floor may come from the other split's file
# (experiments/make_captions.py writes NAME_train.npz and NAME_test.npz)
IMAGE_FILE_SPLIT_SOURCES = ("npz", "captions")
INCEPTION_KEYS = ("fid", "kid", "kid_std", "inception_score", "inception_score_std")
HISTORY_KEYS = MIXTURE_KEYS + CONDITION_KEYS + IMAGE_KEYS + INCEPTION_KEYS
WITHOUT_WEIGHTS = (
  "fid, kid and inception_score need --inception-weights FILE: pytorch-fid's "
  f"{inception.PYTORCH_FID_WEIGHTS} converted with python -m "
  "gan_jax.metrics.convert_inception (see gan_jax/metrics/inception.py)"
)


def evaluate_mixture_state(
  state: GANState,
  source: DataSource,
  *,
  seed: int = 0,
  num_samples: int = mixture.PROTOCOL_NUM_POINTS,
  truncation: float | None = None,
) -> dict[str, Any]:
  """PacGAN metrics of `state`'s generator on a toy mixture source (latents truncated at
  `truncation` when given, as `draw_samples` does)."""
  points = draw_samples(state, num_samples, seed, truncation=truncation)
  result = mixture.evaluate_mixture(points, source.distribution)
  return {
    **result.as_dict(),
    "num_modes": int(source.distribution.num_modes),
    "num_samples": int(num_samples),
  }


def image_metrics(network, real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
  """fd, precision, recall and class_kl of fake (N, 28, 28, 1) against real images, in
  the feature space of `network` (a `features.FeatureNetwork`)."""
  real_features, _ = network.embed(real)
  fake_features, fake_logits = network.embed(fake)
  pr = precision_recall.precision_recall(real_features, fake_features)
  return {
    "fd": frechet.frechet_distance_from_features(real_features, fake_features),
    "precision": pr.precision,
    "recall": pr.recall,
    "class_kl": coverage.class_kl(np.argmax(fake_logits, axis=1), network.num_classes),
  }


def _subset(images: np.ndarray, num: int, seed: int) -> np.ndarray:
  """`num` images without replacement, in a seeded order (all of them when fewer)."""
  order = np.random.default_rng(seed).permutation(len(images))
  return images[order[:num]]


def _sample_labels(source: DataSource, num: int, seed: int) -> np.ndarray:
  """int32 (num,) class labels for a conditional generator: those of the real images that
  `_subset` picks (repeated when there are fewer), so both sides have the data's class
  proportions; the classes in turn when the data has no labels."""
  if "label" not in source.arrays:
    return (np.arange(num) % max(source.num_classes, 1)).astype(np.int32)
  labels = _subset(np.asarray(source.arrays["label"]), num, seed)
  return np.resize(labels, num).astype(np.int32)


def other_split(config) -> str:
  """The idx split the floor compares the run's data with: 'test', or 'train' for a run that
  trained on the test split (test against a reshuffle of itself would give FD 0)."""
  return "train" if config.get("data", {}).get("split", "train") == "test" else "test"


def _floor_images(config) -> tuple[np.ndarray, str] | None:
  """(the held-out images the floor compares the run's data with, 'train vs test'): the other
  idx split (`other_split`), or the other split's file of an npz or captions file named after
  its split (`split_file`); None when there is none."""
  data_config = config.get("data", {})
  source = data_config.get("source")
  if source == "idx":
    held_out = other_split(config)
    try:
      images, _ = files.load_idx_split(data_config.get("path", files.FASHION_MNIST_DIR), held_out)
    except FileNotFoundError:
      return None
    return images, f"{data_config.get('split', 'train')} vs {held_out}"
  if source in IMAGE_FILE_SPLIT_SOURCES:
    named = _split_file_data(data_config)
    if named is None or named[2] is None:
      return None
    split, held_out, other = named
    return other.arrays["x"], f"{split} vs {held_out}"
  return None


def inception_metrics(
  extractor, real: np.ndarray, fake: np.ndarray, *, progress: bool = False
) -> dict[str, Any]:
  """fid, kid (mean, std over 100 subsets of up to 1000) and, when the weights hold the
  classifier, inception_score (mean, std over 10 splits) of fake (N, H, W, C) against real
  images, in the Inception features of `extractor` (an `inception.InceptionFeatures`)."""
  real_features = extractor(real, progress="Inception features, real" if progress else False)
  fake_features = extractor(fake, progress="Inception features, fake" if progress else False)
  kid, kid_std, kid_subset = kernel_distance.kernel_distance(real_features, fake_features)
  result = {
    "fid": frechet.frechet_distance_from_features(real_features, fake_features),
    "kid": kid,
    "kid_std": kid_std,
    "kid_subset_size": kid_subset,
    "inception_weights": extractor.identity,
  }
  if extractor.has_logits:
    splits = min(inception_score.SPLITS, len(fake))
    score, score_std = inception_score.inception_score(
      extractor.logits(fake_features), splits=splits
    )
    result.update(
      {
        "inception_score": score,
        "inception_score_std": score_std,
        "inception_score_real": inception_score.inception_score(
          extractor.logits(real_features), splits=min(splits, len(real))
        )[0],
      }
    )
  else:
    result["needs_inception_weights"] = (
      "inception_score needs the weights' classifier "
      "(fc.weight, fc.bias): convert the whole state dict"
    )
  return result


def evaluate_image_state(
  state: GANState,
  source: DataSource,
  config,
  *,
  seed: int = 0,
  num_samples: int = DEFAULT_IMAGE_SAMPLES,
  network=None,
  feature_network_path: str | None = None,
  inception_weights: str | None = None,
  extractor=None,
  floor: bool = True,
  progress: bool = False,
  truncation: float | None = None,
) -> dict[str, Any]:
  """The image metrics that `source`'s images and the given weights allow (module docstring).

  `network` / `extractor`: an already loaded feature network / `InceptionFeatures`
  (else loaded from `feature_network_path` / `inception_weights`).
  """
  own_network = source.data_shape == features.IMAGE_SHAPE
  if inception_weights and extractor is None:
    extractor = inception.InceptionFeatures(inception_weights)
  result: dict[str, Any] = {"image_shape": list(source.data_shape)}
  if extractor is None:
    result["needs_inception_weights"] = WITHOUT_WEIGHTS
  if not own_network and extractor is None:
    return result
  check_memory(num_samples, source.data_shape, state.noise.latent_shape, "num_samples")
  real = _subset(source.arrays["x"], num_samples, seed)
  recipe = recipes.recipe_of(config)
  labels = _sample_labels(source, num_samples, seed) if recipe.needs_labels else None
  fake = draw_samples(state, num_samples, seed, recipe=recipe, labels=labels, truncation=truncation)
  fake = as_data(fake, source)  # pixels: an unbounded toRGB layer's outputs clipped
  result.update({"num_samples": int(num_samples), "num_real": int(len(real))})
  if own_network:
    least = precision_recall.DEFAULT_K + 1
    if len(real) < least:
      raise ValueError(
        f"the run's data holds {len(source.arrays['x'])} images; image metrics need at least "
        f"{least} real ones (precision and recall take each image's "
        f"{precision_recall.DEFAULT_K} nearest neighbours)"
      )
    network = network or features.load_or_train(feature_network_path, progress=True)
    result.update(image_metrics(network, real, fake))
    result["feature_network"] = network.identity
    result["feature_network_test_accuracy"] = network.test_accuracy
    held_out = _floor_images(config) if floor else None
    if held_out is not None and len(held_out[0]) < least:
      result["floor_not_computed"] = (
        f"the held-out split holds {len(held_out[0])} images; the floor needs at least {least}"
      )
    elif held_out is not None:
      test, splits = held_out
      floor_images = _subset(test, num_samples, seed + 1)
      result["floor"] = image_metrics(network, real, floor_images)
      result["floor_splits"] = splits
      result["floor_num_samples"] = int(len(floor_images))  # the held-out split may be smaller
    elif floor:
      result["floor_not_computed"] = (
        "no held-out split of the data was found (the other idx split, or NAME_test.npz "
        "beside NAME_train.npz)"
      )
  if extractor is not None:
    result.update(inception_metrics(extractor, real, fake, progress=progress))
  return result


def split_file(path: str) -> tuple[str, str, str] | None:
  """(its split, the other split, the other split's file) of a data file named after its
  split: train.npz and test.npz, or NAME_train.npz and NAME_test.npz; None for another name."""
  directory, name = os.path.split(path)
  stem, extension = os.path.splitext(name)
  for split, other in (("train", "test"), ("test", "train")):
    if stem == split or stem.endswith("_" + split):
      return split, other, os.path.join(directory, stem[: -len(split)] + other + extension)
  return None


def _split_file_data(data_config) -> tuple[str, str, DataSource | None] | None:
  """(its split, the other split, the other split's data or None when its file is missing)
  of a data file named after its split (`split_file`); None for another name."""
  named = split_file(data_config.get("path", ""))
  if named is None:
    return None
  split, held_out, path = named
  if not os.path.exists(path):
    return split, held_out, None
  held_out_config = ml_collections.ConfigDict({**dict(data_config.items()), "path": path})
  return split, held_out, data.make_data_source(held_out_config)


def held_out_source(config, source: DataSource) -> tuple[DataSource, str]:
  """(the data a condition recipe is scored on, its split): the held-out idx split
  (`other_split`) of a source with idx splits, or the other split's file of a source whose
  splits are files (`split_file`: test.npz beside train.npz), when its files are there, else
  `source`."""
  data_config = config.get("data", {})
  split = data_config.get("split", "train")
  if data_config.get("source") in FILE_SPLIT_SOURCES:
    named = _split_file_data(data_config)
    if named is None:
      return source, split
    split, held_out, other = named
    return (source, split) if other is None else (other, held_out)
  if data_config.get("source") not in SPLIT_SOURCES:
    return source, split
  held_out = other_split(config)
  held_out_config = ml_collections.ConfigDict({**dict(data_config.items()), "split": held_out})
  try:
    return data.make_data_source(held_out_config), held_out
  except FileNotFoundError:
    return source, split


def pixel_metrics(outputs: np.ndarray, targets: np.ndarray, mask=None) -> dict[str, float]:
  """psnr and ssim (means over images, data range 2) of outputs against targets (N, H, W, C)
  in [-1, 1], and l1, the mean |outputs - targets|, or with mask (N, H, W, 1) masked_l1,
  the mean over the masked pixels."""
  error = np.abs(np.asarray(outputs, np.float32) - np.asarray(targets, np.float32))
  result = {
    "psnr": float(np.mean(image_quality.psnr(outputs, targets))),
    "ssim": float(np.mean(image_quality.ssim(outputs, targets))),
  }
  if mask is None:
    result["l1"] = float(np.mean(error))
  else:
    weights = np.broadcast_to(np.asarray(mask, np.float32), error.shape)
    result["masked_l1"] = float(np.sum(error * weights) / max(float(np.sum(weights)), 1.0))
  return result


def translation_metrics(network, reference: np.ndarray, outputs: np.ndarray, paired: bool):
  """fd, precision and recall of outputs (N, 28, 28, 1) against reference images, and
  class_match: the fraction of outputs that `network` puts in the class it gives their own
  reference row (paired), or the class it gives most reference images (unpaired)."""
  reference_features, reference_logits = network.embed(reference)
  output_features, output_logits = network.embed(np.clip(outputs, -1.0, 1.0))
  pr = precision_recall.precision_recall(reference_features, output_features)
  reference_classes = np.argmax(reference_logits, axis=1)
  if not paired:
    reference_classes = np.argmax(np.bincount(reference_classes, minlength=network.num_classes))
  return {
    "fd": frechet.frechet_distance_from_features(reference_features, output_features),
    "precision": pr.precision,
    "recall": pr.recall,
    "class_match": float(np.mean(np.argmax(output_logits, axis=1) == reference_classes)),
  }


def evaluate_condition_state(
  state: GANState,
  source: DataSource,
  config,
  *,
  seed: int = 0,
  num_samples: int = DEFAULT_IMAGE_SAMPLES,
  network=None,
  feature_network_path: str | None = None,
  inception_weights: str | None = None,
  extractor=None,
  floor: bool = True,
  progress: bool = False,
  truncation: float | None = None,
) -> dict[str, Any]:
  """The metrics of a recipe whose generator maps a condition (module docstring), on up to
  `num_samples` rows of the held-out split, each once. The floor: fd, precision and
  recall of as many rows of the run's own split against the same references."""
  del truncation  # refused for these recipes by evaluate_state
  recipe = recipes.recipe_of(config)
  eval_source, eval_split = held_out_source(config, source)
  batch = data.draw_rows_without_replacement(eval_source, num_samples, seed)
  batch = {name: np.asarray(value) for name, value in batch.items()}
  outputs = as_data(generate_from_conditions(state, batch[recipe.condition], recipe), source)
  reference = batch["x"]
  result: dict[str, Any] = {
    "image_shape": list(source.data_shape),
    "num_samples": int(len(outputs)),
    "eval_split": eval_split,
  }
  if recipe.paired:
    result.update(pixel_metrics(outputs, reference, batch.get("mask")))
  if source.data_shape == features.IMAGE_SHAPE:
    network = network or features.load_or_train(feature_network_path, progress=True)
    result.update(translation_metrics(network, reference, outputs, recipe.paired))
    result["feature_network"] = network.identity
    result["feature_network_test_accuracy"] = network.test_accuracy
    run_split = config.get("data", {}).get("split", "train")
    if floor and eval_source is not source:
      own = data.draw_rows_without_replacement(source, len(outputs), seed + 1)
      own_metrics = translation_metrics(network, reference, np.asarray(own["x"]), False)
      result["floor"] = {k: own_metrics[k] for k in ("fd", "precision", "recall")}
      result["floor_splits"] = f"{run_split} vs {eval_split}"
  if inception_weights and extractor is None:
    extractor = inception.InceptionFeatures(inception_weights)
  if extractor is not None:
    result.update(inception_metrics(extractor, reference, outputs, progress=progress))
  else:
    result["needs_inception_weights"] = WITHOUT_WEIGHTS
  return result


def check_precision_recall_samples(num_samples: int) -> None:
  """Refuses (one line) fewer samples than precision and recall need: each sample's
  `precision_recall.DEFAULT_K` nearest neighbours among the others."""
  least = precision_recall.DEFAULT_K + 1
  if num_samples < least:
    raise ValueError(
      f"num_samples must be >= {least} for image metrics (precision and recall take each "
      f"sample's {precision_recall.DEFAULT_K} nearest neighbours), got {num_samples}"
    )


def evaluate_state(state: GANState, source: DataSource, config, **options) -> dict[str, Any]:
  """The metrics that fit `source`: mixture metrics for toy mixtures, image metrics for images.

  Samples come from `sampling.sampling_state` (the EMA's statistics as the config says)."""
  check_evaluable(config)
  recipe = recipes.recipe_of(config)
  if options.get("truncation") is not None:
    check_latent_input(recipe, "truncation")
  state.noise.check_truncation(options.get("truncation"))
  state = sampling_state(state, config, recipe, source.num_classes)
  if source.kind == "points":
    if source.distribution is None:
      raise ValueError(f"data {source.name!r} has no known mixture; nothing to evaluate against")
    num = options.get("num_samples") or mixture.PROTOCOL_NUM_POINTS
    check_memory(num, source.data_shape, state.noise.latent_shape, "num_samples")
    return evaluate_mixture_state(
      state,
      source,
      seed=options.get("seed", 0),
      num_samples=num,
      truncation=options.get("truncation"),
    )
  if source.kind == "image":
    options = dict(options)
    options["num_samples"] = options.get("num_samples") or DEFAULT_IMAGE_SAMPLES
    if source.data_shape == features.IMAGE_SHAPE:  # the feature network's precision, recall
      check_precision_recall_samples(options["num_samples"])
    if not recipe.latent_input:
      return evaluate_condition_state(state, source, config, **options)
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
  inception_weights, progress, truncation (the samples' latents truncated, BigGAN's trick;
  the result then records it). Non-finite values are written as strings ("inf"); the
  file is replaced whole (a failed evaluation leaves the previous one).
  """
  path = os.path.join(workdir, EVAL_FILE)
  if os.path.isdir(path):
    raise IsADirectoryError(f"{path} is a directory; evaluate writes its metrics there")
  config, source, state = load_run(workdir, step)
  check_workdir(workdir)  # before minutes of evaluation, not after
  result = {
    "data": source.name,
    "step": int(state.step),
    "sample_seed": int(options.get("seed", 0)),
    **evaluate_state(state, source, config, **options),
  }
  if options.get("truncation") is not None:
    result["truncation"] = float(options["truncation"])
  write_json_atomically(path, _json_safe(result))
  return result


def format_table(result: dict[str, Any]) -> str:
  """The metrics of an `evaluate_run` result as a two- or three-column text table, then the
  run's facts and what was not computed."""
  names = MIXTURE_KEYS + CONDITION_KEYS + IMAGE_KEYS + ("fid", "kid", "inception_score")
  keys = [k for k in names if k in result]
  floor = result.get("floor", {})
  splits = result.get("floor_splits", "train vs test")
  rows = [("metric", "value", f"floor ({splits})" if floor else "")]
  for key in keys:
    value = result[key]
    text = f"{value:.4f}" if isinstance(value, float) else str(value)
    if key == "modes" and "num_modes" in result:
      text += f" / {result['num_modes']}"
    if f"{key}_std" in result:
      text += f" +- {result[key + '_std']:.4f}"
    rows.append((key, text, f"{floor[key]:.4f}" if key in floor else ""))
  width = [max(len(r[i]) for r in rows) for i in range(3)]
  lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, width)).rstrip() for row in rows]
  if len(rows) == 1:
    lines = ["no metrics computed"]
  info = [
    f"{k}: {result[k]}"
    for k in (
      "data",
      "step",
      "sample_seed",
      "num_samples",
      "floor_num_samples",
      "eval_split",
      "truncation",
      "feature_network",
      "inception_weights",
      "kid_subset_size",
      "inception_score_real",
    )
    if k in result
  ]
  if "needs_inception_weights" in result:
    info.append(f"not computed: {result['needs_inception_weights']}")
  if "floor_not_computed" in result:
    info.append(f"not computed: the floor; {result['floor_not_computed']}")
  return "\n".join(lines + info)


def check_evaluable(config) -> None:
  """Refuses (one line) a run whose samples are not the data's shape: the metrics compare
  samples with the data (CoGAN draws two domains side by side)."""
  recipe = recipes.recipe_of(config)
  if recipe.sample_shape is not None:
    raise ValueError(
      f"recipe {recipe.name!r} draws samples that are not the data's shape (pairs of domains "
      "side by side), which evaluate does not score; experiments/multiscale_style.py scores "
      "each domain"
    )


class PeriodicEvaluator:
  """A `train_and_evaluate` step hook: every `every` steps, appends evaluate_state's metrics
  with the step to DIR/eval_metrics.jsonl (for the report's metrics-over-steps figure)."""

  def __init__(self, workdir: str, config, every: int, **options):
    if not isinstance(every, int) or every < 1:
      raise ValueError(f"eval_every must be an integer >= 1, got {every!r}")
    check_evaluable(config)
    fused = config.get("steps_per_call", 1)
    if every % fused:
      raise ValueError(
        f"eval_every={every} must be a multiple of steps_per_call={fused} (the loop sees "
        "every steps_per_call-th step)"
      )
    self.path = os.path.join(workdir, EVAL_HISTORY_FILE)
    self.config, self.every, self.options = config, every, options

  def __call__(self, step: int, state: GANState, source: DataSource) -> None:
    if step % self.every:
      return
    if source.kind == "image":  # load the networks once, at the first evaluation
      if source.data_shape == features.IMAGE_SHAPE and "network" not in self.options:
        self.options["network"] = features.load_or_train(
          self.options.pop("feature_network_path", None), progress=True
        )
      if self.options.get("inception_weights") and "extractor" not in self.options:
        self.options["extractor"] = inception.InceptionFeatures(self.options["inception_weights"])
      self.options.setdefault("floor", False)
    result = evaluate_state(state, source, self.config, **self.options)
    record = {
      "step": int(step),
      "num_samples": result.get("num_samples"),
      **{k: v for k, v in result.items() if k in HISTORY_KEYS},
    }
    with open(self.path, "a") as f:
      f.write(json.dumps(_json_safe(record)) + "\n")


def read_history(workdir: str) -> list[dict]:
  """Records of DIR/eval_metrics.jsonl by step (the last record of a step wins, as after a
  resume)."""
  path = os.path.join(workdir, EVAL_HISTORY_FILE)
  if not os.path.exists(path):
    return []
  by_step = {record["step"]: record for record in logs.read_records(path)}
  return [by_step[s] for s in sorted(by_step)]


StepHook = Callable[[int, GANState, DataSource], None]
