"""The text encoder's matching pre-training (Reed et al. 2016): it learns to match captions to
their images, it is cached, and a text-to-image run starts both players from it, frozen or
fine-tuned, and resumes bit-exactly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import runs, train
from gan_jax.data import captions, to_unit_range
from gan_jax.variants import text_matching, text_to_image
from tests.test_variants_text_to_image import tiny_config, write_tiny_captions


def class_retrieval(params, arrays) -> float:
  """Share of images whose best-scoring caption, among one caption per class, is their class's."""
  model = text_matching.JointEmbedding(text_to_image.TextEncoder(captions.VOCAB_SIZE, 8, 8))
  class_tokens = jnp.stack([arrays["tokens"][arrays["label"] == c][0, 0] for c in range(4)])
  images = to_unit_range(jnp.asarray(arrays["x"]))
  u, _ = model.apply({"params": params}, images, class_tokens[:1].repeat(len(images), 0))
  _, v = model.apply({"params": params}, images[:4], class_tokens)
  return float(np.mean(np.argmax(np.asarray(u @ v.T), axis=-1) == arrays["label"]))


def test_pretraining_learns_which_caption_describes_which_image(tmp_path):
  """After 60 steps each image scores its own class's caption highest (4 classes: chance 25%);
  at step 0 it does not."""
  arrays = captions.load_captions(write_tiny_captions(str(tmp_path / "c.npz")))
  encoder = text_to_image.TextEncoder(captions.VOCAB_SIZE, 8, 8)
  untrained, _ = text_matching.pretrain(arrays, encoder, num_steps=0, seed=0)
  trained, history = text_matching.pretrain(arrays, encoder, num_steps=60, seed=0)
  assert history.shape == (60, 2)
  assert history[-10:, 0].mean() < history[:5, 0].mean()
  assert class_retrieval(untrained, arrays) < 0.9
  assert class_retrieval(trained, arrays) == 1.0
  again, _ = text_matching.pretrain(arrays, encoder, num_steps=60, seed=0)
  for a, b in zip(jax.tree.leaves(trained), jax.tree.leaves(again)):
    np.testing.assert_array_equal(a, b)


def pretrained_config(data: str, **variant):
  config = tiny_config(data, num_steps=4)
  config.variant.text_pretrain_steps = 30
  config.variant.update(variant)
  return config


@pytest.mark.parametrize("freeze", [True, False])
def test_a_run_starts_both_players_from_the_pretrained_encoder(tmp_path, monkeypatch, freeze):
  """Both players' encoders equal the cached pre-trained one at step 0; frozen, they keep it
  through training; fine-tuned, they move away from it."""
  monkeypatch.setenv("GAN_JAX_CACHE", str(tmp_path / "cache"))
  data = write_tiny_captions(str(tmp_path / "c.npz"))
  config = pretrained_config(data, freeze_text_encoder=freeze)
  encoder = text_to_image.TextEncoder(captions.VOCAB_SIZE, 8, 8)
  state = train.train_and_evaluate(config, str(tmp_path / "run"), progress=False)
  path = text_matching.cache_path(data, encoder, 30, config.seed)
  pretrained = text_matching.load_or_pretrain(data, encoder, num_steps=30, seed=config.seed)
  assert len(list((tmp_path / "cache").glob("text_encoder_*.msgpack"))) == 1
  assert path.startswith(str(tmp_path / "cache"))
  start = text_to_image.prepare(text_to_image.create_state(config, (8, 8, 1)), config)
  for players in (start.g_params["encoder"], start.d_params["TextEncoder_0"]):
    for a, b in zip(jax.tree.leaves(players), jax.tree.leaves(pretrained)):
      np.testing.assert_array_equal(a, b)
  _, _, restored = runs.load_run(str(tmp_path / "run"))
  for trained in (state, restored):
    for name, encoder_params in (
      ("G", trained.g_params["encoder"]),
      ("D", trained.d_params["TextEncoder_0"]),
    ):
      same = all(
        np.array_equal(a, b)
        for a, b in zip(jax.tree.leaves(encoder_params), jax.tree.leaves(pretrained))
      )
      assert same == freeze, f"{name}'s encoder: frozen={freeze}, unchanged={same}"


def test_a_pretrained_run_resumes_bit_exactly(tmp_path, monkeypatch):
  monkeypatch.setenv("GAN_JAX_CACHE", str(tmp_path / "cache"))
  data = write_tiny_captions(str(tmp_path / "c.npz"))
  whole = train.train_and_evaluate(pretrained_config(data), str(tmp_path / "w"), progress=False)
  half = pretrained_config(data)
  half.num_steps = 2
  train.train_and_evaluate(half, str(tmp_path / "h"), progress=False)
  resumed = train.train_and_evaluate(pretrained_config(data), str(tmp_path / "h"), progress=False)
  leaves = lambda s: jax.tree.leaves((s.g_params, s.d_params, s.g_opt_state, s.d_opt_state))
  for a, b in zip(leaves(whole), leaves(resumed)):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
  "variant, message",
  [
    ({"text_pretrain_steps": -1}, "variant.text_pretrain_steps must be an integer >= 0, got -1"),
    (
      {"text_pretrain_steps": 5, "freeze_text_encoder": "yes"},
      "variant.freeze_text_encoder must be True or False, got 'yes'",
    ),
  ],
)
def test_bad_pretraining_options_are_refused_in_one_line(tmp_path, variant, message):
  config = tiny_config(write_tiny_captions(str(tmp_path / "c.npz")))
  config.variant.update(variant)
  with pytest.raises(ValueError, match=message):
    train.train_and_evaluate(config, str(tmp_path / "run"), progress=False)
  assert not (tmp_path / "run" / "checkpoints").exists() or not any(
    (tmp_path / "run" / "checkpoints").iterdir()
  )
