"""The players: the seed documents' MLPs exactly as printed, DCGAN at 28/32/64 with any
channels, toys."""

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import builders, models, validation
from tests.conftest import tiny_ring_config

KEY = jax.random.PRNGKey(0)


def dense_shapes(params):
  return [
    tuple(params[name]["kernel"].shape)
    for name in sorted(params, key=lambda n: int(n.split("_")[1]))
    if name.startswith("Dense")
  ]


def test_plain_mlp_networks_are_as_seed_document_001_prints_them():
  g, d = models.build_models("plain_mlp", (28, 28, 1))
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


def test_pytorch_gan_mlp_networks_are_as_seed_document_002_prints_them_with_eps_0_8():
  g, d = models.build_models("pytorch_gan_mlp", (28, 28, 1))
  g_vars = g.init(KEY, jnp.zeros((2, 100)), train=False)
  d_vars = d.init(KEY, jnp.zeros((2, 28, 28, 1)))
  assert dense_shapes(g_vars["params"]) == [
    (100, 128),
    (128, 256),
    (256, 512),
    (512, 1024),
    (1024, 784),
  ]
  assert sorted(g_vars["batch_stats"]) == ["BatchNorm_0", "BatchNorm_1", "BatchNorm_2"]
  assert dense_shapes(d_vars["params"]) == [(784, 512), (512, 256), (256, 1)]
  # NumPy forward in training mode: Linear, BatchNorm1d(out, eps=0.8) but the first,
  # LeakyReLU(0.2), tanh.
  z = np.asarray(jax.random.normal(KEY, (16, 100)))
  p = g_vars["params"]
  h = z
  for i in range(4):
    h = h @ np.asarray(p[f"Dense_{i}"]["kernel"]) + np.asarray(p[f"Dense_{i}"]["bias"])
    if i > 0:
      bn = p[f"BatchNorm_{i - 1}"]
      h = (h - h.mean(0)) / np.sqrt(h.var(0) + 0.8) * np.asarray(bn["scale"]) + np.asarray(
        bn["bias"]
      )
    h = np.where(h > 0, h, 0.2 * h)
  out = np.tanh(h @ np.asarray(p["Dense_4"]["kernel"]) + np.asarray(p["Dense_4"]["bias"]))
  got, _ = g.apply(g_vars, z, train=True, mutable=["batch_stats"])
  np.testing.assert_allclose(np.asarray(got).reshape(16, -1), out, atol=5e-5)


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_produces_each_supported_size(size, channels):
  shape = (size, size, channels)
  g, d = models.build_models(
    "dcgan", shape, options={"generator": {"features": 8}, "discriminator": {"features": 8}}
  )
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
    (5, 5, 256, 128),
    (5, 5, 128, 64),
    (5, 5, 64, 1),
  ]
  dp = d.init(KEY, jnp.zeros((2, 28, 28, 1)), train=False)["params"]
  assert [dp[f"Conv_{i}"]["kernel"].shape for i in range(2)] == [(5, 5, 1, 64), (5, 5, 64, 128)]
  assert dp["Dense_0"]["kernel"].shape == (7 * 7 * 128, 1)


def test_dcgan_rejects_an_unsupported_shape():
  with pytest.raises(ValueError, match=r"DCGAN image shape \(30, 30, 1\) is not supported"):
    models.build_models("dcgan", (30, 30, 1))  # when built, before anything is traced
  with pytest.raises(ValueError, match=r"DCGAN image shape \(30, 30, 1\) is not supported"):
    models.DCGANGenerator((30, 30, 1)).init(KEY, jnp.zeros((1, 8)), train=False)


@pytest.mark.parametrize("size", [28, 32, 64])
def test_auto_layer_formulations_are_the_cpu_forms_on_cpu_and_lax_elsewhere(size):
  shape = (size, size, 3)
  # On CPU: the first layer by DFT for 5x5 kernels (the 7x7 or 4x4 map), not for 3x3 ones.
  assert models.layer_formulations("cpu", shape, 5) == {
    "first_conv": "fourier",
    "conv_transpose": "phases",
    "strided_conv": "phase_gradient",
  }
  assert models.layer_formulations("cpu", shape, 3) == {
    "first_conv": "lax",
    "conv_transpose": "phases",
    "strided_conv": "phase_gradient",
  }
  lax = {"first_conv": "lax", "conv_transpose": "lax", "strided_conv": "lax"}
  for backend in ("gpu", "tpu"):
    for kernel in (3, 5):
      assert models.layer_formulations(backend, shape, kernel) == lax


def test_build_models_resolves_auto_for_the_backend_and_keeps_explicit_choices(monkeypatch):
  fields = lambda g, d: (g.first_conv, g.conv_transpose, d.strided_conv)
  on_cpu = ("fourier", "phases", "phase_gradient")
  monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
  assert fields(*models.build_models("dcgan", (32, 32, 1))) == on_cpu
  auto = {"first_conv": "auto", "conv_transpose": "auto"}
  assert fields(
    *models.build_models(
      "dcgan",
      (28, 28, 1),
      options={"generator": dict(auto, kernel_size=3), "discriminator": {"strided_conv": "auto"}},
    )
  ) == ("lax", "phases", "phase_gradient")
  monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
  assert (
    fields(*models.build_models("dcgan", (32, 32, 1), options={"generator": auto})) == ("lax",) * 3
  )
  explicit = {
    "generator": {"first_conv": "fourier", "conv_transpose": "subpixel"},
    "discriminator": {"strided_conv": "phases"},
  }
  assert fields(*models.build_models("dcgan", (32, 32, 1), options=explicit)) == (
    "fourier",
    "subpixel",
    "phases",
  )


def test_no_model_asks_for_the_backend(monkeypatch):
  models_dir = pathlib.Path(models.__file__).parent
  for path in models_dir.glob("*.py"):
    if path.name != "__init__.py":  # build_models asks, once, when it builds
      assert "default_backend" not in path.read_text(), path.name

  def refuse():
    raise AssertionError("a model asked for the backend")

  for shape in [(28, 28, 1), (32, 32, 3)]:
    g, d = models.build_models(
      "dcgan", shape, options={"generator": {"features": 8}, "discriminator": {"features": 16}}
    )
    monkeypatch.setattr(jax, "default_backend", refuse)
    g_vars = g.init(KEY, jnp.zeros((2, 16)), train=False)
    images, _ = g.apply(g_vars, jnp.ones((2, 16)), mutable=["batch_stats"])
    d.apply(d.init(KEY, images), images)
    monkeypatch.undo()


@pytest.mark.parametrize("dim", [1, 2])
def test_toy_players(dim):
  g, d = models.build_models("toy_mlp", (dim,), options={"generator": {"hidden": (8,)}})
  g_vars = g.init(KEY, jnp.zeros((2, 4)))
  x = g.apply(g_vars, jnp.ones((7, 4)))
  assert x.shape == (7, dim)
  assert d.apply(d.init(KEY, x), x).shape == (7,)


def test_unknown_model_and_option_errors():
  with pytest.raises(ValueError, match="model 'resnet' is unknown; accepted: plain_mlp"):
    models.build_models("resnet", (2,))
  with pytest.raises(ValueError, match="bad option for model 'toy_mlp'"):
    models.build_models("toy_mlp", (2,), options={"generator": {"widths": (3,)}})


@pytest.mark.parametrize("old, new", sorted(models.MODEL_ALIASES.items()))
def test_a_former_model_name_still_validates_and_builds_the_same_players(old, new):
  """A config of a run written before the rename (model.name 'seed002_mlp') still loads.

  Fails if the alias is dropped from validation or from build_models, or points elsewhere.
  """
  states = []
  for name in (old, new):
    config = tiny_ring_config(model__name=name, batch_size=8)
    config.model.generator, config.model.discriminator = {"hidden": (8, 8)}, {"hidden": (8,)}
    validation.validate_config(config, num_devices=1)
    states.append(builders.create_state_from_config(config, (4, 4, 1)))
  assert type(states[0].g_apply_fn.__self__) is type(states[1].g_apply_fn.__self__)
  for a, b in zip(jax.tree.leaves(states[0].g_params), jax.tree.leaves(states[1].g_params)):
    np.testing.assert_array_equal(a, b)
