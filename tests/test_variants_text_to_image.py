"""Text-to-image GAN: the matching-aware D loss's three pairs, the conditioning augmentation's
KL against its closed form, training, bit-exact resume, and captions refused in one line."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from gan_jax import cli, losses, train
from gan_jax.data import captions
from gan_jax.variants import text_to_image
from tests.conftest import tiny_ring_config


def write_tiny_captions(path: str, num: int = 32, size: int = 8) -> str:
  """A captions npz: num uint8 images (size, size, 1), 2 captions each naming the class."""
  rng = np.random.default_rng(0)
  labels = (np.arange(num) % 4).astype(np.int32)
  images = labels[:, None, None, None] * 60 + rng.integers(0, 20, (num, size, size, 1))
  tokens = np.stack(
    [
      np.stack(
        [
          captions.tokenize(f"a dark {captions.CLASS_WORDS[y][0]}"),
          captions.tokenize(f"the bright {captions.CLASS_WORDS[y][1]}"),
        ]
      )
      for y in labels
    ]
  )
  np.savez(path, x=images.clip(0, 255).astype(np.uint8), label=labels, tokens=tokens)
  return path


def tiny_config(data_path: str, **overrides):
  config = tiny_ring_config(
    recipe="text_to_image",
    batch_size=8,
    log_every=2,
    sample_every=4,
    checkpoint_every=2,
    **overrides,
  )
  config.data = ml_collections.ConfigDict({"source": "captions", "path": data_path})
  config.model = ml_collections.ConfigDict(
    {
      "name": "plain_mlp",
      "latent_dim": 4,
      "noise": "normal",
      "generator": {"hidden": (16,)},
      "discriminator": {"hidden": (16,)},
    }
  )
  config.variant = ml_collections.ConfigDict(
    {"embed_dim": 8, "text_features": 8, "cond_dim": 4, "kl_weight": 0.5}
  )
  return config


def test_matching_aware_loss_has_its_three_pairs():
  """Non-saturating: -log D(x, t) - (log(1 - D(x, t')) + log(1 - D(G(z), t))) / 2."""
  right, wrong, fake = jnp.array([0.3, -1.2]), jnp.array([2.0, 0.5]), jnp.array([-0.4, 1.1])
  sig = jax.nn.sigmoid
  expected = jnp.mean(
    -jnp.log(sig(right)) - 0.5 * jnp.log(1 - sig(wrong)) - 0.5 * jnp.log(1 - sig(fake))
  )
  got = text_to_image.matching_aware_loss(losses.non_saturating, right, wrong, fake)
  np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_the_discriminator_loss_reads_the_mismatched_captions(tmp_path):
  config = tiny_config(write_tiny_captions(str(tmp_path / "c.npz")))
  state = text_to_image.create_state(config, (8, 8, 1))
  real = jax.random.uniform(jax.random.PRNGKey(1), (4, 8, 8, 1), minval=-1, maxval=1)
  fake = jnp.zeros_like(real)
  tokens = jnp.stack([captions.tokenize("a dark sandal")] * 4)
  key = jax.random.PRNGKey(2)

  def loss(wrong):
    return text_to_image.discriminator_loss(
      state, state.d_params, real, fake, key, None, (tokens,), wrong
    )

  value, (right, fake_logits, _, metrics) = loss(tokens)
  other, _ = loss(jnp.stack([captions.tokenize("a bright bag")] * 4))
  assert float(value) != pytest.approx(float(other))
  # with the right caption as the "mismatch", the wrong pair's logits are the real pair's
  np.testing.assert_allclose(
    value,
    text_to_image.matching_aware_loss(losses.non_saturating, right, right, fake_logits),
    rtol=1e-5,
  )
  assert float(metrics["d_wrong"]) == pytest.approx(float(jnp.mean(jax.nn.sigmoid(right))))


def test_conditioning_augmentation_kl_is_the_closed_form():
  mu = jnp.array([[0.5, -1.0], [0.0, 2.0]])
  log_var = jnp.array([[0.0, np.log(4.0)], [np.log(0.25), 0.0]])
  # KL(N(m, s^2) || N(0, 1)) = (m^2 + s^2 - 1) / 2 - log s, summed over coordinates
  rows = [0.125 + (1 + 4 - 1) / 2 - np.log(2.0), (0.25 - 1) / 2 + np.log(2.0) + 2.0]
  np.testing.assert_allclose(text_to_image.kl_divergence(mu, log_var), np.mean(rows), rtol=1e-6)
  samples = mu[0] + jnp.exp(0.5 * log_var[0]) * jax.random.normal(
    jax.random.PRNGKey(0), (200000, 2)
  )
  np.testing.assert_allclose(jnp.std(samples, axis=0), [1.0, 2.0], rtol=0.01)


def test_a_few_steps_train_and_resume_bit_exactly(tmp_path):
  data = write_tiny_captions(str(tmp_path / "c.npz"))
  whole = train.train_and_evaluate(
    tiny_config(data, num_steps=4), str(tmp_path / "whole"), progress=False
  )
  train.train_and_evaluate(tiny_config(data, num_steps=2), str(tmp_path / "halves"), progress=False)
  resumed = train.train_and_evaluate(
    tiny_config(data, num_steps=4), str(tmp_path / "halves"), progress=False
  )
  assert int(resumed.step) == 4
  leaves = lambda s: jax.tree.leaves((s.g_params, s.d_params, s.g_opt_state, s.d_opt_state))
  assert all(np.all(np.isfinite(a)) for a in leaves(whole))
  for a, b in zip(leaves(whole), leaves(resumed)):
    np.testing.assert_array_equal(a, b)
  out = str(tmp_path / "s.npz")
  assert (
    cli.main(
      [
        "sample",
        "--workdir",
        str(tmp_path / "whole"),
        "--num",
        "3",
        "--text",
        "a bright sandal",
        "--out",
        out,
      ]
    )
    == 0
  )
  assert np.load(out)["samples"].shape == (3, 8, 8, 1)
  for text in ("a shiny sandal", ""):
    assert (
      cli.main(["sample", "--workdir", str(tmp_path / "whole"), "--text", text, "--out", out]) == 2
    )


def test_bad_captions_are_refused_in_one_line():
  with pytest.raises(
    ValueError,
    match=r"^caption 'a shiny sandal' has unknown words 'shiny'; "
    r"accepted words: a, airy, ",
  ):
    captions.tokenize("a shiny sandal")
  with pytest.raises(ValueError, match=r"^caption '  ' is empty; accepted: up to 16 words"):
    captions.tokenize("  ")
  assert captions.detokenize(captions.tokenize("A dark, wide Pullover.")) == "a dark wide pullover"
