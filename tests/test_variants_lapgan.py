"""LAPGAN: the Laplacian pyramid reconstructs the image, sampling runs the pyramid, each level
is its own GAN (its bands depend on its parameters only), and a few core steps train all levels."""

import jax
import ml_collections
import numpy as np

from gan_jax.models import resample
from gan_jax.variants import lapgan
from tests.variant_helpers import trees_equal, variant_config

X = jax.random.uniform(jax.random.PRNGKey(0), (4, 16, 16, 1), minval=-1, maxval=1)


def tiny_state():
  config = variant_config("lapgan", num_levels=3, features=4)  # levels 4, 8, 16
  config.batch_size = 4
  config.model = ml_collections.ConfigDict({"name": "lapgan", "latent_dim": 4, "noise": "normal"})
  return lapgan.create_state(config, (16, 16, 1))


STATE = tiny_state()


def test_the_pyramid_reconstructs_the_image_and_packs_losslessly():
  bands, lowpass = resample.laplacian_pyramid(X, 3)
  assert [b.shape[1] for b in bands] == [4, 8, 16] == lapgan.level_sizes(16, 3)
  image = bands[0]
  for band in bands[1:]:
    image = resample.upsample_bilinear(image) + band
  np.testing.assert_allclose(image, X, atol=1e-5)
  np.testing.assert_allclose(lowpass[1], resample.downsample(X), atol=1e-6)
  for a, b in zip(lapgan.unpack(lapgan.pack(bands), [4, 8, 16], 1), bands):
    np.testing.assert_array_equal(a, b)


def test_sampling_runs_the_pyramid():
  z = STATE.noise(jax.random.PRNGKey(1), 3)
  assert z.shape == (3, 3, 4)
  images, bands = jax.jit(lapgan.sample_pyramid)(STATE, z)
  for l in (1, 2):
    np.testing.assert_allclose(
      images[l], resample.upsample_bilinear(images[l - 1]) + bands[l], atol=1e-6
    )
  np.testing.assert_array_equal(jax.jit(lapgan.generate)(STATE, z), images[2])


def test_each_level_generates_its_band_from_its_own_parameters_only():
  z = STATE.noise(jax.random.PRNGKey(1), 4)
  _, low = lapgan.training_pairs(X, 3)
  changed = dict(STATE.g_params)
  changed["levels_0"] = jax.tree.map(lambda p: p + 1.0, changed["levels_0"])
  apply = jax.jit(lambda p: STATE.g_apply_fn({"params": p}, z, low, train=True))
  before, after = [lapgan.unpack(apply(p), [4, 8, 16], 1) for p in (STATE.g_params, changed)]
  assert not np.allclose(before[0], after[0])
  for l in (1, 2):  # conditioned on the real coarser image, not on level 0's output
    np.testing.assert_array_equal(before[l], after[l])


def test_a_few_steps_train_every_level_and_d_scores_each_level():
  step = jax.jit(lapgan.train_step)
  state = STATE
  for i in range(3):
    state, metrics = step(state, {"x": X[None]})
  assert all(np.isfinite(float(v)) for v in metrics.values())
  for name in ("levels_0", "levels_1", "levels_2"):
    assert not trees_equal(state.g_params[name], STATE.g_params[name])
  bands, low = lapgan.training_pairs(X, 3)
  logits = STATE.d_apply_fn({"params": STATE.d_params}, bands, low, train=False)
  assert logits.shape == (4, 3)
