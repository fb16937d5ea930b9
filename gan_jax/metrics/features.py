"""A feature network the library trains itself: a small CNN classifier on Fashion-MNIST.

Image metrics need a feature space. Inception-v3 needs downloaded weights;
this network needs only the Fashion-MNIST files: it is trained by
`train_classifier` from a seed (same seed, same platform => same bits),
cached as a msgpack file, and named by `identity`, a hash of its parameters,
so two metric values are comparable only when they carry the same identity.
Its penultimate layer (128 units) feeds the Frechet distance and
precision/recall; its argmax prediction feeds class coverage.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization

from gan_jax.data import files
from gan_jax.data import to_unit_range
from gan_jax.state import step_key

DEFAULT_SEED = 0
DEFAULT_NUM_STEPS = 3000
DEFAULT_BATCH_SIZE = 128
DEFAULT_LEARNING_RATE = 1e-3
IMAGE_SHAPE = (28, 28, 1)


class FeatureClassifier(nn.Module):
  """Images (B, 28, 28, 1) float32 in [-1, 1] -> (features (B, F), logits (B, C)).

  Conv 32 stride 2 -> Conv 64 stride 2 -> Dense F (the features) -> Dense C,
  ReLU between; no dropout or batch statistics, so it is a pure function of its input.
  """

  num_classes: int = 10
  num_features: int = 128

  @nn.compact
  def __call__(self, x):
    x = nn.relu(nn.Conv(32, (3, 3), strides=(2, 2))(x))  # (B, 14, 14, 32)
    x = nn.relu(nn.Conv(64, (3, 3), strides=(2, 2))(x))  # (B, 7, 7, 64)
    features = nn.relu(nn.Dense(self.num_features)(x.reshape(x.shape[0], -1)))
    return features, nn.Dense(self.num_classes)(features)


def parameter_identity(params: Any) -> str:
  """'fmnist-cnn-' + the first 12 hex digits of the SHA-256 of the parameters' msgpack bytes."""
  digest = hashlib.sha256(serialization.to_bytes(params)).hexdigest()
  return f"fmnist-cnn-{digest[:12]}"


@dataclasses.dataclass(frozen=True, eq=False)
class FeatureNetwork:
  """A trained classifier and what is known about it.

  Attributes:
    params: the `FeatureClassifier` parameters.
    num_classes: C.
    identity: `parameter_identity(params)`.
    test_accuracy: accuracy on the test split, or None when not measured.
    info: how it was trained (seed, steps, batch size, learning rate, data).
  """

  params: Any
  num_classes: int = 10
  identity: str = ""
  test_accuracy: float | None = None
  info: dict = dataclasses.field(default_factory=dict)

  @property
  def module(self) -> FeatureClassifier:
    return FeatureClassifier(num_classes=self.num_classes)

  def embed(self, images: np.ndarray, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """(features float32 (N, F), logits float32 (N, C)) of images (N, 28, 28, 1), uint8 or [-1,
    1]."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
      raise ValueError(
        f"the feature network takes images of shape (N, 28, 28, 1), got {images.shape}"
      )
    apply = _jitted_apply(self.module)
    outputs = [
      apply(self.params, to_unit_range(jnp.asarray(images[i : i + batch_size])))
      for i in range(0, len(images), batch_size)
    ]
    return (
      np.concatenate([np.asarray(f) for f, _ in outputs]),
      np.concatenate([np.asarray(l) for _, l in outputs]),
    )

  def predict(self, images: np.ndarray) -> np.ndarray:
    """(N,) int predicted classes."""
    return np.argmax(self.embed(images)[1], axis=1)


@functools.lru_cache(maxsize=None)
def _jitted_apply(module: FeatureClassifier):
  return jax.jit(module.apply)


def classifier_loss(params, module: FeatureClassifier, images: jax.Array, labels: jax.Array):
  """Mean softmax cross-entropy of images (B, 28, 28, 1) in [-1, 1] against int labels (B,)."""
  _, logits = module.apply(params, images)
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def train_classifier(
  images: np.ndarray,
  labels: np.ndarray,
  *,
  seed: int = DEFAULT_SEED,
  num_steps: int = DEFAULT_NUM_STEPS,
  batch_size: int = DEFAULT_BATCH_SIZE,
  learning_rate: float = DEFAULT_LEARNING_RATE,
  num_classes: int = 10,
):
  """Trains a `FeatureClassifier` with Adam; returns (params, per-step losses (num_steps,)).

  Args:
    images: (N, 28, 28, 1) uint8 (or float in [-1, 1]) training images.
    labels: (N,) int labels in [0, num_classes).
    seed: initialisation and minibatch order; minibatch i is drawn with
      replacement from stream 'classifier_data' at step i.
  """
  images, labels = np.asarray(images), np.asarray(labels)
  if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE or labels.shape != (len(images),):
    raise ValueError(
      f"need images (N, 28, 28, 1) and labels (N,), got {images.shape} and {labels.shape}"
    )
  if num_steps < 1 or batch_size < 1:
    raise ValueError(f"num_steps and batch_size must be >= 1, got {num_steps} and {batch_size}")
  module = FeatureClassifier(num_classes=num_classes)
  root = jax.random.PRNGKey(seed)
  params = module.init(step_key(root, 0, "classifier_init"), jnp.zeros((1,) + IMAGE_SHAPE))
  tx = optax.adam(learning_rate)
  arrays = jax.device_put({"x": images, "label": labels.astype(np.int32)})

  @jax.jit
  def step(params, opt_state, arrays, i):
    index = jax.random.randint(
      step_key(root, i, "classifier_data"), (batch_size,), 0, arrays["x"].shape[0]
    )
    loss, grads = jax.value_and_grad(classifier_loss)(
      params, module, to_unit_range(arrays["x"][index]), arrays["label"][index]
    )
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  opt_state = tx.init(params)
  losses = []
  for i in range(num_steps):
    params, opt_state, loss = step(params, opt_state, arrays, i)
    losses.append(loss)
  return params, np.asarray(jax.device_get(losses), np.float32)


def accuracy(network: FeatureNetwork, images: np.ndarray, labels: np.ndarray) -> float:
  """Fraction of images (N, 28, 28, 1) whose predicted class equals labels (N,)."""
  return float(np.mean(network.predict(images) == np.asarray(labels)))


def default_cache_dir() -> str:
  """$GAN_JAX_CACHE, else $XDG_CACHE_HOME/gan_jax, else ~/.cache/gan_jax."""
  if os.environ.get("GAN_JAX_CACHE"):
    return os.environ["GAN_JAX_CACHE"]
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "gan_jax")


def default_path(seed: int = DEFAULT_SEED, num_steps: int = DEFAULT_NUM_STEPS) -> str:
  return os.path.join(default_cache_dir(), f"fmnist_cnn_seed{seed}_steps{num_steps}.msgpack")


def check_writable(path: str) -> None:
  """Refuses (ValueError) a network path that cannot be written, before minutes of training:
  creates its folder and writes and removes PATH.tmp."""
  try:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "wb"):
      pass
    os.remove(path + ".tmp")
  except OSError as error:
    raise ValueError(
      f"the feature network cannot be written to {path}: {error.strerror or error}; give a "
      "writable path (gan-jax evaluate --feature-network FILE)"
    ) from None


def save_network(network: FeatureNetwork, path: str) -> None:
  """Writes PATH.json (identity, accuracy, training info), then PATH (msgpack parameters),
  each whole or not at all: a write cut short leaves no PATH, so `load_or_train` trains again."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  meta = {
    "identity": network.identity,
    "num_classes": network.num_classes,
    "test_accuracy": network.test_accuracy,
    "info": network.info,
  }
  with open(path + ".json.tmp", "w") as f:
    json.dump(meta, f, indent=2)
  os.replace(path + ".json.tmp", path + ".json")
  with open(path + ".tmp", "wb") as f:
    f.write(serialization.to_bytes(network.params))
  os.replace(path + ".tmp", path)


def load_network(path: str) -> FeatureNetwork:
  """Reads a network written by `save_network`; checks its identity against its bytes."""
  if not os.path.exists(path):
    raise FileNotFoundError(
      f"no feature network at {path} (needs {path} and {path}.json); "
      f"train one with gan_jax.metrics.features.load_or_train"
    )
  retrain = f"delete {path} and {path}.json, and evaluate trains one there again"
  if not os.path.exists(path + ".json"):
    raise ValueError(
      f"the feature network {path} has no {path}.json beside it; delete {path}, and evaluate "
      f"trains one there again"
    )
  try:
    with open(path + ".json") as f:
      meta = json.load(f)
    module = FeatureClassifier(num_classes=meta["num_classes"])
    template = jax.eval_shape(module.init, jax.random.PRNGKey(0), jnp.zeros((1,) + IMAGE_SHAPE))
    with open(path, "rb") as f:
      params = serialization.from_bytes(template, f.read())
  except Exception as error:  # not JSON, not msgpack, cut short, fields missing
    reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
    raise ValueError(
      f"the feature network {path} cannot be read ({type(error).__name__}: {reason}); {retrain}"
    ) from None
  expected = jax.tree_util.tree_leaves_with_path(template)
  for (name, want), got in zip(expected, jax.tree.leaves(params), strict=False):
    if tuple(np.shape(got)) != tuple(want.shape):
      raise ValueError(
        f"{path} is not gan_jax's feature network: {jax.tree_util.keystr(name)} has shape "
        f"{tuple(np.shape(got))}, not {tuple(want.shape)}; {retrain}"
      )
  identity = parameter_identity(params)
  if identity != meta["identity"]:
    raise ValueError(
      f"{path} holds parameters {identity} but {path}.json says "
      f"{meta['identity']}; delete both files to retrain"
    )
  return FeatureNetwork(
    params, meta["num_classes"], identity, meta.get("test_accuracy"), meta.get("info", {})
  )


def load_or_train(
  path: str | None = None,
  *,
  data_dir: str = files.FASHION_MNIST_DIR,
  seed: int = DEFAULT_SEED,
  num_steps: int = DEFAULT_NUM_STEPS,
  progress: bool = False,
) -> FeatureNetwork:
  """The cached Fashion-MNIST feature network at `path`, training and caching it if absent.

  Training takes a few minutes on 2 CPU cores; its test-split accuracy is
  measured and stored beside the parameters.
  """
  path = path or default_path(seed, num_steps)
  if os.path.exists(path):
    return load_network(path)
  check_writable(path)
  if progress:
    print(f"training the Fashion-MNIST feature network ({num_steps} steps) into {path}")
  train_images, train_labels = files.load_idx_split(data_dir, "train")
  params, losses = train_classifier(train_images, train_labels, seed=seed, num_steps=num_steps)
  network = FeatureNetwork(params, 10, parameter_identity(params))
  test_images, test_labels = files.load_idx_split(data_dir, "test")
  network = dataclasses.replace(
    network,
    test_accuracy=accuracy(network, test_images, test_labels),
    info={
      "seed": seed,
      "num_steps": num_steps,
      "batch_size": DEFAULT_BATCH_SIZE,
      "learning_rate": DEFAULT_LEARNING_RATE,
      "optimizer": "adam",
      "data": os.path.abspath(data_dir),
      "final_loss": float(losses[-50:].mean()),
      "jax_backend": jax.default_backend(),
    },
  )
  save_network(network, path)
  if progress:
    print(f"feature network {network.identity}: test accuracy {network.test_accuracy:.4f}")
  return network
