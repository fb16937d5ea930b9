"""Data sources behind one interface, picked by config.

A `DataSource` keeps its arrays (possibly none) in device memory and draws
batches with a pure, jittable `sample(arrays, key, num)`, so the order of
examples is a function of (seed, step) and resuming needs no iterator state.
Images come out as NHWC float32 in [-1, 1]; toy points in their own coordinates.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data import files, image_folder, pipeline, tfds_source, toy
from gan_jax.data.pipeline import HostPipeline
from gan_jax.data.toy import GaussianMixture

SOURCES = ("toy", "idx", "npz", "images", "tfds", "image_to_image", "captions", "speech")
PIPELINES = ("device", "host")


def check_source(source) -> None:
  """The rule of config.data.source: a name in `SOURCES`."""
  if not isinstance(source, str) or source not in SOURCES:
    raise ValueError(f"data source {source!r} is unknown; accepted: {', '.join(SOURCES)}")


def check_pipeline(mode) -> None:
  """The rule of config.data.pipeline: a name in `PIPELINES`."""
  if not isinstance(mode, str) or mode not in PIPELINES:
    raise ValueError(f"data pipeline {mode!r} is unknown; accepted: {', '.join(PIPELINES)}")


@dataclasses.dataclass(frozen=True, eq=False)
class DataSource:
  """A dataset the train step samples from.

  Attributes:
    name: e.g. 'ring8' or 'fashion_mnist'.
    kind: 'points' (toy coordinates) or 'image' (NHWC in [-1, 1]).
    data_shape: shape of one example, e.g. (2,) or (28, 28, 1).
    arrays: host arrays to place on the device, e.g. {'x': uint8 (N, H, W, C),
      'label': int32 (N,)}; empty for distributions sampled in closed form.
    sample: pure fn(arrays, key, num) -> {'x': float32 (num, *data_shape), ...}.
    distribution: the `GaussianMixture` of a toy source, else None.
    num_classes: number of labels, or 0.
    read_rows: for a source streamed by the host pipeline without `arrays`:
      fn(indices (n,)) -> {'x': uint8 (n, *data_shape), ...}; else None.
    num_examples: the size of a streamed source (`len` of one with arrays).
  """

  name: str
  kind: str
  data_shape: tuple[int, ...]
  arrays: dict[str, np.ndarray]
  sample: Callable[[dict, jax.Array, int], dict[str, jax.Array]]
  distribution: GaussianMixture | None = None
  num_classes: int = 0
  read_rows: Callable[[np.ndarray], dict[str, np.ndarray]] | None = None
  num_examples: int = 0

  def __len__(self) -> int:
    return len(self.arrays["x"]) if self.arrays else self.num_examples

  def row_reader(self) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """fn(indices (n,)) -> rows {'x': (n, *data_shape), ...} for the host pipeline."""
    if self.read_rows is not None:
      return self.read_rows
    if not self.arrays:
      raise ValueError(
        f"data source {self.name!r} has no rows to read (it is sampled in "
        f"closed form); use config.data.pipeline='device'"
      )
    return pipeline.array_reader(self.arrays)


def to_unit_range(images: jax.Array) -> jax.Array:
  """uint8 [0, 255] -> float32 [-1, 1]; float input is returned as float32."""
  if images.dtype == jnp.uint8:
    return images.astype(jnp.float32) / 127.5 - 1.0
  return images.astype(jnp.float32)


def sample_arrays(arrays: dict, key: jax.Array, num: int) -> dict[str, jax.Array]:
  """Draws `num` examples uniformly with replacement; images to float32 [-1, 1]."""
  index = jax.random.randint(key, (num,), 0, arrays["x"].shape[0])
  batch = {"x": to_unit_range(arrays["x"][index])}
  if "label" in arrays:
    batch["label"] = arrays["label"][index]
  return batch


def draw_rows_without_replacement(source: DataSource, num: int, seed: int) -> dict[str, jax.Array]:
  """A batch of `source.sample`'s entries in which each row of the data comes at most once:
  min(num, the shortest array's length) rows, for evaluation.

  `source.sample` draws rows with replacement; here it runs on each row alone (vmapped,
  with a key of its own per row from `seed`, so per-row randomness such as inpainting's
  masks is kept), over the rows of a seeded permutation. Arrays of one length share one
  permutation (so a pair stays a pair); arrays of another length (CycleGAN's two domains)
  get their own.
  """
  if not source.arrays:
    raise ValueError(
      f"data source {source.name!r} has no rows to draw (it is sampled in "
      "closed form or its files are gone)"
    )
  rng = np.random.default_rng(seed)
  lengths = sorted({len(array) for array in source.arrays.values()})
  num = min(int(num), lengths[0])
  orders = {length: rng.permutation(length)[:num] for length in lengths}
  rows = {
    name: np.asarray(array)[orders[len(array)]][:, None] for name, array in source.arrays.items()
  }
  keys = jax.random.split(jax.random.PRNGKey(seed), num)
  batch = jax.jit(jax.vmap(lambda row, key: source.sample(row, key, 1)))(rows, keys)
  return {name: value[:, 0] for name, value in batch.items()}


def check_images(name: str, images: np.ndarray) -> None:
  """Refuses (one line) images that are not (N >= 1, H, W, C), uint8 or finite float in
  [-1, 1]: before any resizing, which would clip floats outside the range into it."""
  if images.ndim != 4:
    raise ValueError(f"images of {name} must be (N, H, W, C), got shape {images.shape}")
  if len(images) == 0:
    raise ValueError(f"dataset {name} is empty")
  if images.dtype != np.uint8:
    if not np.issubdtype(images.dtype, np.floating):
      raise ValueError(f"images of {name} must be uint8 or float in [-1, 1], got {images.dtype}")
    if not np.all(np.isfinite(images)):
      raise ValueError(
        f"float images of {name} must be finite, got NaN or Inf in "
        f"{int(np.sum(~np.isfinite(images)))} values"
      )
    low, high = float(images.min()), float(images.max())
    if low < -1.0 or high > 1.0:
      raise ValueError(f"float images of {name} must lie in [-1, 1], got [{low:.3g}, {high:.3g}]")


def image_source(name: str, images: np.ndarray, labels: np.ndarray | None) -> DataSource:
  """A `DataSource` over in-memory images (N, H, W, C), uint8 or float in [-1, 1]."""
  check_images(name, images)
  if images.dtype != np.uint8:
    images = images.astype(np.float32)
  arrays = {"x": images}
  num_classes = 0
  if labels is not None:
    if labels.shape != (len(images),):
      raise ValueError(f"labels of {name} must be ({len(images)},), got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
      raise ValueError(f"labels of {name} must be integers >= 0, got dtype {labels.dtype}")
    if len(labels) and labels.min() < 0:
      raise ValueError(f"labels of {name} must be integers >= 0, got minimum {labels.min()}")
    arrays["label"] = labels.astype(np.int32)
    num_classes = int(labels.max()) + 1
  return DataSource(
    name, "image", tuple(images.shape[1:]), arrays, sample_arrays, num_classes=num_classes
  )


TOY_OPTIONS = ("radius", "spacing", "std")  # config.data fields of gan_jax.data.toy.OPTIONS


def toy_source(distribution: GaussianMixture, training_set_size: int = 0) -> DataSource:
  """A `DataSource` drawing from a Gaussian mixture in closed form.

  training_set_size > 0: a fixed training set of that many points instead, drawn once from
  PRNGKey(0) and sampled uniformly with replacement (the papers' toy code trains on a
  set of 100,000 points); its metrics still count against the mixture itself.
  """
  if training_set_size:
    points = np.asarray(distribution.sample(jax.random.PRNGKey(0), training_set_size))
    return DataSource(
      distribution.name,
      "points",
      distribution.data_shape,
      {"x": points},
      sample_arrays,
      distribution=distribution,
    )

  def sample(arrays, key, num):
    del arrays
    return {"x": distribution.sample(key, num)}

  return DataSource(
    distribution.name, "points", distribution.data_shape, {}, sample, distribution=distribution
  )


def tfds_image_source(
  name: str,
  split: str = "train",
  data_dir: str | None = None,
  *,
  stream: bool = False,
  download: bool = False,
  image_size: int = 0,
) -> DataSource:
  """A `DataSource` over a tensorflow-datasets image split.

  stream=False loads the split into memory (sampled on the device);
  stream=True keeps only a row reader for the host pipeline (large datasets).
  download=True downloads and prepares a dataset that is not prepared yet.
  image_size > 0 resizes and center-crops the images to image_size x image_size.
  """
  if not stream:
    images, labels, num_classes = tfds_source.load_arrays(name, split, data_dir, download=download)
    if image_size:
      images = image_folder.resize_arrays(images, image_size)
    source = image_source(name, images, labels)
    return dataclasses.replace(source, num_classes=num_classes or source.num_classes)
  data_source = tfds_source.open_data_source(name, split, data_dir, download=download)
  read_rows = tfds_source.make_reader(data_source)
  if image_size:
    read_original = read_rows

    def read_rows(index):
      rows = read_original(index)
      return {**rows, "x": image_folder.resize_arrays(rows["x"], image_size)}

  first = read_rows(np.zeros(1, np.int64))
  return DataSource(
    name,
    "image",
    tuple(first["x"].shape[1:]),
    {},
    sample_arrays,
    num_classes=tfds_source.num_classes(data_source),
    read_rows=read_rows,
    num_examples=len(data_source),
  )


def own_data_name(path: str, fallback: str) -> str:
  """The name of data of one's own (an npz file, a folder of images): its file or folder
  name ('mine.npz' for runs/mine.npz, 'pictures' for data/pictures/). Not config.data.name,
  which names a toy, idx or tfds dataset and would otherwise label one's own data with the
  base config's dataset."""
  return os.path.basename(os.path.normpath(str(path))) or fallback


def make_data_source(config) -> DataSource:
  """Builds the data source a `config.data` names.

  config.data.source: 'toy' (config.data.name in ring8, grid25, gaussian1d; optional
  config.data.radius, .spacing, .std as `toy.OPTIONS` lists for each, and
  config.data.training_set_size > 0 for a fixed training set of that many points),
  'idx' (config.data.path: a directory of MNIST-format files, config.data.split;
  config.data.image_size S resizes and center-crops them to S x S),
  'npz' (config.data.path: a file with an array config.data.image_key, default 'x',
  and optionally config.data.label_key, default 'label'; config.data.image_size S > 0
  resizes and center-crops the images to S x S, as for tfds),
  'images' (config.data.path: a folder of PNG/JPEG files, read recursively; class
  subfolders become labels; config.data.image_size S resizes and center-crops them to
  S x S, 0 or absent: the files' own size; config.data.channels 1, 3 or 0 for gray
  when every file is gray; cached in config.data.cache_dir, see `gan_jax.data.image_folder`),
  'tfds' (config.data.name a tensorflow-datasets name such as 'fashion_mnist',
  config.data.split, optional config.data.data_dir; prepared beforehand, or downloaded
  with config.data.download = True).
  'image_to_image' (config.data.task in edges, superres, inpainting, unpaired, built
  from the idx files at config.data.path; see `gan_jax.data.paired`).
  With config.data.pipeline = 'host' a tfds split is not loaded into memory but
  read row by row by the host pipeline. The 'npz' and 'images' sources are named after
  their file or folder (`own_data_name`).
  """
  data = config.data if hasattr(config, "data") else config
  source = data.get("source", "toy")
  mode = data.get("pipeline", "device")
  check_source(source)
  check_pipeline(mode)
  if source == "toy":
    options = {key: data[key] for key in TOY_OPTIONS if key in data}
    distribution = toy.make_distribution(data.get("name", "ring8"), **options)
    return toy_source(distribution, data.get("training_set_size", 0))
  if source == "idx":
    path = data.get("path", files.FASHION_MNIST_DIR)
    images, labels = files.load_idx_split(path, data.get("split", "train"))
    if data.get("image_size", 0):
      images = image_folder.resize_arrays(images, data.image_size)
    return image_source(data.get("name", "fashion_mnist"), images, labels)
  if source == "npz":
    images, labels = files.load_npz(
      data.path, data.get("image_key", "x"), data.get("label_key", "label")
    )
    if data.get("image_size", 0):
      check_images(own_data_name(data.path, "npz"), images)  # before resizing clips them
      images = image_folder.resize_arrays(images, data.image_size)
    return image_source(own_data_name(data.path, "npz"), images, labels)
  if source == "images":
    path = data.get("path", "")
    pictures, labels, names = image_folder.load_folder(
      path, data.get("image_size", 0), data.get("channels", 0), data.get("cache_dir", "")
    )
    source = image_source(own_data_name(path, "images"), pictures, labels)
    return dataclasses.replace(source, num_classes=len(names) if names else 0)
  if source == "tfds":
    return tfds_image_source(
      data.get("name", "fashion_mnist"),
      data.get("split", "train"),
      data.get("data_dir", None) or None,
      stream=mode == "host",
      download=bool(data.get("download", False)),
      image_size=data.get("image_size", 0),
    )
  if source == "image_to_image":
    if mode != "device":
      raise ValueError(
        "image_to_image tasks are sampled on the device; use config.data.pipeline='device'"
      )
    from gan_jax.data import paired  # imports this package

    return paired.source_from_config(
      data, lambda path, split: files.load_idx_split(path or files.FASHION_MNIST_DIR, split)
    )
  if source == "captions":  # config.data.path: a captions .npz (gan_jax.data.captions)
    from gan_jax.data import captions

    return captions.source_from_config(data)
  if source == "speech":  # config.data.path: a speech .npz (gan_jax.data.speech)
    from gan_jax.data import speech

    return speech.source_from_config(data)
  raise AssertionError(f"data source {source!r} has no loader")


__all__ = [
  "DataSource",
  "make_data_source",
  "image_source",
  "toy_source",
  "tfds_image_source",
  "sample_arrays",
  "draw_rows_without_replacement",
  "to_unit_range",
  "GaussianMixture",
  "HostPipeline",
]
