"""Spectral normalization and DiffAugment, usable with any recipe by config."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import augment, builders, losses, steps
from gan_jax.models import ToyDiscriminator
from tests.conftest import tiny_ring_config
from tests.variant_helpers import ring_batch, trees_equal


def _spectral_norm_kernels(params):
  return [
    leaf
    for path, leaf in jax.tree_util.tree_leaves_with_path(params)
    if "kernel" in jax.tree_util.keystr(path)
  ]


def test_spectral_norm_bounds_the_top_singular_value_near_one():
  module = ToyDiscriminator(hidden=(32,), spectral_norm=True)
  x = jax.random.normal(jax.random.PRNGKey(0), (8, 16))
  variables = module.init(jax.random.PRNGKey(1), x, train=False)
  # Scale the kernels up so that, unnormalized, their top singular values are far above 1.
  params = jax.tree.map(lambda p: 10.0 * p, variables["params"])
  stats = variables["batch_stats"]
  for _ in range(30):  # 30 power iterations
    _, updates = module.apply(
      {"params": params, "batch_stats": stats}, x, train=True, mutable=["batch_stats"]
    )
    stats = updates["batch_stats"]
  sigmas = [
    leaf
    for path, leaf in jax.tree_util.tree_leaves_with_path(stats)
    if "sigma" in jax.tree_util.keystr(path)
  ]
  for kernel, sigma in zip(_spectral_norm_kernels(params), sigmas):
    top = np.linalg.svd(np.asarray(kernel), compute_uv=False)[0]
    assert top > 5.0
    assert abs(top / float(sigma) - 1.0) < 0.02  # the normalized kernel W / sigma has norm ~1


def test_spectral_norm_config_trains_and_carries_its_vectors_in_d_collections():
  config = tiny_ring_config()
  config.model.discriminator.spectral_norm = True
  state = builders.create_state_from_config(config, (2,))
  assert "batch_stats" in state.d_collections
  new, metrics = jax.jit(steps.train_step)(state, {"x": ring_batch(1, 32)["x"]})
  assert all(np.isfinite(float(v)) for v in metrics.values())
  assert not trees_equal(state.d_collections, new.d_collections)  # the power iteration ran


def test_diffaugment_empty_policy_is_identity_and_off_is_the_plain_step():
  x = jax.random.uniform(jax.random.PRNGKey(0), (4, 8, 8, 3), minval=-1, maxval=1)
  np.testing.assert_array_equal(augment.DiffAugment(())(jax.random.PRNGKey(1), x), x)
  assert augment.from_policy("") is None
  config = tiny_ring_config()
  state = builders.create_state_from_config(config, (2,))
  identity = state.replace(game=losses.Game(loss=state.game.loss, augment=augment.DiffAugment(())))
  batch = {"x": ring_batch(1, 32)["x"]}
  plain, _ = jax.jit(steps.train_step)(state, batch)
  through, _ = jax.jit(steps.train_step)(identity, batch)
  assert trees_equal(plain.g_params, through.g_params)
  assert trees_equal(plain.d_params, through.d_params)


def test_each_augmentation_does_what_it_says():
  x = jax.random.uniform(jax.random.PRNGKey(0), (2, 8, 8, 1), minval=-1, maxval=1)
  # Translation by (0, +1): u picks dy = 0 (middle of [-1, 1]) and dx = +1.
  u = jnp.array([[0.5, 0.9]] * 2)
  shifted = augment.translation(u, x, ratio=0.125)
  np.testing.assert_array_equal(shifted[:, :, :-1], x[:, :, 1:])
  np.testing.assert_array_equal(shifted[:, :, -1], 0.0)
  # Cutout of a 4x4 square zeroes 16 pixels of a nonzero image.
  cut = augment.cutout(jnp.array([[0.5, 0.5]] * 2), jnp.ones((2, 8, 8, 1)), ratio=0.5)
  assert float(jnp.sum(cut == 0.0)) == 2 * 16
  # Brightness with u = 0.5 and contrast with u = 0.5 are identities.
  np.testing.assert_allclose(augment.brightness(jnp.full((2,), 0.5), x), x)
  np.testing.assert_allclose(augment.contrast(jnp.full((2,), 0.5), x), x, atol=1e-6)


def test_diffaugment_is_differentiable_and_refuses_points():
  t = augment.DiffAugment()
  x = jax.random.uniform(jax.random.PRNGKey(0), (3, 8, 8, 3), minval=-1, maxval=1)
  grads = jax.grad(lambda x: jnp.sum(t(jax.random.PRNGKey(2), x) ** 2))(x)
  assert np.all(np.isfinite(grads)) and float(jnp.sum(jnp.abs(grads))) > 0
  with pytest.raises(
    ValueError, match=r"DiffAugment needs images \(B, H, W, C\), got shape \(3, 2\)"
  ):
    t(jax.random.PRNGKey(0), jnp.zeros((3, 2)))
  with pytest.raises(
    ValueError, match="augmentation 'flip' is unknown; accepted: color, translation, cutout"
  ):
    augment.from_policy("color,flip")


def test_diffaugment_trains_a_tiny_image_gan():
  config = tiny_ring_config(augment="color,translation,cutout")
  config.model = {
    "name": "pytorch_gan_mlp",
    "latent_dim": 8,
    "noise": "normal",
    "generator": {"hidden": (16, 16)},
    "discriminator": {"hidden": (16,)},
  }
  state = builders.create_state_from_config(config, (8, 8, 1))
  assert isinstance(state.game.augment, augment.DiffAugment)
  x = jax.random.uniform(jax.random.PRNGKey(0), (1, 8, 8, 8, 1), minval=-1, maxval=1)
  plain = state.replace(game=losses.Game(loss=state.game.loss))
  augmented, metrics = jax.jit(steps.train_step)(state, {"x": x})
  unaugmented, _ = jax.jit(steps.train_step)(plain, {"x": x})
  assert all(np.isfinite(float(v)) for v in metrics.values())
  assert not trees_equal(augmented.d_params, unaugmented.d_params)
