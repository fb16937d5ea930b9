"""ACGAN (Odena et al. 2017): D also classifies its input; both players add the class term.

G(z, y) is the conditional generator (label embedding concatenated to z); D
sees x alone and returns (logits (B,), class_logits (B, K)), a linear class
head on the core discriminator's last hidden layer. With
L_C = CE(C(x_real), y_real) + CE(C(G(z, y)), y):

  D minimises  d_loss(real, fake) + aux_weight * L_C
  G minimises  g_loss(fake) + aux_weight * CE(C(G(z, y)), y)

(the paper's log-likelihood terms, each to be maximised, as cross-entropies to
minimise). Fakes are made for the real minibatch's labels. Config:
recipe='acgan', variant.num_classes, variant.embed_dim, variant.aux_weight.
"""

from __future__ import annotations

import dataclasses
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from gan_jax import builders, losses, steps
from gan_jax import state as state_lib
from gan_jax.recipes import Recipe, register_recipe
from gan_jax.variants import base_models, extend_game, num_classes_of, option, positive_int

from gan_jax.variants.conditional import LabelConcatGenerator, generate


class AuxiliaryClassifierDiscriminator(nn.Module):
  """x (B, ...) -> (logits (B,), class_logits (B, num_classes)).

  base: a core discriminator built with return_features=True.
  """

  base: nn.Module
  num_classes: int

  @nn.compact
  def __call__(self, x, train: bool = True):
    logits, features = self.base(x, train=train)
    return logits, nn.Dense(self.num_classes)(features)


@dataclasses.dataclass(frozen=True)
class ACGANGame(losses.Game):
  """The game plus aux_weight, the weight of the class cross-entropies."""

  aux_weight: float = 1.0

  def __post_init__(self):
    super().__post_init__()
    if not self.aux_weight >= 0:
      raise ValueError(f"aux_weight must be >= 0, got {self.aux_weight!r}")


def class_loss(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Mean cross-entropy of class_logits (B, K) against labels int32 (B,)."""
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(class_logits, labels))


def class_accuracy(class_logits: jax.Array, labels: jax.Array) -> jax.Array:
  return jnp.mean((jnp.argmax(class_logits, axis=-1) == labels).astype(jnp.float32))


def player_inputs(state, batch, key, axis_name: str | None = None) -> steps.PlayerInputs:
  """G gets (z, labels); D sees x alone; the losses get the labels int32 (B,) of the real rows."""
  (labels,) = steps.conditioning_inputs(batch, ("label",))
  z = steps.draw_noise(state, key, batch["x"].shape[0], axis_name)
  return steps.PlayerInputs((z, labels), (), labels)


def discriminator_class_term(game: ACGANGame, real_classes, fake_classes, labels):
  """aux_weight * (CE on real + CE on fake) and its metrics: D's `head_loss`."""
  aux_loss = class_loss(real_classes, labels) + class_loss(fake_classes, labels)
  return game.aux_weight * aux_loss, {
    "aux_loss_d": aux_loss,
    "aux_acc_real": class_accuracy(real_classes, labels),
    "aux_acc_fake": class_accuracy(fake_classes, labels),
  }


def generator_class_term(game: ACGANGame, fake_classes, labels):
  """aux_weight * CE(C(G(z, y)), y) and its metric: G's `head_loss`."""
  aux_loss = class_loss(fake_classes, labels)
  return game.aux_weight * aux_loss, {"aux_loss_g": aux_loss}


# The core losses with the class head: d_loss + aux_weight * (CE on real + CE on fake) +
# penalties (`targets`: labels int32 (B,)), and g_loss + aux_weight * CE(C(G(z, y)), y); the
# signatures and returns of `steps.discriminator_loss` and `steps.generator_loss`.
discriminator_loss = functools.partial(steps.discriminator_loss, head_loss=discriminator_class_term)
generator_loss = functools.partial(steps.generator_loss, head_loss=generator_class_term)

# One ACGAN discriminator update on {'x': (B, ...), 'label': int32 (B,)}; one generator update
# for the labels of batch['label']; Algorithm 1 on {'x': (k, B, ...), 'label': (k, B)}.
discriminator_step, generator_step, train_step = steps.player_steps(
  inputs_fn=player_inputs,
  discriminator_loss_fn=discriminator_loss,
  generator_loss_fn=generator_loss,
)


def create_state(config, data_shape, *, axis_name: str | None = None) -> state_lib.GANState:
  """The step-0 ACGAN state; its game is an `ACGANGame`."""
  num_classes = num_classes_of(config)
  generator, discriminator = base_models(config, data_shape, axis_name, return_features=True)
  generator = LabelConcatGenerator(generator, num_classes, positive_int(config, "embed_dim", 16))
  discriminator = AuxiliaryClassifierDiscriminator(discriminator, num_classes)
  game = extend_game(
    builders.make_game(config), ACGANGame, aux_weight=float(option(config, "aux_weight", 1.0))
  )
  return builders.create_state_from_config(
    config,
    data_shape,
    players=(generator, discriminator),
    game=game,
    g_extra_inputs=(jnp.zeros((2,), jnp.int32),),
  )


RECIPE = register_recipe(
  Recipe(
    "acgan",
    create_state,
    train_step,
    generate,
    needs_labels=True,
    options=("aux_weight", "embed_dim", "num_classes"),
  )
)
