"""CycleGAN (Zhu et al. 2017) on Fashion-MNIST: sneakers (class 7) <-> ankle boots (class 9), unpaired.

Two U-Net generators, two PatchGAN discriminators, least-squares GAN loss,
cycle weight 10, identity weight 5 (0.5 * 10), Adam 2e-4 beta1 0.5 (the paper's).
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.data.update({"source": "image_to_image", "task": "unpaired", "domains": (7, 9)})
  config.model = {"name": "cyclegan", "generator": {"depth": 2, "features": 16},
                  "discriminator": {"features": 16, "num_layers": 2}}
  config.recipe = "cyclegan"
  config.variant = {"cycle_weight": 10.0, "identity_weight": 5.0}
  config.loss = "least_squares"
  config = config_base.image_to_image_schedule(config)
  config.batch_size = 16
  return config
