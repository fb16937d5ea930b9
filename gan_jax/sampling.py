"""Drawing samples from a trained state, and pictures of them.

`draw_samples(state, num, seed)` gives `num` samples in data space with the
state's sampling weights (the generator EMA when the run keeps one), drawn from
the named "samples" stream of `seed`; `save_sample_picture` writes an image
grid, or for 2-D points a scatter over the data.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import data, plotting, recipes
from gan_jax.state import GANState, step_key


@functools.lru_cache(maxsize=None)
def jitted_sample(recipe: recipes.Recipe):
  """`jax.jit(recipe.sample)`, made once per recipe: a new jit of the bound method at every
  sample picture traced and compiled the generator again (1-2.5 s on CPU each time;
  benchmarks/RESULTS.md, "Finding: the training loop's overhead")."""
  return jax.jit(recipe.sample)


def draw_samples(
  state: GANState,
  num: int,
  seed: int,
  batch_size: int = 1000,
  recipe: recipes.Recipe = recipes.RECIPES["gan"],
  labels=None,
) -> np.ndarray:
  """`num` generator samples in data space from `seed`, with the sampling (EMA) weights.

  `labels` (num,) int, for recipes that condition on a class.
  """
  key = step_key(jax.random.PRNGKey(seed), 0, "samples")
  z = state.noise(key, num)
  sample_fn = jitted_sample(recipe)
  chunks = []
  for i in range(0, num, batch_size):
    chunk_labels = None if labels is None else jnp.asarray(labels[i : i + batch_size])
    chunks.append(np.asarray(sample_fn(state, z[i : i + batch_size], chunk_labels)))
  return np.concatenate(chunks)


def save_sample_picture(
  state: GANState,
  source: data.DataSource,
  path: str,
  num_images: int = 64,
  recipe: recipes.Recipe = recipes.RECIPES["gan"],
):
  """An image grid of `num_images` samples, or a scatter of 2500 points over the data.

  For recipes that need labels, the grid cycles through the classes.
  """
  try:
    _save_sample_picture(state, source, path, num_images, recipe)
  except OSError as error:  # image writers often leave out the file name
    raise OSError(error.errno, error.strerror or str(error), path) from None


def _save_sample_picture(state, source, path, num_images, recipe):
  labels = (np.arange(num_images) % max(source.num_classes, 1)) if recipe.needs_labels else None
  if source.kind == "image":
    samples = draw_samples(state, num_images, seed=0, recipe=recipe, labels=labels)
  else:
    samples = draw_samples(state, 2500, seed=0, recipe=recipe)
  save_picture_of_samples(samples, source, path, title=f"step {int(state.step)}")


def save_picture_of_samples(
  samples: np.ndarray, source: data.DataSource, path: str, title: str = ""
) -> None:
  """A PNG of drawn samples: an image grid, or a scatter of the points over 2500 of the data's."""
  if source.kind == "image":
    plotting.save_image_grid(samples, path)
  else:
    reference = np.asarray(source.sample(source.arrays, jax.random.PRNGKey(0), 2500)["x"])
    plotting.save_scatter(samples, reference, path, title=title)
