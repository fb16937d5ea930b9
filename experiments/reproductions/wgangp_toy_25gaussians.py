"""WGAN-GP's toy experiment (Gulrajani et al. 2017) on 25 Gaussians, as gan_toy.py runs it.

Published figures to compare with: none (the paper's toy results are pictures, Figure 1;
see wgangp_toy_8gaussians.py).

Every setting and its source as wgangp_toy_8gaussians.py (igul222/improved_wgan_training
gan_toy.py, MODE = 'wgan-gp': 3 x 512 ReLU players, z = N(0, I_2), LAMBDA 0.1, 5 critic
steps, Adam 1e-4 with betas (0.5, 0.9), batch 256, 100,000 generator iterations), except
the data, DATASET = '25gaussians', gan_toy.py:174-189:
- grid25 with spacing 2 / 2.828 and std 0.05 / 2.828: means 2 * (x, y) for x, y in -2..2,
  np.random.randn(2) * 0.05 around each, then dataset /= 2.828 (line 186); the library's
  grid has the same means before the division.
- data.training_set_size 100000: a fixed dataset of 100000 / 25 points per mode (line 177),
  shuffled once (line 185). gan_toy.py then yields its consecutive batches of 256 in that
  order, over and over (lines 187-189: the last 160 points are never used); here batches
  are drawn with replacement from a set drawn once from PRNGKey(0), modes not exactly
  balanced.
"""

import os

from gan_jax.cli import load_config_file

SQRT8 = 2.828  # gan_toy.py:186, "dataset /= 2.828 # stdev"


def _load(name):
  """get_config() of the reproduction config NAME.py beside this file."""
  return load_config_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py"))


def get_config():
  config = _load("wgangp_toy_8gaussians")
  config.data = {
    "source": "toy",
    "name": "grid25",
    "path": "",
    "split": "train",
    "spacing": 2.0 / SQRT8,
    "std": 0.05 / SQRT8,
    "training_set_size": 100000,
  }
  return config
