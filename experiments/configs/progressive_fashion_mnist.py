"""Progressive GAN (Karras et al. 2018) on Fashion-MNIST padded to 32x32 (2-pixel black border):
stages 4, 8, 16, 32, each `stage_steps` G steps, the first `fade_steps` of a stage fading it in.
Non-saturating loss with R1 instead of the paper's WGAN-GP (short runs); Adam 1e-3, b1 0, b2 0.99.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 4000
  config.batch_size = 32
  config.data = ml_collections.ConfigDict({
      "source": "idx", "name": "fashion_mnist", "path": "/usr/share/datasets/fashion-mnist",
      "split": "train"})
  config.model = ml_collections.ConfigDict({"name": "progressive", "latent_dim": 64,
                                            "noise": "normal"})
  config.recipe = "progressive"
  config.variant = ml_collections.ConfigDict({"features": 16, "stage_steps": 1000,
                                              "fade_steps": 500, "mbstd_group": 4})
  config.loss = "non_saturating"
  config.d_steps = 1
  config.r1_weight = 1.0
  config.g_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 1e-3, "b1": 0.0, "b2": 0.99})
  config.d_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 1e-3, "b1": 0.0, "b2": 0.99})
  config.ema_decay = 0.999
  config.log_every = 50
  config.sample_every = 500
  config.checkpoint_every = 500
  config.keep_checkpoints = 20
  config.num_sample_images = 64
  return config
