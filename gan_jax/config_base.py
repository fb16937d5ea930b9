"""The shared starting points of experiment configs (ml_collections), so that each file
in experiments/configs/ states only what makes its experiment different.

Every config has `seed`, `num_steps` and `batch_size`; the fields every run sets are in
`base()`, with their defaults. Optional fields (`diagnostics`, `distributed`, `init_from`,
`resume_may_change`, models' and data sources' own options) and every field's rule are in
`gan_jax.validation`.
"""

from __future__ import annotations

import ml_collections

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


def adam(
  learning_rate: float, b1: float = 0.5, b2: float = 0.999, **extra
) -> ml_collections.ConfigDict:
  return ml_collections.ConfigDict(
    {"name": "adam", "learning_rate": learning_rate, "b1": b1, "b2": b2, **extra}
  )


def base() -> ml_collections.ConfigDict:
  """The fields every run sets, with their defaults (the optional ones: `gan_jax.validation`)."""
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 10000
  config.batch_size = 64
  config.data = ml_collections.ConfigDict(
    {"source": "toy", "name": "ring8", "path": "", "split": "train"}
  )
  # noise_categories C > 0: z = [one-hot code of C equally likely values, latent_dim of noise]
  config.model = ml_collections.ConfigDict(
    {
      "name": "toy_mlp",
      "latent_dim": 16,
      "noise": "normal",
      "noise_categories": 0,
      "generator": {},
      "discriminator": {},
    }
  )
  config.recipe = (
    "gan"  # a registered recipe: gan, conditional, acgan, infogan, unrolled, pacgan, ...
  )
  config.variant = ml_collections.ConfigDict()  # the recipe's own options
  config.loss = "non_saturating"  # minimax, non_saturating, wasserstein, hinge, least_squares
  config.d_steps = 1  # k of Algorithm 1
  config.gradient_penalty_weight = 0.0  # WGAN-GP lambda
  config.r1_weight = 0.0  # R1 gamma
  config.r1_decay_steps = 0  # N > 0: gamma decays to 0 along a cosine over N generator steps
  config.clip_value = 0.0  # WGAN weight clipping c
  config.reuse_fakes = (
    False  # True: one generator forward serves both players (PyTorch's DCGAN example)
  )
  config.augment = ""  # DiffAugment policy, e.g. "color,translation,cutout"
  config.g_optimizer = adam(2e-4)
  config.d_optimizer = adam(2e-4)
  config.ema_decay = 0.0  # generator EMA; sampling uses it when > 0
  # BatchNorm statistics of the EMA generator when sampling: "recomputed" from 16 batches of
  # its own samples (standing statistics), or "averaged" (the EMA of the online statistics)
  config.sampling_statistics = "recomputed"
  config.parallel = "none"  # or "pmap" / "shard_map" / "jit": all devices share batch_size
  # "bfloat16": both players compute in bf16 (mixed precision); parameters, optimizer
  # states, losses and the non-finite guard stay float32.
  config.dtype = "float32"
  config.steps_per_call = 1  # train steps fused into one compiled call (pays for small models)
  # On CPU, freed host memory stays in the process (gan_jax.host_memory): the compiled step's
  # temporaries are not page-faulted again at every call. Same bits either way.
  config.retain_host_memory = True
  config.nonfinite = (
    "stop"  # NaN/Inf in a loss, gradient or parameters: "stop", or "skip" the update
  )
  config.log_every = 100
  config.sample_every = 1000
  config.checkpoint_every = 1000
  config.keep_checkpoints = 3
  config.num_sample_images = 64
  return config


def ring() -> ml_collections.ConfigDict:
  """PacGAN's ring of 8 Gaussians with 2 x 128 ReLU players, Adam 1e-3, 10 steps per call."""
  config = base()
  config.num_steps = 20000
  config.batch_size = 256
  config.model.generator = {"hidden": (128, 128), "activation": "relu"}
  config.model.discriminator = {"hidden": (128, 128), "activation": "relu"}
  config.g_optimizer = adam(1e-3)
  config.d_optimizer = adam(1e-3)
  config.steps_per_call = 10
  config.sample_every = 2000
  config.checkpoint_every = 5000
  return config


def fashion_mnist() -> ml_collections.ConfigDict:
  """Fashion-MNIST from Debian's idx files with DCGAN players (Radford et al.'s Adam 2e-4, beta1
  0.5)."""
  config = base()
  config.num_steps = 5000
  config.data = ml_collections.ConfigDict(
    {"source": "idx", "name": "fashion_mnist", "path": FASHION_MNIST_DIR, "split": "train"}
  )
  config.model = ml_collections.ConfigDict(
    {
      "name": "dcgan",
      "latent_dim": 100,
      "noise": "normal",
      "noise_categories": 0,
      "generator": {"features": 64, "kernel_size": 5, "activation": "leaky_relu"},
      "discriminator": {"features": 64, "kernel_size": 5, "batch_norm": False},
    }
  )
  config.log_every = 50
  config.sample_every = 500
  config.num_sample_images = 100
  return config


def wgan(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Arjovsky et al.: critic clipped to c = 0.01, 5 critic steps, RMSProp 5e-5."""
  config.loss = "wasserstein"
  config.d_steps = 5
  config.clip_value = 0.01
  config.g_optimizer = ml_collections.ConfigDict({"name": "rmsprop", "learning_rate": 5e-5})
  config.d_optimizer = ml_collections.ConfigDict({"name": "rmsprop", "learning_rate": 5e-5})
  return config


def wgan_gp(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Gulrajani et al.: gradient penalty lambda = 10, 5 critic steps, Adam 1e-4, betas (0, 0.9)."""
  config.loss = "wasserstein"
  config.d_steps = 5
  config.gradient_penalty_weight = 10.0
  config.g_optimizer = adam(1e-4, b1=0.0, b2=0.9)
  config.d_optimizer = adam(1e-4, b1=0.0, b2=0.9)
  return config


def image_to_image_schedule(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Short image-to-image runs: 2000 steps of batch 32, pictures of 16 examples."""
  config.num_steps = 2000
  config.batch_size = 32
  config.sample_every = 1000
  config.keep_checkpoints = 2
  config.num_sample_images = 16
  return config


def karras_schedule(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Karras et al.'s Adam (1e-3, betas (0, 0.99)), R1 gamma 1, batch 32, 4000 steps."""
  config.num_steps = 4000
  config.batch_size = 32
  config.checkpoint_every = 500
  config.num_sample_images = 64
  config.r1_weight = 1.0
  config.g_optimizer = adam(1e-3, b1=0.0, b2=0.99)
  config.d_optimizer = adam(1e-3, b1=0.0, b2=0.99)
  return config


def tfds_images(
  name: str, image_size: int = 0, pipeline: str = "device"
) -> ml_collections.ConfigDict:
  """A tensorflow-datasets image dataset (train split) with DCGAN players, for a GPU: 100,000
  steps of batch 64, Radford et al.'s Adam 2e-4 (0.5, 0.999), a sample grid and a
  checkpoint every 5,000 steps. The dataset must be prepared (`tfds build NAME`) or
  `--config.data.download=True` given."""
  config = base()
  config.num_steps = 100000
  config.batch_size = 64
  config.data = ml_collections.ConfigDict(
    {"source": "tfds", "name": name, "split": "train", "pipeline": pipeline, "download": False}
  )
  if image_size:
    config.data.image_size = image_size
  config.model = ml_collections.ConfigDict(
    {
      "name": "dcgan",
      "latent_dim": 128,
      "noise": "normal",
      "noise_categories": 0,
      "generator": {"features": 64, "kernel_size": 5, "activation": "relu"},
      "discriminator": {"features": 64, "kernel_size": 5, "batch_norm": False},
    }
  )
  config.log_every = 100
  config.sample_every = 5000
  config.checkpoint_every = 5000
  config.num_sample_images = 64
  return config


def sngan(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """Miyato et al. 2018: spectral normalization on every discriminator layer, the hinge loss,
  Adam 1e-4 with betas (0.5, 0.9) and 5 discriminator steps (their Table 1, setting A)."""
  config.model.discriminator.spectral_norm = True
  config.loss = "hinge"
  config.d_steps = 5
  config.g_optimizer = adam(1e-4, b1=0.5, b2=0.9)
  config.d_optimizer = adam(1e-4, b1=0.5, b2=0.9)
  return config
