"""InfoGAN (Chen et al. 2016): latent codes c beside the noise z, and a lower bound on I(c; G(z,
c)).

The codes are one categorical variable with K values (c_cat ~ Cat(1/K)) and
`num_continuous` variables c_j ~ U[-1, 1]; G sees [z, one_hot(c_cat), c_cont]
(any core generator). An auxiliary head Q on D's last hidden layer predicts
the codes from G(z, c): logits (B, K) for c_cat and means (B, num_continuous)
for c_cont (a factored Gaussian of unit variance). The variational lower bound is

  L_I = H(c) + E[log Q(c | G(z, c))] <= I(c; G(z, c)),

so both D (with Q) and G minimise  adversarial loss + info_weight * info_loss,
with info_loss = CE(Q_cat, c_cat) + continuous_weight * 1/2 E||c_cont - Q_mu||^2.
The categorical part of the bound, log K - CE, is reported as `mi_lower_bound`
(nats). The codes are drawn from the step's stream; no labels are used.
Config: recipe='infogan', variant.num_categories, variant.num_continuous,
variant.info_weight, variant.continuous_weight, variant.q_hidden, variant.q_batch_norm
(BatchNorm in Q's hidden layer, as the paper's Q). The paper's players: model.name
'infogan_mnist' (gan_jax/models/infogan_mnist.py).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from gan_jax import builders, losses, steps
from gan_jax import state as state_lib
from gan_jax.models.layers import batch_norm
from gan_jax.recipes import Recipe, register_recipe
from gan_jax.variants import base_models, extend_game, option, positive_int


class CodeGenerator(nn.Module):
  """G(z, c) = base([z, c]); z (B, latent), codes (B, K + num_continuous) -> (B, *data_shape)."""

  base: nn.Module

  @nn.compact
  def __call__(self, z, codes, train: bool = True):
    return self.base(jnp.concatenate([z.reshape(z.shape[0], -1), codes], axis=-1), train=train)


class InfoDiscriminator(nn.Module):
  """x -> (logits (B,), q (B, num_outputs)): Q = Dense(q_hidden), [BatchNorm], LeakyReLU, Dense
  on D's features.

  base: a core discriminator built with return_features=True. q_batch_norm: the paper's
  Q head (Chen et al., appendix C.1).
  """

  base: nn.Module
  num_outputs: int
  q_hidden: int = 128
  q_batch_norm: bool = False
  axis_name: str | None = None

  @nn.compact
  def __call__(self, x, train: bool = True):
    logits, features = self.base(x, train=train)
    q = nn.Dense(self.q_hidden)(features)
    if self.q_batch_norm:
      q = batch_norm(train, self.axis_name, nn.initializers.ones)(q)
    q = nn.leaky_relu(q, 0.2)
    return logits, nn.Dense(self.num_outputs)(q)


@dataclasses.dataclass(frozen=True)
class InfoGANGame(losses.Game):
  """The game plus the codes and the weights of the information term."""

  num_categories: int = 10
  num_continuous: int = 2
  info_weight: float = 1.0
  continuous_weight: float = 1.0

  def __post_init__(self):
    super().__post_init__()
    if not isinstance(self.num_categories, int) or self.num_categories < 2:
      raise ValueError(f"num_categories must be an integer >= 2, got {self.num_categories!r}")
    if not isinstance(self.num_continuous, int) or self.num_continuous < 0:
      raise ValueError(f"num_continuous must be an integer >= 0, got {self.num_continuous!r}")
    for name in ("info_weight", "continuous_weight"):
      if not getattr(self, name) >= 0:
        raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")

  @property
  def code_size(self) -> int:
    return self.num_categories + self.num_continuous


def sample_codes(game: InfoGANGame, key: jax.Array, num: int, axis_name: str | None = None):
  """(categories int32 (num,), continuous float32 (num, num_continuous)) from `key`."""
  categories = steps.local_slice_of_global_draw(
    lambda k, n: jax.random.randint(k, (n,), 0, game.num_categories),
    jax.random.fold_in(key, state_lib.CODE_CATEGORY_STREAM),
    num,
    axis_name,
  )
  continuous = steps.local_slice_of_global_draw(
    lambda k, n: jax.random.uniform(k, (n, game.num_continuous), minval=-1.0, maxval=1.0),
    jax.random.fold_in(key, state_lib.CODE_CONTINUOUS_STREAM),
    num,
    axis_name,
  )
  return categories, continuous


def code_vector(game: InfoGANGame, categories, continuous) -> jax.Array:
  """[one_hot(categories), continuous]: float32 (B, K + num_continuous), G's code input."""
  return jnp.concatenate([jax.nn.one_hot(categories, game.num_categories), continuous], axis=-1)


def info_loss(game: InfoGANGame, q, categories, continuous):
  """CE(Q_cat, c_cat) + continuous_weight * 1/2 mean ||c_cont - Q_mu||^2; returns (loss, metrics).

  q: (B, K + num_continuous) outputs of the Q head.
  """
  cat_logits, means = q[:, : game.num_categories], q[:, game.num_categories :]
  ce = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(cat_logits, categories))
  sq = 0.5 * jnp.mean(jnp.sum((continuous - means) ** 2, axis=-1))
  metrics = {
    "info_ce": ce,
    "info_continuous": sq,
    "mi_lower_bound": math.log(game.num_categories) - ce,
  }
  return ce + game.continuous_weight * sq, metrics


def player_inputs(state, batch, key, axis_name: str | None = None) -> steps.PlayerInputs:
  """G gets (z, codes (B, K + num_continuous)); D sees x alone; the losses get the codes.

  The codes come from the CODES_STREAM of the step's key; targets are
  (categories int32 (B,), continuous (B, num_continuous)).
  """
  game = state.game
  num = batch["x"].shape[0]
  z = steps.draw_noise(state, key, num, axis_name)
  categories, continuous = sample_codes(
    game, jax.random.fold_in(key, state_lib.CODES_STREAM), num, axis_name
  )
  return steps.PlayerInputs(
    (z, code_vector(game, categories, continuous)), (), (categories, continuous)
  )


def discriminator_info_term(game: InfoGANGame, real_q, fake_q, codes):
  """info_weight * info_loss of Q on the fakes, and its metrics: D's `head_loss`."""
  del real_q
  info, metrics = info_loss(game, fake_q, *codes)
  return game.info_weight * info, metrics


def generator_info_term(game: InfoGANGame, fake_q, codes):
  """info_weight * info_loss, and its metrics (info_* named g_info_*): G's `head_loss`."""
  info, metrics = info_loss(game, fake_q, *codes)
  return game.info_weight * info, {
    f"g_{name}" if name.startswith("info") else name: value for name, value in metrics.items()
  }


# The core losses with the Q head: adversarial loss + info_weight * info_loss + penalties
# (`targets`: the codes), and g_loss + info_weight * info_loss; the signatures and returns of
# `steps.discriminator_loss` and `steps.generator_loss`.
discriminator_loss = functools.partial(steps.discriminator_loss, head_loss=discriminator_info_term)
generator_loss = functools.partial(steps.generator_loss, head_loss=generator_info_term)

# One update of D and Q (adversarial loss + info_weight * info_loss on fresh coded fakes),
# one of G (g_loss + info_weight * info_loss), and Algorithm 1 on {'x': (k, B, ...)}.
discriminator_step, generator_step, train_step = steps.player_steps(
  inputs_fn=player_inputs,
  discriminator_loss_fn=discriminator_loss,
  generator_loss_fn=generator_loss,
)


def generate(
  state, z: jax.Array, labels: jax.Array | None = None, continuous: jax.Array | None = None
) -> jax.Array:
  """G(z, c) in inference mode.

  Args:
    z: (B, latent) noise.
    labels: categorical codes int32 (B,); default i mod K for row i.
    continuous: (B, num_continuous) continuous codes; default 0, their mean.
  """
  game = state.game
  batch = z.shape[0]
  if labels is None:
    labels = jnp.arange(batch) % game.num_categories
  if continuous is None:
    continuous = jnp.zeros((batch, game.num_continuous), z.dtype)
  return state_lib.generate(state, z, code_vector(game, jnp.asarray(labels, jnp.int32), continuous))


def code_traversal(state, z: jax.Array, code: str | int, values=None):
  """Samples varying one code, other codes fixed: the InfoGAN figure.

  Args:
    z: (R, latent) one noise vector per row.
    code: 'category' (columns are the K categories, continuous codes 0), or the
      index j of a continuous code (columns are `values`, default linspace(-2, 2, 9)
      — beyond the training range [-1, 1] as in the paper; row r has category r mod K).
  Returns:
    (R * C, *data_shape) samples, row-major: row r, column c.
  """
  game = state.game
  rows = z.shape[0]
  if code == "category":
    columns = game.num_categories
    labels = jnp.tile(jnp.arange(columns), rows)
    continuous = jnp.zeros((rows * columns, game.num_continuous))
  else:
    if not isinstance(code, int) or not 0 <= code < game.num_continuous:
      raise ValueError(
        f"code must be 'category' or a continuous index in "
        f"[0, {game.num_continuous - 1}], got {code!r}"
      )
    values = jnp.linspace(-2.0, 2.0, 9) if values is None else jnp.asarray(values, jnp.float32)
    columns = values.shape[0]
    labels = jnp.repeat(jnp.arange(rows) % game.num_categories, columns)
    continuous = (
      jnp.zeros((rows * columns, game.num_continuous)).at[:, code].set(jnp.tile(values, rows))
    )
  return generate(state, jnp.repeat(z, columns, axis=0), labels, continuous)


def create_state(config, data_shape, *, axis_name: str | None = None) -> state_lib.GANState:
  """The step-0 InfoGAN state; its game is an `InfoGANGame`, its noise is z alone."""
  game = extend_game(
    builders.make_game(config),
    InfoGANGame,
    num_categories=positive_int(config, "num_categories", 10, minimum=2),
    num_continuous=positive_int(config, "num_continuous", 2, minimum=0),
    info_weight=float(option(config, "info_weight", 1.0)),
    continuous_weight=float(option(config, "continuous_weight", 1.0)),
  )
  generator, discriminator = base_models(config, data_shape, axis_name, return_features=True)
  generator = CodeGenerator(generator)
  q_batch_norm = option(config, "q_batch_norm", False)
  if not isinstance(q_batch_norm, bool):
    raise ValueError(f"variant.q_batch_norm must be True or False, got {q_batch_norm!r}")
  discriminator = InfoDiscriminator(
    discriminator, game.code_size, positive_int(config, "q_hidden", 128), q_batch_norm, axis_name
  )
  return builders.create_state_from_config(
    config,
    data_shape,
    players=(generator, discriminator),
    game=game,
    g_extra_inputs=(jnp.zeros((2, game.code_size), jnp.float32),),
  )


RECIPE = register_recipe(
  Recipe(
    "infogan",
    create_state,
    train_step,
    generate,
    label_count=lambda game: game.num_categories,
    options=(
      "continuous_weight",
      "info_weight",
      "num_categories",
      "num_continuous",
      "q_batch_norm",
      "q_hidden",
    ),
  )
)
