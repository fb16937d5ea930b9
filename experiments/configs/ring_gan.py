"""Vanilla GAN (non-saturating loss) on PacGAN's ring of 8 Gaussians.

The embedded default of the README: no download, about a minute on 2 CPU cores.
Networks as in PacGAN's mixture experiments scaled to 2 x 128 tanh units.
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
  config.loss = "non_saturating"
  config.d_steps = 1
  config.gradient_penalty_weight = 0.0
  config.r1_weight = 0.0
  config.clip_value = 0.0
  config.reuse_fakes = False  # Algorithm 1: fresh noise for the generator step
  config.g_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 1e-3, "b1": 0.5, "b2": 0.999})
  config.d_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 1e-3, "b1": 0.5, "b2": 0.999})
  config.ema_decay = 0.0
  config.nonfinite = "stop"  # NaN/Inf in a loss, gradient or parameter: stop, or "skip" the update
  config.parallel = "none"  # or "pmap" / "shard_map": all devices share batch_size
  config.log_every = 100
  config.sample_every = 2000
  config.checkpoint_every = 5000
  config.keep_checkpoints = 3
  config.num_sample_images = 64
  return config
