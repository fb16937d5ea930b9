"""WGAN (Arjovsky et al. 2017) on Fashion-MNIST: weight clipping c = 0.01, 5 critic steps per
generator step, RMSProp 5e-5 for both players (the paper's Algorithm 1); DCGAN players.
"""

from gan_jax import config_base


def get_config():
  config = config_base.wgan(config_base.fashion_mnist())
  config.num_steps = 20000
  return config
