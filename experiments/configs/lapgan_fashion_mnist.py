"""LAPGAN (Denton et al. 2015) on Fashion-MNIST: a 3-level Laplacian pyramid 7 -> 14 -> 28,
an MLP GAN on the 7x7 image and conv GANs on the 14 and 28 bands, all levels trained at once."""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 4000
  config.batch_size = 64
  config.data = ml_collections.ConfigDict({
      "source": "idx", "name": "fashion_mnist", "path": "/usr/share/datasets/fashion-mnist",
      "split": "train"})
  config.model = ml_collections.ConfigDict({"name": "lapgan", "latent_dim": 32, "noise": "normal"})
  config.recipe = "lapgan"
  config.variant = ml_collections.ConfigDict({"num_levels": 3, "features": 32})
  config.loss = "non_saturating"
  config.d_steps = 1
  config.g_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 2e-4, "b1": 0.5, "b2": 0.999})
  config.d_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 2e-4, "b1": 0.5, "b2": 0.999})
  config.ema_decay = 0.0
  config.log_every = 50
  config.sample_every = 500
  config.checkpoint_every = 500
  config.keep_checkpoints = 3
  config.num_sample_images = 64
  return config
