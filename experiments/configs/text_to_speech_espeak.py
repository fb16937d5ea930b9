"""Text-to-speech GAN (after Yang et al. 2017) on espeak-ng speech made here.

Data: python experiments/make_speech.py --out ~/.cache/gan_jax/speech (800 training and 50
held-out sentences, 4 voices, 16 kHz, 40 log-mel bins, 128 frames of 16 ms). G: 8 residual
dilated 1-D convolutions over frames (64 features); D: PatchGAN (16 features, 2 layers) on the
spectrogram. G loss = 1 * non-saturating adversarial + 10 * L1 on the scaled log-mels; Adam
2e-4, beta1 0.5 (pix2pix's). Baseline: --config.variant.adversarial_weight=0 (L1 alone).
"""

import os

from gan_jax import config_base


def get_config():
  config = config_base.base()
  config.data = {
    "source": "speech",
    "name": "espeak",
    "path": os.path.expanduser("~/.cache/gan_jax/speech/train.npz"),
  }
  config.model = {
    "name": "text_to_speech",
    "generator": {"features": 64, "kernel_size": 3, "dilations": (1, 2, 4, 8, 1, 2, 4, 8)},
    "discriminator": {"features": 16, "num_layers": 2},
  }
  config.recipe = "text_to_speech"
  config.variant = {
    "adversarial_weight": 1.0,
    "reconstruction_weight": 10.0,
    "reconstruction": "l1",
  }
  config.g_optimizer = config_base.adam(2e-4, b1=0.5)
  config.d_optimizer = config_base.adam(2e-4, b1=0.5)
  config.num_steps = 2000
  config.batch_size = 32
  config.log_every = 100
  config.sample_every = 1000
  config.checkpoint_every = 500
  config.keep_checkpoints = 2
  config.num_sample_images = 16
  return config
