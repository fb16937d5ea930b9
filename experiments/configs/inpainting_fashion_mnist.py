"""Inpainting (context-encoder style, Pathak et al. 2016) on Fashion-MNIST.

U-Net G on (masked image, mask), PatchGAN D on the composite, GAN loss + 1000 * L2
on the masked pixels; masks: centre 12x12 or random rectangles. Baseline: adversarial_weight = 0.
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.data.update({"source": "image_to_image", "task": "inpainting", "mask": "mixed"})
  config.model = {
    "name": "inpainting",
    "generator": {"depth": 2, "features": 16},
    "discriminator": {"features": 16, "num_layers": 2},
  }
  config.recipe = "inpainting"
  config.variant = {
    "adversarial_weight": 1.0,
    "conditional": False,
    "reconstruction": "l2",
    "reconstruction_weight": 1000.0,
  }
  return config_base.image_to_image_schedule(config)
