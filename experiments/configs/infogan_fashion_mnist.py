"""InfoGAN (Chen et al. 2016) on Fashion-MNIST: z of 62, one 10-way categorical code and two
U[-1, 1] continuous codes (the paper's MNIST setting), Q head of 128 units on D's features.

experiments/infogan_codes.py draws the figure varying each code from a trained run.
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
      "name": "dcgan", "latent_dim": 62, "noise": "normal",
      "generator": {"features": 64, "kernel_size": 5, "activation": "leaky_relu"},
      "discriminator": {"features": 64, "kernel_size": 5, "batch_norm": False}})
  config.recipe = "infogan"
  config.variant = ml_collections.ConfigDict({
      "num_categories": 10, "num_continuous": 2, "info_weight": 1.0, "continuous_weight": 1.0,
      "q_hidden": 128})
  config.loss = "non_saturating"
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
