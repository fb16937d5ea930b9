"""StyleGAN (Karras et al. 2019) at small scale on Fashion-MNIST 28x28, AdaIN styles:
mapping 4 x 64, constant 7x7x32 input, 6 styled layers (7, 7, 14, 14, 28, 28), per-layer
noise, style mixing p=0.9, truncation at sampling; core DCGAN discriminator; NS loss + R1.
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
  config.model = ml_collections.ConfigDict({
      "name": "dcgan", "latent_dim": 64, "noise": "normal",
      "discriminator": {"features": 32, "kernel_size": 5, "batch_norm": False}})
  config.recipe = "stylegan"
  config.variant = ml_collections.ConfigDict({"w_dim": 64, "mapping_layers": 4, "channels": 32,
                                              "mixing_prob": 0.9, "w_avg_decay": 0.995})
  config.loss = "non_saturating"
  config.d_steps = 1
  config.r1_weight = 1.0
  config.g_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 1e-3, "b1": 0.0, "b2": 0.99})
  config.d_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 1e-3, "b1": 0.0, "b2": 0.99})
  config.ema_decay = 0.0
  config.log_every = 50
  config.sample_every = 500
  config.checkpoint_every = 500
  config.keep_checkpoints = 3
  config.num_sample_images = 64
  return config
