"""WGAN-GP (Gulrajani et al. 2017) on CelebA 64x64 (tfds `celeb_a`, resized and center-cropped):
gradient penalty lambda 10, 5 critic steps, Adam 1e-4 (0, 0.9), 100,000 generator steps of
batch 64.

Published: no FID for WGAN-GP on CelebA 64x64 with DCGAN-sized networks is known to us; the
closest figures are DCGAN's 21.4 on CelebA 64x64 (Heusel et al. 2017, Table 1) and SNGAN's
5.71 with a ResNet (Mimicry). Meant for a GPU; prepare the data with `tfds build celeb_a` or
pass `--config.data.download=True`.
"""

from gan_jax import config_base


def get_config():
  return config_base.wgan_gp(config_base.tfds_images("celeb_a", image_size=64, pipeline="host"))
