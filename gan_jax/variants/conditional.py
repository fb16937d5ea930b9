"""Conditional GAN (Mirza & Osindero 2014): both players take the class label y.

G(z, y): y is embedded (nn.Embed, `embed_dim`) and concatenated to z before
any core generator. D(x, y), two options:
  concatenation (default): y is embedded to `label_channels` extra channels
    of the image's spatial size (or extra coordinates of a point) and
    concatenated to x before any core discriminator;
    with `label_encoding='one_hot'` both players take y as Mirza & Osindero
    do: G gets [z, one_hot(y)], D gets one_hot(y) as K constant channels
    (0 or 1, the pixels' scale) instead of learned embeddings;
  projection (Miyato & Koyama 2018): D(x, y) = psi(phi(x)) + <embed(y), phi(x)>,
    phi the core discriminator's last hidden layer, psi its linear output.

The step is the core's with conditioning=('label',): the fakes of each step
are made for the labels of the real minibatch, so p(y) of the fakes is the
data's. Config: recipe='conditional', variant.num_classes, variant.embed_dim,
variant.label_channels, variant.projection, variant.label_encoding ('embedding'
or 'one_hot').
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax import builders, steps
from gan_jax import state as state_lib
from gan_jax.recipes import Recipe, register_recipe
from gan_jax.variants import base_models, num_classes_of, option, positive_int


CONDITIONING = ("label",)
LABEL_ENCODINGS = ("embedding", "one_hot")


class LabelConcatGenerator(nn.Module):
  """G(z, y) = base([z, embed(y)]): z (B, latent), labels int32 (B,) -> (B, *data_shape)."""

  base: nn.Module
  num_classes: int
  embed_dim: int = 16
  one_hot: bool = False  # [z, one_hot(y)] (Mirza & Osindero) instead of a learned embedding

  @nn.compact
  def __call__(self, z, labels, train: bool = True):
    if self.one_hot:
      embedding = jax.nn.one_hot(labels, self.num_classes, dtype=z.dtype)
    else:
      embedding = nn.Embed(self.num_classes, self.embed_dim)(labels)
    return self.base(jnp.concatenate([z.reshape(z.shape[0], -1), embedding], axis=-1), train=train)


class LabelConcatDiscriminator(nn.Module):
  """D(x, y) = base([x, embed(y)]) with embed(y) (B, *spatial, label_channels) on x's last axis.

  x: (B, H, W, C) images or (B, D) points; labels int32 (B,); logits (B,).
  """

  base: nn.Module
  num_classes: int
  label_channels: int = 1
  one_hot: bool = False  # K channels of one_hot(y), constant over the image (Mirza & Osindero)

  @nn.compact
  def __call__(self, x, labels, train: bool = True):
    spatial = x.shape[1:-1]
    if self.one_hot:
      channels = jax.nn.one_hot(labels, self.num_classes, dtype=x.dtype)
      channels = jnp.broadcast_to(
        channels.reshape((x.shape[0],) + (1,) * len(spatial) + (-1,)),
        (x.shape[0],) + spatial + (self.num_classes,),
      )
      return self.base(jnp.concatenate([x, channels], axis=-1), train=train)
    embedding = nn.Embed(self.num_classes, math.prod(spatial) * self.label_channels)(labels)
    embedding = embedding.reshape((x.shape[0],) + spatial + (self.label_channels,))
    return self.base(jnp.concatenate([x, embedding.astype(x.dtype)], axis=-1), train=train)


class ProjectionDiscriminator(nn.Module):
  """D(x, y) = psi(phi(x)) + <embed(y), phi(x)> (Miyato & Koyama 2018).

  base: a core discriminator built with return_features=True, x -> (psi(phi(x)) (B,), phi(x) (B,
  F)).
  """

  base: nn.Module
  num_classes: int

  @nn.compact
  def __call__(self, x, labels, train: bool = True):
    logits, features = self.base(x, train=train)
    embedding = nn.Embed(self.num_classes, features.shape[-1])(labels)
    return logits + jnp.sum(embedding * features, axis=-1)


def make_models(config, data_shape, axis_name: str | None = None):
  """(conditional generator, conditional discriminator) of a config."""
  num_classes = num_classes_of(config)
  projection = bool(option(config, "projection", False))
  encoding = option(config, "label_encoding", "embedding")
  if encoding not in LABEL_ENCODINGS:
    raise ValueError(
      f"variant.label_encoding {encoding!r} is unknown; accepted: {', '.join(LABEL_ENCODINGS)}"
    )
  one_hot = encoding == "one_hot"
  generator, discriminator = base_models(config, data_shape, axis_name, return_features=projection)
  generator = LabelConcatGenerator(
    generator, num_classes, positive_int(config, "embed_dim", 16), one_hot=one_hot
  )
  if projection:
    discriminator = ProjectionDiscriminator(discriminator, num_classes)
  else:
    discriminator = LabelConcatDiscriminator(
      discriminator, num_classes, positive_int(config, "label_channels", 1), one_hot=one_hot
    )
  return generator, discriminator


def create_state(config, data_shape, *, axis_name: str | None = None) -> state_lib.GANState:
  """The step-0 state of a conditional GAN: players initialised with labels."""
  generator, discriminator = make_models(config, data_shape, axis_name)
  labels = jnp.zeros((2,), jnp.int32)
  return builders.create_state_from_config(
    config,
    data_shape,
    players=(generator, discriminator),
    g_extra_inputs=(labels,),
    d_extra_inputs=(labels,),
  )


# The core player steps with both players given batch['label'], and Algorithm 1 on labelled
# batches {'x': (k, B, ...), 'label': int32 (k, B)}.
discriminator_step, generator_step, train_step = steps.player_steps(conditioning=CONDITIONING)


def generate(state, z: jax.Array, labels: jax.Array | None) -> jax.Array:
  """G(z, y) in inference mode; z (B, latent), labels int32 (B,) -> (B, *data_shape)."""
  if labels is None:
    raise ValueError("a conditional generator needs labels, int32 of shape (B,); got None")
  return state_lib.generate(state, z, jnp.asarray(labels, jnp.int32))


RECIPE = register_recipe(
  Recipe(
    "conditional",
    create_state,
    train_step,
    generate,
    needs_labels=True,
    options=("embed_dim", "label_channels", "label_encoding", "num_classes", "projection"),
  )
)
