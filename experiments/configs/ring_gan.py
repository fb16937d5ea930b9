"""Vanilla GAN (non-saturating loss) on PacGAN's ring of 8 Gaussians.

The embedded default of the README: no download, about a minute on 2 CPU cores.
Players: 2 x 128 ReLU MLPs, z of 16, Adam 1e-3 (beta1 0.5), batch 256; Algorithm 1 with k = 1
and fresh noise for the generator step. The vanilla GAN collapses onto some of the modes,
as the papers report (experiments/results/mixture.md).
"""

from gan_jax import config_base


def get_config():
  return config_base.ring()  # 20000 steps, batch 256, 2 x 128 ReLU players, Adam 1e-3
