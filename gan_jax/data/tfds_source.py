"""TensorFlow Datasets by name (mnist, fashion_mnist, cifar10, celeb_a, ...), without TensorFlow.

Reads prepared datasets with `tfds.data_source`, random access to ArrayRecord
files decoded to numpy, so TensorFlow is not needed (`tfds.load` and
`as_numpy` need tf.data). Nothing is downloaded unless asked (download=True,
config.data.download): a dataset that is not prepared in the data directory
fails at once with a one-line error saying how to get it. Tests use
`tfds.testing.mock_data`, which mocks `data_source`.
"""

from __future__ import annotations

import os

import numpy as np

IMAGE_KEYS = ("image", "img")
LABEL_KEYS = ("label", "labels")


def _how_to_get(name: str, data_dir: str) -> str:
  return (
    f"set config.data.download=True to download and prepare it here, or on a machine "
    f"with internet run `tfds build {name} --file_format=array_record --data_dir=DIR` "
    f"and copy DIR here, then set config.data.data_dir (now {data_dir}) or TFDS_DATA_DIR"
  )


def open_data_source(
  name: str, split: str = "train", data_dir: str | None = None, *, download: bool = False
):
  """The random-access `tfds.data_source` of a dataset; raises at once when it is absent.

  download=True downloads and prepares it (as ArrayRecord files) when it is not prepared.

  Returns a sequence of examples, each a dict of numpy values, e.g.
  {'image': uint8 (H, W, C), 'label': int64 ()}.
  """
  try:
    import tensorflow_datasets as tfds
  except ModuleNotFoundError as error:
    if error.name != "tensorflow_datasets":
      raise
    raise ModuleNotFoundError(
      f"data.source='tfds' (dataset {name!r}) needs tensorflow-datasets, "
      f"an extra: pip install 'gan_jax[tfds]'"
    ) from None
  data_dir = os.path.expanduser(
    data_dir or os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")
  )
  try:
    builder = tfds.builder(name, data_dir=data_dir)
  except tfds.core.registered.DatasetNotFoundError:
    raise ValueError(
      f"tfds dataset {name!r} is unknown to tensorflow-datasets "
      f"{tfds.__version__}; see tfds.list_builders()"
    ) from None
  try:
    return tfds.data_source(name, split=split, data_dir=data_dir, download=download)
  except Exception as error:  # tfds raises several types here; all mean "not usable as is".
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    if download and not builder.is_prepared() and isinstance(error, ModuleNotFoundError):
      raise ModuleNotFoundError(
        f"tfds dataset {name!r} could not be downloaded and prepared: preparing needs "
        f"{error.name!r}, which tensorflow-datasets does not install (pip install "
        f"tensorflow importlib_resources), or on a machine with them run `tfds build {name} "
        f"--file_format=array_record --data_dir=DIR` and copy DIR here (config.data.data_dir)"
      ) from None
    if download and not builder.is_prepared():
      raise ValueError(
        f"tfds dataset {name!r} could not be downloaded and prepared in "
        f"{data_dir} ({type(error).__name__}: {reason})"
      ) from None
    if not builder.is_prepared():
      raise FileNotFoundError(
        f"tfds dataset {name!r} is not prepared in {data_dir}; {_how_to_get(name, data_dir)}"
      ) from None
    raise ValueError(
      f"tfds dataset {name!r} split {split!r} in {data_dir} cannot be read "
      f"without TensorFlow ({reason}); {_how_to_get(name, data_dir)}"
    ) from None


def _field(example: dict, keys: tuple[str, ...]) -> str | None:
  return next((key for key in keys if key in example), None)


def example_keys(data_source) -> tuple[str, str | None]:
  """(image key, label key or None) of the examples of a data source."""
  if len(data_source) == 0:
    raise ValueError("the tfds split is empty")
  first = data_source[0]
  image_key = _field(first, IMAGE_KEYS)
  if image_key is None:
    raise ValueError(
      f"tfds examples have no image field; fields: {', '.join(first)}; "
      f"accepted: {', '.join(IMAGE_KEYS)}"
    )
  return image_key, _field(first, LABEL_KEYS)


def make_reader(data_source):
  """A row reader: indices int (n,) -> {'x': uint8 (n, H, W, C), 'label': int32 (n,)}."""
  image_key, label_key = example_keys(data_source)

  def read_rows(index: np.ndarray) -> dict[str, np.ndarray]:
    examples = [data_source[int(i)] for i in index]
    rows = {"x": np.stack([np.asarray(e[image_key]) for e in examples])}
    if rows["x"].ndim == 3:
      rows["x"] = rows["x"][..., None]
    if label_key is not None:
      rows["label"] = np.asarray([e[label_key] for e in examples], np.int32)
    return rows

  return read_rows


def num_classes(data_source) -> int:
  """The number of classes of the label feature, or 0 when there is none."""
  label_key = example_keys(data_source)[1]
  if label_key is None:
    return 0
  return int(getattr(data_source.dataset_info.features[label_key], "num_classes", 0) or 0)


def load_arrays(
  name: str, split: str = "train", data_dir: str | None = None, *, download: bool = False
):
  """The whole split in memory: images (N, H, W, C) uint8, labels (N,) int32 or None,
  num_classes."""
  data_source = open_data_source(name, split, data_dir, download=download)
  rows = make_reader(data_source)(np.arange(len(data_source)))
  return rows["x"], rows.get("label"), num_classes(data_source)
