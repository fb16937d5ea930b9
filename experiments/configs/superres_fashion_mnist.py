"""Super-resolution GAN (SRGAN-style, Ledig et al. 2017) on Fashion-MNIST: 14x14 -> 28x28.

SRResNet G, PatchGAN D on the image, non-saturating GAN loss + 100 * pixel MSE,
Adam 2e-4 beta1 0.5. Baseline: variant.adversarial_weight = 0 (content loss alone).
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.data.update({"source": "image_to_image", "task": "superres", "scale": 2})
  config.model = {
    "name": "superres",
    "generator": {"features": 16, "num_blocks": 4},
    "discriminator": {"features": 16, "num_layers": 2},
  }
  config.recipe = "superres"
  config.variant = {
    "adversarial_weight": 1.0,
    "conditional": False,
    "reconstruction": "l2",
    "reconstruction_weight": 100.0,
  }
  return config_base.image_to_image_schedule(config)
