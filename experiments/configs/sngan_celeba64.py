"""SN-GAN (Miyato et al. 2018) on CelebA 64x64 (tfds `celeb_a`, resized and center-cropped):
spectral normalization on every discriminator layer, hinge loss, Adam 1e-4 (0.5, 0.9), 5
discriminator steps, 100,000 generator steps of batch 64.

Published: FID 5.71 +- 0.02 for SNGAN with a ResNet at 64x64 (Mimicry, Lee & Town 2020,
100,000 steps, 50,000 images), a much larger network than the library's DCGAN players;
expect a higher FID. Meant for a GPU; prepare the data with `tfds build celeb_a` or pass
`--config.data.download=True`.
"""

from gan_jax import config_base


def get_config():
  return config_base.sngan(config_base.tfds_images("celeb_a", image_size=64, pipeline="host"))
