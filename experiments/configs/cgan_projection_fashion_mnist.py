"""Conditional GAN with the projection discriminator (Miyato & Koyama 2018) on Fashion-MNIST.

D(x, y) = psi(phi(x)) + <embed(y), phi(x)>, with spectral normalization on every D layer and
the hinge loss, as in the paper; DCGAN players, Adam 2e-4, betas (0.5, 0.999).
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.model.discriminator.spectral_norm = True
  config.recipe = "conditional"
  config.variant = {"num_classes": 10, "embed_dim": 16, "projection": True}
  config.loss = "hinge"
  config.ema_decay = 0.999  # sampling (and `gan-jax sample --label L`) uses the EMA generator
  return config
