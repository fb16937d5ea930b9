"""Unrolled GAN (Metz et al. 2017) on the ring of 8 with 10 unrolling steps, the paper's setup.

Every setting and its source as metz_unrolled_ring_5steps.py (the paper's appendix A, the
notebook poolio/unrolled_gan where the appendix is silent), except variant.unrolled_steps = 10:
the paper's Figure 1 sets 10 unrolling steps (top row) against the plain GAN (as read
earlier; the paper's text is not in the stored sources).

Published figures to compare with: VEEGAN's Table 1 (Srivastava et al. 2017) gives for the
unrolled GAN (5 unrolling steps) ring 7.6 modes of 8 and 35.6% high-quality samples, grid
23.6 modes of 25 and 16%; Metz et al. publish no numbers for the ring, only Figure 1.
"""

import os

from gan_jax.cli import load_config_file


def _load(name):
  """get_config() of the reproduction config NAME.py beside this file."""
  return load_config_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py"))


def get_config():
  config = _load("metz_unrolled_ring_5steps")
  config.variant.unrolled_steps = 10
  return config
