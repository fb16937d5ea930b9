"""Paired image-to-image translation: the step shared by pix2pix, super-resolution and inpainting.

The generator maps a condition image to an image: the state's noise sampler has
the condition's shape, so G's "z" is the condition (`state.generate(state, cond)`
is G(cond)). Batches are {'x': target (k, B, H, W, C), 'cond': G's input
(k, B, ...), optionally 'mask': (k, B, H, W, 1), 1 on the pixels G must fill}.

  fake = G(cond)                             (with a mask: x * (1 - m) + G(cond) * m)
  D's input = fake, or concat(fake, cond) on channels when the D is conditional
  D loss = game.loss.discriminator(D(real), D(fake))            (plus the core penalties)
  G loss = adversarial_weight * game.loss.generator(D(fake))
           + reconstruction_weight * mean |G(cond) - x|^p      (p = 1 'l1' or 2 'l2';
                                                                 over the mask when given)

Both updates are the core's player steps (`steps.discriminator_step`,
`steps.generator_step`: penalties, clipping, metrics, device averaging) with this
module's inputs and losses. With adversarial_weight = 0 the recipe is
the reconstruction-only baseline: D is neither updated nor evaluated (d_loss is
reported as 0) and G is trained on the reconstruction term alone.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from gan_jax import builders, models, recipes, steps
from gan_jax.losses import Game
from gan_jax.models.patchgan import PatchGAN
from gan_jax.state import GANState, NoiseSampler
from gan_jax.variants import variant_options

RECONSTRUCTIONS = ("l1", "l2")


@dataclasses.dataclass(frozen=True)
class TranslationGame(Game):
  """A `Game` with the weights of the translation objective (see the module docstring).

  Attributes:
    adversarial_weight: weight of G's adversarial loss; 0 gives the reconstruction-only baseline.
    reconstruction_weight: lambda of the pixel term (pix2pix: 100).
    reconstruction: 'l1' (mean absolute error) or 'l2' (mean squared error).
    conditional: whether D sees concat(image, cond) (pix2pix) or the image alone.
  """

  adversarial_weight: float = 1.0
  reconstruction_weight: float = 100.0
  reconstruction: str = "l1"
  conditional: bool = True

  def __post_init__(self):
    super().__post_init__()
    if self.reconstruction not in RECONSTRUCTIONS:
      raise ValueError(
        f"variant.reconstruction {self.reconstruction!r} is unknown; "
        f"accepted: {', '.join(RECONSTRUCTIONS)}"
      )
    for name in ("adversarial_weight", "reconstruction_weight"):
      if not getattr(self, name) >= 0:
        raise ValueError(f"variant.{name} must be >= 0, got {getattr(self, name)!r}")


# The options of config.variant for the translation recipes: TranslationGame's own fields.
OPTIONS = tuple(
  sorted(
    {f.name for f in dataclasses.fields(TranslationGame)}
    - {f.name for f in dataclasses.fields(Game)}
  )
)


def translation_game(config, **defaults) -> TranslationGame:
  """The `TranslationGame` of a config: the core game fields, and config.variant over `defaults`."""
  recipes.check_variant_options(config)
  game = builders.make_game(config)
  options = {**defaults, **variant_options(config)}
  values = {f.name: getattr(game, f.name) for f in dataclasses.fields(Game)}
  return TranslationGame(**values, **options)


def discriminator_input_shape(game: TranslationGame, image_shape, cond_shape) -> tuple[int, ...]:
  """(H, W, C) of D's input: the image's, with the condition's channels added when conditional."""
  if not game.conditional:
    return tuple(image_shape)
  if tuple(cond_shape[:-1]) != tuple(image_shape[:-1]):
    raise ValueError(
      f"a conditional D needs a condition of the image's size {tuple(image_shape[:-1])}, "
      f"got {tuple(cond_shape)}; set variant.conditional=False"
    )
  return tuple(image_shape[:-1]) + (image_shape[-1] + cond_shape[-1],)


def model_options(config, player: str) -> dict:
  """config.model.<player> ('generator' or 'discriminator') as a dict; {} when absent."""
  options = config.get("model", {}).get(player, {})
  return options.to_dict() if hasattr(options, "to_dict") else dict(options)


def make_players(config, recipe: str, generator_cls, discriminator_cls=PatchGAN, **generator_args):
  """(generator_cls(**generator_args, **config.model.generator),
  discriminator_cls(**config.model.discriminator)); an option a module does not take is
  refused in one line that names the recipe."""
  try:
    generator = generator_cls(**generator_args, **model_options(config, "generator"))
    discriminator = discriminator_cls(**model_options(config, "discriminator"))
  except TypeError as error:
    accepted = models.accepted_options(str(error))
    raise ValueError(
      f"bad config.model option for {recipe}: {error}"
      + (f"; accepted: {accepted}" if accepted else "")
    ) from None
  return generator, discriminator


def create_translation_state(
  config, *, generator, discriminator, image_shape, cond_shape, game: TranslationGame
) -> GANState:
  """A step-0 `GANState` whose G maps conditions (B, *cond_shape) to images (B, *image_shape)."""
  return builders.create_state_from_config(
    config,
    discriminator_input_shape(game, image_shape, cond_shape),
    players=(generator, discriminator),
    noise=NoiseSampler(tuple(cond_shape)),
    game=game,
  )


def discriminator_input(game: TranslationGame, images, cond):
  """D's input for images (B, H, W, C): concat(images, cond) on channels when conditional."""
  return jnp.concatenate([images, cond], axis=-1) if game.conditional else images


def composite(outputs, x, mask):
  """G's outputs where the mask is 1, the known pixels of x elsewhere (no mask: the outputs)."""
  return outputs if mask is None else x * (1.0 - mask) + outputs * mask


def reconstruction_loss(outputs, x, mask=None, kind: str = "l1"):
  """Mean |outputs - x| ('l1') or (outputs - x)^2 ('l2') over all pixels, or over the mask's.

  Args:
    outputs, x: (B, H, W, C) images.
    mask: (B, H, W, 1) in {0, 1} or None.
  """
  error = jnp.abs(outputs - x) if kind == "l1" else (outputs - x) ** 2
  if mask is None:
    return jnp.mean(error)
  weights = jnp.broadcast_to(mask, error.shape)
  return jnp.sum(error * weights) / jnp.maximum(jnp.sum(weights), 1.0)


def condition_inputs(
  state: GANState, batch: dict[str, Any], key, axis_name=None
) -> steps.PlayerInputs:
  """G's one input is the condition batch['cond'] (no noise is drawn); the losses get
  (cond, mask or None) as targets; D's inputs are built by the losses."""
  del state, key, axis_name
  return steps.PlayerInputs((batch["cond"],), (), (batch["cond"], batch.get("mask")))


def translation_discriminator_loss(
  state: GANState, d_params, real, fake, key, axis_name=None, inputs=(), targets=None
):
  """`steps.discriminator_loss` on D's inputs: the real pair and G's output composed into
  the known pixels, each joined to its condition when D is conditional.

  Args:
    real: the targets x (B, H, W, C); fake: G's raw outputs (B, H, W, C), no gradient.
    targets: (cond, mask or None), as `condition_inputs` gives them.
  """
  game = state.game
  cond, mask = targets
  return steps.discriminator_loss(
    state,
    d_params,
    discriminator_input(game, real, cond),
    discriminator_input(game, composite(fake, real, mask), cond),
    key,
    axis_name,
    inputs,
  )


def translation_discriminator_step(
  state: GANState, batch: dict[str, Any], *, d_index: int = 0, axis_name: str | None = None
):
  """One D update on a real pair and G's output for its condition; batch rows (B, ...)."""
  return steps.discriminator_step(
    state,
    batch,
    d_index=d_index,
    axis_name=axis_name,
    inputs_fn=condition_inputs,
    loss_fn=translation_discriminator_loss,
  )


def translation_generator_loss(state: GANState, g_params, batch, inputs, keys, axis_name=None):
  """adversarial_weight * g_loss(D(fake)) + reconstruction_weight * pixel loss.

  The signature of `steps.generator_loss`; metrics g_adversarial and g_reconstruction
  (the unweighted terms). With adversarial_weight = 0, D is not evaluated.
  """
  game = state.game
  x, (cond, mask) = batch["x"], inputs.targets
  outputs, g_collections = steps.apply_generator(
    state, g_params, *inputs.generator, train=True, key=keys.generator_dropout
  )
  reconstruction = reconstruction_loss(outputs, x, mask, game.reconstruction)
  if game.adversarial_weight > 0:
    fake = discriminator_input(game, composite(outputs, x, mask), cond)
    fake_logits, _ = steps.apply_discriminator(
      state, state.d_params, fake, train=True, key=keys.discriminator_dropout
    )
    adv = game.loss.generator(fake_logits)
  else:
    fake_logits, adv = jnp.zeros(()), jnp.zeros(())
  total = game.adversarial_weight * adv + game.reconstruction_weight * reconstruction
  return total, (
    fake_logits,
    g_collections,
    {"g_adversarial": adv, "g_reconstruction": reconstruction},
  )


def translation_generator_step(
  state: GANState, batch: dict[str, Any], *, axis_name: str | None = None
):
  """One G update on adversarial_weight * adv + reconstruction_weight * pixel loss; step + 1."""
  return steps.generator_step(
    state,
    batch,
    axis_name=axis_name,
    inputs_fn=condition_inputs,
    loss_fn=translation_generator_loss,
  )


def translation_train_step(state: GANState, batch: dict[str, Any], *, axis_name: str | None = None):
  """k = d_steps discriminator updates, then one generator update (Algorithm 1's schedule).

  Args:
    batch: {'x': (k, B, H, W, C), 'cond': (k, B, ...), optionally 'mask': (k, B, H, W, 1)}.
  Returns:
    (new state, metrics): those of the core D and G updates, plus g_adversarial and
    g_reconstruction (the unweighted terms of G's loss).
  """
  k = state.game.d_steps
  for name in ("x", "cond"):
    if name not in batch or batch[name].shape[0] != k:
      shape = batch[name].shape if name in batch else None
      raise ValueError(
        f"the translation step needs batch[{name!r}] of shape (d_steps={k}, batch, ...), got "
        f"{shape}"
      )
  metrics = {}
  if state.game.adversarial_weight > 0:
    for i in range(k):
      minibatch = {name: value[i] for name, value in batch.items()}
      state, metrics = translation_discriminator_step(
        state, minibatch, d_index=i, axis_name=axis_name
      )
  else:
    metrics = {"d_loss": jnp.zeros(())}
  last = {name: value[k - 1] for name, value in batch.items()}
  state, g_metrics = translation_generator_step(state, last, axis_name=axis_name)
  return state, {**metrics, **g_metrics}


def translate(state: GANState, cond: jax.Array, labels=None) -> jax.Array:
  """G(cond) in inference mode with the sampling (EMA) weights; the recipes' `generate`.

  Args:
    cond: (B, *cond_shape) generator inputs in [-1, 1] (for inpainting: `paired.inpainting_input`).
  Returns:
    (B, H, W, C) raw generator outputs (for inpainting, compose with `composite`).
  """
  del labels
  return state.g_apply_fn(state.sampling_variables, cond, train=False)
