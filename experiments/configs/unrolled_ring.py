"""Unrolled GAN (Metz et al. 2017) on the ring of 8 Gaussians, k = 5 unrolled D updates.

The networks, optimizers and data are those of ring_gan.py (the vanilla GAN), so the two
compare like for like; `experiments/mixture_benchmark.py` scores both (rows unrolled and gan_ns,
and the pair at Metz et al.'s Adam 1e-4). Measured there (10 seeds, 4000 steps): at Adam 1e-4
unrolling captures 5.9 modes against the vanilla GAN's 4.5; at this config's Adam 1e-3 it
captures 2.5 against 5.9, so use `--config.g_optimizer.learning_rate=1e-4
--config.d_optimizer.learning_rate=1e-4` for the paper's setting.
D's Adam has eps_root 1e-8: differentiating through Adam needs it.
"""

from gan_jax import config_base


def get_config():
  config = config_base.ring()
  config.recipe = "unrolled"
  config.variant = {"unrolled_steps": 5}
  config.d_optimizer = config_base.adam(1e-3, eps_root=1e-8)
  return config
