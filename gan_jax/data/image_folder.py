"""A folder of PNG/JPEG files as arrays: resized, center-cropped, cached as an .npz.

`load_folder(path, image_size, channels)` reads every image file under `path`
(recursively), resizes its shorter side to `image_size` and crops the center
square (as torchvision's Resize + CenterCrop), and returns uint8 (N, S, S, C)
images and, when every file lies in a subfolder of `path`, int32 (N,) labels,
one per subfolder in sorted order (as torchvision's ImageFolder). The arrays
are cached in an .npz named by a hash of the files' relative paths, sizes and
modification times and of the options, so a changed folder is read again.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os

import numpy as np

EXTENSIONS = (".png", ".jpg", ".jpeg")
CHANNELS = (0, 1, 3)  # 0: gray when every file is gray, else RGB
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")
CACHE_VERSION = 1
PROGRESS_FROM = 2000  # files; fewer are read without a progress bar


def default_cache_dir() -> str:
  """$GAN_JAX_CACHE/images, else $XDG_CACHE_HOME/gan_jax/images, else ~/.cache/gan_jax/images."""
  from gan_jax.metrics import features

  return os.path.join(features.default_cache_dir(), "images")


def list_files(folder: str) -> list[str]:
  """Paths of the image files under `folder`, relative to it, sorted; raises when there is none.

  Hidden files and folders (names starting with '.', such as .ipynb_checkpoints) are
  skipped; symbolic links to folders are followed, except a link back to a folder above
  it (which would loop).
  """
  if not os.path.isdir(folder):
    raise FileNotFoundError(f"image folder {folder!r} does not exist or is not a directory")
  folder = os.path.normpath(folder)
  found = []
  above = {}  # each folder walked -> the (device, inode) of it and the folders above it
  for root, dirs, names in os.walk(folder, followlinks=True):
    status = os.stat(root)
    here = (status.st_dev, status.st_ino)
    chain = above.get(os.path.dirname(root), ()) if root != folder else ()
    if here in chain:  # a link back to a folder above: a loop
      dirs.clear()
      continue
    above[root] = chain + (here,)
    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    found += [
      os.path.relpath(os.path.join(root, name), folder)
      for name in names
      if name.lower().endswith(EXTENSIONS) and not name.startswith(".")
    ]
  if not found:
    raise ValueError(
      f"image folder {folder!r} holds no image files; accepted: "
      f"{', '.join(EXTENSIONS)} files, in it or in its subfolders"
    )
  return sorted(found)


def class_names(files: list[str]) -> list[str] | None:
  """The sorted top-level subfolders when every file lies in one (its class), else None."""
  tops = [f.split(os.sep, 1)[0] if os.sep in f else None for f in files]
  if any(top is None for top in tops):
    return None
  return sorted(set(tops))


def check_class_folders(folder: str, names: list[str] | None) -> None:
  """Refuses (one line) a folder of class subfolders (`names`, from `class_names`) where a
  subfolder holds no image file: the classes are the sorted subfolders, so an empty one
  would renumber the classes after it (torchvision's ImageFolder refuses it too)."""
  if names is None:
    return
  subfolders = sorted(
    entry.name for entry in os.scandir(folder) if entry.is_dir() and not entry.name.startswith(".")
  )
  empty = [name for name in subfolders if name not in names]
  if empty:
    raise ValueError(
      f"class folder {os.path.join(folder, empty[0])} holds no image files "
      f"({', '.join(EXTENSIONS)}); the classes are the sorted subfolders of {folder}, "
      f"so add images to it or remove it"
    )


def unlabelled_reason(folder: str, files: list[str]) -> str:
  """Why a folder's images carry no labels, in words for an error message."""
  top = [f for f in files if os.sep not in f]
  if len(top) < len(files):
    return (
      f"{os.path.join(folder, top[0])} lies outside the class subfolders (labels come "
      f"from the subfolders only when every image lies in one)"
    )
  return f"its images lie in {folder} itself, not in class subfolders"


def _open(folder: str, file: str):
  from PIL import Image

  path = os.path.join(folder, file)
  try:
    image = Image.open(path)
    image.load()  # decodes now: a truncated file fails here, naming the file
  except Exception as error:  # PIL raises UnidentifiedImageError, OSError, SyntaxError, ...
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    raise ValueError(
      f"image file {path} cannot be read ({reason}); accepted: PNG or JPEG "
      f"files, or remove it from the folder"
    ) from None
  return image


def _probe(folder: str, file: str) -> tuple[tuple[int, int], bool]:
  """((width, height), is_gray) of one file, read from its header."""
  from PIL import Image

  path = os.path.join(folder, file)
  try:
    with Image.open(path) as image:
      return image.size, image.mode in GRAY_MODES
  except Exception as error:
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    raise ValueError(
      f"image file {path} cannot be read ({reason}); accepted: PNG or JPEG "
      f"files, or remove it from the folder"
    ) from None


def resize_and_crop(image, size: int):
  """A PIL image with its shorter side resized to `size` (Lanczos), then the center size x size."""
  from PIL import Image

  width, height = image.size
  scale = size / min(width, height)
  new = (max(size, round(width * scale)), max(size, round(height * scale)))
  if new != (width, height):
    image = image.resize(new, Image.Resampling.LANCZOS)
  left, top = (new[0] - size) // 2, (new[1] - size) // 2
  return image.crop((left, top, left + size, top + size))


def resize_arrays(images: np.ndarray, size: int) -> np.ndarray:
  """Images (N, H, W, C), uint8 or float, resized and center-cropped as `resize_and_crop`
  to (N, size, size, C) of the same dtype; returned as they are when already that size."""
  from PIL import Image

  if not isinstance(size, int) or isinstance(size, bool) or size < 1:
    raise ValueError(f"size must be an integer >= 1, got {size!r}")
  if images.shape[1:3] == (size, size):
    return images
  out = np.empty((len(images), size, size, images.shape[3]), images.dtype)
  for i, image in enumerate(images):
    for c in range(images.shape[3]):  # one float32 ('F') picture per channel: any dtype, any C
      plane = resize_and_crop(Image.fromarray(image[..., c].astype(np.float32), "F"), size)
      plane = np.asarray(plane)
      if images.dtype == np.uint8:
        plane = np.clip(np.rint(plane), 0, 255)
      elif np.issubdtype(images.dtype, np.floating):
        plane = np.clip(plane, -1.0, 1.0)  # Lanczos overshoots; float images live in [-1, 1]
      out[i, ..., c] = plane
  return out


def _read(folder: str, file: str, size: int, channels: int) -> np.ndarray:
  """uint8 (size, size, channels) of one file."""
  image = _open(folder, file)
  if image.mode in ("I", "I;16", "F"):  # 16-bit or float gray: scale to 8 bits
    values = np.asarray(image, np.float64)
    # A 16-bit file is 0..65535 whatever its own maximum (a dark one is not brightened); a
    # 32-bit integer or float file has no fixed range: its values above 255 say 16 bits.
    sixteen_bits = image.mode.startswith("I;16") or values.max() > 255
    high = 65535.0 if sixteen_bits else 255.0
    from PIL import Image

    image = Image.fromarray(np.clip(values / high * 255.0 + 0.5, 0, 255).astype(np.uint8))
  image = image.convert("L" if channels == 1 else "RGB")
  pixels = np.asarray(resize_and_crop(image, size), np.uint8)
  return pixels.reshape(size, size, channels)


def _fingerprint(folder: str, files: list[str], size: int, channels: int) -> str:
  entries = []
  for file in files:
    stat = os.stat(os.path.join(folder, file))
    entries.append([file, stat.st_size, stat.st_mtime_ns])
  text = json.dumps(
    {"version": CACHE_VERSION, "size": size, "channels": channels, "files": entries}
  )
  return hashlib.sha256(text.encode()).hexdigest()[:20]


def _default_size(folder: str, sizes: dict[str, tuple[int, int]]) -> int:
  distinct = sorted(set(sizes.values()))
  if len(distinct) > 1:
    examples = {}
    for file, shape in sizes.items():
      examples.setdefault(shape, file)
    a, b = distinct[0], distinct[-1]
    raise ValueError(
      f"images in {folder} have {len(distinct)} different sizes (e.g. "
      f"{examples[a]} is {a[0]}x{a[1]}, {examples[b]} is {b[0]}x{b[1]}); set "
      f"config.data.image_size to resize and crop them to one square size"
    )
  return min(distinct[0])


def check_image_size(image_size) -> None:
  """The rule of config.data.image_size: S >= 1 to resize and crop to S x S, or 0."""
  if not isinstance(image_size, int) or isinstance(image_size, bool) or image_size < 0:
    raise ValueError(
      f"data.image_size must be an integer >= 1, or 0 for the images' own size, got {image_size!r}"
    )


def check_channels(channels) -> None:
  """The rule of config.data.channels: one of `CHANNELS`."""
  if not isinstance(channels, int) or isinstance(channels, bool) or channels not in CHANNELS:
    raise ValueError(
      f"config.data.channels must be 1 (gray), 3 (RGB) or 0 (gray when every "
      f"file is gray, else RGB), got {channels!r}"
    )


def load_folder(
  folder: str,
  image_size: int = 0,
  channels: int = 0,
  cache_dir: str = "",
  *,
  workers: int | None = None,
):
  """Images uint8 (N, S, S, C), labels int32 (N,) or None, and class names, from a folder.

  Args:
    folder: a directory of .png/.jpg/.jpeg files, searched recursively; when every
      file lies in a subfolder, the sorted subfolder names are the classes.
    image_size: S; 0 takes the files' own size when they all share one (the
      shorter side, center-cropped, when it is not square).
    channels: 1 (gray), 3 (RGB), or 0: 1 when every file is gray, else 3.
    cache_dir: where the .npz cache goes; '' for `default_cache_dir()`.
  Returns:
    (images, labels, names): labels and names are None without class subfolders.
  """
  check_image_size(image_size)
  check_channels(channels)
  folder = os.path.abspath(os.path.expanduser(folder))
  files = list_files(folder)
  names = class_names(files)
  check_class_folders(folder, names)
  if not image_size or not channels:
    probes = {file: _probe(folder, file) for file in files}
    image_size = image_size or _default_size(folder, {f: p[0] for f, p in probes.items()})
    channels = channels or (1 if all(p[1] for p in probes.values()) else 3)
  cache = os.path.join(
    cache_dir or default_cache_dir(),
    f"{os.path.basename(folder) or 'images'}-"
    f"{_fingerprint(folder, files, image_size, channels)}.npz",
  )
  if os.path.exists(cache):
    try:
      with np.load(cache, allow_pickle=False) as arrays:
        labels = arrays["label"] if "label" in arrays else None
        return arrays["x"], labels, names
    except (OSError, ValueError, KeyError):
      pass  # a damaged cache is read again from the files
  from tqdm.auto import tqdm

  with concurrent.futures.ThreadPoolExecutor(workers or min(8, os.cpu_count() or 1)) as pool:
    decoded = pool.map(lambda f: _read(folder, f, image_size, channels), files)
    images = np.stack(
      list(
        tqdm(
          decoded,
          total=len(files),
          unit="file",
          mininterval=2.0,
          desc=f"reading {folder}",
          disable=len(files) < PROGRESS_FROM,
        )
      )
    )
  arrays = {"x": images}
  labels = None
  if names is not None:
    index = {name: i for i, name in enumerate(names)}
    labels = np.asarray([index[f.split(os.sep, 1)[0]] for f in files], np.int32)
    arrays["label"] = labels
  _write_atomically(cache, arrays)
  return images, labels, names


def _write_atomically(path: str, arrays: dict) -> None:
  """Writes the cache beside its final name, then renames it; a cache that cannot be
  written is skipped (the arrays are already in memory)."""
  tmp = f"{path}.{os.getpid()}.tmp.npz"
  try:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
  except OSError:
    try:
      os.remove(tmp)
    except OSError:
      pass
