"""InfoGAN (Chen et al. 2016) on Fashion-MNIST: z of 62, one 10-way categorical code and two
U[-1, 1] continuous codes (the paper's MNIST setting), Q head of 128 units on D's features.

experiments/infogan_codes.py draws the figure varying each code from a trained run. With these
DCGAN players the categorical code does not capture the class (13.6% code-to-class matching,
results/variants_fashion_mnist.md); infogan_paper_fashion_mnist.py, the paper's setup, does
(results/infogan.md).
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.model.latent_dim = 62
  config.recipe = "infogan"
  config.variant = {
    "num_categories": 10,
    "num_continuous": 2,
    "info_weight": 1.0,
    "continuous_weight": 1.0,
    "q_hidden": 128,
  }
  return config
