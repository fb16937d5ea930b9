"""Unrolled GAN (Metz et al. 2017) on the ring of 8 with 0 unrolling steps, the paper's setup.

Every setting and its source as metz_unrolled_ring_5steps.py (the paper's appendix A, the
notebook poolio/unrolled_gan where the appendix is silent), except variant.unrolled_steps = 0:
the plain GAN of the same networks, optimizers and data (the notebook's unrolled_loss = loss
when unrolling_steps is 0; the bottom row of the paper's Figure 1, as read earlier).

Published figures to compare with: VEEGAN's Table 1 (Srivastava et al. 2017) gives for the
unrolled GAN (5 unrolling steps) ring 7.6 modes of 8 and 35.6% high-quality samples, grid
23.6 modes of 25 and 16%; Metz et al. publish no numbers, only Figure 1 (the plain GAN
cycles between single modes and never covers the ring).
"""

import os

from gan_jax.cli import load_config_file


def _load(name):
  """get_config() of the reproduction config NAME.py beside this file."""
  return load_config_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py"))


def get_config():
  config = _load("metz_unrolled_ring_5steps")
  config.variant.unrolled_steps = 0
  return config
