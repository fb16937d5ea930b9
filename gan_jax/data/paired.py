"""Image-to-image tasks built deterministically from an image dataset (Fashion-MNIST).

Each task is a `DataSource` whose `sample(arrays, key, num)` returns float32
images in [-1, 1]:

  edges       {'x': image (num, 28, 28, 1), 'cond': its edge map (num, 28, 28, 1)}
              (pix2pix; the edge map is a thresholded Sobel magnitude, made once in numpy)
  superres    {'x': image, 'cond': its 2x2 (or 4x4) area-average (num, 28/s, 28/s, 1)}
  inpainting  {'x': image, 'mask': (num, 28, 28, 1) 1 where pixels are missing,
               'cond': (num, 28, 28, 2) the masked image (missing pixels 0) and the mask}
              (masks drawn in `sample` from its key: a centre square or a random rectangle)
  unpaired    {'x': domain-B image, 'a': domain-A image} (CycleGAN): the two domains
              are two classes, each row drawn with its own independent index, so no
              pair of A and B images is ever given.

The task is config.data.task; config.data.source = 'image_to_image'.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data import DataSource, to_unit_range

TASKS = ("edges", "superres", "inpainting", "unpaired")
MASKS = ("centre", "random", "mixed")
CENTRE_SIZE = 12
EDGE_CHUNK = 2000  # images per pass of `edge_maps`


def check_mask(kind) -> None:
  """The rule of config.data.mask (and of `draw_masks`' kind): a name in `MASKS`."""
  if not isinstance(kind, str) or kind not in MASKS:
    raise ValueError(f"data.mask {kind!r} is unknown; accepted: {', '.join(MASKS)}")


def edge_maps(images: np.ndarray, threshold: float = 0.25) -> np.ndarray:
  """uint8 (N, H, W, 1) -> uint8 (N, H, W, 1) edge maps: 255 where the Sobel gradient
  magnitude of the image (scaled to [0, 1], zero padded) exceeds `threshold`, else 0.

  Computed EDGE_CHUNK images at a time: on the 60,000 training images at once the
  temporaries (200 MB each) made it 13 s, in chunks 0.6 s (AMD EPYC, 2 cores).
  """
  if len(images) > EDGE_CHUNK:
    return np.concatenate(
      [edge_maps(images[i : i + EDGE_CHUNK], threshold) for i in range(0, len(images), EDGE_CHUNK)]
    )
  x = np.pad(images[..., 0].astype(np.float32) / 255.0, ((0, 0), (1, 1), (1, 1)))
  gx = (
    x[:, :-2, 2:]
    + 2 * x[:, 1:-1, 2:]
    + x[:, 2:, 2:]
    - x[:, :-2, :-2]
    - 2 * x[:, 1:-1, :-2]
    - x[:, 2:, :-2]
  )
  gy = (
    x[:, 2:, :-2]
    + 2 * x[:, 2:, 1:-1]
    + x[:, 2:, 2:]
    - x[:, :-2, :-2]
    - 2 * x[:, :-2, 1:-1]
    - x[:, :-2, 2:]
  )
  magnitude = np.sqrt(gx**2 + gy**2) / 4.0  # at most sqrt(2) for a unit step
  return np.where(magnitude > threshold, 255, 0).astype(np.uint8)[..., None]


def downsample(images: np.ndarray, factor: int) -> np.ndarray:
  """uint8 (N, H, W, C) -> uint8 (N, H/f, W/f, C): the mean of each f x f block, rounded."""
  n, h, w, c = images.shape
  if h % factor or w % factor:
    raise ValueError(f"superres factor {factor} must divide the image size {h}x{w}")
  blocks = images.astype(np.float32).reshape(n, h // factor, factor, w // factor, factor, c)
  return np.round(blocks.mean(axis=(2, 4))).astype(np.uint8)


def draw_masks(key: jax.Array, num: int, shape: tuple[int, int], kind: str = "mixed") -> jax.Array:
  """float32 (num, H, W, 1) masks, 1 on the missing region.

  'centre': the centred CENTRE_SIZE x CENTRE_SIZE square; 'random': a rectangle with
  sides in [8, 16] at a uniform position; 'mixed': each row one or the other (p = 1/2).
  """
  check_mask(kind)
  h, w = shape
  size_key, pos_key, kind_key = jax.random.split(key, 3)
  sizes = jax.random.randint(size_key, (num, 2), 8, 17)
  tops = jax.random.randint(pos_key, (num, 2), 0, 1 << 30) % (jnp.array([h, w]) - sizes + 1)
  centre_top = jnp.array([(h - CENTRE_SIZE) // 2, (w - CENTRE_SIZE) // 2])
  centre = jnp.broadcast_to(jnp.array([CENTRE_SIZE, CENTRE_SIZE]), (num, 2))
  use_centre = {
    "centre": jnp.ones((num, 1), bool),
    "random": jnp.zeros((num, 1), bool),
    "mixed": jax.random.bernoulli(kind_key, 0.5, (num, 1)),
  }[kind]
  sizes = jnp.where(use_centre, centre, sizes)
  tops = jnp.where(use_centre, centre_top, tops)
  rows = jnp.arange(h)[None, :, None]
  cols = jnp.arange(w)[None, None, :]
  inside = (
    (rows >= tops[:, 0, None, None])
    & (rows < (tops[:, 0] + sizes[:, 0])[:, None, None])
    & (cols >= tops[:, 1, None, None])
    & (cols < (tops[:, 1] + sizes[:, 1])[:, None, None])
  )
  return inside.astype(jnp.float32)[..., None]


def inpainting_input(images: jax.Array, masks: jax.Array) -> jax.Array:
  """The generator input (B, H, W, 2): images in [-1, 1] with missing pixels set to 0, and masks."""
  return jnp.concatenate([images * (1.0 - masks), masks], axis=-1)


def paired_sample(arrays: dict, key: jax.Array, num: int) -> dict[str, jax.Array]:
  """`num` rows with replacement; 'x' and 'cond' share the row index (they are a pair)."""
  index = jax.random.randint(key, (num,), 0, arrays["x"].shape[0])
  return {"x": to_unit_range(arrays["x"][index]), "cond": to_unit_range(arrays["cond"][index])}


def make_inpainting_sample(mask_kind: str):
  def sample(arrays: dict, key: jax.Array, num: int) -> dict[str, jax.Array]:
    index_key, mask_key = jax.random.split(key)
    index = jax.random.randint(index_key, (num,), 0, arrays["x"].shape[0])
    x = to_unit_range(arrays["x"][index])
    masks = draw_masks(mask_key, num, x.shape[1:3], mask_kind)
    return {"x": x, "mask": masks, "cond": inpainting_input(x, masks)}

  return sample


def unpaired_sample(arrays: dict, key: jax.Array, num: int) -> dict[str, jax.Array]:
  """Domain B ('x') and domain A ('a') rows drawn with independent keys: never a pair."""
  key_b, key_a = jax.random.split(key)
  index_b = jax.random.randint(key_b, (num,), 0, arrays["x"].shape[0])
  index_a = jax.random.randint(key_a, (num,), 0, arrays["a"].shape[0])
  return {"x": to_unit_range(arrays["x"][index_b]), "a": to_unit_range(arrays["a"][index_a])}


def task_arrays(
  task: str,
  images: np.ndarray,
  labels: np.ndarray | None,
  *,
  scale: int = 2,
  domains: tuple[int, int] = (7, 9),
) -> dict[str, np.ndarray]:
  """The uint8 arrays of `task` built from images (N, H, W, 1) uint8 and labels (N,).

  edges/superres: {'x', 'cond'}; inpainting: {'x'}; unpaired: {'a': images of class
  domains[0], 'x': images of class domains[1]}.
  """
  if task not in TASKS:
    raise ValueError(f"image-to-image task {task!r} is unknown; accepted: {', '.join(TASKS)}")
  if task == "edges":
    return {"x": images, "cond": edge_maps(images)}
  if task == "superres":
    return {"x": images, "cond": downsample(images, scale)}
  if task == "inpainting":
    return {"x": images}
  if labels is None:
    raise ValueError("the unpaired task needs class labels to split the two domains")
  a, b = (int(d) for d in domains)
  if a == b or not {a, b} <= set(np.unique(labels).tolist()):
    raise ValueError(
      f"data.domains must be two different classes of the dataset, got {tuple(domains)}"
    )
  return {"a": images[labels == a], "x": images[labels == b]}


def task_source(
  task: str,
  images: np.ndarray,
  labels: np.ndarray | None,
  *,
  name: str,
  scale: int = 2,
  domains: tuple[int, int] = (7, 9),
  mask: str = "mixed",
):
  """The `DataSource` of an image-to-image task (see the module docstring)."""
  check_mask(mask)
  arrays = task_arrays(task, images, labels, scale=scale, domains=domains)
  sample = {
    "edges": paired_sample,
    "superres": paired_sample,
    "unpaired": unpaired_sample,
    "inpainting": make_inpainting_sample(mask),
  }[task]
  return DataSource(f"{name}_{task}", "image", tuple(images.shape[1:]), arrays, sample)


def source_from_config(data, load_split):
  """`task_source` of config.data (task, path, split, scale, domains, mask).

  `load_split(path, split)` -> (images uint8 (N, H, W, 1), labels (N,)).
  """
  images, labels = load_split(data.get("path"), data.get("split", "train"))
  return task_source(
    data.get("task", "edges"),
    images,
    labels,
    name=data.get("name", "fashion_mnist"),
    scale=int(data.get("scale", 2)),
    domains=tuple(data.get("domains", (7, 9))),
    mask=data.get("mask", "mixed"),
  )


__all__ = [
  "TASKS",
  "MASKS",
  "edge_maps",
  "downsample",
  "draw_masks",
  "inpainting_input",
  "task_arrays",
  "task_source",
  "source_from_config",
]
