"""DCGAN (Radford et al.) on Fashion-MNIST 28x28: the generator of benchmarks' dcgan28.

Adam 2e-4, beta1 0.5 (the paper's), batch 64, z = 100.
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 5000
  config.batch_size = 64
  config.data = ml_collections.ConfigDict({
      "source": "idx", "name": "fashion_mnist", "path": "/usr/share/datasets/fashion-mnist",
      "split": "train"})
  config.model = ml_collections.ConfigDict({
      "name": "dcgan", "latent_dim": 100, "noise": "normal",
      "generator": {"features": 64, "kernel_size": 5, "activation": "leaky_relu"},
      "discriminator": {"features": 64, "kernel_size": 5, "batch_norm": False}})
  config.loss = "non_saturating"
  config.d_steps = 1
  config.gradient_penalty_weight = 0.0
  config.r1_weight = 0.0
  config.clip_value = 0.0
  config.reuse_fakes = True  # one generator forward per step, as PyTorch DCGAN example
  config.g_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 2e-4, "b1": 0.5, "b2": 0.999})
  config.d_optimizer = ml_collections.ConfigDict({"name": "adam", "learning_rate": 2e-4, "b1": 0.5, "b2": 0.999})
  config.ema_decay = 0.0
  config.nonfinite = "stop"  # NaN/Inf in a loss, gradient or parameter: stop, or "skip" the update
  config.parallel = "none"  # or "pmap" / "shard_map": all devices share batch_size
  config.log_every = 50
  config.sample_every = 500
  config.checkpoint_every = 1000
  config.keep_checkpoints = 3
  config.num_sample_images = 64
  return config
