"""Super-resolution GAN (SRGAN-style, Ledig et al. 2017) on Fashion-MNIST: 14x14 -> 28x28.

SRResNet G, PatchGAN D on the image, non-saturating GAN loss + 100 * pixel MSE,
Adam 2e-4 beta1 0.5. Baseline: variant.adversarial_weight = 0 (content loss alone).
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.recipe = "superres"
  config.seed = 0
  config.num_steps = 2000
  config.batch_size = 32
  config.data = ml_collections.ConfigDict({
      "source": "image_to_image", "task": "superres", "scale": 2, "name": "fashion_mnist",
      "path": "/usr/share/datasets/fashion-mnist", "split": "train"})
  config.model = ml_collections.ConfigDict({
      "name": "superres",
      "generator": {"features": 16, "num_blocks": 4},
      "discriminator": {"features": 16, "num_layers": 2}})
  config.variant = ml_collections.ConfigDict({
      "adversarial_weight": 1.0, "reconstruction_weight": 100.0, "reconstruction": "l2",
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
