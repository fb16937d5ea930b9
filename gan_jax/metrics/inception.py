"""Inception-v3 pool features for FID, from a weights file the user supplies.

FID is the Frechet distance on the 2048 final-pool features of the Inception
network that TensorFlow's FID used (Heusel et al. 2017). The library ships no
weights and downloads nothing: pass the path of pytorch-fid's published
weights (pt_inception-2015-12-05-6726825d.pth, from
https://github.com/mseitzer/pytorch-fid/releases/tag/fid_weights) converted
to .npz with

  python -m gan_jax.metrics.convert_inception pt_inception-2015-12-05-6726825d.pth inception_fid.npz

The .npz holds one array per entry of pytorch-fid's `FIDInceptionV3`
state dict, under the same names and in PyTorch layout, e.g.
'Conv2d_1a_3x3.conv.weight' (32, 3, 3, 3) OIHW, 'Conv2d_1a_3x3.bn.weight',
'.bn.bias', '.bn.running_mean', '.bn.running_var' (32,), down to
'Mixed_7c.branch_pool.bn.running_var' (192,). Other entries ('fc.*',
'*.num_batches_tracked') are ignored. `inception_weight_shapes()` lists every
required name and shape. The classifier's 'fc.weight' (1008, 2048) and
'fc.bias' (1008,) are optional: with them the Inception Score can be computed.

`inception_features` is a pure function of (weights, images) and follows
pytorch-fid's `InceptionV3(output_blocks=[3])`: bilinear resize to 299 x 299,
conv + batch norm (eps 1e-3) + ReLU blocks, the FID patches (average pools
that exclude padding, a max pool in the last block), and a global average pool.
`inception_logits` are the 1008 class logits of those features without the
classifier's bias, as OpenAI's Inception Score code and torch-fidelity's
'logits_unbiased' take them. Images of any size are resized; gray images are
repeated to three channels.
"""

from __future__ import annotations

import hashlib
import os
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from tqdm.auto import tqdm

PYTORCH_FID_WEIGHTS = "pt_inception-2015-12-05-6726825d.pth"
PYTORCH_FID_URL = (
  "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + PYTORCH_FID_WEIGHTS
)
FEATURE_DIM = 2048
NUM_LOGITS = 1008
INPUT_SIZE = 299
BN_EPSILON = 1e-3


# --- The architecture as data: name -> (in, out, kernel (h, w)) --------------


def _inception_a(name, cin, pool):
  return {
    f"{name}.branch1x1": (cin, 64, (1, 1)),
    f"{name}.branch5x5_1": (cin, 48, (1, 1)),
    f"{name}.branch5x5_2": (48, 64, (5, 5)),
    f"{name}.branch3x3dbl_1": (cin, 64, (1, 1)),
    f"{name}.branch3x3dbl_2": (64, 96, (3, 3)),
    f"{name}.branch3x3dbl_3": (96, 96, (3, 3)),
    f"{name}.branch_pool": (cin, pool, (1, 1)),
  }


def _inception_b(name, cin):
  return {
    f"{name}.branch3x3": (cin, 384, (3, 3)),
    f"{name}.branch3x3dbl_1": (cin, 64, (1, 1)),
    f"{name}.branch3x3dbl_2": (64, 96, (3, 3)),
    f"{name}.branch3x3dbl_3": (96, 96, (3, 3)),
  }


def _inception_c(name, cin, c7):
  return {
    f"{name}.branch1x1": (cin, 192, (1, 1)),
    f"{name}.branch7x7_1": (cin, c7, (1, 1)),
    f"{name}.branch7x7_2": (c7, c7, (1, 7)),
    f"{name}.branch7x7_3": (c7, 192, (7, 1)),
    f"{name}.branch7x7dbl_1": (cin, c7, (1, 1)),
    f"{name}.branch7x7dbl_2": (c7, c7, (7, 1)),
    f"{name}.branch7x7dbl_3": (c7, c7, (1, 7)),
    f"{name}.branch7x7dbl_4": (c7, c7, (7, 1)),
    f"{name}.branch7x7dbl_5": (c7, 192, (1, 7)),
    f"{name}.branch_pool": (cin, 192, (1, 1)),
  }


def _inception_d(name, cin):
  return {
    f"{name}.branch3x3_1": (cin, 192, (1, 1)),
    f"{name}.branch3x3_2": (192, 320, (3, 3)),
    f"{name}.branch7x7x3_1": (cin, 192, (1, 1)),
    f"{name}.branch7x7x3_2": (192, 192, (1, 7)),
    f"{name}.branch7x7x3_3": (192, 192, (7, 1)),
    f"{name}.branch7x7x3_4": (192, 192, (3, 3)),
  }


def _inception_e(name, cin):
  return {
    f"{name}.branch1x1": (cin, 320, (1, 1)),
    f"{name}.branch3x3_1": (cin, 384, (1, 1)),
    f"{name}.branch3x3_2a": (384, 384, (1, 3)),
    f"{name}.branch3x3_2b": (384, 384, (3, 1)),
    f"{name}.branch3x3dbl_1": (cin, 448, (1, 1)),
    f"{name}.branch3x3dbl_2": (448, 384, (3, 3)),
    f"{name}.branch3x3dbl_3a": (384, 384, (1, 3)),
    f"{name}.branch3x3dbl_3b": (384, 384, (3, 1)),
    f"{name}.branch_pool": (cin, 192, (1, 1)),
  }


def conv_blocks() -> dict[str, tuple[int, int, tuple[int, int]]]:
  """Every conv + batch-norm block of the FID Inception: name -> (in, out, (kh, kw))."""
  blocks = {
    "Conv2d_1a_3x3": (3, 32, (3, 3)),
    "Conv2d_2a_3x3": (32, 32, (3, 3)),
    "Conv2d_2b_3x3": (32, 64, (3, 3)),
    "Conv2d_3b_1x1": (64, 80, (1, 1)),
    "Conv2d_4a_3x3": (80, 192, (3, 3)),
  }
  blocks.update(_inception_a("Mixed_5b", 192, 32))
  blocks.update(_inception_a("Mixed_5c", 256, 64))
  blocks.update(_inception_a("Mixed_5d", 288, 64))
  blocks.update(_inception_b("Mixed_6a", 288))
  for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
    blocks.update(_inception_c(name, 768, c7))
  blocks.update(_inception_d("Mixed_7a", 768))
  blocks.update(_inception_e("Mixed_7b", 1280))
  blocks.update(_inception_e("Mixed_7c", 2048))
  return blocks


def classifier_weight_shapes() -> dict[str, tuple[int, ...]]:
  """The optional classifier entries (for the Inception Score) -> their shapes."""
  return {"fc.weight": (NUM_LOGITS, FEATURE_DIM), "fc.bias": (NUM_LOGITS,)}


def inception_weight_shapes() -> dict[str, tuple[int, ...]]:
  """Every required weights-file entry (pytorch-fid state-dict name) -> its shape."""
  shapes = {}
  for name, (cin, cout, (kh, kw)) in conv_blocks().items():
    shapes[f"{name}.conv.weight"] = (cout, cin, kh, kw)
    for leaf in ("weight", "bias", "running_mean", "running_var"):
      shapes[f"{name}.bn.{leaf}"] = (cout,)
  return shapes


# --- Loading -----------------------------------------------------------------


def missing_weights_message(path: str) -> str:
  return (
    f"Inception weights file {path!r} does not exist; FID needs pytorch-fid's weights "
    f"({PYTORCH_FID_URL}) converted with: python -m gan_jax.metrics.convert_inception "
    f"{PYTORCH_FID_WEIGHTS} inception_fid.npz; without them use the library's FD"
  )


def load_inception_weights(path: str | None) -> dict[str, np.ndarray]:
  """The float32 arrays of an Inception weights .npz, checked against `inception_weight_shapes`
  (and the optional `classifier_weight_shapes`, kept when present).

  Raises FileNotFoundError (with how to get the file) when `path` is None or
  absent, and ValueError naming the first missing or misshapen entry.
  """
  if not path or not os.path.exists(path):
    raise FileNotFoundError(missing_weights_message(path or ""))
  if not zipfile.is_zipfile(path) or path.endswith(".pth"):
    source = path if path.endswith(".pth") else PYTORCH_FID_WEIGHTS
    raise ValueError(
      f"{path} is not an .npz archive; accepted: pytorch-fid's .pth converted first with "
      f"python -m gan_jax.metrics.convert_inception {source} inception_fid.npz"
    )
  with np.load(path, allow_pickle=False) as archive:
    names = set(archive.files)
    weights = {}
    for name, shape in inception_weight_shapes().items():
      if name not in names:
        raise ValueError(
          f"{path} has no entry {name!r}; it must hold pytorch-fid's "
          f"FIDInceptionV3 state dict (see gan_jax.metrics.inception)"
        )
      array = archive[name]
      if tuple(array.shape) != shape:
        raise ValueError(f"{path}: entry {name!r} has shape {tuple(array.shape)}, expected {shape}")
      weights[name] = np.asarray(array, np.float32)
    for name, shape in classifier_weight_shapes().items():
      if name in names:
        if tuple(archive[name].shape) != shape:
          raise ValueError(
            f"{path}: entry {name!r} has shape {tuple(archive[name].shape)}, expected {shape}"
          )
        weights[name] = np.asarray(archive[name], np.float32)
  return weights


def weights_identity(path: str, weights: dict[str, np.ndarray]) -> str:
  """'inception-v3-fid:' + the file's name + ':sha256-' + the first 12 hex digits of the
  SHA-256 of the arrays (names in sorted order, then each array's float32 bytes): the same
  weights give the same identity whatever the file is called or however it was zipped, so
  two FIDs compare only when they carry the same identity."""
  digest = hashlib.sha256()
  for name in sorted(weights):
    digest.update(name.encode() + b"\0")
    digest.update(np.ascontiguousarray(weights[name], np.float32).tobytes())
  return f"inception-v3-fid:{os.path.basename(path)}:sha256-{digest.hexdigest()[:12]}"


# --- The network as a pure function --------------------------------------------


def _conv_bn_relu(weights, name, x, stride=1, padding=(0, 0)):
  """BasicConv2d: conv (no bias), batch norm with running statistics, ReLU. x: NHWC."""
  kernel = weights[f"{name}.conv.weight"]
  x = lax.conv_general_dilated(
    x,
    kernel,
    (stride, stride),
    ((padding[0], padding[0]), (padding[1], padding[1])),
    dimension_numbers=("NHWC", "OIHW", "NHWC"),
  )
  scale = weights[f"{name}.bn.weight"] / jnp.sqrt(weights[f"{name}.bn.running_var"] + BN_EPSILON)
  x = (x - weights[f"{name}.bn.running_mean"]) * scale + weights[f"{name}.bn.bias"]
  return jax.nn.relu(x)


def _max_pool(x, stride, padding=0):
  pad = ((0, 0), (padding, padding), (padding, padding), (0, 0))
  return lax.reduce_window(x, -jnp.inf, lax.max, (1, 3, 3, 1), (1, stride, stride, 1), pad)


def _avg_pool_exclude_padding(x):
  """3x3, stride 1, padding 1, averaging only the in-image cells (TensorFlow's rule)."""
  pad = ((0, 0), (1, 1), (1, 1), (0, 0))
  total = lax.reduce_window(x, 0.0, lax.add, (1, 3, 3, 1), (1, 1, 1, 1), pad)
  count = lax.reduce_window(
    jnp.ones(x.shape[:3] + (1,), x.dtype), 0.0, lax.add, (1, 3, 3, 1), (1, 1, 1, 1), pad
  )
  return total / count


def _block_a(w, n, x):
  b1 = _conv_bn_relu(w, f"{n}.branch1x1", x)
  b5 = _conv_bn_relu(w, f"{n}.branch5x5_2", _conv_bn_relu(w, f"{n}.branch5x5_1", x), padding=(2, 2))
  b3 = _conv_bn_relu(w, f"{n}.branch3x3dbl_1", x)
  b3 = _conv_bn_relu(w, f"{n}.branch3x3dbl_2", b3, padding=(1, 1))
  b3 = _conv_bn_relu(w, f"{n}.branch3x3dbl_3", b3, padding=(1, 1))
  bp = _conv_bn_relu(w, f"{n}.branch_pool", _avg_pool_exclude_padding(x))
  return jnp.concatenate([b1, b5, b3, bp], axis=-1)


def _block_b(w, n, x):
  b3 = _conv_bn_relu(w, f"{n}.branch3x3", x, stride=2)
  bd = _conv_bn_relu(w, f"{n}.branch3x3dbl_1", x)
  bd = _conv_bn_relu(w, f"{n}.branch3x3dbl_2", bd, padding=(1, 1))
  bd = _conv_bn_relu(w, f"{n}.branch3x3dbl_3", bd, stride=2)
  return jnp.concatenate([b3, bd, _max_pool(x, 2)], axis=-1)


def _block_c(w, n, x):
  b1 = _conv_bn_relu(w, f"{n}.branch1x1", x)
  b7 = _conv_bn_relu(w, f"{n}.branch7x7_1", x)
  b7 = _conv_bn_relu(w, f"{n}.branch7x7_2", b7, padding=(0, 3))
  b7 = _conv_bn_relu(w, f"{n}.branch7x7_3", b7, padding=(3, 0))
  bd = _conv_bn_relu(w, f"{n}.branch7x7dbl_1", x)
  for i, padding in ((2, (3, 0)), (3, (0, 3)), (4, (3, 0)), (5, (0, 3))):
    bd = _conv_bn_relu(w, f"{n}.branch7x7dbl_{i}", bd, padding=padding)
  bp = _conv_bn_relu(w, f"{n}.branch_pool", _avg_pool_exclude_padding(x))
  return jnp.concatenate([b1, b7, bd, bp], axis=-1)


def _block_d(w, n, x):
  b3 = _conv_bn_relu(w, f"{n}.branch3x3_2", _conv_bn_relu(w, f"{n}.branch3x3_1", x), stride=2)
  b7 = _conv_bn_relu(w, f"{n}.branch7x7x3_1", x)
  b7 = _conv_bn_relu(w, f"{n}.branch7x7x3_2", b7, padding=(0, 3))
  b7 = _conv_bn_relu(w, f"{n}.branch7x7x3_3", b7, padding=(3, 0))
  b7 = _conv_bn_relu(w, f"{n}.branch7x7x3_4", b7, stride=2)
  return jnp.concatenate([b3, b7, _max_pool(x, 2)], axis=-1)


def _block_e(w, n, x, max_pool_branch: bool):
  b1 = _conv_bn_relu(w, f"{n}.branch1x1", x)
  b3 = _conv_bn_relu(w, f"{n}.branch3x3_1", x)
  b3 = jnp.concatenate(
    [
      _conv_bn_relu(w, f"{n}.branch3x3_2a", b3, padding=(0, 1)),
      _conv_bn_relu(w, f"{n}.branch3x3_2b", b3, padding=(1, 0)),
    ],
    axis=-1,
  )
  bd = _conv_bn_relu(w, f"{n}.branch3x3dbl_1", x)
  bd = _conv_bn_relu(w, f"{n}.branch3x3dbl_2", bd, padding=(1, 1))
  bd = jnp.concatenate(
    [
      _conv_bn_relu(w, f"{n}.branch3x3dbl_3a", bd, padding=(0, 1)),
      _conv_bn_relu(w, f"{n}.branch3x3dbl_3b", bd, padding=(1, 0)),
    ],
    axis=-1,
  )
  pooled = _max_pool(x, 1, padding=1) if max_pool_branch else _avg_pool_exclude_padding(x)
  bp = _conv_bn_relu(w, f"{n}.branch_pool", pooled)
  return jnp.concatenate([b1, b3, bd, bp], axis=-1)


def prepare_images(images: jax.Array, *, resize: bool = True) -> jax.Array:
  """Images (N, H, W, C) in [-1, 1], C in {1, 3}, as Inception's float32 input (N, 299, 299, 3).

  Gray is repeated to three channels; images are resized bilinearly to 299 x 299
  (half-pixel centers, no antialiasing: PyTorch's F.interpolate(mode='bilinear',
  align_corners=False), as pytorch-fid resizes) unless `resize` is False, in
  which case H, W >= 75 and the size is kept.
  """
  if images.ndim != 4 or images.shape[-1] not in (1, 3):
    raise ValueError(
      f"images must be (N, H, W, C) with C 1 (gray) or 3 (RGB), got shape {images.shape}"
    )
  x = images.astype(jnp.float32)
  if x.shape[-1] == 1:
    x = jnp.repeat(x, 3, axis=-1)
  if resize:
    return jax.image.resize(x, (x.shape[0], INPUT_SIZE, INPUT_SIZE, 3), "bilinear", antialias=False)
  if min(x.shape[1:3]) < 75:
    raise ValueError(
      f"without resizing, Inception needs images of at least 75 x 75, got {x.shape[1:3]}"
    )
  return x


def inception_logits(weights: dict, features: jax.Array) -> jax.Array:
  """(N, 1008) class logits of pool features (N, 2048), without the classifier's bias."""
  return features @ weights["fc.weight"].T


def inception_features(weights: dict, images: jax.Array, *, resize: bool = True) -> jax.Array:
  """(N, 2048) float32 pool features of images (N, H, W, C) in [-1, 1], C in {1, 3}
  (`prepare_images` says how they are resized)."""
  return inception_network(weights, prepare_images(images, resize=resize))


def inception_network(weights: dict, x: jax.Array) -> jax.Array:
  """(N, 2048) pool features of prepared images x (N, H, W, 3), H, W >= 75."""
  w = weights
  x = _conv_bn_relu(w, "Conv2d_1a_3x3", x, stride=2)
  x = _conv_bn_relu(w, "Conv2d_2a_3x3", x)
  x = _conv_bn_relu(w, "Conv2d_2b_3x3", x, padding=(1, 1))
  x = _max_pool(x, 2)
  x = _conv_bn_relu(w, "Conv2d_3b_1x1", x)
  x = _conv_bn_relu(w, "Conv2d_4a_3x3", x)
  x = _max_pool(x, 2)
  for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d"):
    x = _block_a(w, name, x)
  x = _block_b(w, "Mixed_6a", x)
  for name in ("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
    x = _block_c(w, name, x)
  x = _block_d(w, "Mixed_7a", x)
  x = _block_e(w, "Mixed_7b", x, max_pool_branch=False)
  x = _block_e(w, "Mixed_7c", x, max_pool_branch=True)
  return jnp.mean(x, axis=(1, 2))


_jitted_prepare_images = jax.jit(prepare_images, static_argnames="resize")
_jitted_inception_network = jax.jit(inception_network)


class InceptionFeatures:
  """Batched extractor: images (N, H, W, C), uint8 or float in [-1, 1] -> (N, 2048) float32.

  The network is compiled once per batch size, min(batch_size, N), for 299 x 299 images (the
  last batch is padded); each input size adds only a small resize program.
  """

  def __init__(self, path: str | None, batch_size: int = 50):
    weights = load_inception_weights(path)
    self._identity = weights_identity(path, weights)
    self.weights = jax.device_put(weights)
    self.path = path
    self.batch_size = batch_size
    self._prepare = _jitted_prepare_images
    self._network = _jitted_inception_network

  @property
  def identity(self) -> str:
    """'inception-v3-fid:FILE:sha256-' + 12 hex digits of the weights (`weights_identity`)."""
    return self._identity

  @property
  def has_logits(self) -> bool:
    """Whether the weights hold the classifier, which the Inception Score needs."""
    return "fc.weight" in self.weights

  def __call__(self, images: np.ndarray, progress: bool | str = False) -> np.ndarray:
    """Pool features (N, 2048) of `images`; `progress` (True or a label) shows a bar."""
    images = np.asarray(images)
    images = images / 127.5 - 1.0 if images.dtype == np.uint8 else images
    images = images.astype(np.float32)
    label = progress if isinstance(progress, str) else "Inception features"
    size = min(self.batch_size, len(images))
    features = []
    with tqdm(total=len(images), desc=label, unit="img", disable=not progress, leave=False) as bar:
      for i in range(0, len(images), size):
        batch = images[i : i + size]
        count = len(batch)
        if count < size:  # one batch shape, so the network compiles once
          batch = np.concatenate([batch, np.zeros((size - count,) + batch.shape[1:], batch.dtype)])
        out = self._network(self.weights, self._prepare(batch))
        features.append(np.asarray(out)[:count])
        bar.update(count)
    return np.concatenate(features)

  def logits(self, features: np.ndarray) -> np.ndarray:
    """(N, 1008) class logits of pool features (N, 2048), float64; needs the classifier."""
    if not self.has_logits:
      raise ValueError(
        f"{self.path} holds no classifier ('fc.weight', 'fc.bias'); the Inception "
        f"Score needs them: convert the whole pytorch-fid state dict"
      )
    return np.asarray(features, np.float64) @ np.asarray(self.weights["fc.weight"], np.float64).T
