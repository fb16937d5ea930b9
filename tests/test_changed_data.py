"""A run whose data changed after training: sampling and reports use what DIR/data.json
records, evaluation and resuming refuse in one line; and the data errors found beside it
(string labels, too few images for image metrics, one class for a conditional recipe,
caption and speech files that are not .npz archives)."""

import json

import ml_collections
import numpy as np
import pytest

from gan_jax import cli, data, runs, validation
from gan_jax.data import captions, speech
from tests.conftest import train_tiny_image_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  tmp_path = tmp_path_factory.mktemp("changed")
  workdir = tmp_path / "run"
  assert train_tiny_image_run(tmp_path, workdir) == 0
  return tmp_path, workdir


def replace_images(tmp_path, shape):
  images = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
  np.savez(tmp_path / "images.npz", x=images)


def test_changed_data_is_sampled_from_the_description_and_refused_for_evaluation(run, capsys):
  tmp_path, workdir = run
  original = (tmp_path / "images.npz").read_bytes()
  try:
    replace_images(tmp_path, (64, 8, 8))  # the same path, other images
    out = tmp_path / "s.npz"
    assert cli.main(["sample", "--workdir", str(workdir), "--num", "3", "--out", str(out)]) == 0
    assert np.load(out)["samples"].shape == (3, 28, 28, 1)
    capsys.readouterr()
    assert cli.main(["evaluate", "--workdir", str(workdir), "--no-report"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
      f"gan-jax: error: the data at config.data has changed since the run was trained: "
      f"{workdir / 'data.json'} records example shape (28, 28, 1), the data now gives "
      f"(8, 8, 1); restore the run's data to evaluate it"
    ]
    before = json.loads((workdir / "data.json").read_text())
    resumed = train_tiny_image_run(tmp_path, workdir, "--config.num_steps=4", write_images=False)
    assert resumed == 2
    assert "has changed since the run was trained" in capsys.readouterr().err
    assert json.loads((workdir / "data.json").read_text()) == before
  finally:
    (tmp_path / "images.npz").write_bytes(original)


def test_emptied_data_is_sampled_from_the_description(run):
  tmp_path, workdir = run
  original = (tmp_path / "images.npz").read_bytes()
  try:
    (tmp_path / "images.npz").write_bytes(b"")  # there, but unreadable
    out = tmp_path / "e.npz"
    assert cli.main(["sample", "--workdir", str(workdir), "--num", "2", "--out", str(out)]) == 0
    config, source, _ = runs.load_run(str(workdir), need_data=False)
    assert source.data_shape == (28, 28, 1) and not source.arrays
  finally:
    (tmp_path / "images.npz").write_bytes(original)


def test_string_labels_are_one_line_naming_the_dtype():
  images = np.zeros((4, 8, 8, 1), np.uint8)
  with pytest.raises(ValueError, match=r"labels of a must be integers >= 0, got dtype <U1"):
    data.image_source("a", images, np.array(["a", "b", "a", "b"]))


def test_too_few_images_for_image_metrics_are_named(tmp_path, capsys):
  workdir = tmp_path / "few"
  assert train_tiny_image_run(tmp_path, workdir) == 0
  images = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
  np.savez(tmp_path / "images.npz", x=images)  # the same shape: the data did not change kind
  capsys.readouterr()
  args = ["evaluate", "--workdir", str(workdir), "--no-report", "--num-samples", "8"]
  assert cli.main(args) == 2
  assert capsys.readouterr().err.strip().splitlines() == [
    "gan-jax: error: the run's data holds 3 images; image metrics need at least 4 real ones "
    "(precision and recall take each image's 3 nearest neighbours)"
  ]


def test_one_class_for_a_conditional_recipe_says_what_is_accepted():
  from gan_jax import recipes

  source = data.image_source("one", np.zeros((4, 8, 8, 1), np.uint8), np.zeros(4, np.int32))
  config = ml_collections.ConfigDict({"recipe": "conditional", "variant": {}})
  recipe = recipes.get_recipe("conditional")
  with pytest.raises(ValueError, match=r"data 'one' has one class; accepted: data of 2 classes"):
    validation.check_classes(config, source, recipe)


@pytest.mark.parametrize("load", [captions.load_captions, speech.load_speech])
def test_a_captions_or_speech_file_that_is_not_an_npz_is_one_line_naming_it(tmp_path, load):
  np.save(tmp_path / "one.npy", np.zeros(3))
  (tmp_path / "folder").mkdir()
  for path, message in (
    (tmp_path / "one.npy", "holds a single array"),
    (tmp_path / "folder", "is not a readable .npz file of arrays: Is a directory"),
  ):
    with pytest.raises(ValueError, match=message) as error:
      load(str(path))
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)
