"""PacGAN2 (Lin et al. 2018) on the ring of 8: D judges packs of 2 samples; networks and
optimizers of ring_gan.py. PacGAN3/PacGAN4: --config.variant.pack_size=3 (batch 255) or 4.
PacGAN's grid: --config.data.name=grid25.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 20000
  config.batch_size = 256
  config.data = ml_collections.ConfigDict({"source": "toy", "name": "ring8", "path": "", "split": "train"})
  config.model = ml_collections.ConfigDict({
      "name": "toy_mlp",
      "latent_dim": 16,
      "noise": "normal",
      "generator": {"hidden": (128, 128), "activation": "relu"},
      "discriminator": {"hidden": (128, 128), "activation": "relu"},
  })
  config.recipe = "pacgan"
  config.variant = ml_collections.ConfigDict({"pack_size": 2})
  config.loss = "non_saturating"
  config.d_steps = 1
  config.gradient_penalty_weight = 0.0
  config.r1_weight = 0.0
  config.clip_value = 0.0
  config.augment = ""
  config.g_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 1e-3, "b1": 0.5, "b2": 0.999})
  config.d_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 1e-3, "b1": 0.5, "b2": 0.999})
  config.ema_decay = 0.0
  config.log_every = 100
  config.sample_every = 2000
  config.checkpoint_every = 5000
  config.keep_checkpoints = 3
  config.num_sample_images = 64
  return config
