"""DCGAN (Radford et al.) on Fashion-MNIST 28x28: the generator of benchmarks' dcgan28.

Adam 2e-4, beta1 0.5 (the paper's), batch 64, z = 100.
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.reuse_fakes = True  # one generator forward per step, as PyTorch's DCGAN example
  return config
