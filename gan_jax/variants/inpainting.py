"""Inpainting in the manner of context encoders (Pathak et al. 2016), as a recipe: 'inpainting'.

The generator (a U-Net) takes the masked image and the mask, (B, 28, 28, 2)
from `data.paired.inpainting_input`, and its output fills the masked region:
fake = x * (1 - m) + G(...) * m. Loss = adversarial_weight * adversarial on the
composed image + reconstruction_weight * L2 over the masked pixels (the
paper's joint loss: 0.999 L2 + 0.001 adversarial, i.e. lambda ~ 1000 for an
adversarial weight of 1). D is a PatchGAN on the composed image. Masks (centre
square or random rectangles) come from the data task 'inpainting'. With
variant.adversarial_weight = 0 it is the reconstruction-only generator.
"""

from __future__ import annotations

from gan_jax import recipes
from gan_jax.models.unet import UNet
from gan_jax.variants import translation

DEFAULTS = {
  "adversarial_weight": 1.0,
  "reconstruction_weight": 1000.0,
  "reconstruction": "l2",
  "conditional": False,
}


def create_inpainting_state(config, data_shape, *, axis_name=None):
  """Step-0 state: G = UNet (masked image and mask -> image), D = PatchGAN on the composite."""
  del axis_name
  game = translation.translation_game(config, **DEFAULTS)
  cond_shape = tuple(data_shape[:-1]) + (data_shape[-1] + 1,)
  generator, discriminator = translation.make_players(
    config, "inpainting", UNet, out_channels=data_shape[-1]
  )
  return translation.create_translation_state(
    config,
    generator=generator,
    discriminator=discriminator,
    image_shape=data_shape,
    cond_shape=cond_shape,
    game=game,
  )


def inpaint(state, cond, labels=None):
  """The composed image: the known pixels of cond, G's output on the mask; (B, H, W, C).

  cond: (B, H, W, C + 1) from `data.paired.inpainting_input` (masked image, then the mask).
  """
  outputs = translation.translate(state, cond, labels)
  image, mask = cond[..., :-1], cond[..., -1:]
  return translation.composite(outputs, image, mask)


INPAINTING = recipes.register_recipe(
  recipes.Recipe(
    "inpainting",
    create_state=create_inpainting_state,
    train_step=translation.translation_train_step,
    generate=inpaint,
    options=translation.OPTIONS,
    condition="cond",
    paired=True,
  )
)
