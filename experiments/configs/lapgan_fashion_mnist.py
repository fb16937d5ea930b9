"""LAPGAN (Denton et al. 2015) on Fashion-MNIST: a 3-level Laplacian pyramid 7 -> 14 -> 28,
an MLP GAN on the 7x7 image and conv GANs on the 14 and 28 bands, all levels trained at once."""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.model = {"name": "lapgan", "latent_dim": 32, "noise": "normal"}
  config.recipe = "lapgan"
  config.variant = {"features": 32, "num_levels": 3}
  config.num_steps, config.checkpoint_every, config.num_sample_images = 4000, 500, 64
  return config
