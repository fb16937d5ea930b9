"""Progressive GAN (Karras et al. 2018) on Fashion-MNIST padded to 32x32 (2-pixel black border):
stages 4, 8, 16, 32, each `stage_steps` G steps, the first `fade_steps` of a stage fading it in.
Non-saturating loss with R1 instead of the paper's WGAN-GP (short runs); Adam 1e-3, b1 0, b2 0.99.
"""

from gan_jax import config_base


def get_config():
  config = config_base.karras_schedule(config_base.fashion_mnist())
  config.model = {"name": "progressive", "latent_dim": 64, "noise": "normal"}
  config.recipe = "progressive"
  config.variant = {"fade_steps": 500, "features": 16, "mbstd_group": 4, "stage_steps": 1000}
  config.ema_decay = 0.999
  config.keep_checkpoints = 20
  return config
