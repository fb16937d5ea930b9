"""WGAN (Arjovsky et al. 2017) on Fashion-MNIST: weight clipping c = 0.01, 5 critic steps per
generator step, RMSProp 5e-5 for both players (the paper's Algorithm 1); DCGAN players.
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
  config.gradient_penalty_weight = 0.0
  config.r1_weight = 0.0
  config.clip_value = 0.01
  config.augment = ""
  config.g_optimizer = ml_collections.ConfigDict({"name": "rmsprop", "learning_rate": 5e-5})
  config.d_optimizer = ml_collections.ConfigDict({"name": "rmsprop", "learning_rate": 5e-5})
  config.ema_decay = 0.0
  config.log_every = 50
  config.sample_every = 500
  config.checkpoint_every = 1000
  config.keep_checkpoints = 3
  config.num_sample_images = 100
  return config
