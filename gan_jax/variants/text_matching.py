"""Pre-training of the text encoder with a matching objective (Reed et al. 2016).

GAN-INT-CLS conditions on a text embedding that was learned *before* the GAN, by a joint
embedding of images and their descriptions (Reed, Akata, Lee & Schiele 2016, "Learning
deep representations of fine-grained visual descriptions"): a caption's embedding must
score its own image above the others. Here that objective is the symmetric batch-wise
form: for a batch of B (image, caption) pairs, with u = normalize(P_i theta(x)) and
v = normalize(P_t phi(t)),

    S = u v^T / temperature                                       (B, B)
    L = (cross_entropy(S, diag) + cross_entropy(S^T, diag)) / 2,

so each caption must pick its image among the batch's and each image its caption (Reed et
al.'s DS-SJE ranks class-averaged captions with a hinge instead; the batch form needs no
class labels, and the attributes a caption names count as much as its class). phi is
`text_to_image.TextEncoder`, the encoder both GAN players own; theta is a small CNN that
exists only for the pre-training.

`load_or_pretrain` trains once per (captions file, settings) and caches the encoder's
parameters under the library's cache directory, as the metrics' feature network does.
"""

from __future__ import annotations

import hashlib
import json
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization

from gan_jax.data import captions, to_unit_range
from gan_jax.metrics import features
from gan_jax.state import step_key

BATCH_SIZE = 128
LEARNING_RATE = 1e-3
TEMPERATURE = 0.1
PROJECTION_DIM = 64


class ImageEncoder(nn.Module):
  """theta: images float32 (B, H, W, C) in [-1, 1] -> (B, features); pre-training only."""

  features: int = 128

  @nn.compact
  def __call__(self, x):
    x = nn.leaky_relu(nn.Conv(32, (4, 4), strides=(2, 2))(x), 0.2)
    x = nn.leaky_relu(nn.Conv(64, (4, 4), strides=(2, 2))(x), 0.2)
    return nn.leaky_relu(nn.Dense(self.features)(x.reshape(x.shape[0], -1)), 0.2)


class JointEmbedding(nn.Module):
  """(images (B, H, W, C), tokens int32 (B, L)) -> unit vectors (u, v), each (B, proj)."""

  text_encoder: nn.Module
  projection_dim: int = PROJECTION_DIM

  @nn.compact
  def __call__(self, images, tokens):
    u = nn.Dense(self.projection_dim, name="image_projection")(ImageEncoder()(images))
    v = nn.Dense(self.projection_dim, name="text_projection")(self.text_encoder(tokens))
    return (
      u / jnp.linalg.norm(u, axis=-1, keepdims=True).clip(1e-6),
      v / jnp.linalg.norm(v, axis=-1, keepdims=True).clip(1e-6),
    )


def matching_loss(u: jax.Array, v: jax.Array, temperature: float = TEMPERATURE):
  """(loss, accuracy): the symmetric cross-entropy of the (B, B) similarities of unit
  vectors u, v (B, D); accuracy is the share of captions whose own image scores highest."""
  scores = u @ v.T / temperature
  labels = jnp.arange(u.shape[0])
  loss = 0.5 * (
    optax.softmax_cross_entropy_with_integer_labels(scores, labels).mean()
    + optax.softmax_cross_entropy_with_integer_labels(scores.T, labels).mean()
  )
  return loss, jnp.mean(jnp.argmax(scores.T, axis=-1) == labels)


def pretrain(
  arrays: dict[str, np.ndarray],
  text_encoder: nn.Module,
  *,
  num_steps: int,
  seed: int,
  batch_size: int = BATCH_SIZE,
) -> tuple[dict, np.ndarray]:
  """(JointEmbedding params, per-step [loss, accuracy] float32 (num_steps, 2)); the text
  encoder's are params['text_encoder'].

  arrays: a captions file's {'x' uint8 (N, H, W, C), 'tokens' int32 (N, C, L)}; each step
  draws batch_size images and one of each image's captions (stream 'text_matching').
  Adam at LEARNING_RATE; the same seed gives the same bits on the same platform.
  """
  model = JointEmbedding(text_encoder)
  images = jnp.asarray(arrays["x"])
  tokens = jnp.asarray(arrays["tokens"])
  root = jax.random.PRNGKey(seed)
  params = model.init(
    step_key(root, 0, "text_matching_init"),
    jnp.zeros((2,) + images.shape[1:], jnp.float32),
    jnp.zeros((2, tokens.shape[-1]), jnp.int32),
  )["params"]
  tx = optax.adam(LEARNING_RATE)
  opt_state = tx.init(params)

  @jax.jit
  def step(params, opt_state, index):
    rows_key, column_key = jax.random.split(step_key(root, index, "text_matching"))
    rows = jax.random.randint(rows_key, (batch_size,), 0, images.shape[0])
    column = jax.random.randint(column_key, (batch_size,), 0, tokens.shape[1])
    x, t = to_unit_range(images[rows]), tokens[rows, column]

    def loss_fn(p):
      return matching_loss(*model.apply({"params": p}, x, t))

    (loss, accuracy), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, jnp.stack([loss, accuracy])

  history = []
  for index in range(num_steps):
    params, opt_state, metrics = step(params, opt_state, index)
    history.append(metrics)
  history = np.asarray(jnp.stack(history)) if history else np.zeros((0, 2), np.float32)
  return params, history


def cache_path(captions_path: str, text_encoder: nn.Module, num_steps: int, seed: int) -> str:
  """The cache file of one (captions file contents, encoder sizes, steps, seed)."""
  digest = hashlib.sha256()
  with open(captions_path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  settings = dict(
    encoder=repr(text_encoder),
    steps=num_steps,
    seed=seed,
    batch=BATCH_SIZE,
    lr=LEARNING_RATE,
    temperature=TEMPERATURE,
    projection=PROJECTION_DIM,
  )
  digest.update(json.dumps(settings, sort_keys=True).encode())
  name = f"text_encoder_{digest.hexdigest()[:16]}.msgpack"
  return os.path.join(features.default_cache_dir(), name)


def load_or_pretrain(
  captions_path: str, text_encoder: nn.Module, *, num_steps: int, seed: int
) -> dict:
  """The pre-trained text encoder params for this captions file, trained and cached if absent.

  Beside the params, PATH.json records the settings and the last 100 steps' mean loss and
  retrieval accuracy.
  """
  path = cache_path(captions_path, text_encoder, num_steps, seed)
  if os.path.exists(path):
    tokens = jax.ShapeDtypeStruct((1, captions.MAX_TOKENS), jnp.int32)
    target = jax.eval_shape(text_encoder.init, jax.random.key(0), tokens)["params"]
    with open(path, "rb") as f:
      return serialization.from_bytes(target, f.read())
  params, history = pretrain(
    captions.load_captions(captions_path), text_encoder, num_steps=num_steps, seed=seed
  )
  params = params["text_encoder"]
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path + ".tmp", "wb") as f:
    f.write(serialization.to_bytes(params))
  os.replace(path + ".tmp", path)
  tail = history[-100:].mean(axis=0) if len(history) else [float("nan")] * 2
  with open(path + ".json", "w") as f:
    json.dump(
      {
        "captions": os.path.abspath(captions_path),
        "num_steps": num_steps,
        "seed": seed,
        "final_loss": float(tail[0]),
        "final_batch_retrieval_accuracy": float(tail[1]),
      },
      f,
      indent=2,
    )
  return params
