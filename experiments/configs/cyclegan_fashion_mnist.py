"""CycleGAN (Zhu et al. 2017) on Fashion-MNIST: sandals (class 5) <-> sneakers (class 7), unpaired.

Two U-Net generators, two PatchGAN discriminators, least-squares GAN loss,
cycle weight 3 (the paper's 10 kept the translations too close to their inputs),
no identity loss, Adam 2e-4 beta1 0.5 decaying linearly to 0 over the 10,000
steps (the paper holds it for half the run, then decays it to 0).
Sandals and sneakers share a silhouette and differ in texture (straps and gaps
against a closed upper), the kind of change CycleGAN makes well; an earlier
sneakers <-> ankle boots task with identity weight 5 stayed near the identity
(experiments/results/image_to_image.md).
"""

from gan_jax import config_base


def get_config():
  config = config_base.fashion_mnist()
  config.data.update({"source": "image_to_image", "task": "unpaired", "domains": (5, 7)})
  config.model = {
    "name": "cyclegan",
    "generator": {"depth": 2, "features": 16},
    "discriminator": {"features": 16, "num_layers": 2},
  }
  config.recipe = "cyclegan"
  config.variant = {"cycle_weight": 3.0, "identity_weight": 0.0}
  config.loss = "least_squares"
  config = config_base.image_to_image_schedule(config)
  config.num_steps = 10000
  for optimizer in (config.g_optimizer, config.d_optimizer):
    optimizer.update({"schedule": "linear", "decay_steps": 10000})
  config.batch_size = 16
  return config
