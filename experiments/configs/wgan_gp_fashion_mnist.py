"""WGAN-GP (Gulrajani et al. 2017) on Fashion-MNIST: gradient penalty lambda = 10, 5 critic steps,
Adam 1e-4 with betas (0, 0.9); DCGAN players, no BatchNorm in the critic.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 20000
  config.batch_size = 64
  config.data = ml_collections.ConfigDict({
      "source": "idx", "name": "fashion_mnist", "path": "/usr/share/datasets/fashion-mnist",
      "split": "train"})
  config.model = ml_collections.ConfigDict({
      "name": "dcgan", "latent_dim": 100, "noise": "normal",
      "generator": {"features": 64, "kernel_size": 5, "activation": "leaky_relu"},
      "discriminator": {"features": 64, "kernel_size": 5, "batch_norm": False}})
  config.recipe = "gan"
  config.loss = "wasserstein"
  config.d_steps = 5
  config.gradient_penalty_weight = 10.0
  config.r1_weight = 0.0
  config.clip_value = 0.0
  config.augment = ""
  config.g_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 1e-4, "b1": 0.0, "b2": 0.9})
  config.d_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 1e-4, "b1": 0.0, "b2": 0.9})
  config.ema_decay = 0.0
  config.log_every = 50
  config.sample_every = 500
  config.checkpoint_every = 1000
  config.keep_checkpoints = 3
  config.num_sample_images = 100
  return config
