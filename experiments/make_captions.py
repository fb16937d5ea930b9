"""Captions for Fashion-MNIST from each image's class and measured attributes (seed 0).

    python experiments/make_captions.py   # -> runs/data/fashion_mnist_captions_{train,test}.npz

Three attributes are measured on each image (`measure`): brightness (mean gray level of
its ink, the pixels above 25), width (horizontal extent of the ink, in pixels) and fill
(the ink's share of its bounding box: a sandal of thin straps is low, a solid pullover high).
Each is cut into thirds within the image's class (the training set's terciles), worded
with the synonyms of `gan_jax.data.captions.ATTRIBUTE_WORDS` (fill is the 'ink' words).

Train: 5 captions per training image, each in one of the TRAIN_TEMPLATES with 0-3 of the
attributes in random order, a random synonym of each word ("a dark, wide pullover",
"this sweater looks dense and pale"). Test: each test image gets one caption in a
HELD_OUT template (word orders never seen in training, same words) and one in a training
template, each naming 1-3 attributes; `levels` (N, 2, 3) holds the level each names
(0 low, 1 middle, 2 high, -1 not named) for the attribute-agreement measurement.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from gan_jax.data import captions, files

ATTRIBUTES = ("brightness", "width", "ink")
TRAIN_TEMPLATES = (
  "a {adjs} {cls}",
  "a {cls} that is {and_adjs}",
  "{adjs} {cls}",
  "picture of a {adjs} {cls}",
  "this {cls} looks {and_adjs}",
  "the {adjs} {cls}",
)
HELD_OUT_TEMPLATES = (
  "{and_adjs} {cls}",
  "this is a {adjs} {cls}",
  "a picture of the {cls} that looks {and_adjs}",
  "the {cls} is {and_adjs}",
)
INK_THRESHOLD = 25
CAPTIONS_PER_IMAGE = 5


def measure(images: np.ndarray) -> np.ndarray:
  """uint8 (N, 28, 28[, 1]) images (or float in [-1, 1]) -> float32 (N, 3): brightness in
  [0, 1], width in pixels, fill in [0, 1] (see the module docstring)."""
  images = np.asarray(images)
  if images.dtype != np.uint8:
    images = np.clip((images + 1.0) * 127.5, 0, 255)
  images = images.reshape(len(images), 28, 28).astype(np.float32)
  ink = images > INK_THRESHOLD
  count = ink.sum(axis=(1, 2))
  brightness = (images * ink).sum(axis=(1, 2)) / np.maximum(count, 1) / 255.0
  columns, rows = ink.any(axis=1), ink.any(axis=2)

  def extent(mask):
    has = mask.any(axis=1)
    first = np.where(has, np.argmax(mask, axis=1), 0)
    last = np.where(has, 27 - np.argmax(mask[:, ::-1], axis=1), -1)
    return (last - first + 1).astype(np.float32)

  width, height = extent(columns), extent(rows)
  fill = count / np.maximum(width * height, 1)
  return np.stack([brightness, width, fill], axis=1).astype(np.float32)


def class_terciles(values: np.ndarray, labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
  """float (num_classes, 3, 2): per class and attribute, the 1/3 and 2/3 quantiles."""
  return np.stack(
    [np.quantile(values[labels == c], [1 / 3, 2 / 3], axis=0).T for c in range(num_classes)]
  )


def levels_of(values: np.ndarray, labels: np.ndarray, terciles: np.ndarray) -> np.ndarray:
  """int (N, 3): 0, 1, 2 for the low, middle, high third of each attribute within the class."""
  cuts = terciles[labels]  # (N, 3, 2)
  return (values > cuts[..., 0]).astype(np.int64) + (values > cuts[..., 1])


def caption(
  rng: np.random.Generator, label: int, levels: np.ndarray, templates, min_attributes: int
) -> tuple[str, np.ndarray]:
  """One caption of an image and the level it names per attribute (-1: not named)."""
  count = rng.integers(min_attributes, 4)
  chosen = rng.permutation(3)[:count]
  named = np.full((3,), -1, np.int64)
  words = []
  for a in chosen:
    named[a] = levels[a]
    words.append(str(rng.choice(captions.ATTRIBUTE_WORDS[ATTRIBUTES[a]][levels[a]])))
  cls = str(rng.choice(captions.CLASS_WORDS[label]))
  template = str(rng.choice(templates))
  if not words:  # no attribute: the class alone, in the template's article
    text = ("a " + cls) if "{and_adjs}" in template else template.format(adjs="", cls=cls)
  else:
    and_adjs = " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)
    text = template.format(adjs=", ".join(words), and_adjs=and_adjs, cls=cls)
  return " ".join(text.split()), named


def write_split(path, images, labels, levels, rng, columns, min_attributes):
  """Writes x, label, tokens (N, C, L), levels (N, C, 3), attributes to `path`; returns texts."""
  n = len(images)
  tokens = np.zeros((n, len(columns), captions.MAX_TOKENS), np.int16)
  named = np.zeros((n, len(columns), 3), np.int8)
  texts = []
  for i in range(n):
    for j, templates in enumerate(columns):
      text, named[i, j] = caption(rng, int(labels[i]), levels[i], templates, min_attributes)
      tokens[i, j] = captions.tokenize(text)
      if i < 3:
        texts.append(text)
  np.savez_compressed(path, x=images, label=labels, tokens=tokens, levels=named)
  return texts


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default="runs/data")
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()
  os.makedirs(args.out, exist_ok=True)
  rng = np.random.default_rng(args.seed)
  train_x, train_y = files.load_idx_split(files.FASHION_MNIST_DIR, "train")
  test_x, test_y = files.load_idx_split(files.FASHION_MNIST_DIR, "test")
  train_values = measure(train_x)
  terciles = class_terciles(train_values, train_y)
  train_levels = levels_of(train_values, train_y, terciles)
  test_levels = levels_of(measure(test_x), test_y, terciles)
  shown = write_split(
    os.path.join(args.out, "fashion_mnist_captions_train.npz"),
    train_x,
    train_y,
    train_levels,
    rng,
    [TRAIN_TEMPLATES] * CAPTIONS_PER_IMAGE,
    0,
  )
  shown += write_split(
    os.path.join(args.out, "fashion_mnist_captions_test.npz"),
    test_x,
    test_y,
    test_levels,
    rng,
    [HELD_OUT_TEMPLATES, TRAIN_TEMPLATES],
    1,
  )
  print("\n".join(shown))
  print(f"vocabulary: {captions.VOCAB_SIZE - 1} words; wrote {args.out}")


if __name__ == "__main__":
  main()
