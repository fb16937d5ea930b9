"""LAPGAN (Denton et al. 2015): a Laplacian pyramid of generators, 7 -> 14 -> 28 for Fashion-MNIST.

The image pyramid (`resample.laplacian_pyramid`): low-pass images I_0 (7x7),
I_1 (14x14), I_2 = x (28x28), each the 2x2 box average of the next; bands
h_0 = I_0 and h_l = I_l - up(I_{l-1}), up bilinear. Level 0 is a GAN on I_0
(G_0(z_0), an MLP); level l >= 1 generates the band h_l conditioned on the
upsampled coarser image, G_l(z_l, up(I_{l-1})), and its D_l judges
(band, up(I_{l-1})) pairs. Training conditions every level on the real
coarser image, so the levels are independent GANs, each on its own band.
Sampling runs the pyramid: I_0 = G_0(z_0), I_l = up(I_{l-1}) + G_l(z_l, up(I_{l-1})).

One `GANState` holds all levels: G and D are modules with one submodule per
level, z is (B, L, latent_dim), one latent per level. The core steps run
unchanged with conditioning=('low',): a batch's 'x' is the packed bands
[h_0, ..., h_{L-1}] flattened to (B, P) and 'low' the packed conditions
[up(I_0), ..., up(I_{L-2})], (B, Q); D returns logits (B, L), one per level,
and the game's losses average over them. The sum of independent levels'
objectives has per-level gradients (each level's parameters appear in its
own term only), and Adam is per-parameter, so one update of the whole tree
is one update of every level's own GAN (its loss weighted 1/L).
Config: recipe='lapgan', variant.num_levels, variant.features.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax import builders, steps
from gan_jax import state as state_lib
from gan_jax.models import resample
from gan_jax.recipes import Recipe, register_recipe
from gan_jax.state import NoiseSampler
from gan_jax.variants import positive_int

CONDITIONING = ("low",)


def level_sizes(height: int, num_levels: int) -> list[int]:
  """Side of each level, coarsest first: (28, 3) -> [7, 14, 28]."""
  if height % 2 ** (num_levels - 1):
    raise ValueError(
      f"a {num_levels}-level pyramid needs a height divisible by "
      f"{2 ** (num_levels - 1)}, got {height}"
    )
  return [height // 2 ** (num_levels - 1 - l) for l in range(num_levels)]


def pack(images: list[jax.Array]) -> jax.Array:
  """[(B, s_l, s_l, C), ...] -> (B, sum s_l^2 C): the images flattened and concatenated."""
  return jnp.concatenate([x.reshape(x.shape[0], -1) for x in images], axis=-1)


def unpack(packed: jax.Array, sizes: Sequence[int], channels: int) -> list[jax.Array]:
  """The inverse of `pack` for images of the given sides."""
  out, start = [], 0
  for s in sizes:
    out.append(packed[:, start : start + s * s * channels].reshape(-1, s, s, channels))
    start += s * s * channels
  return out


def training_pairs(x: jax.Array, num_levels: int) -> tuple[jax.Array, jax.Array]:
  """Real images (B, H, W, C) -> (packed bands (B, P), packed conditions (B, Q))."""
  bands, lowpass = resample.laplacian_pyramid(x, num_levels)
  return pack(bands), pack([resample.upsample_bilinear(i) for i in lowpass[:-1]])


class LevelGenerator(nn.Module):
  """Level l: z (B, latent) [and up(I_{l-1}) (B, s, s, C)] -> I_0 or the band h_l, (B, s, s, C)."""

  size: int
  channels: int
  features: int = 32

  @nn.compact
  def __call__(self, z, low=None):
    s, c = self.size, self.channels
    if low is None:  # level 0: an MLP GAN on the coarsest image
      h = nn.relu(nn.Dense(4 * self.features)(z))
      h = nn.relu(nn.Dense(4 * self.features)(h))
      return jnp.tanh(nn.Dense(s * s * c)(h)).reshape(-1, s, s, c)
    plane = nn.Dense(s * s)(z).reshape(-1, s, s, 1)  # the noise as an extra input plane
    h = jnp.concatenate([low, plane], axis=-1)
    h = nn.relu(nn.Conv(self.features, (3, 3))(h))
    h = nn.relu(nn.Conv(self.features, (3, 3))(h))
    return nn.Conv(c, (3, 3))(h)  # linear: a band is a signed residual


class LevelDiscriminator(nn.Module):
  """Level l: (band or I_0 (B, s, s, C) [, up(I_{l-1})]) -> logits (B,)."""

  features: int = 32

  @nn.compact
  def __call__(self, x, low=None):
    h = x if low is None else jnp.concatenate([x, low], axis=-1)
    if low is not None:
      while h.shape[1] > 7:
        h = nn.leaky_relu(nn.Conv(self.features, (3, 3), strides=(2, 2))(h), 0.2)
    h = h.reshape(h.shape[0], -1)
    h = nn.leaky_relu(nn.Dense(4 * self.features)(h), 0.2)
    return nn.Dense(1)(h)[:, 0]


class LaplacianGenerator(nn.Module):
  """z (B, L, latent) -> images (B, H, W, C) (the pyramid sampled), or, given the packed
  real conditions `low` (B, Q), the packed generated bands (B, P)."""

  image_shape: Sequence[int]
  num_levels: int = 3
  features: int = 32

  def setup(self):
    self.sizes = level_sizes(self.image_shape[0], self.num_levels)
    self.levels = [LevelGenerator(s, self.image_shape[2], self.features) for s in self.sizes]

  def pyramid(self, z):
    """([I_0, ..., I_{L-1}], [h_0, ..., h_{L-1}]): the sampled low-pass images and bands."""
    images, bands = [], []
    for l, level in enumerate(self.levels):
      if l == 0:
        band = level(z[:, 0])
        image = band
      else:
        up = resample.upsample_bilinear(images[-1])
        band = level(z[:, l], up)
        image = up + band
      images.append(image)
      bands.append(band)
    return images, bands

  def __call__(self, z, low=None, train: bool = True):
    del train
    if low is None:
      return self.pyramid(z)[0][-1]
    lows = unpack(low, self.sizes[1:], self.image_shape[2])
    return pack(
      [level(z[:, l], None if l == 0 else lows[l - 1]) for l, level in enumerate(self.levels)]
    )


class LaplacianDiscriminator(nn.Module):
  """(packed bands (B, P), packed conditions (B, Q)) -> logits (B, L), one per level."""

  image_shape: Sequence[int]
  num_levels: int = 3
  features: int = 32

  def setup(self):
    self.sizes = level_sizes(self.image_shape[0], self.num_levels)
    self.levels = [LevelDiscriminator(self.features) for _ in self.sizes]

  def __call__(self, x, low, train: bool = True):
    del train
    c = self.image_shape[2]
    bands, lows = unpack(x, self.sizes, c), unpack(low, self.sizes[1:], c)
    return jnp.stack(
      [level(bands[l], None if l == 0 else lows[l - 1]) for l, level in enumerate(self.levels)],
      axis=-1,
    )


# The core player steps with both players given the coarser image (batch['low']).
PYRAMID_LEVEL_STEPS = steps.player_steps(conditioning=CONDITIONING)


def train_step(state, batch, *, axis_name: str | None = None):
  """Algorithm 1 for every level at once; batch {'x': (k, B, H, W, C) real images}."""
  x = batch["x"]
  num_levels = state.noise.latent_shape[0]
  bands, lows = training_pairs(x.reshape((-1,) + x.shape[2:]), num_levels)
  batch = {
    **batch,
    "x": bands.reshape(x.shape[:2] + bands.shape[1:]),
    "low": lows.reshape(x.shape[:2] + lows.shape[1:]),
  }
  return PYRAMID_LEVEL_STEPS.train_step(state, batch, axis_name=axis_name)


def generate(state, z: jax.Array, labels=None) -> jax.Array:
  """The sampled pyramid's finest image (B, H, W, C); z (B, L, latent)."""
  del labels
  return state_lib.generate(state, z)


def sample_pyramid(state, z: jax.Array) -> tuple[list[jax.Array], list[jax.Array]]:
  """([I_0, ..., I_{L-1}], [h_0, ..., h_{L-1}]) of the sampled pyramid, for the figure."""
  return state.g_apply_fn(state.sampling_variables, z, method=LaplacianGenerator.pyramid)


def create_state(config, data_shape, *, axis_name: str | None = None) -> state_lib.GANState:
  """The step-0 state of all levels; noise (L, latent_dim), one latent per level."""
  del axis_name
  if len(data_shape) != 3 or data_shape[0] != data_shape[1]:
    raise ValueError(f"LAPGAN needs square images (H, H, C), got {tuple(data_shape)}")
  num_levels = positive_int(config, "num_levels", 3)
  features = positive_int(config, "features", 32)
  noise = builders.make_noise(config)  # one latent vector per level
  sizes = level_sizes(data_shape[0], num_levels)
  c = data_shape[2]
  packed = (sum(s * s * c for s in sizes),)
  low = jnp.zeros((2, sum(s * s * c for s in sizes[1:])), jnp.float32)
  return builders.create_state_from_config(
    config,
    packed,
    players=(
      LaplacianGenerator(tuple(data_shape), num_levels, features),
      LaplacianDiscriminator(tuple(data_shape), num_levels, features),
    ),
    noise=NoiseSampler(
      (num_levels,) + noise.latent_shape, noise.distribution, noise.num_categories
    ),
    g_extra_inputs=(low,),
    d_extra_inputs=(low,),
  )


RECIPE = register_recipe(
  Recipe("lapgan", create_state, train_step, generate, options=("features", "num_levels"))
)
