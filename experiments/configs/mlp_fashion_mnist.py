"""The seeds' MLP GAN (seed 002: BatchNorm generator, 512-256 discriminator) on Fashion-MNIST.

Data: Debian's dataset-fashion-mnist idx files. Adam 2e-4, betas (0.5, 0.999),
batch 64, z = 100, as in PyTorch-GAN's gan.py that the seed prints.
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.num_steps = 20000
  config.model = {
    "name": "pytorch_gan_mlp",
    "latent_dim": 100,
    "noise": "normal",
    "generator": {},
    "discriminator": {},
  }
  config.reuse_fakes = True  # one generator forward per step, as in the seed's PyTorch loop
  config.log_every = 100
  config.sample_every = 1000
  config.checkpoint_every = 2000
  return config
