"""Drawing samples from a trained state, and pictures of them.

`draw_samples(state, num, seed)` gives `num` samples in data space with the
state's sampling weights (the generator EMA when the run keeps one), drawn from
the named "samples" stream of `seed`; `save_sample_picture` writes an image
grid, or for 2-D points a scatter over the data. `draw_interpolations` walks the latent
space between pairs of draws (`interpolate_latents`: spherical or straight paths).

`sampling_state(state, config, recipe, num_classes)` is the state that `gan-jax
sample`, `evaluate`, reports and the training pictures draw from. With the EMA on
and BatchNorm in G, the EMA weights need BatchNorm statistics of their own: by
default (`config.sampling_statistics = 'recomputed'`) they are recomputed as the
mean of the batch statistics of the EMA generator over 16 batches of fresh samples
(`recompute_batch_statistics`; Brock et al. 2019's "standing statistics"), instead
of the EMA of the online generator's running statistics ('averaged'), which
describe another network's activations.

A recipe whose `z` is a condition (`Recipe.condition`: pix2pix, super-resolution,
inpainting, CycleGAN, speech) has no prior to draw from: `draw_conditions` draws data
batches, `generate_from_conditions` maps their conditions, and its pictures show the
condition, the output and (when paired) the target of each example.
"""

from __future__ import annotations

import functools
import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import data, plotting, recipes
from gan_jax.state import GANState, check_rows, step_key

SAMPLING_STATISTICS = ("recomputed", "averaged")
INTERPOLATIONS = ("slerp", "linear")
STATISTICS_BATCHES = 16  # BigGAN's num_standing_accumulations


def check_sampling_statistics(value, name: str = "sampling_statistics") -> None:
  """The one rule of `config.sampling_statistics`: one of SAMPLING_STATISTICS."""
  if not isinstance(value, str) or value not in SAMPLING_STATISTICS:
    raise ValueError(f"{name} {value!r} is unknown; accepted: {', '.join(SAMPLING_STATISTICS)}")


@functools.partial(jax.jit, static_argnames=("recipe",))
def _statistics_after_one_batch(state, start, z, labels, dropout_key, recipe):
  """The sampling generator's BatchNorm running statistics after one train-mode forward of
  `recipe.sample` on (z, labels), starting from the statistics `start`."""
  updated = []

  def apply_in_train_mode(variables, *args, train=False, **kwargs):
    del train
    variables = {**variables, "batch_stats": start}
    out, collections = state.g_apply_fn(
      variables, *args, train=True, mutable=["batch_stats"], rngs={"dropout": dropout_key}, **kwargs
    )
    updated.append(collections["batch_stats"])
    return out

  recipe.sample(state.replace(g_apply_fn=apply_in_train_mode), z, labels)
  if len(updated) != 1:
    raise ValueError(
      f"recipe {recipe.name!r} runs its generator {len(updated)} times per sample; "
      "recomputed BatchNorm statistics need exactly one run (use sampling_statistics='averaged')"
    )
  return updated[0]


def recompute_batch_statistics(
  state: GANState,
  recipe: recipes.Recipe,
  *,
  batch_size: int,
  num_batches: int = STATISTICS_BATCHES,
  num_classes: int = 0,
  seed: int = 0,
) -> GANState:
  """`state` with its sampling generator's BatchNorm statistics recomputed for its own weights.

  Each BatchNorm layer's running mean and variance become the mean, over `num_batches`
  batches of `batch_size` samples (noise from the "batch_statistics" stream of `seed`;
  labels, when the recipe needs them, cycling through the `num_classes` classes), of the
  batch mean and variance that the sampling weights (the EMA when on) produce in train
  mode. Every batch weighs the same, whatever each layer's momentum: a layer's update
  is linear, new = m * start + (1 - m) * batch, so a start of zeros gives (1 - m) * batch
  and a start of ones gives m + (1 - m) * batch. A generator without BatchNorm statistics
  gives `state` back unchanged.
  """
  if not isinstance(num_batches, int) or num_batches < 1:
    raise ValueError(f"num_batches must be an integer >= 1, got {num_batches!r}")
  stats = state.sampling_variables.get("batch_stats")
  if not stats:
    return state
  if not recipe.latent_input:
    raise ValueError(
      f"recipe {recipe.name!r} maps conditions, not latents, and its statistics cannot be "
      "recomputed from fresh noise; use sampling_statistics='averaged'"
    )
  zeros = jax.tree.map(jnp.zeros_like, stats)
  ones = jax.tree.map(jnp.ones_like, stats)
  root = step_key(jax.random.PRNGKey(seed), 0, "batch_statistics")
  total, keep = None, None
  for index in range(num_batches):
    noise_key, dropout_key = jax.random.split(jax.random.fold_in(root, index))
    z = state.noise(noise_key, batch_size)
    labels = None
    if recipe.needs_labels:
      labels = (jnp.arange(batch_size) + index * batch_size) % max(num_classes, 1)
    scaled = _statistics_after_one_batch(state, zeros, z, labels, dropout_key, recipe)
    if keep is None:  # 1 - m per entry, the same for every batch
      from_ones = _statistics_after_one_batch(state, ones, z, labels, dropout_key, recipe)
      keep = jax.tree.map(lambda a, b: 1.0 - (a - b), from_ones, scaled)
    total = scaled if total is None else jax.tree.map(jnp.add, total, scaled)
  mean = jax.tree.map(lambda t, k: t / (k * num_batches), total, keep)
  if state.g_ema_params is not None:
    collections = dict(state.g_ema_collections or state.g_collections)
    return state.replace(g_ema_collections={**collections, "batch_stats": mean})
  return state.replace(g_collections={**state.g_collections, "batch_stats": mean})


def sampling_state(state: GANState, config, recipe: recipes.Recipe, num_classes: int = 0):
  """The state to draw samples from: with the EMA on and `config.sampling_statistics`
  'recomputed' (the default), the EMA generator's BatchNorm statistics recomputed over
  STATISTICS_BATCHES batches of `config.batch_size` (`recompute_batch_statistics`);
  else `state` as it is."""
  statistics = config.get("sampling_statistics", "recomputed")
  check_sampling_statistics(statistics)
  if state.g_ema_params is None or statistics == "averaged":
    return state
  return recompute_batch_statistics(
    state, recipe, batch_size=int(config.batch_size), num_classes=num_classes
  )


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
  truncation: float | None = None,
) -> np.ndarray:
  """`num` generator samples in data space from `seed`, with the sampling (EMA) weights.

  `labels` (num,) int, for recipes that condition on a class. `truncation` t: the latents'
  normal entries drawn within [-t, t] (`NoiseSampler`; None: the prior as trained).
  """
  check_rows(num, "num")
  check_rows(batch_size, "batch_size")
  if truncation is not None:
    check_latent_input(recipe, "truncation")
  return _generate(state, draw_latents(state, num, seed, truncation), recipe, labels, batch_size)


def check_memory(count: int, shape, latent_shape, name: str = "num") -> None:
  """Refuses (one-line ValueError naming `name`) a count of samples whose arrays, `count`
  float32 samples of `shape` and latents of `latent_shape`, would not fit in this machine's
  memory: they are held at once."""
  shape, latent_shape = tuple(shape), tuple(latent_shape)
  need = count * (math.prod(shape) + math.prod(latent_shape)) * 4
  total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
  if need > total:
    raise ValueError(
      f"{name} asks for {count} samples of shape {shape} from latents of shape {latent_shape}, "
      f"{need / 2**30:.1f} GiB of float32, more than this machine's {total / 2**30:.1f} GiB "
      f"of memory; draw fewer at a time"
    )


def as_data(samples, source) -> np.ndarray:
  """Generator outputs as data: images (and spectrogram frames) clipped to the data range
  [-1, 1], as the papers' code does when it turns outputs into pixels (StyleGAN's and
  progressive GAN's linear toRGB layers and LAPGAN's sums of pyramid levels are unbounded);
  toy points unchanged."""
  samples = np.asarray(samples)
  return np.clip(samples, -1.0, 1.0) if source.kind == "image" else samples


def check_latent_input(recipe: recipes.Recipe, what: str) -> None:
  """Refuses `what` (a walk, a truncation) for a recipe whose `z` is a condition, not a latent."""
  if not recipe.latent_input:
    raise ValueError(
      f"{what} needs a generator of a latent drawn from the prior; recipe {recipe.name!r} "
      "maps a condition (an image, a text), which has none"
    )


def draw_latents(state: GANState, num: int, seed: int, truncation: float | None = None):
  """The `num` latents (num, *latent_shape) that `draw_samples(state, num, seed, ...)`
  generates from: the named "samples" stream of `seed`."""
  key = step_key(jax.random.PRNGKey(seed), 0, "samples")
  return state.noise(key, num, truncation=truncation)


def _generate(state, z, recipe, labels, batch_size) -> np.ndarray:
  """`recipe.sample` of the latents z (N, *latent_shape), `batch_size` rows per call."""
  sample_fn = jitted_sample(recipe)
  chunks = []
  for i in range(0, len(z), batch_size):
    chunk_labels = None if labels is None else jnp.asarray(labels[i : i + batch_size])
    chunks.append(np.asarray(sample_fn(state, z[i : i + batch_size], chunk_labels)))
  return np.concatenate(chunks)


def check_interpolation(method, name: str = "interpolation") -> None:
  """The one rule of an interpolation method: one of INTERPOLATIONS."""
  if not isinstance(method, str) or method not in INTERPOLATIONS:
    raise ValueError(f"{name} {method!r} is unknown; accepted: {', '.join(INTERPOLATIONS)}")


def interpolate_latents(
  z_start: jax.Array, z_end: jax.Array, num_points: int, method: str = "slerp"
) -> jax.Array:
  """`num_points` evenly spaced latents on the path from each row of z_start to the same row
  of z_end, both ends included.

  z_start, z_end: float (P, *latent_shape); returns float (P, num_points, *latent_shape).
  Each latent is treated as one flattened vector (a categorical code's one-hot entries
  included, so the points between two codes mix them).
    'slerp': the direction along the great circle between a's and b's, at a constant
      angular speed, and the norm along the straight line from |a| to |b|: White's slerp,
      sin((1-t) w) / sin(w) a + sin(t w) / sin(w) b for the angle w between them (White
      2016, "Sampling Generative Networks"), when |a| = |b|. A path between two Gaussian
      latents thus stays in the shell of radius about sqrt(d) that holds the prior's mass;
      ends pointing the same way (w < 1e-4) are joined by the straight line.
    'linear': (1 - t) a + t b, DCGAN's "walking in the latent space". Between Gaussian
      draws its middle has norm about sqrt(d / 2), where the prior has almost no mass.
  """
  check_interpolation(method)
  if isinstance(num_points, bool) or not isinstance(num_points, int) or num_points < 2:
    raise ValueError(f"num_points must be an integer >= 2 (both ends), got {num_points!r}")
  if z_start.ndim < 2:
    raise ValueError(
      f"z_start and z_end must be batches (P, *latent_shape) of path ends, got shape "
      f"{tuple(z_start.shape)}; for one path give z[None]"
    )
  if z_start.shape != z_end.shape:
    raise ValueError(
      f"z_start and z_end must have one shape, got {tuple(z_start.shape)} and {tuple(z_end.shape)}"
    )
  a = z_start.reshape(z_start.shape[0], 1, -1)
  b = z_end.reshape(z_end.shape[0], 1, -1)
  t = jnp.linspace(0.0, 1.0, num_points, dtype=a.dtype)[None, :, None]
  linear = (1 - t) * a + t * b
  if method == "linear":
    path = linear
  else:
    norm_a = jnp.linalg.norm(a, axis=-1, keepdims=True)
    norm_b = jnp.linalg.norm(b, axis=-1, keepdims=True)
    unit_a, unit_b = a / jnp.maximum(norm_a, 1e-30), b / jnp.maximum(norm_b, 1e-30)
    angle = jnp.arccos(jnp.clip(jnp.sum(unit_a * unit_b, axis=-1, keepdims=True), -1.0, 1.0))
    straight = angle < 1e-4
    sine = jnp.where(straight, 1.0, jnp.sin(angle))
    direction = (jnp.sin((1 - t) * angle) * unit_a + jnp.sin(t * angle) * unit_b) / sine
    spherical = ((1 - t) * norm_a + t * norm_b) * direction
    path = jnp.where(straight, linear, spherical)
  return path.reshape((z_start.shape[0], num_points) + tuple(z_start.shape[1:]))


def draw_interpolations(
  state: GANState,
  num_paths: int,
  num_points: int,
  seed: int,
  method: str = "slerp",
  batch_size: int = 1000,
  recipe: recipes.Recipe = recipes.RECIPES["gan"],
  labels=None,
  truncation: float | None = None,
) -> np.ndarray:
  """Samples along `num_paths` latent paths: (num_paths, num_points, *data_shape).

  Path i runs from draw i to draw num_paths + i of the "samples" stream of `seed` (2 *
  num_paths draws), by `interpolate_latents(..., method)`; its first and last samples are
  G of those two draws. `labels` (num_paths,): each path's class (or caption tokens,
  (num_paths, T)), held along the path, for recipes that condition on one; a recipe's
  default for row i (InfoGAN's category i mod K) is also held along path i. `truncation`:
  the ends' draws truncated as in `draw_samples`. Refused for a recipe without a latent
  input (`Recipe.latent_input`).
  """
  check_latent_input(recipe, "a latent walk")
  check_rows(num_paths, "num_paths")
  check_rows(batch_size, "batch_size")
  z = draw_latents(state, 2 * num_paths, seed, truncation)
  path = interpolate_latents(z[:num_paths], z[num_paths:], num_points, method)
  # One call per position, a row per path: what a recipe gives row i by default (InfoGAN's
  # category i mod K) then stays the same along path i, as in draw_samples' row i.
  columns = [_generate(state, path[:, i], recipe, labels, batch_size) for i in range(num_points)]
  return np.stack(columns, axis=1)


def check_condition_rows(source: data.DataSource, recipe: recipes.Recipe) -> None:
  """Refuses (one line) to draw conditions from a source without rows (its files are gone)."""
  if not source.arrays:
    raise ValueError(
      f"recipe {recipe.name!r} generates from conditions ({recipe.condition!r}) drawn from its "
      f"data, and the rows of data {source.name!r} cannot be read (its files are gone); put "
      "them back where config.json's data names them"
    )


def draw_conditions(
  source: data.DataSource, recipe: recipes.Recipe, num: int, seed: int
) -> dict[str, np.ndarray]:
  """`num` data batch rows (drawn with replacement by `source.sample` from the "samples"
  stream of `seed`) for a recipe whose `z` is a condition: the condition
  batch[recipe.condition], with the rows' target 'x' (and 'mask' for inpainting)."""
  check_condition_rows(source, recipe)
  key = step_key(jax.random.PRNGKey(seed), 0, "samples")
  batch = source.sample(source.arrays, key, num)
  return {name: np.asarray(value) for name, value in batch.items()}


def generate_from_conditions(
  state: GANState,
  conditions: np.ndarray,
  recipe: recipes.Recipe,
  batch_size: int = 1000,
) -> np.ndarray:
  """G's outputs (N, *data_shape) for the conditions (N, ...) of a condition recipe, with the
  sampling (EMA) weights, `batch_size` rows per call."""
  return _generate(state, conditions, recipe, None, batch_size)


def condition_picture_rows(
  batch: dict[str, np.ndarray], outputs: np.ndarray, recipe: recipes.Recipe
) -> list[np.ndarray]:
  """The rows (each (N, *data_shape)) of a condition recipe's picture: the condition as an
  image of the outputs' shape, when it is one (its first C channels, so inpainting's masked
  image; a smaller one nearest-upsampled; gray repeated to C channels; none for a
  non-image condition such as speech's text features), the outputs, and for a paired
  recipe the targets 'x'."""
  rows = []
  condition = np.asarray(batch[recipe.condition], np.float32)
  if condition.ndim == 4:
    height, width, channels = outputs.shape[1:]
    condition = condition[..., :channels]
    if condition.shape[-1] < channels:
      condition = np.repeat(condition[..., :1], channels, axis=-1)
    if condition.shape[1:3] != (height, width):
      condition = np.asarray(
        jax.image.resize(condition, (len(condition), height, width, channels), "nearest")
      )
    rows.append(condition)
  rows.append(np.asarray(outputs))
  if recipe.paired:
    rows.append(np.asarray(batch["x"]))
  return rows


def condition_row_names(rows: list[np.ndarray], recipe: recipes.Recipe) -> str:
  """What the rows of `condition_picture_rows` show, e.g. 'condition, output, target'."""
  has_condition = len(rows) > 1 + recipe.paired
  return ("condition, " if has_condition else "") + "output" + (", target" if recipe.paired else "")


def save_picture_of_conditions(rows: list[np.ndarray], path: str, columns: int = 8) -> None:
  """A PNG of `condition_picture_rows`: bands of `columns` examples, a row each for the
  condition, the output and the target."""
  num = len(rows[0])
  bands = [
    np.concatenate([row[start : start + columns] for row in rows])
    for start in range(0, num, columns)
  ]
  plotting.save_image_grid(np.concatenate(bands), path, min(columns, num))


def save_sample_picture(
  state: GANState,
  source: data.DataSource,
  path: str,
  num_images: int = 64,
  recipe: recipes.Recipe = recipes.RECIPES["gan"],
):
  """An image grid of `num_images` samples, or a scatter of 2500 points over the data.

  For recipes that need labels, the grid cycles through the classes. For a recipe whose
  `z` is a condition, bands of 8 columns of conditions drawn from the data (seed 0), G's
  outputs for them and, when paired, their targets (`condition_picture_rows`), about
  `num_images` images in all. Returns what those rows show (`condition_row_names`), or None
  for samples of a latent.
  """
  try:
    return _save_sample_picture(state, source, path, num_images, recipe)
  except OSError as error:  # image writers often leave out the file name
    raise OSError(error.errno, error.strerror or str(error), path) from None


def _save_sample_picture(state, source, path, num_images, recipe):
  if not recipe.latent_input:
    rows_per_example = 2 + recipe.paired
    num = max(8, num_images // rows_per_example // 8 * 8)
    batch = draw_conditions(source, recipe, num, seed=0)
    outputs = generate_from_conditions(state, batch[recipe.condition], recipe)
    rows = condition_picture_rows(batch, outputs, recipe)
    save_picture_of_conditions(rows, path)
    return condition_row_names(rows, recipe)
  labels = (np.arange(num_images) % max(source.num_classes, 1)) if recipe.needs_labels else None
  if source.kind == "image":
    samples = draw_samples(state, num_images, seed=0, recipe=recipe, labels=labels)
  else:
    samples = draw_samples(state, 2500, seed=0, recipe=recipe)
  save_picture_of_samples(samples, source, path, title=f"step {int(state.step)}")


def save_latent_walks(
  state: GANState,
  source: data.DataSource,
  path: str,
  recipe: recipes.Recipe = recipes.RECIPES["gan"],
  num_paths: int = 8,
  num_points: int = 8,
) -> None:
  """A PNG of `num_paths` slerp walks of `num_points` samples between draws of seed 0 (a row
  per path, or lines over the data for 2-D points); for recipes that need labels, path i
  holds class i mod the number of classes. Refused for a recipe without a latent input."""
  labels = (np.arange(num_paths) % max(source.num_classes, 1)) if recipe.needs_labels else None
  walks = draw_interpolations(state, num_paths, num_points, 0, recipe=recipe, labels=labels)
  title = f"step {int(state.step)}, {num_paths} slerp walks"
  save_picture_of_paths(walks, source, path, title)


def save_picture_of_paths(
  paths: np.ndarray, source: data.DataSource, path: str, title: str = ""
) -> None:
  """A PNG of sample paths (P, K, *data_shape): an image grid with a row per path, or for
  2-D points each path as a line over 2500 of the data's points."""
  if source.kind == "image" or paths.shape[-1] != 2:
    flat = paths.reshape((-1,) + paths.shape[2:])
    save_picture_of_samples(flat, source, path, title, columns=paths.shape[1])
  else:
    reference = np.asarray(source.sample(source.arrays, jax.random.PRNGKey(0), 2500)["x"])
    plotting.save_paths(paths, reference, path, title=title)


def save_picture_of_samples(
  samples: np.ndarray,
  source: data.DataSource,
  path: str,
  title: str = "",
  columns: int | None = None,
) -> None:
  """A PNG of drawn samples (N, *data_shape): an image grid of `columns` columns (None: about
  square), or a scatter of the points over 2500 of the data's."""
  if source.kind == "image":
    plotting.save_image_grid(samples, path, columns)
  else:
    reference = np.asarray(source.sample(source.arrays, jax.random.PRNGKey(0), 2500)["x"])
    plotting.save_scatter(samples, reference, path, title=title)
