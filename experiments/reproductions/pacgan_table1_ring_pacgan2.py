"""PacGAN (Lin et al. 2018) Table 1, 2D-ring, row PacGAN2, in the authors' own setup.

Published (Table 1, over 10 runs): 7.9 +- 0.1 modes of 8,
95.6 +- 2.0% high-quality samples, reverse KL 0.07 +- 0.03.

Every setting and its source as pacgan_table1_ring_gan.py (fjxmlzn/PacGAN
synthetic_data_experiments/2DRing_GAN&PacGAN/config.py and the grid's pacgan_task.py), except:
- recipe 'pacgan', pack_size 2: config.py:46 "num_packing": [1, 2, 3, 4], the rows GAN,
  PacGAN2, PacGAN3, PacGAN4; D's first layer takes the pack, 2 * 2 wide (pacgan_task.py:64
  input_dim = num_xdim * num_packing), and G is applied to 2 independent noise batches
  (pacgan_task.py:106-108).
- batch_size 200: config.py:25 batch_size 100 counts packs; the library's batch counts
  samples, 100 packs of 2.
"""

import os

from gan_jax.cli import load_config_file


def _load(name):
  """get_config() of the reproduction config NAME.py beside this file."""
  return load_config_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py"))


def get_config():
  config = _load("pacgan_table1_ring_gan")
  config.recipe = "pacgan"
  config.variant = {"pack_size": 2}
  config.batch_size = 2 * 100  # 100 packs of 2 (config.py:25)
  return config
