"""Unrolled GAN (Metz et al. 2017) on the ring of 8 Gaussians, k = 5 unrolled D updates.

Metz et al.'s optimizer: Adam 1e-4 (beta1 0.5) for both players, here for 16,000 steps.
The networks, batch and data are those of ring_gan.py. The like-for-like vanilla GAN is
ring_gan.py at the same optimizer and length:
`--config.g_optimizer.learning_rate=1e-4 --config.d_optimizer.learning_rate=1e-4
--config.num_steps=16000`.

Measured by `experiments/mixture_benchmark.py` (10 seeds each, experiments/results/mixture.md):
- At this setting, unrolling captures 3.1 +- 0.3 modes against the vanilla GAN's 1.5 +- 0.3,
  with reverse KL 1.29 against 1.85. The vanilla GAN collapses onto one mode in 7 seeds of 10,
  as the paper reports.
- At ring_gan.py's Adam 1e-3 (4000 steps) the vanilla GAN already covers 5.9 modes, and
  unrolling loses (2.5).

D's Adam has eps_root 1e-8: differentiating through Adam needs it.
"""

from gan_jax import config_base


def get_config():
  config = config_base.ring()
  config.recipe = "unrolled"
  config.variant = {"unrolled_steps": 5}
  config.num_steps = 16000
  config.g_optimizer = config_base.adam(1e-4)
  config.d_optimizer = config_base.adam(1e-4, eps_root=1e-8)
  return config
