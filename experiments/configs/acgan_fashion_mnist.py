"""ACGAN (Odena et al. 2017) on Fashion-MNIST: DCGAN players, a linear class head on D's last
feature map, class cross-entropies weighted 1 for both players.
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.recipe = "acgan"
  config.variant = {"num_classes": 10, "embed_dim": 16, "aux_weight": 1.0}
  config.ema_decay = 0.999  # sampling (and `gan-jax sample --label L`) uses the EMA generator
  return config
