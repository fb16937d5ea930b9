"""WGAN-GP's toy experiment on 25 Gaussians with weight clipping instead of the penalty.

The paper's comparison (Gulrajani et al. 2017, Figure 1: WGAN critics with weight clipping
against gradient penalty), as gan_toy.py runs it with MODE = 'wgan'. Published figures to
compare with: none (pictures only; see wgangp_toy_8gaussians.py).

Every setting and its source as wgangp_toy_25gaussians.py (igul222/improved_wgan_training
gan_toy.py: data, 3 x 512 ReLU players with tflib's initialization, z = N(0, I_2), 5 critic
steps (CRITIC_ITERS serves both modes), batch 256, 100,000 generator iterations), except
what MODE = 'wgan' changes:
- no gradient penalty: gan_toy.py:71 adds it only for MODE == 'wgan-gp'.
- clip_value 0.01: lines 123-133 clip every critic variable (weights and biases) to
  [-.01, .01] after each critic step (lines 243-244).
- RMSProp 5e-5, both players: lines 109-120 (tf.train.RMSPropOptimizer(learning_rate=5e-5)),
  with TF 1.x's defaults: decay 0.9, epsilon 1e-10 inside the square root, and the
  mean-square accumulator started at 1 (tensorflow/python/training/rmsprop.py,
  _create_slots: init_rms = init_ops.ones_initializer), here optax.rmsprop's
  initial_scale=1.0.
"""

import os

from gan_jax.cli import load_config_file


def _load(name):
  """get_config() of the reproduction config NAME.py beside this file."""
  return load_config_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py"))


def get_config():
  config = _load("wgangp_toy_25gaussians")
  config.gradient_penalty_weight = 0.0
  config.clip_value = 0.01
  rmsprop = {
    "name": "rmsprop",
    "learning_rate": 5e-5,
    "decay": 0.9,
    "eps": 1e-10,
    "initial_scale": 1.0,
  }
  config.g_optimizer = dict(rmsprop)
  config.d_optimizer = dict(rmsprop)
  return config
