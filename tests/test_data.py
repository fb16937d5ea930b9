"""Offline data: idx files (gzipped or not), npz arrays, the toy mixtures."""

import gzip
import os
import struct

import jax
import numpy as np
import pytest

from gan_jax import data
from gan_jax.data import files, toy


def write_idx(path, array, compress):
  header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
  opener = gzip.open if compress else open
  with opener(path, "wb") as f:
    f.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("compress", [False, True])
def test_idx_directory_round_trip(tmp_path, compress):
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)
  labels = rng.integers(0, 10, (10,), dtype=np.uint8)
  suffix = ".gz" if compress else ""
  write_idx(str(tmp_path / f"t10k-images-idx3-ubyte{suffix}"), images, compress)
  write_idx(str(tmp_path / f"t10k-labels-idx1-ubyte{suffix}"), labels, compress)
  got_images, got_labels = files.load_idx_split(str(tmp_path), "test")
  np.testing.assert_array_equal(got_images[..., 0], images)
  np.testing.assert_array_equal(got_labels, labels)
  source = data.image_source("tiny", got_images, got_labels)
  batch = source.sample(jax.device_put(source.arrays), jax.random.PRNGKey(0), 6)
  assert batch["x"].shape == (6, 28, 28, 1) and batch["x"].dtype == np.float32
  assert float(batch["x"].min()) >= -1.0 and float(batch["x"].max()) <= 1.0
  assert batch["label"].shape == (6,)


def test_idx_images_are_resized_by_image_size(tmp_path):
  """DCGAN's hint for images of another size (data.image_size) holds for idx files too."""
  import ml_collections

  from gan_jax.data import image_folder

  images = np.random.default_rng(0).integers(0, 256, (4, 20, 20), dtype=np.uint8)
  write_idx(str(tmp_path / "train-images-idx3-ubyte"), images, False)
  write_idx(str(tmp_path / "train-labels-idx1-ubyte"), np.arange(4), False)
  config = ml_collections.ConfigDict(
    {"data": {"source": "idx", "path": str(tmp_path), "image_size": 32}}
  )
  source = data.make_data_source(config)
  assert source.data_shape == (32, 32, 1)
  np.testing.assert_array_equal(
    source.arrays["x"], image_folder.resize_arrays(images[..., None], 32)
  )


def test_truncated_idx_file_is_named(tmp_path):
  path = tmp_path / "train-images-idx3-ubyte"
  write_idx(str(path), np.zeros((4, 2, 2)), False)
  path.write_bytes(path.read_bytes()[:-3])
  with pytest.raises(ValueError, match="truncated or padded"):
    files.read_idx(str(path))


def test_missing_directory_says_how_to_get_fashion_mnist(tmp_path):
  with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
    files.load_idx_split(str(tmp_path / "nowhere"), "train")


@pytest.mark.skipif(
  not os.path.isdir(files.FASHION_MNIST_DIR), reason="Debian's dataset-fashion-mnist not installed"
)
def test_real_fashion_mnist_from_the_debian_package():
  images, labels = files.load_idx_split(files.FASHION_MNIST_DIR, "test")
  assert images.shape == (10000, 28, 28, 1) and images.dtype == np.uint8
  assert sorted(np.unique(labels)) == list(range(10))


def test_float_images_outside_unit_range_are_refused():
  with pytest.raises(ValueError, match=r"must lie in \[-1, 1\], got \[0, 255\]"):
    images = np.zeros((2, 4, 4, 1), np.float32)
    images[1] = 255.0
    data.image_source("bad", images, None)


def test_ring_and_grid_follow_pacgan():
  ring, grid = toy.ring(), toy.grid()
  assert ring.num_modes == 8 and ring.std == 0.01
  np.testing.assert_allclose(np.linalg.norm(ring.means, axis=1), 1.0, rtol=1e-6)
  np.testing.assert_allclose(ring.means[2], [0.0, 1.0], atol=1e-6)
  assert grid.num_modes == 25 and grid.std == 0.05
  assert sorted(set(grid.means[:, 0].round(6))) == [-4, -2, 0, 2, 4]
  points = np.asarray(ring.sample(jax.random.PRNGKey(0), 4000))
  nearest = np.argmin(((points[:, None] - ring.means[None]) ** 2).sum(-1), axis=1)
  assert np.bincount(nearest, minlength=8).min() > 400  # all eight modes, roughly equally
  assert (points - ring.means[nearest]).std() == pytest.approx(0.01, rel=0.1)
