"""pix2pix (Isola et al. 2017) on Fashion-MNIST: edge map -> image.

U-Net G, conditional PatchGAN D, non-saturating GAN loss + 100 * L1, Adam 2e-4
beta1 0.5 (the paper's). Baseline: variant.adversarial_weight = 0 (L1 alone).
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.recipe = "pix2pix"
  config.seed = 0
  config.num_steps = 2000
  config.batch_size = 32
  config.data = ml_collections.ConfigDict({
      "source": "image_to_image", "task": "edges", "name": "fashion_mnist",
      "path": "/usr/share/datasets/fashion-mnist", "split": "train"})
  config.model = ml_collections.ConfigDict({
      "name": "pix2pix",
      "generator": {"features": 16, "depth": 2},
      "discriminator": {"features": 16, "num_layers": 2}})
  config.variant = ml_collections.ConfigDict({
      "adversarial_weight": 1.0, "reconstruction_weight": 100.0, "reconstruction": "l1",
      "conditional": True})
  config.loss = "non_saturating"
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
