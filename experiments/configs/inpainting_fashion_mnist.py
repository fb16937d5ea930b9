"""Inpainting (context-encoder style, Pathak et al. 2016) on Fashion-MNIST.

U-Net G on (masked image, mask), PatchGAN D on the composite, GAN loss + 1000 * L2
on the masked pixels; masks: centre 12x12 or random rectangles. Baseline: adversarial_weight = 0.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.recipe = "inpainting"
  config.seed = 0
  config.num_steps = 2000
  config.batch_size = 32
  config.data = ml_collections.ConfigDict({
      "source": "image_to_image", "task": "inpainting", "mask": "mixed", "name": "fashion_mnist",
      "path": "/usr/share/datasets/fashion-mnist", "split": "train"})
  config.model = ml_collections.ConfigDict({
      "name": "inpainting",
      "generator": {"features": 16, "depth": 2},
      "discriminator": {"features": 16, "num_layers": 2}})
  config.variant = ml_collections.ConfigDict({
      "adversarial_weight": 1.0, "reconstruction_weight": 1000.0, "reconstruction": "l2",
      "conditional": False})
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
