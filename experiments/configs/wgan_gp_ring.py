"""WGAN-GP on the ring of 8: lambda = 10, 5 critic steps, Adam 1e-4, betas (0, 0.9);
networks of ring_gan.py.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 20000
  config.batch_size = 256
  config.data = ml_collections.ConfigDict({"source": "toy", "name": "ring8", "path": "", "split": "train"})
  config.model = ml_collections.ConfigDict({
      "name": "toy_mlp",
      "latent_dim": 16,
      "noise": "normal",
      "generator": {"hidden": (128, 128), "activation": "relu"},
      "discriminator": {"hidden": (128, 128), "activation": "relu"},
  })
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
  config.log_every = 100
  config.sample_every = 2000
  config.checkpoint_every = 5000
  config.keep_checkpoints = 3
  config.num_sample_images = 64
  return config
