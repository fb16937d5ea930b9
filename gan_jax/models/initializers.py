"""Weight initializations by name, chosen when models are built
(`config.model.generator.weight_init`, `.discriminator.weight_init`).

An `Initialization` names the three initializers a player needs: its layers'
kernels, their biases (a function of the layer's fan-in, since PyTorch's default
bias depends on it) and BatchNorm scales.

- 'radford': Radford et al. (DCGAN, sec. 4) and PyTorch's DCGAN example's
  `weights_init`: every kernel from N(0, 0.02), BatchNorm scales from N(1, 0.02),
  biases 0. The DCGAN players' default: with Flax's LeCun normal kernels instead,
  DCGAN-28 on Fashion-MNIST reaches about twice the FD and half the recall of the
  same PyTorch networks (experiments/results/dcgan_vs_pytorch.md).
- 'pytorch': PyTorch's defaults for nn.Linear / nn.Conv2d (kaiming_uniform with
  a = sqrt(5), i.e. kernels from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases from the same
  range), BatchNorm scales 1. The seeds' MLPs are printed as PyTorch code with these.
  (PyTorch's ConvTranspose2d counts its fan-in over output channels; here a kernel's
  fan-in is always over its input channels.)
- 'flax': Flax's defaults: LeCun normal kernels, zero biases, BatchNorm scales 1.
- 'pacgan': PacGAN's 2-D mixture code (fjxmlzn/PacGAN, synthetic_data_experiments/*/config.py:
  weights_init_std 0.02, biases_init Constant(0.0)): Blocks' IsotropicGaussian(0.02) kernels,
  zero biases, and BatchNorm scales 1 (Blocks' BatchNormalization takes no pushed
  initialization and starts its scale at Constant(1)).
- 'metz': Metz et al. 2017 (Unrolled GAN), appendix A: orthogonal kernels scaled by 0.8,
  zero biases.
- 'tflib': WGAN-GP's gan_toy.py (igul222/improved_wgan_training, tflib/ops/linear.py):
  its ReLU layers use initialization='he', U(+-sqrt(3) * sqrt(2 / fan_in)); its output
  layer the default 'glorot', U(+-sqrt(3) * sqrt(2 / (fan_in + fan_out))); biases 0.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from flax import linen as nn

Initializer = Callable[..., jax.Array]


def normal_around_one(stddev: float) -> Initializer:
  """1 + N(0, stddev^2) per entry (BatchNorm scales in Radford et al.)."""

  def init(key, shape, dtype=jnp.float32):
    return 1.0 + stddev * jax.random.normal(key, shape, dtype)

  return init


def symmetric_uniform(limit: float) -> Initializer:
  """U(-limit, limit) per entry."""

  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -limit, limit)

  return init


def _zero_bias(fan_in: int) -> Initializer:
  del fan_in
  return nn.initializers.zeros_init()


def _pytorch_bias(fan_in: int) -> Initializer:
  return symmetric_uniform(1.0 / math.sqrt(fan_in))


class Initialization(NamedTuple):
  """kernel: initializer of dense and convolution kernels; bias: fan_in -> the bias's
  initializer; scale: initializer of BatchNorm scales; output_kernel: the output layer's
  kernels where they differ from the others (players that have one output layer ask
  `output_kernel_init`)."""

  kernel: Initializer
  bias: Callable[[int], Initializer]
  scale: Initializer
  output_kernel: Initializer | None = None

  @property
  def output_kernel_init(self) -> Initializer:
    return self.kernel if self.output_kernel is None else self.output_kernel


RADFORD = Initialization(nn.initializers.normal(0.02), _zero_bias, normal_around_one(0.02))
PYTORCH = Initialization(
  nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform"),
  _pytorch_bias,
  nn.initializers.ones_init(),
)
FLAX = Initialization(nn.initializers.lecun_normal(), _zero_bias, nn.initializers.ones_init())
PACGAN = Initialization(nn.initializers.normal(0.02), _zero_bias, nn.initializers.ones_init())
METZ = Initialization(nn.initializers.orthogonal(0.8), _zero_bias, nn.initializers.ones_init())
TFLIB = Initialization(
  nn.initializers.variance_scaling(2.0, "fan_in", "uniform"),
  _zero_bias,
  nn.initializers.ones_init(),
  output_kernel=nn.initializers.variance_scaling(1.0, "fan_avg", "uniform"),
)

INITIALIZATIONS: dict[str, Initialization] = {
  "radford": RADFORD,
  "pytorch": PYTORCH,
  "flax": FLAX,
  "pacgan": PACGAN,
  "metz": METZ,
  "tflib": TFLIB,
}


def get(name: str) -> Initialization:
  """The initialization called `name`; raises a one-line error naming the choices."""
  if name not in INITIALIZATIONS:
    raise ValueError(f"init {name!r} is unknown; accepted: {', '.join(INITIALIZATIONS)}")
  return INITIALIZATIONS[name]
