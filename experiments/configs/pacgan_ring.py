"""PacGAN2 (Lin et al. 2018) on the ring of 8: D judges packs of 2 samples; networks and
optimizers of ring_gan.py. PacGAN3/PacGAN4: --config.variant.pack_size=3 (batch 255) or 4.
PacGAN's grid: --config.data.name=grid25.
"""

from gan_jax import config_base


def get_config():
  config = config_base.ring()
  config.recipe = "pacgan"
  config.variant = {"pack_size": 2}
  return config
