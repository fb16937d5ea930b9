"""pix2pix (Isola et al. 2017) on Fashion-MNIST: edge map -> image.

U-Net G, conditional PatchGAN D, non-saturating GAN loss + 100 * L1, Adam 2e-4
beta1 0.5 (the paper's). Baseline: variant.adversarial_weight = 0 (L1 alone).
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.data.update({"source": "image_to_image", "task": "edges"})
  config.model = {
    "name": "pix2pix",
    "generator": {"depth": 2, "features": 16},
    "discriminator": {"features": 16, "num_layers": 2},
  }
  config.recipe = "pix2pix"
  config.variant = {
    "adversarial_weight": 1.0,
    "conditional": True,
    "reconstruction": "l1",
    "reconstruction_weight": 100.0,
  }
  return config_base.image_to_image_schedule(config)
