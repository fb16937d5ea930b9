"""Super-resolution GAN (SRGAN, Ledig et al. 2017), small, as a recipe: 'superres'.

SRResNet generator from the low-resolution image (28/s x 28/s, s =
config.data.scale) to 28x28, PatchGAN discriminator on the image alone (SRGAN's
D does not see the low-resolution input), loss = adversarial_weight *
adversarial + reconstruction_weight * content. The content loss here is the
pixel MSE (SRResNet-MSE; the paper's VGG content loss needs ImageNet weights,
and the Fashion-MNIST feature network is kept for evaluation so as not to fit
the metric). With variant.adversarial_weight = 0 it is the same generator
trained on the content loss alone. The step is `translation.translation_train_step`.
"""

from __future__ import annotations

from gan_jax import recipes
from gan_jax.models.srresnet import SRResNet
from gan_jax.variants import translation

DEFAULTS = {
  "adversarial_weight": 1.0,
  "reconstruction_weight": 100.0,
  "reconstruction": "l2",
  "conditional": False,
}


def create_superres_state(config, data_shape, *, axis_name=None):
  """Step-0 state: G = SRResNet (low-res -> image), D = PatchGAN on the image."""
  del axis_name
  game = translation.translation_game(config, **DEFAULTS)
  scale = int(config.data.get("scale", 2))
  if data_shape[0] % scale or data_shape[1] % scale:
    raise ValueError(f"data.scale {scale} must divide the image size {data_shape[:2]}")
  cond_shape = (data_shape[0] // scale, data_shape[1] // scale, data_shape[2])
  generator, discriminator = translation.make_players(
    config, "superres", SRResNet, scale=scale, out_channels=data_shape[-1]
  )
  return translation.create_translation_state(
    config,
    generator=generator,
    discriminator=discriminator,
    image_shape=data_shape,
    cond_shape=cond_shape,
    game=game,
  )


SUPERRES = recipes.register_recipe(
  recipes.Recipe(
    "superres",
    create_state=create_superres_state,
    train_step=translation.translation_train_step,
    generate=translation.translate,
    options=translation.OPTIONS,
    condition="cond",
    paired=True,
  )
)
