"""WGAN on the ring of 8: clipping c = 0.01, 5 critic steps, RMSProp 5e-5; networks of
ring_gan.py."""

from gan_jax import config_base


def get_config():
  return config_base.wgan(config_base.ring())
