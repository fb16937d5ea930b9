"""Local image files: MNIST-format idx files (gzipped or not) and .npz arrays."""

from __future__ import annotations

import gzip
import os
import struct
import zipfile

import numpy as np

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
IDX_SPLIT_PREFIX = {"train": "train", "test": "t10k"}


def read_idx(path: str) -> np.ndarray:
  """Reads one idx file (optionally .gz) into an array of its stored shape and dtype."""
  opener = gzip.open if path.endswith(".gz") else open
  try:
    with opener(path, "rb") as f:
      data = f.read()
  except (EOFError, gzip.BadGzipFile, IsADirectoryError) as error:
    raise ValueError(f"{path} is not a readable idx file: {error}") from None
  if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_DTYPES:
    raise ValueError(f"{path} is not an idx file (bad magic number {data[:4].hex()})")
  ndim = data[3]
  shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
  dtype = np.dtype(IDX_DTYPES[data[2]])
  expected = int(np.prod(shape)) * dtype.itemsize
  body = data[4 + 4 * ndim :]
  if len(body) != expected:
    raise ValueError(
      f"{path} is truncated or padded: header shape {shape} needs {expected} "
      f"bytes, file has {len(body)}"
    )
  return np.frombuffer(body, dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _find(directory: str, stem: str) -> str:
  for name in (stem, stem + ".gz"):
    path = os.path.join(directory, name)
    if os.path.exists(path):
      return path
  raise FileNotFoundError(
    f"no {stem}[.gz] in {directory}; for Fashion-MNIST install Debian's package: "
    f"apt-get install dataset-fashion-mnist (files go to {FASHION_MNIST_DIR})"
  )


def check_split(split) -> None:
  """The rule of config.data.split for idx files: a name in `IDX_SPLIT_PREFIX`."""
  if not isinstance(split, str) or split not in IDX_SPLIT_PREFIX:
    raise ValueError(f"split {split!r} is unknown; accepted: {', '.join(IDX_SPLIT_PREFIX)}")


def load_idx_split(directory: str, split: str) -> tuple[np.ndarray, np.ndarray]:
  """Images (N, H, W, 1) uint8 and labels (N,) int32 of an MNIST-layout directory."""
  check_split(split)
  if not os.path.isdir(directory):
    raise FileNotFoundError(
      f"data directory {directory} does not exist; for Fashion-MNIST install Debian's "
      f"package: apt-get install dataset-fashion-mnist (files go to {FASHION_MNIST_DIR})"
    )
  prefix = IDX_SPLIT_PREFIX[split]
  images = read_idx(_find(directory, f"{prefix}-images-idx3-ubyte"))
  labels = read_idx(_find(directory, f"{prefix}-labels-idx1-ubyte"))
  if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
    raise ValueError(
      f"idx files in {directory} disagree: images {images.shape}, labels {labels.shape}"
    )
  return images[..., None], labels.astype(np.int32)


NPZ_ACCEPTED = (
  "accepted: an .npz file of named arrays, as np.savez(path, x=images, label=labels) writes"
)


def open_npz(path: str, accepted: str = NPZ_ACCEPTED) -> np.lib.npyio.NpzFile:
  """The opened .npz at an existing `path`; a one-line ValueError naming it when it is not
  one (a folder, a .npy, another file), `accepted` saying what is."""
  try:
    loaded = np.load(path, allow_pickle=False)
  except ValueError:  # what numpy says of any file that is neither .npy nor .npz
    raise ValueError(f"{path} is not a readable .npz file (a zip of arrays); {accepted}") from None
  except (OSError, EOFError, zipfile.BadZipFile) as error:
    reason = error.strerror if isinstance(error, OSError) and error.strerror else error
    raise ValueError(f"{path} is not a readable .npz file of arrays: {reason}") from None
  if not isinstance(loaded, np.lib.npyio.NpzFile):
    raise ValueError(f"{path} holds a single array (.npy), not named arrays; {accepted}")
  return loaded


def read_npz_arrays(path: str, names: tuple[str, ...], what: str) -> dict[str, np.ndarray]:
  """The arrays `names` of the .npz at an existing `path`, whole; a one-line ValueError
  naming the file (`what` file PATH) when it is not an .npz, lacks one, or one cannot be
  read (object arrays, a cut-off file)."""
  loaded = open_npz(path, f"accepted: an .npz file of the arrays {', '.join(names)}")
  try:
    with loaded as arrays:
      missing = [name for name in names if name not in arrays.files]
      if missing:
        raise ValueError(
          f"{what} file {path} lacks {', '.join(missing)}; it needs {', '.join(names)}"
        )
      return {name: arrays[name] for name in names}
  except ValueError as error:
    if str(error).startswith(f"{what} file {path}"):
      raise
    raise ValueError(f"{what} file {path} cannot be read: {str(error).splitlines()[0]}") from None
  except (OSError, EOFError, zipfile.BadZipFile) as error:
    raise ValueError(f"{what} file {path} cannot be read: {error}") from None


def load_npz(path: str, image_key: str = "x", label_key: str = "label"):
  """Images (N, H, W, C) and labels (N,) or None from an .npz file."""
  if not os.path.exists(path):
    raise FileNotFoundError(f"npz file {path} does not exist")
  loaded = open_npz(path)
  try:
    with loaded as arrays:
      if image_key not in arrays:
        raise ValueError(f"{path} has no array {image_key!r}; it has: {', '.join(arrays.files)}")
      if label_key != "label" and label_key not in arrays:  # a key named on purpose
        raise ValueError(
          f"{path} has no array {label_key!r} (data.label_key); it has: {', '.join(arrays.files)}"
        )
      images = arrays[image_key]
      labels = arrays[label_key] if label_key in arrays else None
  except ValueError as error:
    if str(error).startswith(path):
      raise
    raise ValueError(f"{path} is not a readable .npz file of arrays: {error}") from None
  except (OSError, EOFError, zipfile.BadZipFile) as error:
    raise ValueError(f"{path} is not a readable .npz file of arrays: {error}") from None
  shapes = "(N, H, W) or (N, H, W, C)"
  if images.ndim == 3 and images.shape[-1] in (3, 4) and min(images.shape[:2]) > 4:
    raise ValueError(
      f"{path}:{image_key} of shape {images.shape} looks like one (H, W, C) image, not "
      f"{shapes} images; accepted: a stack of images (x[None] for a single one)"
    )
  if images.ndim == 3:
    images = images[..., None]
  if images.ndim != 4:
    raise ValueError(f"{path}:{image_key} must be {shapes}, got {images.shape}")
  if images.shape[1] in (1, 3, 4) and images.shape[3] not in (1, 3, 4) and images.shape[2] > 4:
    raise ValueError(
      f"{path}:{image_key} of shape {images.shape} looks channels-first (N, C, H, W); "
      f"accepted: {shapes}, np.moveaxis(x, 1, -1) makes them channels-last"
    )
  return images, labels
