"""WGAN-GP (Gulrajani et al. 2017) on Fashion-MNIST: gradient penalty lambda = 10, 5 critic steps,
Adam 1e-4 with betas (0, 0.9); DCGAN players, no BatchNorm in the critic.

Both players start from Flax's LeCun normal kernels, not the DCGAN players' N(0, 0.02): the
authors' tflib layers are scaled by their fan-in too, and at 500 steps, seeds 0 and 1, N(0, 0.02)
read FD 74.8 / 67.5 and recall 0.090 / 0.102 against 60.2 / 59.3 and 0.190 / 0.182 with LeCun
normal (experiments/results/fashion_mnist.md, the WGAN-GP initialization A/B).
"""

from gan_jax import config_base


def get_config():
  config = config_base.wgan_gp(config_base.fashion_mnist())
  config.num_steps = 20000
  config.model.generator.weight_init = "flax"
  config.model.discriminator.weight_init = "flax"
  return config
