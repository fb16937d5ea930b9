"""pix2pix (Isola et al. 2017) as a recipe: 'pix2pix'.

U-Net generator from the condition image, PatchGAN discriminator that sees the
condition concatenated to the image, loss = adversarial + lambda * L1 with
lambda = 100 (config.variant.reconstruction_weight). The step is
`translation.translation_train_step`. With variant.adversarial_weight = 0 it
is the same U-Net trained with L1 alone (the baseline of the paper's Table 1).

Data: config.data.source = 'image_to_image' with task 'edges' (edge map ->
Fashion-MNIST image) or any task giving {'x', 'cond'} of the same size.
config.model: {'generator': UNet options, 'discriminator': PatchGAN options}.
"""

from __future__ import annotations

from gan_jax import recipes
from gan_jax.models.unet import UNet
from gan_jax.variants import translation

DEFAULTS = {
  "adversarial_weight": 1.0,
  "reconstruction_weight": 100.0,
  "reconstruction": "l1",
  "conditional": True,
}


def create_pix2pix_state(config, data_shape, *, axis_name=None):
  """Step-0 state: G = UNet (cond -> image), D = PatchGAN on concat(image, cond)."""
  del axis_name  # no batch statistics
  game = translation.translation_game(config, **DEFAULTS)
  cond_channels = int(config.data.get("cond_channels", 1))
  cond_shape = tuple(data_shape[:-1]) + (cond_channels,)
  generator, discriminator = translation.make_players(
    config, "pix2pix", UNet, out_channels=data_shape[-1]
  )
  return translation.create_translation_state(
    config,
    generator=generator,
    discriminator=discriminator,
    image_shape=data_shape,
    cond_shape=cond_shape,
    game=game,
  )


PIX2PIX = recipes.register_recipe(
  recipes.Recipe(
    "pix2pix",
    create_state=create_pix2pix_state,
    train_step=translation.translation_train_step,
    generate=translation.translate,
    options=translation.OPTIONS,
    condition="cond",
    paired=True,
  )
)
