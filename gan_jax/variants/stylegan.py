"""StyleGAN (Karras et al. 2019) at small scale, with AdaIN (StyleGAN 1's style injection).

The five changes of seed 004 over a progressive GAN, as implemented here:
  1. bilinear upsampling (no progressive growing: the players train at full
     resolution from step 0, as StyleGAN 2 does);
  2. a mapping network z -> w (pixel norm, `mapping_layers` equalized Dense
     layers with learning-rate multiplier 0.01, LeakyReLU 0.2) and AdaIN: each
     conv's output is instance-normalised and scaled/shifted per channel by an
     affine map of w, x <- norm(x) * (1 + y_s(w)) + y_b(w);
  3. a learned constant input (base x base x channels, ones at init) instead of z;
  4. per-layer noise inputs: one N(0, 1) image per layer added with a learned
     per-channel strength (zeros at init) before the bias and activation;
  5. style-mixing regularization: in training, with probability
     `mixing_prob` per example, a second latent z2 drives the layers from a
     random crossover layer on.
The truncation trick at sampling: w <- w_avg + psi (w - w_avg) on every layer,
w_avg a moving average of w (decay 0.995) kept in the generator's
'style_stats' collection and updated by each generator step.

For 28x28 images the synthesis network has 6 styled layers: 2 at 7x7
(coarse: 0-1), 2 at 14x14 (middle: 2-3), 2 at 28x28 (fine: 4-5); a 1x1 toRGB
with linear output ends it. The discriminator is the core DCGAN one
(config.model.discriminator); the loss, R1 and the steps are the core's:
noise inputs and style mixing draw from the 'dropout' rng that the core steps
pass to every training apply. Without that rng (`state.generate`) the noise
images come from a fixed key, so a sample is a function of z alone.
Config: recipe='stylegan', variant.w_dim, variant.mapping_layers,
variant.channels, variant.mixing_prob, variant.w_avg_decay.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax import builders
from gan_jax import state as state_lib
from gan_jax.models import resample
from gan_jax.models.equalized import EqualConv, EqualDense, pixel_norm
from gan_jax.recipes import Recipe, register_recipe
from gan_jax.variants import option, positive_int

RNG = "dropout"  # the per-apply random stream the core steps pass
FIXED_NOISE_SEED = 0
STYLE_GROUPS = ("coarse", "middle", "fine")


def synthesis_layout(height: int) -> tuple[int, int]:
  """(base, number of upsamplings) with height = base * 2^n, base <= 7: 28 -> (7, 2), 32 -> (4,
  3)."""
  base, n = height, 0
  while base > 7 and base % 2 == 0:
    base, n = base // 2, n + 1
  return base, n


def style_groups(num_layers: int) -> dict[str, range]:
  """Layers per style group: the first two, the last two, the rest middle (6 layers: 0-1, 2-3,
  4-5)."""
  return {
    "coarse": range(0, 2),
    "middle": range(2, num_layers - 2),
    "fine": range(num_layers - 2, num_layers),
  }


def adain(x: jax.Array, scale: jax.Array, shift: jax.Array, epsilon: float = 1e-8) -> jax.Array:
  """Instance norm of x (B, H, W, C) per example and channel, then x * (1 + scale) + shift, (B, C)
  each."""
  mean = jnp.mean(x, axis=(1, 2), keepdims=True)
  x = (x - mean) * jax.lax.rsqrt(jnp.var(x, axis=(1, 2), keepdims=True) + epsilon)
  return x * (1.0 + scale[:, None, None, :]) + shift[:, None, None, :]


class StyleGenerator(nn.Module):
  """z (B, latent) -> images (B, H, W, C); see the module docstring."""

  image_shape: Sequence[int]
  w_dim: int = 64
  mapping_layers: int = 4
  channels: int = 32
  mixing_prob: float = 0.9
  w_avg_decay: float = 0.995

  def setup(self):
    base, n = synthesis_layout(self.image_shape[0])
    self.base = base
    self.num_layers = 2 * (n + 1)
    self.mapping_net = [
      EqualDense(self.w_dim, lr_multiplier=0.01) for _ in range(self.mapping_layers)
    ]
    self.const = self.param("const", nn.initializers.ones, (base, base, self.channels))
    self.convs = [EqualConv(self.channels, 3) for _ in range(self.num_layers - 1)]
    self.noise_strength = [
      self.param(f"noise_strength_{i}", nn.initializers.zeros, (self.channels,))
      for i in range(self.num_layers)
    ]
    self.bias = [
      self.param(f"bias_{i}", nn.initializers.zeros, (self.channels,))
      for i in range(self.num_layers)
    ]
    self.style = [EqualDense(2 * self.channels, gain=1.0) for _ in range(self.num_layers)]
    self.to_rgb = EqualConv(self.image_shape[2], 1, gain=1.0)
    self.w_avg = self.variable("style_stats", "w_avg", jnp.zeros, (self.w_dim,))

  def mapping(self, z):
    """w (B, w_dim) of z (B, latent)."""
    w = pixel_norm(z.reshape(z.shape[0], -1))
    for layer in self.mapping_net:
      w = nn.leaky_relu(layer(w), 0.2)
    return w

  def styles(self, z, z2=None, crossover=None, truncation_psi=1.0):
    """Per-layer styles ws (B, num_layers, w_dim).

    Layer i takes w(z) for i < crossover and w(z2) from the crossover on
    (crossover: int or (B,) ints; None: no mixing); then truncation towards
    w_avg: w_avg + psi * (w - w_avg).
    """
    w = self.mapping(z)
    ws = jnp.repeat(w[:, None], self.num_layers, axis=1)
    if z2 is not None:
      w2 = self.mapping(z2)
      crossover = jnp.broadcast_to(jnp.asarray(crossover), (z.shape[0],))
      layer = jnp.arange(self.num_layers)[None, :, None]
      ws = jnp.where(layer < crossover[:, None, None], ws, w2[:, None])
    if truncation_psi != 1.0:
      w_avg = self.w_avg.value
      ws = w_avg + truncation_psi * (ws - w_avg)
    return ws

  def synthesize(self, ws, noise_key=None):
    """Images (B, H, W, C) from per-layer styles ws (B, num_layers, w_dim).

    noise_key: key of the per-layer noise images; None draws from the RNG
    stream when present, else from a fixed key.
    """
    if noise_key is None:
      noise_key = self.make_rng(RNG) if self.has_rng(RNG) else jax.random.PRNGKey(FIXED_NOISE_SEED)
    batch = ws.shape[0]
    x = jnp.broadcast_to(self.const, (batch,) + self.const.shape)
    for i in range(self.num_layers):
      if i > 0:
        if i % 2 == 0:
          x = resample.upsample_bilinear(x)
        x = self.convs[i - 1](x)
      noise = jax.random.normal(jax.random.fold_in(noise_key, i), x.shape[:3] + (1,), x.dtype)
      x = nn.leaky_relu(x + noise * self.noise_strength[i] + self.bias[i], 0.2)
      scale, shift = jnp.split(self.style[i](ws[:, i]), 2, axis=-1)
      x = adain(x, scale, shift)
      if not self.is_initializing():
        self.sow("intermediates", f"layer_{i}", x)
    return self.to_rgb(x)

  def __call__(self, z, train: bool = True, truncation_psi: float = 1.0):
    if not train:
      return self.synthesize(self.styles(z, truncation_psi=truncation_psi))
    w = self.mapping(z)
    if not self.is_initializing():
      self.w_avg.value = self.w_avg_decay * self.w_avg.value + (1 - self.w_avg_decay) * jnp.mean(
        jax.lax.stop_gradient(w), axis=0
      )
    key = self.make_rng(RNG) if self.has_rng(RNG) else jax.random.PRNGKey(FIXED_NOISE_SEED)
    mix_key, z2_key, cut_key, noise_key = jax.random.split(key, 4)
    batch = z.shape[0]
    mixed = jax.random.uniform(mix_key, (batch,)) < self.mixing_prob
    crossover = jnp.where(
      mixed, jax.random.randint(cut_key, (batch,), 1, self.num_layers), self.num_layers
    )
    z2 = jax.random.normal(z2_key, z.shape, z.dtype)
    return self.synthesize(self.styles(z, z2, crossover), noise_key)


def _variables(state):
  return state.sampling_variables


def generate(
  state, z: jax.Array, labels=None, truncation_psi: float = 1.0, noise_key: jax.Array | None = None
) -> jax.Array:
  """Samples (B, H, W, C) in inference mode, truncated by psi; noise from `noise_key` or fixed."""
  del labels
  ws = state.g_apply_fn(
    _variables(state), z, truncation_psi=truncation_psi, method=StyleGenerator.styles
  )
  return state.g_apply_fn(_variables(state), ws, noise_key, method=StyleGenerator.synthesize)


def mapped_styles(state, z, z2=None, crossover=None, truncation_psi: float = 1.0) -> jax.Array:
  """Per-layer styles ws (B, num_layers, w_dim); see `StyleGenerator.styles`."""
  return state.g_apply_fn(
    _variables(state), z, z2, crossover, truncation_psi, method=StyleGenerator.styles
  )


def style_mixing(
  state, z_rows: jax.Array, z_columns: jax.Array, layers: range, noise_key: jax.Array | None = None
) -> jax.Array:
  """The style-mixing grid: row r, column c takes z_rows[r]'s styles, with `layers` from
  z_columns[c].

  Returns (R * C, H, W, C_img), row-major.
  """
  rows, columns = z_rows.shape[0], z_columns.shape[0]
  ws_a = mapped_styles(state, jnp.repeat(z_rows, columns, axis=0))
  ws_b = mapped_styles(state, jnp.tile(z_columns, (rows, 1)))
  take = jnp.zeros(ws_a.shape[1], bool).at[jnp.asarray(list(layers))].set(True)
  ws = jnp.where(take[None, :, None], ws_b, ws_a)
  return state.g_apply_fn(_variables(state), ws, noise_key, method=StyleGenerator.synthesize)


def create_state(config, data_shape, *, axis_name: str | None = None) -> state_lib.GANState:
  """The step-0 StyleGAN state: style generator, core DCGAN discriminator of config.model."""
  if len(data_shape) != 3:
    raise ValueError(f"StyleGAN needs images (H, W, C), got {tuple(data_shape)}")
  mixing_prob = float(option(config, "mixing_prob", 0.9))
  if not 0.0 <= mixing_prob <= 1.0:
    raise ValueError(f"variant.mixing_prob must be in [0, 1], got {mixing_prob!r}")
  generator = StyleGenerator(
    tuple(data_shape),
    w_dim=positive_int(config, "w_dim", 64),
    mapping_layers=positive_int(config, "mapping_layers", 4),
    channels=positive_int(config, "channels", 32),
    mixing_prob=mixing_prob,
    w_avg_decay=float(option(config, "w_avg_decay", 0.995)),
  )
  _, discriminator = builders.make_models(config, data_shape, axis_name)
  return builders.create_state_from_config(config, data_shape, players=(generator, discriminator))


RECIPE = register_recipe(
  Recipe(
    "stylegan",
    create_state,
    generate=generate,
    options=("channels", "mapping_layers", "mixing_prob", "w_avg_decay", "w_dim"),
  )
)
