"""CycleGAN (Zhu et al. 2017) as a recipe: 'cyclegan'.

Two generators, G: A -> B and F: B -> A, and two discriminators, D_A and D_B,
trained on unpaired images: batches {'x': domain-B images (k, B, H, W, C),
'a': domain-A images (k, B, H, W, C)} drawn with independent indices (data task
'unpaired'). They live in one `GANState`: the generator module `CycleGenerators`
holds G and F (methods `a_to_b`, `b_to_a`), the discriminator module
`CycleDiscriminators` holds D_A and D_B (methods `domain_a`, `domain_b`); so
checkpoints, resume and the parallel wrappers are the core's.

  D loss = L_D(D_B(b), D_B(G(a))) + L_D(D_A(a), D_A(F(b)))        (least squares by default)
  G loss = L_G(D_B(G(a))) + L_G(D_A(F(b)))
           + cycle_weight * (|F(G(a)) - a|_1 + |G(F(b)) - b|_1)      (cycle consistency, 10)
           + identity_weight * (|G(b) - b|_1 + |F(a) - a|_1)         (identity, 0.5 * 10)

No image history pool (the paper's buffer of 50 past fakes): D sees the current fakes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from gan_jax import builders, recipes, steps
from gan_jax.losses import Game
from gan_jax.models.patchgan import PatchGAN
from gan_jax.models.unet import UNet
from gan_jax.state import GANState, NoiseSampler
from gan_jax.variants import translation, variant_options


@dataclasses.dataclass(frozen=True)
class CycleGame(Game):
  """A `Game` with CycleGAN's weights: cycle_weight (lambda, 10), identity_weight (0.5 lambda,
  5)."""

  cycle_weight: float = 10.0
  identity_weight: float = 5.0

  def __post_init__(self):
    super().__post_init__()
    for name in ("cycle_weight", "identity_weight"):
      if not getattr(self, name) >= 0:
        raise ValueError(f"variant.{name} must be >= 0, got {getattr(self, name)!r}")


class CycleGenerators(nn.Module):
  """G: A -> B and F: B -> A, two U-Nets. Calling the module is G (A -> B)."""

  features: int = 32
  depth: int = 2
  out_channels: int = 1

  def setup(self):
    self.g_ab = UNet(self.features, self.depth, self.out_channels)
    self.g_ba = UNet(self.features, self.depth, self.out_channels)

  def a_to_b(self, x, train: bool = False):
    return self.g_ab(x, train)

  def b_to_a(self, x, train: bool = False):
    return self.g_ba(x, train)

  def __call__(self, x, train: bool = False):
    if self.is_initializing():  # create both generators' parameters
      self.b_to_a(x, train)
    return self.a_to_b(x, train)


class CycleDiscriminators(nn.Module):
  """D_A and D_B, two PatchGANs. Calling the module is D_B (the judge of domain B, 'x')."""

  features: int = 32
  num_layers: int = 2

  def setup(self):
    self.d_a = PatchGAN(self.features, self.num_layers)
    self.d_b = PatchGAN(self.features, self.num_layers)

  def domain_a(self, x, train: bool = False):
    return self.d_a(x, train)

  def domain_b(self, x, train: bool = False):
    return self.d_b(x, train)

  def __call__(self, x, train: bool = False):
    if self.is_initializing():
      self.domain_a(x, train)
    return self.domain_b(x, train)


# The options of config.variant: CycleGame's own fields (cycle_weight, identity_weight).
OPTIONS = tuple(
  sorted(
    {f.name for f in dataclasses.fields(CycleGame)} - {f.name for f in dataclasses.fields(Game)}
  )
)


def create_cyclegan_state(config, data_shape, *, axis_name=None):
  """Step-0 state of both generators and both discriminators; G's "z" is a domain-A image."""
  del axis_name
  recipes.check_variant_options(config)
  game = builders.make_game(config)
  options = variant_options(config)
  game = CycleGame(**{f.name: getattr(game, f.name) for f in dataclasses.fields(Game)}, **options)
  generator, discriminator = translation.make_players(
    config, "cyclegan", CycleGenerators, CycleDiscriminators, out_channels=data_shape[-1]
  )
  return builders.create_state_from_config(
    config,
    data_shape,
    players=(generator, discriminator),
    noise=NoiseSampler(tuple(data_shape)),
    game=game,
  )


def _generate(state: GANState, params, x, method: str):
  return state.g_apply_fn({"params": params, **state.g_collections}, x, train=True, method=method)


def _judge(state: GANState, params, x, method: str):
  return state.d_apply_fn({"params": params, **state.d_collections}, x, train=True, method=method)


def cyclegan_discriminator_loss(
  state: GANState, d_params, real_b, fake_b, key=None, axis_name=None, inputs=(), targets=None
):
  """L_D(D_B(b), D_B(G(a))) + L_D(D_A(a), D_A(F(b))), the signature of `steps.discriminator_loss`.

  Args:
    real_b, fake_b: domain-B images and G(a), (B, H, W, C).
    targets: (real_a, fake_a), domain-A images and F(b).
  Returns:
    (loss, (D_B's real logits, D_B's fake logits, {}, {'d_loss_a', 'd_loss_b'})).
  """
  del key, axis_name, inputs
  loss_pair = state.game.loss
  real_a, fake_a = targets
  n = real_a.shape[0]
  logits_a = _judge(state, d_params, jnp.concatenate([real_a, fake_a]), "domain_a")
  logits_b = _judge(state, d_params, jnp.concatenate([real_b, fake_b]), "domain_b")
  loss_a = loss_pair.discriminator(logits_a[:n], logits_a[n:])
  loss_b = loss_pair.discriminator(logits_b[:n], logits_b[n:])
  return loss_a + loss_b, (
    logits_b[:n],
    logits_b[n:],
    state.d_collections,
    {"d_loss_a": loss_a, "d_loss_b": loss_b},
  )


def cyclegan_discriminator_step(
  state: GANState, batch: dict[str, Any], *, axis_name: str | None = None
):
  """One update of D_A and D_B on real rows and the current fakes G(a), F(b); rows (B, ...).

  `steps.discriminator_update` with `cyclegan_discriminator_loss` (no random draws).
  """
  real_a, real_b = batch["a"], batch["x"]
  fake_b = lax.stop_gradient(_generate(state, state.g_params, real_a, "a_to_b"))
  fake_a = lax.stop_gradient(_generate(state, state.g_params, real_b, "b_to_a"))
  return steps.discriminator_update(
    state,
    real_b,
    fake_b,
    None,
    axis_name,
    targets=(real_a, fake_a),
    loss_fn=cyclegan_discriminator_loss,
  )


def cyclegan_losses(state: GANState, g_params, real_a, real_b):
  """(total G loss, terms): adversarial of both directions, cycle and identity L1."""
  game = state.game
  fake_b = _generate(state, g_params, real_a, "a_to_b")
  fake_a = _generate(state, g_params, real_b, "b_to_a")
  cycle_a = _generate(state, g_params, fake_b, "b_to_a")
  cycle_b = _generate(state, g_params, fake_a, "a_to_b")
  logits_b = _judge(state, state.d_params, fake_b, "domain_b")
  logits_a = _judge(state, state.d_params, fake_a, "domain_a")
  adversarial = game.loss.generator(logits_b) + game.loss.generator(logits_a)
  cycle = jnp.mean(jnp.abs(cycle_a - real_a)) + jnp.mean(jnp.abs(cycle_b - real_b))
  if game.identity_weight > 0:
    identity = jnp.mean(jnp.abs(_generate(state, g_params, real_b, "a_to_b") - real_b)) + jnp.mean(
      jnp.abs(_generate(state, g_params, real_a, "b_to_a") - real_a)
    )
  else:
    identity = jnp.zeros(())
  total = adversarial + game.cycle_weight * cycle + game.identity_weight * identity
  return total, {
    "g_adversarial": adversarial,
    "g_cycle": cycle,
    "g_identity": identity,
    "fake_logits": logits_b,
  }


def cyclegan_generator_loss(
  state: GANState, g_params, batch, inputs=None, keys=None, axis_name=None
):
  """`cyclegan_losses` with the signature of `steps.generator_loss` (no random draws)."""
  del inputs, keys, axis_name
  total, terms = cyclegan_losses(state, g_params, batch["a"], batch["x"])
  fake_logits = terms.pop("fake_logits")
  return total, (fake_logits, state.g_collections, terms)


def no_inputs(state, batch, key, axis_name=None) -> steps.PlayerInputs:
  """CycleGAN's generators read the batch's images; nothing is drawn."""
  del state, batch, key, axis_name
  return steps.PlayerInputs(())


def cyclegan_generator_step(
  state: GANState, batch: dict[str, Any], *, axis_name: str | None = None
):
  """One update of G and F on their adversarial, cycle and identity losses; step + 1."""
  return steps.generator_step(
    state, batch, axis_name=axis_name, inputs_fn=no_inputs, loss_fn=cyclegan_generator_loss
  )


def cyclegan_train_step(state: GANState, batch: dict[str, Any], *, axis_name: str | None = None):
  """k = d_steps updates of both discriminators, then one of both generators.

  Args:
    batch: {'x': domain-B images (k, B, H, W, C), 'a': domain-A images (k, B, H, W, C)}.
  Returns:
    (new state, metrics): d_loss (= d_loss_a + d_loss_b), g_loss, g_adversarial,
    g_cycle, g_identity (unweighted), gradient norms.
  """
  k = state.game.d_steps
  for name in ("x", "a"):
    if name not in batch or batch[name].shape[0] != k:
      shape = batch[name].shape if name in batch else None
      raise ValueError(
        f"the cyclegan step needs batch[{name!r}] of shape (d_steps={k}, batch, ...), got {shape}"
      )
  metrics = {}
  for i in range(k):
    state, metrics = cyclegan_discriminator_step(
      state, {n: v[i] for n, v in batch.items()}, axis_name=axis_name
    )
  state, g_metrics = cyclegan_generator_step(
    state, {n: v[k - 1] for n, v in batch.items()}, axis_name=axis_name
  )
  return state, {**metrics, **g_metrics}


def translate_a_to_b(state: GANState, images: jax.Array, labels=None) -> jax.Array:
  """G(images): domain-A images (B, H, W, C) in [-1, 1] -> domain B; the recipe's `generate`."""
  del labels
  return state.g_apply_fn(state.sampling_variables, images, train=False, method="a_to_b")


def translate_b_to_a(state: GANState, images: jax.Array, labels=None) -> jax.Array:
  """F(images): domain-B images (B, H, W, C) in [-1, 1] -> domain A."""
  del labels
  return state.g_apply_fn(state.sampling_variables, images, train=False, method="b_to_a")


CYCLEGAN = recipes.register_recipe(
  recipes.Recipe(
    "cyclegan",
    create_state=create_cyclegan_state,
    train_step=cyclegan_train_step,
    generate=translate_a_to_b,
    options=OPTIONS,
    condition="a",
  )
)
