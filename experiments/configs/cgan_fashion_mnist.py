"""Conditional GAN (Mirza & Osindero 2014) on Fashion-MNIST: DCGAN players, labels by embedding
and concatenation (G: 16-d embedding beside z; D: one label channel of 28x28).

`gan-jax sample --workdir DIR --label L` draws class L. The projection discriminator is
`--config.variant.projection=True` (or cgan_projection_fashion_mnist.py).
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.recipe = "conditional"
  config.variant = {"num_classes": 10, "embed_dim": 16, "label_channels": 1, "projection": False}
  config.ema_decay = 0.999  # sampling (and `gan-jax sample --label L`) uses the EMA generator
  return config
