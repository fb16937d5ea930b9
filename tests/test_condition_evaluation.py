"""Recipes whose generator maps a condition: samples and evaluation draw the conditions from
the data (never from the noise prior) and score the outputs against their own targets."""

import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import data, evaluate, recipes, sampling
from gan_jax.data import paired
from gan_jax.metrics import features
from gan_jax.variants import cyclegan, inpainting, translation
from tests.test_variants_image_to_image import state_and_source, tiny_config


@pytest.fixture(scope="module")
def network(test_images):
  images, labels = test_images
  params, _ = features.train_classifier(images[:64], labels[:64], num_steps=2)
  return features.FeatureNetwork(params, 10, features.parameter_identity(params))


@pytest.fixture(scope="module")
def test_images():
  return data.files.load_idx_split(data.files.FASHION_MNIST_DIR, "test")


def to_uint8(images):
  return np.round((np.asarray(images) + 1.0) * 127.5).astype(np.uint8)


def test_rows_without_replacement_are_distinct_pairs(test_images):
  source = paired.task_source("edges", test_images[0][:50], None, name="fmnist")
  batch = data.draw_rows_without_replacement(source, 80, seed=3)
  assert batch["x"].shape == (50, 28, 28, 1)  # all 50 rows, none twice
  targets = to_uint8(batch["x"])
  assert len({row.tobytes() for row in targets}) == len(
    {row.tobytes() for row in source.arrays["x"]}
  )
  np.testing.assert_array_equal(to_uint8(batch["cond"]), paired.edge_maps(targets))


@pytest.fixture(scope="module")
def pix2pix_case():
  config = tiny_config("pix2pix")  # trained on the test split: scored on the training split
  state, source = state_and_source(config)
  held_out, split = evaluate.held_out_source(config, source)
  return config, state, source, held_out, split


def scored_on(monkeypatch, held_out, split):
  """evaluate_state scores on `held_out` (built once per test module: edge maps of 60,000
  images take seconds)."""
  monkeypatch.setattr(evaluate, "held_out_source", lambda config, source: (held_out, split))


def test_the_held_out_split_is_the_other_idx_split(pix2pix_case):
  config, _, source, held_out, split = pix2pix_case
  assert config.data.split == "test" and split == "train"
  assert len(source) == 10000 and len(held_out) == 60000


def test_pix2pix_is_scored_on_the_held_out_conditions_against_their_targets(
  pix2pix_case, network, monkeypatch
):
  config, state, source, held_out, split = pix2pix_case
  scored_on(monkeypatch, held_out, split)
  result = evaluate.evaluate_state(state, source, config, num_samples=32, network=network)
  assert result["eval_split"] == "train" and result["num_samples"] == 32
  batch = data.draw_rows_without_replacement(held_out, 32, seed=0)
  outputs = np.asarray(translation.translate(state, batch["cond"]))
  error = np.abs(outputs - np.asarray(batch["x"]))
  assert result["l1"] == pytest.approx(float(error.mean()), rel=1e-5)
  assert np.isfinite(result["psnr"]) and -1 <= result["ssim"] <= 1
  assert 0 <= result["class_match"] <= 1 and result["fd"] >= 0
  assert set(result["floor"]) == {"fd", "precision", "recall"}
  assert result["floor_splits"] == "test vs train"
  table = evaluate.format_table(result)
  assert "class_match" in table and "eval_split: train" in table


def test_perfect_outputs_score_perfectly_and_masks_restrict_l1():
  images = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1)), jnp.float32)
  perfect = evaluate.pixel_metrics(images, images)
  assert perfect["l1"] == 0 and perfect["ssim"] == pytest.approx(1.0) and perfect["psnr"] > 100
  mask = np.zeros((4, 28, 28, 1), np.float32)
  mask[:, :7] = 1.0
  outputs = np.asarray(images).copy()
  outputs[:, 7:] += 1.0  # wrong only outside the mask
  assert evaluate.pixel_metrics(outputs, images, mask)["masked_l1"] == pytest.approx(0.0)


def test_inpainting_scores_the_masked_pixels(network, monkeypatch):
  config = tiny_config("inpainting")
  state, source = state_and_source(config)
  scored_on(monkeypatch, source, "test")  # the metrics' formulas, on the run's own split
  result = evaluate.evaluate_state(state, source, config, num_samples=16, network=network)
  batch = data.draw_rows_without_replacement(source, 16, seed=0)
  outputs = np.asarray(inpainting.inpaint(state, batch["cond"]))
  mask = np.broadcast_to(np.asarray(batch["mask"]), outputs.shape)
  error = np.abs(outputs - np.asarray(batch["x"]))
  assert "l1" not in result
  assert result["masked_l1"] == pytest.approx(float(error[mask > 0].mean()), rel=1e-5)


def test_cyclegan_is_scored_against_the_other_domain_without_pixel_metrics(network, monkeypatch):
  config = tiny_config("cyclegan")
  state, source = state_and_source(config)
  scored_on(monkeypatch, source, "test")  # the metrics' formulas, on the run's own split
  result = evaluate.evaluate_state(state, source, config, num_samples=16, network=network)
  assert {"fd", "precision", "recall", "class_match"} <= set(result)
  assert "--inception-weights" in result["needs_inception_weights"]  # what weights would add
  assert not {"l1", "psnr", "ssim", "class_kl"} & set(result)
  batch = data.draw_rows_without_replacement(source, 16, seed=0)
  outputs = np.asarray(cyclegan.translate_a_to_b(state, batch["a"]))
  want = evaluate.translation_metrics(network, np.asarray(batch["x"]), outputs, paired=False)
  assert result["fd"] == pytest.approx(want["fd"], rel=1e-5)


def test_conditions_of_a_source_without_rows_are_refused_in_one_line():
  recipe = recipes.get_recipe("pix2pix")
  empty = data.DataSource("fashion_mnist_edges", "image", (28, 28, 1), {}, paired.paired_sample)
  with pytest.raises(ValueError, match="rows of data 'fashion_mnist_edges' cannot be read"):
    sampling.draw_conditions(empty, recipe, 4, seed=0)


def test_statistics_of_a_condition_generator_are_not_recomputed_from_noise():
  state, _ = state_and_source(tiny_config("pix2pix"))
  stats = {"batch_stats": {"layer": {"mean": jnp.zeros(3), "var": jnp.ones(3)}}}
  state = state.replace(g_collections={**state.g_collections, **stats})
  with pytest.raises(ValueError, match="use sampling_statistics='averaged'"):
    sampling.recompute_batch_statistics(state, recipes.get_recipe("pix2pix"), batch_size=4)


def test_the_picture_rows_are_condition_output_target_at_the_outputs_size():
  recipe = recipes.get_recipe("superres")
  low = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (3, 14, 14, 1)), jnp.float32)
  outputs = np.zeros((3, 28, 28, 1), np.float32)
  rows = sampling.condition_picture_rows({"cond": low, "x": outputs + 1}, outputs, recipe)
  assert [row.shape for row in rows] == [(3, 28, 28, 1)] * 3
  np.testing.assert_array_equal(rows[0][:, ::2, ::2], low)  # nearest upsampling
  speech = recipes.get_recipe("text_to_speech")
  rows = sampling.condition_picture_rows(
    {"cond": jnp.zeros((3, 40, 9)), "x": outputs}, outputs, speech
  )
  assert len(rows) == 2  # text features are not shown as an image
