"""The library's own feature network: seeded training, caching, identity."""

import numpy as np
import pytest

from gan_jax.metrics import features


def _two_class_images(n=256, seed=0):
  """Class 0: a bright left half; class 1: a bright right half; uint8 (n, 28, 28, 1)."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 2, n).astype(np.int32)
  images = rng.integers(0, 60, (n, 28, 28, 1)).astype(np.uint8)
  for i, label in enumerate(labels):
    images[i, :, 14 * label : 14 * label + 14] += 150
  return images, labels


@pytest.fixture(scope="module")
def trained():
  images, labels = _two_class_images()
  params, losses = features.train_classifier(
    images, labels, seed=3, num_steps=30, batch_size=32, num_classes=2
  )
  return images, labels, params, losses


def test_training_lowers_the_loss_and_learns_a_separable_task(trained):
  images, labels, params, losses = trained
  assert losses[-5:].mean() < 0.5 * losses[:5].mean()
  network = features.FeatureNetwork(params, 2, features.parameter_identity(params))
  held_out, held_out_labels = _two_class_images(128, seed=1)
  assert features.accuracy(network, held_out, held_out_labels) > 0.95


def test_same_seed_gives_the_same_bits_and_another_seed_does_not(trained):
  images, labels, params, _ = trained
  again, _ = features.train_classifier(
    images, labels, seed=3, num_steps=30, batch_size=32, num_classes=2
  )
  other, _ = features.train_classifier(
    images, labels, seed=4, num_steps=30, batch_size=32, num_classes=2
  )
  assert features.parameter_identity(again) == features.parameter_identity(params)
  assert features.parameter_identity(other) != features.parameter_identity(params)


def test_embed_returns_features_and_logits_of_every_image(trained):
  images, _, params, _ = trained
  network = features.FeatureNetwork(params, 2, features.parameter_identity(params))
  feats, logits = network.embed(images[:70], batch_size=32)
  assert feats.shape == (70, 128) and logits.shape == (70, 2)
  # uint8 and [-1, 1] float inputs are the same images.
  float_feats, _ = network.embed(images[:70].astype(np.float32) / 127.5 - 1.0)
  np.testing.assert_allclose(feats, float_feats, rtol=1e-5, atol=1e-5)


def test_save_and_load_keep_the_identity_and_detect_tampering(trained, tmp_path):
  _, _, params, _ = trained
  network = features.FeatureNetwork(
    params, 2, features.parameter_identity(params), 0.5, {"seed": 3}
  )
  path = str(tmp_path / "net.msgpack")
  features.save_network(network, path)
  loaded = features.load_network(path)
  assert loaded.identity == network.identity
  assert loaded.test_accuracy == 0.5
  import json

  meta = json.load(open(path + ".json"))
  meta["identity"] = "fmnist-cnn-000000000000"
  json.dump(meta, open(path + ".json", "w"))
  with pytest.raises(ValueError, match="delete both files"):
    features.load_network(path)


def test_a_missing_network_file_is_a_clear_error(tmp_path):
  with pytest.raises(FileNotFoundError, match="no feature network"):
    features.load_network(str(tmp_path / "absent.msgpack"))


def test_an_unwritable_network_path_is_refused_before_training(tmp_path, monkeypatch):
  def no_training(*args, **kwargs):
    raise AssertionError("trained before checking the path")

  monkeypatch.setattr(features, "train_classifier", no_training)
  (tmp_path / "a-file").write_text("not a folder")
  path = str(tmp_path / "a-file" / "network.msgpack")
  with pytest.raises(ValueError, match="cannot be written to .*network.msgpack.*writable path"):
    features.load_or_train(path, data_dir=str(tmp_path))
  assert (tmp_path / "a-file").read_text() == "not a folder"


def test_wrong_image_shape_is_refused(trained):
  _, _, params, _ = trained
  network = features.FeatureNetwork(params, 2)
  with pytest.raises(ValueError, match=r"\(N, 28, 28, 1\)"):
    network.embed(np.zeros((2, 32, 32, 3), np.float32))
