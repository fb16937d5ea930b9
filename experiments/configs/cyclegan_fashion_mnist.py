"""CycleGAN (Zhu et al. 2017) on Fashion-MNIST: sneakers (class 7) <-> ankle boots (class 9), unpaired.

Two U-Net generators, two PatchGAN discriminators, least-squares GAN loss,
cycle weight 10, identity weight 5 (0.5 * 10), Adam 2e-4 beta1 0.5 (the paper's).
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.recipe = "cyclegan"
  config.seed = 0
  config.num_steps = 2000
  config.batch_size = 16
  config.data = ml_collections.ConfigDict({
      "source": "image_to_image", "task": "unpaired", "domains": (7, 9), "name": "fashion_mnist",
      "path": "/usr/share/datasets/fashion-mnist", "split": "train"})
  config.model = ml_collections.ConfigDict({
      "name": "cyclegan",
      "generator": {"features": 16, "depth": 2},
      "discriminator": {"features": 16, "num_layers": 2}})
  config.variant = ml_collections.ConfigDict({"cycle_weight": 10.0, "identity_weight": 5.0})
  config.loss = "least_squares"
  config.d_steps = 1
  adam = {"name": "adam", "learning_rate": 2e-4, "b1": 0.5, "b2": 0.999}
  config.g_optimizer = ml_collections.ConfigDict(adam)
  config.d_optimizer = ml_collections.ConfigDict(adam)
  config.ema_decay = 0.0
  config.parallel = "none"
  config.log_every = 50
  config.sample_every = 1000
  config.checkpoint_every = 1000
  config.keep_checkpoints = 2
  config.num_sample_images = 16
  return config
