"""StyleGAN (Karras et al. 2019) at small scale on Fashion-MNIST 28x28, AdaIN styles:
mapping 4 x 64, constant 7x7x32 input, 6 styled layers (7, 7, 14, 14, 28, 28), per-layer
noise, style mixing p=0.9, truncation at sampling; core DCGAN discriminator; NS loss + R1.
"""

from gan_jax import config_base


def get_config():
  config = config_base.karras_schedule(config_base.fashion_mnist())
  config.model = {
    "name": "dcgan",
    "latent_dim": 64,
    "noise": "normal",
    "discriminator": {"batch_norm": False, "features": 32, "kernel_size": 5},
  }
  config.recipe = "stylegan"
  config.variant = {
    "channels": 32,
    "mapping_layers": 4,
    "mixing_prob": 0.9,
    "w_avg_decay": 0.995,
    "w_dim": 64,
  }
  return config
