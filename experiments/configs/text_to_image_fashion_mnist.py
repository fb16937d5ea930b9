"""Text-to-image GAN on captioned Fashion-MNIST: GAN-INT-CLS's matching-aware D (Reed et al.
2016) with StackGAN's conditioning augmentation, DCGAN players, a word-level encoder per player.

Write the captions first (seed 0; 5 per training image, held-out phrasings for the test set):
    python experiments/make_captions.py
Then `gan-jax train --config experiments/configs/text_to_image_fashion_mnist.py --workdir DIR`
and `gan-jax sample --workdir DIR --text "a bright sandal"`.
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.data.source = "captions"
  config.data.name = "fashion_mnist_captions"
  config.data.path = "runs/data/fashion_mnist_captions_train.npz"
  config.recipe = "text_to_image"
  # kl_weight 1 / cond_dim: StackGAN's lambda = 1 on the KL's per-coordinate mean
  config.variant = {"embed_dim": 64, "text_features": 64, "cond_dim": 16, "kl_weight": 0.0625}
  config.ema_decay = 0.999  # sampling (and `gan-jax sample --text`) uses the EMA generator
  return config
