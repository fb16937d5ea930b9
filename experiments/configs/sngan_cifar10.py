"""SN-GAN (Miyato et al. 2018) on CIFAR-10 (tfds `cifar10`): spectral normalization on every
discriminator layer, hinge loss, Adam 1e-4 (0.5, 0.9), 5 discriminator steps (Table 1,
setting A), 100,000 generator steps of batch 64.

Published: FID 29.3 for SN-GANs with the paper's standard CNN (Table 2), 21.7 +- 0.21 with its
ResNet; Mimicry (Lee & Town 2020) reproduced the ResNet at 23.90 +- 0.20 (10,000 real, 5,000
generated images). The library's DCGAN discriminator has 3 convolutions where the standard
CNN has 7, so expect FIDs at or above the standard CNN's. Meant for a GPU; prepare the data
with `tfds build cifar10` or pass `--config.data.download=True`.
"""

from gan_jax import config_base


def get_config():
  return config_base.sngan(config_base.tfds_images("cifar10"))
