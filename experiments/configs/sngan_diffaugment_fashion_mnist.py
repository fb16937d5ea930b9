"""Stabilizers on the plain DCGAN, all by config: spectral normalization on every D layer,
DiffAugment (color, translation, cutout) on every D input, generator EMA 0.999 (samples use
it) and separate learning rates (G 2e-4, D 4e-4). Meant for small data: try
`--config.data.split=test` (10k images).
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
  config.recipe = "gan"
  config.loss = "non_saturating"
  config.d_steps = 1
  config.gradient_penalty_weight = 0.0
  config.r1_weight = 0.0
  config.clip_value = 0.0
  config.augment = "color,translation,cutout"
  config.g_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 2e-4, "b1": 0.5, "b2": 0.999})
  config.d_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 4e-4, "b1": 0.5, "b2": 0.999})
  config.ema_decay = 0.999
  config.log_every = 50
  config.sample_every = 500
  config.checkpoint_every = 1000
  config.keep_checkpoints = 3
  config.num_sample_images = 100
  return config
