"""WGAN-GP (Gulrajani et al. 2017) on Fashion-MNIST: gradient penalty lambda = 10, 5 critic steps,
Adam 1e-4 with betas (0, 0.9); DCGAN players, no BatchNorm in the critic.
"""

from gan_jax import config_base


def get_config():
  config = config_base.wgan_gp(config_base.fashion_mnist())
  config.num_steps = 20000
  return config
