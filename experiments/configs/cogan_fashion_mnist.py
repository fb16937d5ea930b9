"""CoGAN (Liu & Tuzel 2016): Fashion-MNIST (A) and its Sobel edge map (B) from unpaired
samples; generators share their first layers, discriminators their last. variant.shared=False
is the baseline of two separate GANs fed the same z."""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 4000
  config.batch_size = 64
  config.data = ml_collections.ConfigDict({
      "source": "idx", "name": "fashion_mnist", "path": "/usr/share/datasets/fashion-mnist",
      "split": "train"})
  config.model = ml_collections.ConfigDict({"name": "cogan", "latent_dim": 64, "noise": "normal"})
  config.recipe = "cogan"
  config.variant = ml_collections.ConfigDict({"features": 32, "shared": True, "domain_b": "edges"})
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
