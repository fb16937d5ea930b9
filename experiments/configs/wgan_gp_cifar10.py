"""WGAN-GP (Gulrajani et al. 2017) on CIFAR-10 (tfds `cifar10`): gradient penalty lambda 10,
5 critic steps, Adam 1e-4 (0, 0.9), no BatchNorm in the critic, 100,000 generator steps of
batch 64.

Published FIDs: 29.3 (Heusel et al. 2017, Table 1, WGAN-GP's own settings; 24.8 with their
two time-scale update rule), 40.2 with the standard CNN of Miyato et al. 2018 (Table 2);
Mimicry (Lee & Town 2020) reached 26.08 +- 0.12 with a ResNet (50,000 real and generated
images). Meant for a GPU; prepare the data with `tfds build cifar10` or pass
`--config.data.download=True`.
"""

from gan_jax import config_base


def get_config():
  return config_base.wgan_gp(config_base.tfds_images("cifar10"))
