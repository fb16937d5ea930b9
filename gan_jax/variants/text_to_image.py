"""Text-to-image GAN: GAN-INT-CLS's matching-aware D (Reed et al. 2016) with StackGAN's
conditioning augmentation (Zhang et al. 2017).

A caption is int32 tokens (B, L) of `gan_jax.data.captions` (0 pads). Each player owns a
word-level encoder, phi(t) = leaky_relu(W mean_words(embed(t))), trained with its player.

  G(z, t): conditioning augmentation: (mu, log sigma^2) = Dense(phi(t)),
    c = mu + sigma * eps, eps ~ N(0, I) (cond_dim); G's core network gets [z, c].
    In inference c = mu. G's loss adds kl_weight * KL(N(mu, sigma^2) || N(0, I)),
    the KL summed over c's coordinates and averaged over the batch (StackGAN's
    lambda = 1 on the per-coordinate mean is kl_weight = 1 / cond_dim).
  D(x, t) = psi(phi_D(x)) + <W phi(t), phi_D(x)>: the core D's logit plus a projection
    of its last hidden layer onto the text (Miyato & Koyama's projection with a text).
  Matching-aware D (GAN-INT-CLS's three pairs): with L(r, f) the game's D loss,
    L_D = (L(D(x, t), D(G(z, t), t)) + L(D(x, t), D(x, t'))) / 2,
    t' a mismatched caption (the batch's captions rolled by one row); for the
    non-saturating game this is -log D(x, t) - (log(1 - D(x, t')) + log(1 - D(G, t))) / 2.

Text encoder pre-training (GAN-INT-CLS's text embedding is learned before the GAN): with
variant.text_pretrain_steps > 0 both players' encoders start from one encoder trained on
the captions with a matching objective (`text_matching`), kept fixed
(variant.freeze_text_encoder, default True) or fine-tuned by each player.

Batches: {'x', 'label', 'tokens'} (data source 'captions'). `generate(state, z, labels)`
takes tokens (B, L), or class ids (B,) that become the captions 'a CLASS'. Config:
recipe='text_to_image', variant.embed_dim, variant.text_features, variant.cond_dim,
variant.kl_weight, variant.text_pretrain_steps, variant.freeze_text_encoder.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax import builders, losses, steps, validation
from gan_jax import state as state_lib
from gan_jax.data import captions
from gan_jax.recipes import Recipe, register_recipe
from gan_jax.variants import base_models, extend_game, option, positive_int, text_matching

CONDITIONING_STREAM = 8  # both steps: fold_in(step key, .) draws the augmentation's eps


class TextEncoder(nn.Module):
  """Tokens int32 (B, L), 0 padding -> text features float32 (B, features)."""

  vocab_size: int
  embed_dim: int = 64
  features: int = 64

  @nn.compact
  def __call__(self, tokens):
    mask = (tokens != captions.PAD).astype(jnp.float32)[..., None]
    words = nn.Embed(self.vocab_size, self.embed_dim)(tokens)
    mean = jnp.sum(words * mask, axis=1) / jnp.maximum(jnp.sum(mask, axis=1), 1.0)
    return nn.leaky_relu(nn.Dense(self.features)(mean), 0.2)


class TextGenerator(nn.Module):
  """G(z, tokens, eps) = base([z, mu(t) + sigma(t) * eps]); eps None: c = mu.

  z (B, latent), tokens int32 (B, L), eps float32 (B, cond_dim) -> (B, *data_shape).
  """

  base: nn.Module
  vocab_size: int
  embed_dim: int = 64
  text_features: int = 64
  cond_dim: int = 16
  freeze_encoder: bool = False  # no gradient reaches the encoder (a pre-trained one)

  def setup(self):
    self.encoder = TextEncoder(self.vocab_size, self.embed_dim, self.text_features)
    self.augmentation = nn.Dense(2 * self.cond_dim)

  def condition(self, tokens):
    """(mu, log sigma^2), each float32 (B, cond_dim), of the conditioning augmentation."""
    text = self.encoder(tokens)
    out = self.augmentation(jax.lax.stop_gradient(text) if self.freeze_encoder else text)
    return out[:, : self.cond_dim], out[:, self.cond_dim :]

  def __call__(self, z, tokens, eps=None, train: bool = True):
    mu, log_var = self.condition(tokens)
    c = mu if eps is None else mu + jnp.exp(0.5 * log_var) * eps
    return self.base(jnp.concatenate([z.reshape(z.shape[0], -1), c], axis=-1), train=train)


class TextDiscriminator(nn.Module):
  """D(x, tokens) = psi(phi(x)) + <W phi_text(t), phi(x)>: x (B, ...), tokens (B, L) -> (B,).

  base: a core discriminator built with return_features=True.
  """

  base: nn.Module
  vocab_size: int
  embed_dim: int = 64
  text_features: int = 64
  freeze_encoder: bool = False  # no gradient reaches the encoder (a pre-trained one)

  @nn.compact
  def __call__(self, x, tokens, train: bool = True):
    logits, features = self.base(x, train=train)
    text = TextEncoder(self.vocab_size, self.embed_dim, self.text_features)(tokens)
    text = jax.lax.stop_gradient(text) if self.freeze_encoder else text
    return logits + jnp.sum(nn.Dense(features.shape[-1])(text) * features, axis=-1)


@dataclasses.dataclass(frozen=True)
class TextGame(losses.Game):
  """The game plus the conditioning augmentation: cond_dim and the KL term's weight."""

  cond_dim: int = 16
  kl_weight: float = 1.0

  def __post_init__(self):
    super().__post_init__()
    if not self.kl_weight >= 0:
      raise ValueError(f"kl_weight must be >= 0, got {self.kl_weight!r}")


def kl_divergence(mu: jax.Array, log_var: jax.Array) -> jax.Array:
  """KL(N(mu, exp(log_var)) || N(0, I)) summed over the last axis, averaged over rows."""
  return jnp.mean(0.5 * jnp.sum(mu**2 + jnp.exp(log_var) - 1.0 - log_var, axis=-1))


def matching_aware_loss(loss: losses.GANLoss, real_right, real_wrong, fake_right) -> jax.Array:
  """GAN-INT-CLS's D loss from the logits (B,) of its three pairs:
  (L(real_right, fake_right) + L(real_right, real_wrong)) / 2, L = loss.discriminator."""
  return 0.5 * (
    loss.discriminator(real_right, fake_right) + loss.discriminator(real_right, real_wrong)
  )


def mismatched(tokens: jax.Array) -> jax.Array:
  """The captions of the batch rolled by one row: each image gets another image's caption."""
  return jnp.roll(tokens, 1, axis=0)


def player_inputs(state, batch, key, axis_name: str | None = None) -> steps.PlayerInputs:
  """G gets (z, tokens, eps), D gets (tokens,); the targets are the mismatched tokens."""
  (tokens,) = steps.conditioning_inputs(batch, ("tokens",))
  local_batch = batch["x"].shape[0]
  z = steps.draw_noise(state, key, local_batch, axis_name)
  eps = steps.local_slice_of_global_draw(
    lambda k, n: jax.random.normal(k, (n, state.game.cond_dim)),
    jax.random.fold_in(key, CONDITIONING_STREAM),
    local_batch,
    axis_name,
  )
  return steps.PlayerInputs((z, tokens, eps), (tokens,), mismatched(tokens))


def discriminator_loss(state, d_params, real, fake, key, axis_name=None, inputs=(), targets=None):
  """The matching-aware D loss + penalties; inputs (tokens,), targets the mismatched tokens.

  The signature and returns of `steps.discriminator_loss`; the metrics add d_wrong
  (mean D(x, t')) and d_acc_wrong.
  """
  game = state.game
  (tokens,), wrong = inputs, targets
  real, fake = steps.augment_real_and_fake(game, key, real, fake, axis_name)
  real_logits, fake_logits, collections = steps.discriminate(
    state, d_params, real, fake, tokens, key=key, axis_name=axis_name
  )
  dropout_key = steps.device_key(jax.random.fold_in(key, state_lib.D_DROPOUT_STREAM), axis_name)
  wrong_logits, _ = steps.apply_discriminator(
    state, d_params, real, wrong, train=True, key=dropout_key
  )
  loss = matching_aware_loss(game.loss, real_logits, wrong_logits, fake_logits)

  def d_fn(x):
    return steps.apply_discriminator(state, d_params, x, tokens, train=True, key=dropout_key)[0]

  penalty, aux = steps.discriminator_penalties(state, d_fn, real, fake, key, axis_name)
  metrics = {
    "d_wrong": jnp.mean(jax.nn.sigmoid(wrong_logits)),
    "d_acc_wrong": jnp.mean((wrong_logits <= game.loss.threshold).astype(jnp.float32)),
    **aux,
  }
  return loss + penalty, (real_logits, fake_logits, collections, metrics)


def generator_loss(state, g_params, batch, inputs, keys, axis_name=None):
  """g_loss(D(G(z, t), t)) + kl_weight * KL: `steps.generator_loss` with the KL term."""
  loss, (fake_logits, g_collections, metrics) = steps.generator_loss(
    state, g_params, batch, inputs, keys, axis_name
  )
  mu, log_var = state.g_apply_fn({"params": g_params}, inputs.generator[1], method="condition")
  kl = kl_divergence(mu, log_var)
  return loss + state.game.kl_weight * kl, (fake_logits, g_collections, {**metrics, "kl": kl})


# One matching-aware D update on {'x': (B, ...), 'tokens': int32 (B, L)}, one G update for
# the captions of batch['tokens'], and Algorithm 1 on {'x': (k, B, ...), 'tokens': (k, B, L)}.
discriminator_step, generator_step, train_step = steps.player_steps(
  inputs_fn=player_inputs,
  discriminator_loss_fn=discriminator_loss,
  generator_loss_fn=generator_loss,
)


def text_encoder(config) -> TextEncoder:
  """The word-level encoder of config.variant's sizes (embed_dim, text_features)."""
  return TextEncoder(
    captions.VOCAB_SIZE,
    positive_int(config, "embed_dim", 64),
    positive_int(config, "text_features", 64),
  )


def make_models(config, data_shape, axis_name: str | None = None):
  """(TextGenerator, TextDiscriminator) over the core players of config.model; with
  variant.text_pretrain_steps > 0 and freeze_text_encoder (the default), neither player's
  gradient reaches its text encoder."""
  encoder = text_encoder(config)
  freeze = text_pretrain_steps(config) > 0 and freeze_text_encoder(config)
  generator, discriminator = base_models(config, data_shape, axis_name, return_features=True)
  generator = TextGenerator(
    generator,
    captions.VOCAB_SIZE,
    encoder.embed_dim,
    encoder.features,
    positive_int(config, "cond_dim", 16),
    freeze_encoder=freeze,
  )
  discriminator = TextDiscriminator(
    discriminator, captions.VOCAB_SIZE, encoder.embed_dim, encoder.features, freeze_encoder=freeze
  )
  return generator, discriminator


def text_pretrain_steps(config) -> int:
  """variant.text_pretrain_steps: steps of the text encoder's matching pre-training (0: none,
  each player's encoder is trained with that player from a random start)."""
  return positive_int(config, "text_pretrain_steps", 0, minimum=0)


def freeze_text_encoder(config) -> bool:
  """variant.freeze_text_encoder: keep a pre-trained encoder fixed (GAN-INT-CLS) or fine-tune it."""
  value = option(config, "freeze_text_encoder", True)
  validation.boolean(value, "variant.freeze_text_encoder")
  return value


def with_pretrained_encoder(state: state_lib.GANState, encoder_params) -> state_lib.GANState:
  """The state with both players' text encoders (and the EMA's) set to `encoder_params`;
  the optimizer states are initialized anew for the new parameters."""
  g_params = {**state.g_params, "encoder": encoder_params}
  d_params = {**state.d_params, "TextEncoder_0": encoder_params}
  return state.replace(
    g_params=g_params,
    d_params=d_params,
    g_opt_state=state.g_tx.init(g_params),
    d_opt_state=state.d_tx.init(d_params),
    g_ema_params=g_params if state.g_ema_params is not None else None,
  )


def create_state(config, data_shape, *, axis_name: str | None = None) -> state_lib.GANState:
  """The step-0 text-to-image state; its game is a `TextGame`. Its text encoders are random:
  a pre-trained one is put in by `prepare`, the recipe's first-step work."""
  generator, discriminator = make_models(config, data_shape, axis_name)
  cond_dim = generator.cond_dim
  kl_weight = option(config, "kl_weight", 1.0 / cond_dim)
  if isinstance(kl_weight, bool) or not isinstance(kl_weight, (int, float)):
    raise ValueError(f"variant.kl_weight must be a number >= 0, got {kl_weight!r}")
  game = extend_game(
    builders.make_game(config), TextGame, cond_dim=cond_dim, kl_weight=float(kl_weight)
  )
  tokens = jnp.zeros((2, captions.MAX_TOKENS), jnp.int32)
  return builders.create_state_from_config(
    config,
    data_shape,
    players=(generator, discriminator),
    game=game,
    g_extra_inputs=(tokens, jnp.zeros((2, cond_dim), jnp.float32)),
    d_extra_inputs=(tokens,),
  )


def prepare(state: state_lib.GANState, config) -> state_lib.GANState:
  """A fresh run's step-0 state with the pre-trained text encoder in both players, when
  variant.text_pretrain_steps > 0 (`text_matching.load_or_pretrain` on config.data.path's
  captions, seed config.seed; cached); else the state itself."""
  num_steps = text_pretrain_steps(config)
  if num_steps == 0:
    return state
  encoder_params = text_matching.load_or_pretrain(
    config.data.path, text_encoder(config), num_steps=num_steps, seed=config.seed
  )
  return with_pretrained_encoder(state, encoder_params)


def generate(state, z: jax.Array, labels: jax.Array | None) -> jax.Array:
  """G(z, t) in inference mode (c = mu); z (B, latent); labels: tokens int32 (B, L), or
  class ids int (B,) drawn as 'a CLASS' -> (B, *data_shape)."""
  if labels is None:
    raise ValueError(
      "a text-to-image generator needs captions, tokens int32 of shape (B, L) "
      "(or class ids (B,)); got None"
    )
  labels = jnp.asarray(labels, jnp.int32)
  tokens = jnp.asarray(captions.class_captions())[labels] if labels.ndim == 1 else labels
  return state_lib.generate(state, z, tokens)


RECIPE = register_recipe(
  Recipe(
    "text_to_image",
    create_state,
    train_step,
    generate,
    needs_labels=True,
    prepare=prepare,
    options=(
      "cond_dim",
      "embed_dim",
      "freeze_text_encoder",
      "kl_weight",
      "text_features",
      "text_pretrain_steps",
    ),
  )
)
