"""Unrolled GAN (Metz et al. 2017): G's loss is taken against D unrolled k updates ahead.

  theta_D^0 = theta_D,  theta_D^{j+1} = theta_D^j + update(grad of d_loss(theta_D^j; x, G(z)))
  G minimises  g_loss(D(G(z); theta_D^k))

differentiating through the k updates, so G sees how D would react to it;
D itself is updated as usual (its first unrolled update is its real one).
As in the authors' code, the unrolled updates use the same real minibatch and
the same fakes G(z) as the generator loss, and D's own optimizer (its state
included). k = 0 is the plain generator step. Config: recipe='unrolled',
variant.unrolled_steps (k).

Differentiating through Adam needs eps_root > 0 (d/dv sqrt(v) is infinite at
v = 0, where a gradient entry is exactly 0, and G's gradient becomes NaN), so
an Adam/AdamW D optimizer gets eps_root = 1e-8 unless the config sets one.
"""

from __future__ import annotations

import dataclasses

import jax
import optax

from gan_jax import builders, losses, steps
from gan_jax.recipes import Recipe, register_recipe
from gan_jax.variants import extend_game, positive_int


@dataclasses.dataclass(frozen=True)
class UnrolledGame(losses.Game):
  """The game plus unrolled_steps, k, the D updates G looks ahead through."""

  unrolled_steps: int = 5

  def __post_init__(self):
    super().__post_init__()
    if not isinstance(self.unrolled_steps, int) or self.unrolled_steps < 0:
      raise ValueError(f"unrolled_steps must be an integer >= 0, got {self.unrolled_steps!r}")


def unroll_discriminator(
  state,
  d_params,
  real,
  fake,
  inputs: tuple = (),
  axis_name: str | None = None,
  num_steps: int | None = None,
):
  """D's parameters after `num_steps` (default the game's k) updates on (real, fake).

  Differentiable in `fake` (and so in G's parameters). Each update is the real
  discriminator update: the loss with its penalties, D's optimizer and WGAN
  clipping, on the keys of the 'unrolled' stream.
  """
  num_steps = state.game.unrolled_steps if num_steps is None else num_steps
  opt_state = state.d_opt_state
  for j in range(num_steps):
    key = state.key_for("unrolled", j)
    grads = jax.grad(
      lambda p: steps.discriminator_loss(state, p, real, fake, key, axis_name, inputs)[0]
    )(d_params)
    grads = steps.mean_over_devices(grads, axis_name)
    updates, opt_state = state.d_tx.update(grads, opt_state, d_params)
    d_params = optax.apply_updates(d_params, updates)
    if state.game.clip_value > 0:
      d_params = losses.clip_weights(d_params, state.game.clip_value)
  return d_params


def generator_loss(state, g_params, batch, inputs, keys, axis_name=None):
  """g_loss(D(G(z); theta_D^k)): `steps.generator_loss` against D unrolled k updates ahead.

  The unrolled updates see batch['x'] and the fakes before augmentation.
  """
  fake, g_collections = steps.apply_generator(
    state, g_params, *inputs.generator, train=True, key=keys.generator_dropout
  )
  d_params = unroll_discriminator(
    state, state.d_params, batch["x"], fake, inputs.discriminator, axis_name
  )
  loss, (fake_logits, metrics) = steps.judge_fakes(state, d_params, fake, inputs, keys, axis_name)
  return loss, (fake_logits, g_collections, metrics)


def generator_step(
  state, batch, *, axis_name: str | None = None, conditioning: tuple[str, ...] = ()
):
  """One generator update against D unrolled k steps; advances the step.

  `steps.generator_step` with the unrolled loss: the same noise, keys and metrics,
  and equal to it for k = 0.
  Args:
    batch: {'x': (B, *data_shape) the real minibatch the unrolled D updates see, ...}.
    conditioning: batch entries given to both players, as in `steps.generator_step`.
  """
  return steps.generator_step(
    state, batch, axis_name=axis_name, conditioning=conditioning, loss_fn=generator_loss
  )


def train_step(state, batch, *, axis_name: str | None = None):
  """Algorithm 1 with the unrolled generator step."""
  return steps.train_step(state, batch, axis_name=axis_name, generator_step_fn=generator_step)


DIFFERENTIABLE_EPS_ROOT = 1e-8


def differentiable_optimizer_options(options) -> dict:
  """D optimizer options with eps_root = 1e-8 added for Adam/AdamW when absent."""
  options = builders._as_dict(options)
  if options.get("name", "adam") in ("adam", "adamw"):
    if options.get("eps_root") is None:  # absent, or None (left out)
      options["eps_root"] = DIFFERENTIABLE_EPS_ROOT
  return options


def create_state(config, data_shape, *, axis_name: str | None = None):
  """The core state of config.model, its game an `UnrolledGame` with k = variant.unrolled_steps."""
  state = builders.create_state_from_config(config, data_shape, axis_name=axis_name)
  d_tx = builders.make_optimizer(
    differentiable_optimizer_options(config.d_optimizer), "d_optimizer"
  )
  return state.replace(
    d_tx=d_tx,
    game=extend_game(
      state.game, UnrolledGame, unrolled_steps=positive_int(config, "unrolled_steps", 5, minimum=0)
    ),
  )


RECIPE = register_recipe(Recipe("unrolled", create_state, train_step, options=("unrolled_steps",)))
