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
import jax.numpy as jnp
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


def unroll_discriminator(state, d_params, real, fake, inputs: tuple = (),
                         axis_name: str | None = None, num_steps: int | None = None):
  """D's parameters after `num_steps` (default the game's k) updates on (real, fake).

  Differentiable in `fake` (and so in G's parameters). Each update is the real
  discriminator update: the loss with its penalties, D's optimizer and WGAN
  clipping, on the keys of the 'unrolled' stream.
  """
  num_steps = state.game.unrolled_steps if num_steps is None else num_steps
  opt_state = state.d_opt_state
  for j in range(num_steps):
    key = state.key_for("unrolled", j)
    grads = jax.grad(lambda p: steps.discriminator_loss(state, p, real, fake, key, axis_name,
                                                        inputs)[0])(d_params)
    grads = steps.mean_over_devices(grads, axis_name)
    updates, opt_state = state.d_tx.update(grads, opt_state, d_params)
    d_params = optax.apply_updates(d_params, updates)
    if state.game.clip_value > 0:
      d_params = losses.clip_weights(d_params, state.game.clip_value)
  return d_params


def generator_step(state, batch, *, axis_name: str | None = None,
                   conditioning: tuple[str, ...] = ()):
  """One generator update against D unrolled k steps; advances the step.

  Same noise, keys and metrics as `steps.generator_step`, which it equals for k = 0.
  Args:
    batch: {'x': (B, *data_shape) the real minibatch the unrolled D updates see, ...}.
    conditioning: batch entries given to both players, as in `steps.generator_step`.
  """
  real = batch["x"]
  inputs = steps.conditioning_inputs(batch, conditioning)
  key = state.key_for("generator")
  z = steps.local_slice_of_global_draw(state.noise, jax.random.fold_in(key, 2), real.shape[0],
                                       axis_name)
  g_dropout = steps.device_key(jax.random.fold_in(key, 3), axis_name)
  d_dropout = steps.device_key(jax.random.fold_in(key, 4), axis_name)

  def loss_fn(g_params):
    fake, g_collections = steps.apply_generator(state, g_params, z, *inputs, train=True,
                                                key=g_dropout)
    d_params = unroll_discriminator(state, state.d_params, real, fake, inputs, axis_name)
    if state.game.augment is not None:
      fake = steps.augment_batch(state.game.augment, jax.random.fold_in(key, 5), fake, axis_name)
    fake_logits, _ = steps.apply_discriminator(state, d_params, fake, *inputs, train=True,
                                               key=d_dropout)
    return state.game.loss.generator(fake_logits), (fake_logits, g_collections)

  (loss, (fake_logits, g_collections)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
      state.g_params)
  grads = steps.mean_over_devices(grads, axis_name)
  metrics = {"g_loss": loss, "g_grad_norm": optax.tree.norm(grads),
             "d_fake_for_g": jnp.mean(jax.nn.sigmoid(fake_logits))}
  return (steps.update_generator(state, grads, g_collections, axis_name),
          steps.mean_over_devices(metrics, axis_name))


def train_step(state, batch, *, axis_name: str | None = None):
  """Algorithm 1 with the unrolled generator step."""
  return steps.train_step(state, batch, axis_name=axis_name, generator_step_fn=generator_step)


DIFFERENTIABLE_EPS_ROOT = 1e-8


def differentiable_optimizer_options(options) -> dict:
  """D optimizer options with eps_root = 1e-8 added for Adam/AdamW when absent."""
  options = builders._as_dict(options)
  if options.get("name", "adam") in ("adam", "adamw"):
    options.setdefault("eps_root", DIFFERENTIABLE_EPS_ROOT)
  return options


def create_state(config, data_shape, *, axis_name: str | None = None):
  """The core state of config.model, its game an `UnrolledGame` with k = variant.unrolled_steps."""
  state = builders.create_state_from_config(config, data_shape, axis_name=axis_name)
  d_tx = builders.make_optimizer(differentiable_optimizer_options(config.d_optimizer),
                                 "d_optimizer")
  return state.replace(d_tx=d_tx, game=extend_game(
      state.game, UnrolledGame,
      unrolled_steps=positive_int(config, "unrolled_steps", 5, minimum=0)))


RECIPE = register_recipe(Recipe("unrolled", create_state, train_step))
