"""CoGAN (Liu & Tuzel 2016): two GANs, one per domain, that share the generators' first
layers and the discriminators' last layers, learn a joint distribution from unpaired samples.

Domains: A = Fashion-MNIST, B = its edge map (`edge_map`, Sobel gradient
magnitude) or its negative (variant.domain_b = 'edges' | 'negative').
Unpaired: row i of a training batch holds image i in domain A and the
domain-B version of image i + B/2 (rows are independent uniform draws), so
no pair ever shows the correspondence; it can only come from the sharing.

G: z -> shared trunk (Dense 7x7x4F, BN, ReLU, ConvT 2F stride 2 to 14x14, BN,
ReLU) -> per-domain head (ConvT F stride 1, BN, ReLU, ConvT C stride 2, tanh).
D: per-domain head (Conv F stride 2, LeakyReLU) -> shared tail (Conv 2F stride
2, LeakyReLU, Dense 1). `shared=False` gives every domain its own trunk and
tail: two separate GANs fed the same z, the baseline. The state's data is the
pair as channels (B, H, W, 2C), A then B; D judges each domain apart and
returns logits (B, 2), so the core steps and losses run unchanged (their
means average the two GANs' losses). `generate` puts a pair side by side,
(B, H, 2W, C), for pictures; `generate_pair` returns (A, B).
Config: recipe='cogan', variant.features, variant.shared, variant.domain_b.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from gan_jax import builders, losses, steps
from gan_jax import state as state_lib
from gan_jax.models import layers
from gan_jax.models.layers import SubpixelConvTranspose
from gan_jax.recipes import Recipe, register_recipe
from gan_jax.variants import extend_game, option, positive_int

DOMAINS_B = ("edges", "negative")
# A NumPy constant: a jnp array here would start the JAX backend on import, before
# `jax.distributed.initialize` can run.
SOBEL = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], np.float32)


def edge_map(x: jax.Array) -> jax.Array:
  """Sobel gradient magnitude of images (B, H, W, C) in [-1, 1], as images in [-1, 1].

  On the [0, 1] image, |grad| / 4 clipped to [0, 1] (4 is a unit step's magnitude).
  """
  c = x.shape[-1]
  u = (x + 1.0) / 2.0
  kernel = jnp.stack([SOBEL, SOBEL.T], axis=-1)[:, :, None, :]  # (3, 3, 1, 2)
  kernel = jnp.tile(kernel, (1, 1, 1, c)).reshape(3, 3, 1, 2 * c)
  g = lax.conv_general_dilated(
    u, kernel, (1, 1), "SAME", feature_group_count=c, dimension_numbers=("NHWC", "HWIO", "NHWC")
  )
  g = g.reshape(g.shape[:3] + (c, 2))
  magnitude = jnp.sqrt(jnp.sum(g * g, axis=-1) + 1e-12)
  return 2.0 * jnp.clip(magnitude / 4.0, 0.0, 1.0) - 1.0


def to_domain_b(x: jax.Array, domain_b: str) -> jax.Array:
  """Domain B of images x (B, H, W, C): their edge map or their negative."""
  if domain_b == "edges":
    return edge_map(x)
  if domain_b == "negative":
    return -x
  raise ValueError(f"domain_b {domain_b!r} is unknown; accepted: {', '.join(DOMAINS_B)}")


def unpaired_batch(x: jax.Array, domain_b: str) -> jax.Array:
  """(B, H, W, C) images -> (B, H, W, 2C): row i is [x_i, T(x_{(i + B/2) mod B})], unpaired."""
  other = jnp.roll(x, -(x.shape[0] // 2), axis=0)
  return jnp.concatenate([x, to_domain_b(other, domain_b)], axis=-1)


class CoupledGenerator(nn.Module):
  """z (B, latent) -> pairs (B, 28, 28, 2C), domain A in the first C channels."""

  image_shape: Sequence[int]
  features: int = 32
  shared: bool = True
  axis_name: str | None = None

  def _bn_relu(self, x, train, name):
    return nn.relu(layers.batch_norm(train, self.axis_name, name=name)(x))

  def _trunk(self, z, train, prefix):
    f = self.features
    h = nn.Dense(7 * 7 * 4 * f, use_bias=False, name=f"{prefix}dense")(z)
    h = self._bn_relu(h, train, f"{prefix}bn0").reshape(-1, 7, 7, 4 * f)
    h = SubpixelConvTranspose(2 * f, (5, 5), use_bias=False, name=f"{prefix}up")(h)
    return self._bn_relu(h, train, f"{prefix}bn1")

  def _head(self, h, train, domain):
    h = nn.ConvTranspose(
      self.features, (5, 5), padding="SAME", use_bias=False, name=f"head_{domain}_conv"
    )(h)
    h = self._bn_relu(h, train, f"head_{domain}_bn")
    return jnp.tanh(
      SubpixelConvTranspose(self.image_shape[2], (5, 5), name=f"head_{domain}_out")(h)
    )

  @nn.compact
  def __call__(self, z, train: bool = True):
    if tuple(self.image_shape[:2]) != (28, 28):
      raise ValueError(f"CoGAN players are built for 28x28 images, got {tuple(self.image_shape)}")
    z = z.reshape(z.shape[0], -1)
    if self.shared:
      trunk = self._trunk(z, train, "shared_")
      trunks = (trunk, trunk)
    else:
      trunks = (self._trunk(z, train, "a_"), self._trunk(z, train, "b_"))
    return jnp.concatenate([self._head(t, train, d) for t, d in zip(trunks, "ab")], axis=-1)


class CoupledDiscriminator(nn.Module):
  """Pairs (B, 28, 28, 2C) -> logits (B, 2): domain A's D on the first C channels, B's on the
  rest."""

  image_shape: Sequence[int]
  features: int = 32
  shared: bool = True

  @nn.compact
  def __call__(self, x, train: bool = True):
    del train
    c = self.image_shape[2]
    tails = {}
    for prefix in ("shared_",) if self.shared else ("a_", "b_"):
      tails[prefix] = (
        nn.Conv(2 * self.features, (5, 5), strides=(2, 2), name=f"{prefix}conv"),
        nn.Dense(1, name=f"{prefix}out"),
      )
    logits = []
    for domain, part in zip("ab", (x[..., :c], x[..., c:])):
      conv, out = tails["shared_" if self.shared else f"{domain}_"]
      h = nn.leaky_relu(
        nn.Conv(self.features, (5, 5), strides=(2, 2), name=f"head_{domain}_conv")(part), 0.2
      )
      h = nn.leaky_relu(conv(h), 0.2)
      logits.append(out(h.reshape(h.shape[0], -1))[:, 0])
    return jnp.stack(logits, axis=-1)


@dataclasses.dataclass(frozen=True)
class CoGANGame(losses.Game):
  """The game plus the second domain: 'edges' or 'negative'."""

  domain_b: str = "edges"

  def __post_init__(self):
    super().__post_init__()
    if self.domain_b not in DOMAINS_B:
      raise ValueError(f"domain_b {self.domain_b!r} is unknown; accepted: {', '.join(DOMAINS_B)}")


def train_step(state, batch, *, axis_name: str | None = None):
  """Algorithm 1 for both GANs; batch {'x': (k, B, H, W, C) images}, turned into unpaired pairs."""
  x = batch["x"]
  pairs = jnp.stack([unpaired_batch(x[i], state.game.domain_b) for i in range(x.shape[0])])
  return steps.train_step(state, {**batch, "x": pairs}, axis_name=axis_name)


def generate_pair(state, z: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(domain A images, domain B images), each (B, H, W, C), from the same z; inference mode."""
  pair = state_lib.generate(state, z)
  c = pair.shape[-1] // 2
  return pair[..., :c], pair[..., c:]


def generate(state, z: jax.Array, labels=None) -> jax.Array:
  """Pairs side by side, (B, H, 2W, C): A on the left, B on the right."""
  del labels
  return jnp.concatenate(generate_pair(state, z), axis=2)


def pair_correspondence(a: jax.Array, b: jax.Array, domain_b: str) -> dict[str, float]:
  """How well generated pairs (a_i, b_i) correspond: b_i against T(a_i), T the domain map.

  retrieval: fraction of i whose nearest b_j (L2 over pixels) to T(a_i) is b_i
    (chance 1/N); mse_pair / mse_other: mean squared difference of T(a_i) to
    b_i and to the other b_j.
  """
  t = to_domain_b(a, domain_b).reshape(a.shape[0], -1)
  b = b.reshape(b.shape[0], -1)
  d = (jnp.sum(t * t, 1)[:, None] + jnp.sum(b * b, 1)[None, :] - 2 * t @ b.T) / t.shape[1]
  n = d.shape[0]
  diagonal = jnp.diag(d)
  return {
    "retrieval": float(jnp.mean(jnp.argmin(d, axis=1) == jnp.arange(n))),
    "chance": 1.0 / n,
    "mse_pair": float(jnp.mean(diagonal)),
    "mse_other": float((jnp.sum(d) - jnp.sum(diagonal)) / (n * (n - 1))),
  }


def create_state(config, data_shape, *, axis_name: str | None = None) -> state_lib.GANState:
  """The step-0 CoGAN state: coupled players on pairs (H, W, 2C); its game a `CoGANGame`."""
  features = positive_int(config, "features", 32)
  shared = bool(option(config, "shared", True))
  game = extend_game(
    builders.make_game(config), CoGANGame, domain_b=option(config, "domain_b", "edges")
  )
  pair_shape = tuple(data_shape[:-1]) + (2 * data_shape[-1],)
  return builders.create_state_from_config(
    config,
    pair_shape,
    players=(
      CoupledGenerator(tuple(data_shape), features, shared, axis_name),
      CoupledDiscriminator(tuple(data_shape), features, shared),
    ),
    game=game,
  )


def pair_picture_shape(data_shape: tuple[int, ...]) -> tuple[int, ...]:
  """The shape of one `generate` sample: domain A and domain B side by side, (H, 2W, C)."""
  height, width, channels = data_shape
  return (height, 2 * width, channels)


RECIPE = register_recipe(
  Recipe(
    "cogan",
    create_state,
    train_step,
    generate,
    sample_shape=pair_picture_shape,
    options=("domain_b", "features", "shared"),
    reuses_fakes=True,  # the core train step, with its players
  )
)
