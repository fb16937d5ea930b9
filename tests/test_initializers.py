"""Weight initializations: the DCGAN players start as Radford et al.'s, the seed-002 MLP as
PyTorch's defaults, and a config can name another.

The DCGAN default is a cause found by A/B runs against PyTorch
(experiments/results/dcgan_vs_pytorch.md): with Flax's LeCun normal kernels, D's first
layer starts 10x larger than N(0, 0.02) and the run reaches about twice the FD.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models
from gan_jax.models import initializers

KEY = jax.random.PRNGKey(0)


def leaves_named(params, name):
  """[(path, array)] of every parameter called `name` (kernel, bias, scale)."""
  found = []
  for path, leaf in jax.tree_util.tree_leaves_with_path(params):
    if path[-1].key == name:
      found.append((jax.tree_util.keystr(path), np.asarray(leaf)))
  return found


LAX_LAYERS = {
  "generator": {"first_conv": "lax", "conv_transpose": "lax"},
  "discriminator": {"strided_conv": "lax"},
}  # cheapest to initialize; same parameters


def dcgan_params(weight_init=None, image_shape=(28, 28, 1)):
  options = {
    player: {**layers, **({"weight_init": weight_init} if weight_init else {})}
    for player, layers in LAX_LAYERS.items()
  }
  g, d = models.build_models("dcgan", image_shape, options=options)
  g_params = jax.jit(g.init)(KEY, jnp.zeros((2, 100)))["params"]
  d_params = jax.jit(d.init)(KEY, jnp.zeros((2,) + image_shape))["params"]
  return g_params, d_params


def test_dcgan_players_start_as_radford_et_al():
  """Fails if any DCGAN kernel keeps Flax's LeCun normal (D's first layer: std 0.2 at 28x28),
  if BatchNorm scales start at exactly 1, or if a bias starts non-zero."""
  image_shape = (28, 28, 1)
  for params in dcgan_params(image_shape=image_shape):
    kernels = leaves_named(params, "kernel")
    assert len(kernels) >= 3
    for path, kernel in kernels:
      assert abs(kernel.std() - 0.02) < 0.002, (path, kernel.std())
      assert abs(kernel.mean()) < 0.002, (path, kernel.mean())
    for path, bias in leaves_named(params, "bias"):
      assert not bias.any(), path
  g_params, _ = dcgan_params(image_shape=image_shape)
  scales = np.concatenate([s for _, s in leaves_named(g_params, "scale")])
  assert abs(scales.mean() - 1.0) < 0.002 and abs(scales.std() - 0.02) < 0.002


def test_a_config_can_name_flax_defaults():
  """'flax' gives LeCun normal kernels: D's first 5x5x1 kernel has std 1/sqrt(25) = 0.2."""
  _, d_params = dcgan_params("flax")
  assert abs(d_params["Conv_0"]["kernel"].std() - 0.2) < 0.02


def test_pytorch_gan_mlp_starts_as_pytorch_defaults():
  """PyTorch's nn.Linear: kernel and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  Fails if the seed's MLP keeps Flax's defaults (LeCun normal kernels, zero biases)."""
  g, d = models.build_models("pytorch_gan_mlp", (28, 28, 1))
  for module, x in ((g, jnp.zeros((2, 100))), (d, jnp.zeros((2, 28, 28, 1)))):
    params = jax.jit(module.init)(KEY, x)["params"]
    for name, layer in params.items():
      if not name.startswith("Dense"):
        continue
      fan_in = layer["kernel"].shape[0]
      bound = 1 / math.sqrt(fan_in)
      kernel = np.asarray(layer["kernel"])
      assert np.abs(kernel).max() <= bound
      assert abs(kernel.std() - bound / math.sqrt(3)) < 0.05 * bound, name  # uniform's std
      bias = np.asarray(layer["bias"])
      assert np.abs(bias).max() <= bound and (bias.size == 1 or bias.std() > 0.3 * bound), name


def test_an_unknown_initialization_is_refused_in_one_line():
  with pytest.raises(ValueError, match="init 'he' is unknown; accepted: radford, pytorch, flax"):
    models.build_models("dcgan", (28, 28, 1), options={"generator": {"weight_init": "he"}})
  assert initializers.get("radford") is initializers.RADFORD


def test_wgan_gp_fashion_mnist_players_start_from_fan_in_scaled_kernels():
  """The WGAN-GP config starts both players from LeCun normal (std 1/sqrt(fan_in)), as the
  authors' tflib layers are fan-scaled: with the DCGAN players' N(0, 0.02) its 500-step FD was
  74.8 / 67.5 against 60.2 / 59.3 (seeds 0 / 1, experiments/results/fashion_mnist.md).
  Fails if the config falls back to N(0, 0.02) (D's first kernel: std 0.02, not 0.2)."""
  from gan_jax import recipes
  from tests.conftest import load_experiment_config

  config = load_experiment_config("wgan_gp_fashion_mnist")
  state = recipes.recipe_of(config).create_state(config, (28, 28, 1))
  for params in (state.g_params, state.d_params):
    kernels = leaves_named(params, "kernel")
    assert len(kernels) >= 3
    for path, kernel in kernels:
      fan_in = math.prod(kernel.shape[:-1])
      assert abs(kernel.std() * math.sqrt(fan_in) - 1.0) < 0.15, (path, kernel.std())
  assert abs(state.d_params["Conv_0"]["kernel"].std() - 0.2) < 0.02
