"""The players: the seeds' MLPs exactly as printed, DCGAN at 28/32/64 with any channels, toys."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models

KEY = jax.random.PRNGKey(0)


def dense_shapes(params):
  return [tuple(params[name]["kernel"].shape) for name in sorted(params, key=lambda n: int(n.split("_")[1]))
          if name.startswith("Dense")]


def test_seed001_networks_are_as_printed():
  g, d = models.build_models("seed001_mlp", (28, 28, 1))
  g_vars = g.init(KEY, jnp.zeros((2, 64)))
  d_vars = d.init(KEY, jnp.zeros((2, 28, 28, 1)))
  assert dense_shapes(g_vars["params"]) == [(64, 256), (256, 512), (512, 1024), (1024, 784)]
  assert dense_shapes(d_vars["params"]) == [(784, 1024), (1024, 512), (512, 256), (256, 1)]
  x = g.apply(g_vars, jax.random.normal(KEY, (5, 64)))
  assert x.shape == (5, 28, 28, 1) and float(jnp.abs(x).max()) <= 1.0
  # LeakyReLU(0.01) and a tanh output, checked against a NumPy forward pass.
  z = np.asarray(jax.random.normal(KEY, (3, 64)))
  h = z
  p = g_vars["params"]
  for i in range(3):
    h = h @ np.asarray(p[f"Dense_{i}"]["kernel"]) + np.asarray(p[f"Dense_{i}"]["bias"])
    h = np.where(h > 0, h, 0.01 * h)
  out = np.tanh(h @ np.asarray(p["Dense_3"]["kernel"]) + np.asarray(p["Dense_3"]["bias"]))
  np.testing.assert_allclose(np.asarray(g.apply(g_vars, z)).reshape(3, -1), out, atol=2e-5)
  assert d.apply(d_vars, x).shape == (5,)


def test_seed002_networks_are_as_printed_including_batchnorm_eps_0_8():
  g, d = models.build_models("seed002_mlp", (28, 28, 1))
  g_vars = g.init(KEY, jnp.zeros((2, 100)), train=False)
  d_vars = d.init(KEY, jnp.zeros((2, 28, 28, 1)))
  assert dense_shapes(g_vars["params"]) == [(100, 128), (128, 256), (256, 512), (512, 1024), (1024, 784)]
  assert sorted(g_vars["batch_stats"]) == ["BatchNorm_0", "BatchNorm_1", "BatchNorm_2"]
  assert dense_shapes(d_vars["params"]) == [(784, 512), (512, 256), (256, 1)]
  # NumPy forward in training mode: Linear, BatchNorm1d(out, eps=0.8) but the first, LeakyReLU(0.2), tanh.
  z = np.asarray(jax.random.normal(KEY, (16, 100)))
  p = g_vars["params"]
  h = z
  for i in range(4):
    h = h @ np.asarray(p[f"Dense_{i}"]["kernel"]) + np.asarray(p[f"Dense_{i}"]["bias"])
    if i > 0:
      bn = p[f"BatchNorm_{i - 1}"]
      h = (h - h.mean(0)) / np.sqrt(h.var(0) + 0.8) * np.asarray(bn["scale"]) + np.asarray(bn["bias"])
    h = np.where(h > 0, h, 0.2 * h)
  out = np.tanh(h @ np.asarray(p["Dense_4"]["kernel"]) + np.asarray(p["Dense_4"]["bias"]))
  got, _ = g.apply(g_vars, z, train=True, mutable=["batch_stats"])
  np.testing.assert_allclose(np.asarray(got).reshape(16, -1), out, atol=5e-5)


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_produces_each_supported_size(size, channels):
  shape = (size, size, channels)
  g, d = models.build_models("dcgan", shape, options={"generator": {"features": 8},
                                                      "discriminator": {"features": 8}})
  g_vars = g.init(KEY, jnp.zeros((2, 16)), train=False)
  images = g.apply(g_vars, jax.random.normal(KEY, (3, 16)), train=False)
  assert images.shape == (3,) + shape
  assert float(jnp.abs(images).max()) <= 1.0
  d_vars = d.init(KEY, images, train=False)
  assert d.apply(d_vars, images, train=False).shape == (3,)
  # All-convolutional: no pooling, BatchNorm in G only (by default).
  assert "batch_stats" in g_vars and "batch_stats" not in d_vars
  assert not any("Pool" in name for name in g_vars["params"])


def test_dcgan28_matches_the_benchmark_architecture():
  g, d = models.build_models("dcgan", (28, 28, 1))
  p = g.init(KEY, jnp.zeros((2, 100)), train=False)["params"]
  assert p["Dense_0"]["kernel"].shape == (100, 7 * 7 * 256)
  assert [p[f"ConvTranspose_{i}"]["kernel"].shape for i in range(3)] == [
      (5, 5, 256, 128), (5, 5, 128, 64), (5, 5, 64, 1)]
  dp = d.init(KEY, jnp.zeros((2, 28, 28, 1)), train=False)["params"]
  assert [dp[f"Conv_{i}"]["kernel"].shape for i in range(2)] == [(5, 5, 1, 64), (5, 5, 64, 128)]
  assert dp["Dense_0"]["kernel"].shape == (7 * 7 * 128, 1)


def test_dcgan_rejects_an_unsupported_shape():
  g, _ = models.build_models("dcgan", (30, 30, 1))
  with pytest.raises(ValueError, match=r"DCGAN image shape \(30, 30, 1\) is not supported"):
    g.init(KEY, jnp.zeros((1, 8)), train=False)


@pytest.mark.parametrize("dim", [1, 2])
def test_toy_players(dim):
  g, d = models.build_models("toy_mlp", (dim,), options={"generator": {"hidden": (8,)}})
  g_vars = g.init(KEY, jnp.zeros((2, 4)))
  x = g.apply(g_vars, jnp.ones((7, 4)))
  assert x.shape == (7, dim)
  assert d.apply(d.init(KEY, x), x).shape == (7,)


def test_unknown_model_and_option_errors():
  with pytest.raises(ValueError, match="model 'resnet' is unknown; accepted: seed001_mlp"):
    models.build_models("resnet", (2,))
  with pytest.raises(ValueError, match="bad option for model 'toy_mlp'"):
    models.build_models("toy_mlp", (2,), options={"generator": {"widths": (3,)}})
