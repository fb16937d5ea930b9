"""Stabilizers on the plain DCGAN, all by config: spectral normalization on every D layer,
DiffAugment (color, translation, cutout) on every D input, generator EMA 0.999 (samples use
it) and separate learning rates (G 2e-4, D 4e-4). Meant for small data: try
`--config.data.split=test` (10k images).
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.model.discriminator.spectral_norm = True
  config.augment = "color,translation,cutout"
  config.ema_decay = 0.999
  config.d_optimizer.learning_rate = 4e-4
  return config
