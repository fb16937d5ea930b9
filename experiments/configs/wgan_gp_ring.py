"""WGAN-GP on the ring of 8: lambda = 10, 5 critic steps, Adam 1e-4, betas (0, 0.9);
networks of ring_gan.py.
"""

from gan_jax import config_base


def get_config():
  return config_base.wgan_gp(config_base.ring())
