"""CoGAN (Liu & Tuzel 2016): Fashion-MNIST (A) and its Sobel edge map (B) from unpaired
samples; generators share their first layers, discriminators their last. variant.shared=False
is the baseline of two separate GANs fed the same z."""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.model = {"name": "cogan", "latent_dim": 64, "noise": "normal"}
  config.recipe = "cogan"
  config.variant = {"domain_b": "edges", "features": 32, "shared": True}
  config.num_steps, config.checkpoint_every, config.num_sample_images = 4000, 500, 64
  return config
