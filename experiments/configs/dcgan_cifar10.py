"""DCGAN (Radford et al. 2016) on CIFAR-10 (tfds `cifar10`, 50,000 32x32x3 training images).

Published FIDs for a DCGAN on CIFAR-10: 28.12 (Kurach et al. 2019, "A Large-Scale Study on
Regularization and Normalization in GANs", their DCGAN architecture and settings), reproduced
at 28.95 +- 0.42 by Mimicry (Lee & Town 2020; 10,000 real and 10,000 generated images,
100,000 steps of batch 64, Adam 2e-4 (0.5, 0.999)). This config trains the library's DCGAN
players (G: Dense 4x4x512, ConvT 5x5 to 256 at stride 1, then 128, 64 and 3 at stride 2,
BatchNorm, ReLU, tanh; D: Conv 5x5 stride 2 64 -> 128 -> 256, LeakyReLU 0.2, Dense 1) with
the non-saturating loss, 100,000 steps of batch 64: the same budget, other networks, so expect the
same range, not the same figure.
Meant for a GPU (a CPU does about 5 steps a second at this size). Prepare the data with
`tfds build cifar10` or pass `--config.data.download=True`.
"""

from gan_jax import config_base


def get_config():
  return config_base.tfds_images("cifar10")
