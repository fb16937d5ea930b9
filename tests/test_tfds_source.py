"""tensorflow-datasets by name, without TensorFlow, on `tfds.testing.mock_data` (no download
here)."""

import time

import jax
import ml_collections
import numpy as np
import pytest
import tensorflow_datasets as tfds

from gan_jax import data


def tfds_config(name, pipeline="device", data_dir=""):
  return ml_collections.ConfigDict(
    {"source": "tfds", "name": name, "split": "train", "data_dir": data_dir, "pipeline": pipeline}
  )


@pytest.mark.parametrize(
  "name,shape",
  [
    ("mnist", (28, 28, 1)),
    ("fashion_mnist", (28, 28, 1)),
    ("cifar10", (32, 32, 3)),
    ("celeb_a", (218, 178, 3)),
  ],
)
@pytest.mark.parametrize("pipeline", ["device", "host"])
def test_images_come_out_nhwc_float32_in_minus_one_one(name, shape, pipeline):
  with tfds.testing.mock_data(num_examples=6):
    source = data.make_data_source(tfds_config(name, pipeline))
  assert (source.kind, source.data_shape, len(source)) == ("image", shape, 6)
  if pipeline == "device":
    batch = source.sample(jax.device_put(source.arrays), jax.random.PRNGKey(0), 4)
  else:  # what the host pipeline reads, converted as the streamed step converts it
    batch = {"x": data.to_unit_range(source.row_reader()(np.array([0, 5, 2, 2]))["x"])}
  assert batch["x"].shape == (4,) + shape and batch["x"].dtype == np.float32
  assert -1.0 <= float(batch["x"].min()) and float(batch["x"].max()) <= 1.0


def test_labels_and_their_number_come_from_the_dataset_info():
  with tfds.testing.mock_data(num_examples=6):
    source = data.make_data_source(tfds_config("mnist"))
  assert source.num_classes == 10
  assert source.arrays["label"].dtype == np.int32 and source.arrays["label"].shape == (6,)


def test_a_dataset_that_is_not_prepared_fails_at_once_saying_how_to_get_it(tmp_path):
  start = time.perf_counter()
  with pytest.raises(FileNotFoundError) as error:
    data.make_data_source(tfds_config("fashion_mnist", data_dir=str(tmp_path)))
  message = str(error.value)
  assert time.perf_counter() - start < 5.0  # no network attempt, no download
  assert "\n" not in message
  assert f"not prepared in {tmp_path}" in message
  assert "tfds build fashion_mnist --file_format=array_record" in message


def test_an_unknown_dataset_name_is_refused(tmp_path):
  with pytest.raises(ValueError, match="tfds dataset 'fashion_mnistt' is unknown"):
    data.make_data_source(tfds_config("fashion_mnistt", data_dir=str(tmp_path)))


def test_an_unknown_pipeline_is_refused():
  with pytest.raises(ValueError, match="data pipeline 'stream' is unknown; accepted: device, host"):
    data.make_data_source(tfds_config("mnist", pipeline="stream"))
