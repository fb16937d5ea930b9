"""PacGAN (Lin et al. 2018) Table 1, 2D-grid, row PacGAN2, in the authors' own setup.

Published (Table 1, over 10 runs): 23.8 +- 0.7 modes of 25,
91.3 +- 0.8% high-quality samples, reverse KL 0.13 +- 0.04.

Every setting and its source as pacgan_table1_ring_pacgan2.py: fjxmlzn/PacGAN
synthetic_data_experiments/2DGrid_GAN&PacGAN/config.py (commit a7c92481) holds the same
global_config as the ring's (lines 15-36: 400 epochs of 100,000 points, G 4 x 400 ReLU with
BatchNorm, D 3 x 200 maxout of 5 pieces, N(0, 0.02) weights, Adam 1e-4 with beta1 0.8, batch
100 packs, z = N(0, I_2)), and 2DGrid_GAN&PacGAN/pacgan_task.py builds the networks. Except:
- data: grid25 (the library default), means {-4, -2, 0, 2, 4}^2, std 0.05: config.py:5-7
  (MEANS = itertools.product(range(-4, 5, 2), range(-4, 5, 2)), VARIANCES = 0.05 ** 2 * I).
"""

import os

from gan_jax.cli import load_config_file


def _load(name):
  """get_config() of the reproduction config NAME.py beside this file."""
  return load_config_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py"))


def get_config():
  config = _load("pacgan_table1_ring_pacgan2")
  config.data.name = "grid25"  # spacing 2, std 0.05 (config.py:5-7)
  return config
