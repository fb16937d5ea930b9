"""DCGAN (Radford et al. 2016) on CelebA (tfds `celeb_a`, 162,770 training faces of 218x178,
resized and center-cropped to 64x64), 100,000 steps of batch 64, Adam 2e-4 (0.5, 0.999).

Published: FID 21.4 for a DCGAN on CelebA 64x64, 12.5 with the two time-scale update rule
(Heusel et al. 2017, Table 1). The faces stream from disk through the host pipeline
(`data.pipeline='host'`: the split does not fit in memory at full size). Meant for a GPU;
prepare the data with `tfds build celeb_a` or pass `--config.data.download=True`.
"""

from gan_jax import config_base


def get_config():
  return config_base.tfds_images("celeb_a", image_size=64, pipeline="host")
