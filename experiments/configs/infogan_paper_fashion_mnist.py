"""InfoGAN on Fashion-MNIST with the paper's MNIST setup (Chen et al. 2016, appendix C.1, and
the authors' code, openai/InfoGAN launchers/run_mnist_exp.py).

Players 'infogan_mnist': D conv 64, conv 128 BN, FC 1024 BN (the body Q shares), FC 1; Q
FC 128 BN on that body; G FC 1024 BN, FC 7x7x128 BN, deconv 64 BN, deconv 1. z: 62 U[-1, 1]
values; codes: one 10-way categorical and two U[-1, 1] continuous, all with weight 1 (the
authors' info_reg_coeff). Adam beta1 0.5, G 1e-3, D 2e-4. Batch 64 (the authors' code takes
128; 64 halves the work on a CPU); 5,000 steps (their 50 epochs of 100 updates).

experiments/infogan_codes.py measures how well the categorical code matches the class.
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.batch_size = 64
  config.num_steps = 5000
  config.model.name = "infogan_mnist"
  config.model.latent_dim = 62
  config.model.noise = "uniform"
  config.model.generator = {}
  config.model.discriminator = {}
  config.recipe = "infogan"
  config.variant = {
    "num_categories": 10,
    "num_continuous": 2,
    "info_weight": 1.0,
    "continuous_weight": 1.0,
    "q_hidden": 128,
    "q_batch_norm": True,
  }
  config.g_optimizer = config_base.adam(1e-3)
  config.d_optimizer = config_base.adam(2e-4)
  config.sample_every = 500
  config.checkpoint_every = 500
  config.keep_checkpoints = 10
  return config
