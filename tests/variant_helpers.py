"""Tiny labelled data and configs for the variant tests."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from gan_jax import recipes
from tests.conftest import tiny_ring_config


def ring_batch(k: int, batch: int, seed: int = 0) -> dict:
  """{'x': (k, B, 2) points of the ring of 8, 'label': int32 (k, B) their mode}."""
  key = jax.random.PRNGKey(seed)
  labels = jax.random.randint(key, (k, batch), 0, 8)
  angles = 2 * jnp.pi * labels / 8
  x = jnp.stack([jnp.cos(angles), jnp.sin(angles)], -1)
  x = x + 0.01 * jax.random.normal(jax.random.fold_in(key, 1), x.shape)
  return {"x": x, "label": labels.astype(jnp.int32)}


def variant_config(recipe: str, **variant):
  """The tiny ring config with config.recipe and config.variant set."""
  config = tiny_ring_config(recipe=recipe)
  config.variant = ml_collections.ConfigDict(variant)
  return config


def build(recipe: str, data_shape=(2,), **variant):
  config = variant_config(recipe, **variant)
  return config, recipes.get_recipe(recipe).create_state(config, data_shape)


def write_tiny_images(path: str, num: int = 64, size: int = 8, classes: int = 4) -> str:
  """An npz of `num` uint8 images (size, size, 1) whose mean brightness encodes the label."""
  rng = np.random.default_rng(0)
  labels = np.arange(num) % classes
  images = (
    (labels[:, None, None, None] * (255 // classes) + rng.integers(0, 20, (num, size, size, 1)))
    .clip(0, 255)
    .astype(np.uint8)
  )
  np.savez(path, x=images, label=labels.astype(np.int32))
  return path


def trees_equal(a, b) -> bool:
  return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))
