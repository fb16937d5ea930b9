"""Conditional GAN with the projection discriminator (Miyato & Koyama 2018) on Fashion-MNIST.

D(x, y) = psi(phi(x)) + <embed(y), phi(x)>, with spectral normalization on every D layer and
the hinge loss, as in the paper; DCGAN players, Adam 2e-4, betas (0.5, 0.999).
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 5000
  config.batch_size = 64
  config.data = ml_collections.ConfigDict({
      "source": "idx", "name": "fashion_mnist", "path": "/usr/share/datasets/fashion-mnist",
      "split": "train"})
  config.model = ml_collections.ConfigDict({
      "name": "dcgan", "latent_dim": 100, "noise": "normal",
      "generator": {"features": 64, "kernel_size": 5, "activation": "leaky_relu"},
      "discriminator": {"features": 64, "kernel_size": 5, "batch_norm": False, "spectral_norm": True}})
  config.recipe = "conditional"
  config.variant = ml_collections.ConfigDict({"num_classes": 10, "embed_dim": 16, "projection": True})
  config.loss = "hinge"
  config.d_steps = 1
  config.gradient_penalty_weight = 0.0
  config.r1_weight = 0.0
  config.clip_value = 0.0
  config.augment = ""
  config.g_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 2e-4, "b1": 0.5, "b2": 0.999})
  config.d_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 2e-4, "b1": 0.5, "b2": 0.999})
  config.ema_decay = 0.0
  config.log_every = 50
  config.sample_every = 500
  config.checkpoint_every = 1000
  config.keep_checkpoints = 3
  config.num_sample_images = 100
  return config
