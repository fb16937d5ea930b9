"""The paper reproductions (experiments/reproductions/) validate and train, and the library
options they need do what the papers' code does.

Each config trains 5 steps as a one-seed sweep (no files). To keep the file near a minute
on 2 cores, those runs compile with XLA's optimizations mostly off, share one persistent
compilation cache (the ring and grid configs of a PacGAN row compile to the same program),
and cap two loop counts, d_steps and unrolled_steps, at 2: the loops run the same code at
any count. Everything else is each config's own: widths, batch, data, initialization.
"""

import functools
import glob
import json
import math
import os
import sys

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from gan_jax import data, models, sweep, validation
from gan_jax.cli import load_config_file
from gan_jax.data import toy
from gan_jax.metrics import mixture
from tests.conftest import ROOT

REPRODUCTIONS = os.path.join(ROOT, "experiments", "reproductions")
NAMES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(REPRODUCTIONS, "*.py")))
KEY = jax.random.PRNGKey(0)
# A perfect sampler of a 2-D mixture: P(||x - mean|| < 3 std) = 1 - exp(-9/2).
PERFECT_HIGH_QUALITY = 1 - math.exp(-4.5)


def load(name):
  return load_config_file(os.path.join(REPRODUCTIONS, name + ".py"))


def test_every_experiment_ships():
  expected = (
    {
      f"pacgan_table1_{d}_{row}"
      for d in ("ring", "grid")
      for row in ("gan", "pacgan2", "pacgan3", "pacgan4")
    }
    | {f"metz_unrolled_ring_{k}steps" for k in (0, 5, 10)}
    | {f"wgangp_toy_{d}gaussians{c}" for d in (8, 25) for c in ("", "_clipping")}
  )
  assert set(NAMES) == expected


@pytest.mark.parametrize("name", NAMES)
def test_config_validates(name):
  """The full-size config passes the config check and builds its models by shape."""
  config = load(name)
  validation.validate_config(config)
  source = data.make_data_source(config)
  validation.validate_models(config, source.data_shape)


@pytest.fixture(scope="module")
def quick_compiles(tmp_path_factory):
  """XLA's optimizations mostly off and a persistent compilation cache, for this module."""
  from jax._src import compilation_cache

  names = (
    "jax_disable_most_optimizations",
    "jax_compilation_cache_dir",
    "jax_persistent_cache_min_compile_time_secs",
    "jax_persistent_cache_min_entry_size_bytes",
  )
  saved = {name: jax.config.values[name] for name in names}
  jax.config.update("jax_disable_most_optimizations", True)
  jax.config.update("jax_compilation_cache_dir", str(tmp_path_factory.mktemp("xla_cache")))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  compilation_cache.reset_cache()
  yield
  for name, value in saved.items():
    jax.config.update(name, value)
  compilation_cache.reset_cache()


@pytest.mark.parametrize("name", NAMES)
def test_config_trains_5_steps(name, quick_compiles):
  config = load(name)
  config.num_steps = 5
  config.steps_per_call = 1
  config.d_steps = min(config.d_steps, 2)
  if "unrolled_steps" in config.variant:
    config.variant.unrolled_steps = min(config.variant.unrolled_steps, 2)
  states = sweep.train_seeds(config, seeds=[config.seed])
  state = sweep.select(states, 0)
  assert int(state.step) == 5
  for leaf in jax.tree.leaves((state.g_params, state.d_params)):
    assert np.isfinite(np.asarray(leaf)).all()


# --- Initializations ---------------------------------------------------------


def init(module, x):
  """module.init as one compiled program (eager init compiles op by op: seconds here)."""
  return jax.jit(functools.partial(module.init, train=False))(KEY, x)


def toy_params(options, latent=4, data_dim=2):
  g, d = models.build_models("toy_mlp", (data_dim,), options=options)
  return init(g, jnp.zeros((8, latent))), init(d, jnp.zeros((8, data_dim)))


def test_pacgan_initialization_is_blocks_isotropic_gaussian():
  """N(0, 0.02) kernels and zero biases (weights_init_std 0.02, Constant(0.0)); BatchNorm
  scales exactly 1, Blocks' own default, where 'radford' would draw them from N(1, 0.02)."""
  options = {
    "generator": {"hidden": (400, 400), "batch_norm": True, "weight_init": "pacgan"},
    "discriminator": {"hidden": (200,), "activation": "maxout", "weight_init": "pacgan"},
  }
  g_vars, d_vars = toy_params(options)
  for params in (g_vars["params"], d_vars["params"]):
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
      leaf = np.asarray(leaf)
      if path[-1].key == "kernel":
        assert abs(leaf.std() - 0.02) < 0.002, path
      elif path[-1].key == "scale":
        assert (leaf == 1.0).all(), path
      else:
        assert not leaf.any(), path


def test_metz_initialization_is_orthogonal_times_0_8():
  """Every kernel K (fan_in x fan_out) has orthonormal rows or columns, times 0.8."""
  options = {
    "generator": {"hidden": (128, 128), "weight_init": "metz"},
    "discriminator": {"hidden": (128,), "weight_init": "metz"},
  }
  g_vars, d_vars = toy_params(options, latent=256)
  for params in (g_vars["params"], d_vars["params"]):
    for layer in params.values():
      kernel = np.asarray(layer["kernel"], np.float64)
      gram = kernel.T @ kernel if kernel.shape[0] >= kernel.shape[1] else kernel @ kernel.T
      np.testing.assert_allclose(gram, 0.64 * np.eye(len(gram)), atol=1e-5)
      assert not np.asarray(layer["bias"]).any()


def test_tflib_initialization_is_he_uniform_then_glorot_uniform():
  """gan_toy.py's layers: 'he' U(+-sqrt(6 / fan_in)) in the ReLU layers, tflib's default
  'glorot' U(+-sqrt(6 / (fan_in + fan_out))) in the output layer, biases 0."""
  options = {
    "generator": {"hidden": (512, 512), "activation": "relu", "weight_init": "tflib"},
    "discriminator": {"hidden": (512, 512), "activation": "relu", "weight_init": "tflib"},
  }
  g_vars, d_vars = toy_params(options, latent=2)
  for params, out in ((g_vars["params"], 2), (d_vars["params"], 1)):
    hidden = np.asarray(params["Dense_1"]["kernel"])  # 512 -> 512
    limit = math.sqrt(6 / 512)
    assert np.abs(hidden).max() <= limit and np.abs(hidden).max() > 0.99 * limit
    assert abs(hidden.std() - math.sqrt(2 / 512)) < 0.002
    output = np.asarray(params["Dense_2"]["kernel"])  # 512 -> out: glorot's range, not he's
    assert 0.9 * math.sqrt(6 / (512 + out)) < np.abs(output).max() <= math.sqrt(6 / (512 + out))
    for layer in params.values():
      assert not np.asarray(layer["bias"]).any()


# --- Toy players ---------------------------------------------------------------


def test_generator_batch_norm_as_pacgan_builds_it():
  """Dense without bias -> BatchNorm -> ReLU per hidden layer, a biased linear output; a
  train step moves the running statistics by 1 - momentum of the batch's (PacGAN's
  m * 0.05 + p * 0.95); sampling (train=False) normalizes with the running statistics."""
  g, _ = models.build_models(
    "toy_mlp",
    (2,),
    options={
      "generator": {
        "hidden": (16, 16),
        "activation": "relu",
        "batch_norm": True,
        "batch_norm_momentum": 0.95,
        "batch_norm_epsilon": 1e-4,
        "weight_init": "pacgan",
      }
    },
  )
  z = jax.random.normal(KEY, (256, 2))
  variables = init(g, z)
  params = variables["params"]
  assert "bias" not in params["Dense_0"] and "bias" not in params["Dense_1"]
  assert "bias" in params["Dense_2"]
  assert set(variables["batch_stats"]) == {"BatchNorm_0", "BatchNorm_1"}
  pre = np.asarray(z @ params["Dense_0"]["kernel"])
  _, updated = g.apply(variables, z, train=True, mutable=["batch_stats"])
  stats = updated["batch_stats"]["BatchNorm_0"]
  np.testing.assert_allclose(stats["mean"], 0.05 * pre.mean(axis=0), rtol=1e-4, atol=1e-7)
  np.testing.assert_allclose(stats["var"], 0.95 + 0.05 * pre.var(axis=0), rtol=1e-4)
  _, captured = g.apply(
    updated | {"params": params},
    z,
    train=False,
    capture_intermediates=True,
    mutable=["intermediates"],
  )
  normed = np.asarray(captured["intermediates"]["BatchNorm_0"]["__call__"][0])
  np.testing.assert_allclose(
    normed, (pre - stats["mean"]) / np.sqrt(stats["var"] + 1e-4), rtol=1e-4, atol=1e-5
  )


def test_batch_norm_normalizes_over_the_batch_in_training():
  g, _ = models.build_models(
    "toy_mlp",
    (2,),
    options={"generator": {"hidden": (8,), "activation": "relu", "batch_norm": True}},
  )
  z = 3.0 + 5.0 * jax.random.normal(KEY, (512, 2))
  variables = init(g, z)
  _, state = g.apply(
    variables, z, train=True, mutable=["batch_stats", "intermediates"], capture_intermediates=True
  )
  normed = np.asarray(state["intermediates"]["BatchNorm_0"]["__call__"][0])
  np.testing.assert_allclose(normed.mean(axis=0), 0.0, atol=1e-4)
  np.testing.assert_allclose(normed.std(axis=0), 1.0, atol=1e-3)


def test_maxout_discriminator_takes_the_max_of_each_group_of_pieces():
  """A LinearMaxout of 3 units and 5 pieces: a dense layer of 15, the max of consecutive 5s."""
  _, d = models.build_models(
    "toy_mlp",
    (2,),
    options={
      "discriminator": {
        "hidden": (3,),
        "activation": "maxout",
        "maxout_pieces": 5,
        "return_features": True,
      }
    },
  )
  x = jax.random.normal(KEY, (6, 2))
  variables = init(d, x)
  layer = variables["params"]["Dense_0"]
  assert layer["kernel"].shape == (2, 15)
  _, features = d.apply(variables, x)
  dense = np.asarray(x @ layer["kernel"] + layer["bias"])
  np.testing.assert_allclose(features, dense.reshape(6, 3, 5).max(axis=-1), rtol=1e-6)


def test_discriminator_input_scale():
  """input_scale 0.25 (Metz et al.'s D) equals the same D on x / 4."""
  _, scaled = models.build_models(
    "toy_mlp",
    (2,),
    options={"discriminator": {"hidden": (8,), "activation": "relu", "input_scale": 0.25}},
  )
  _, plain = models.build_models(
    "toy_mlp", (2,), options={"discriminator": {"hidden": (8,), "activation": "relu"}}
  )
  x = 4.0 * jax.random.normal(KEY, (5, 2))
  variables = init(plain, x)
  np.testing.assert_allclose(scaled.apply(variables, x), plain.apply(variables, x / 4), rtol=1e-6)


# --- Data at the papers' scales ------------------------------------------------


def toy_data(**fields):
  return ml_collections.ConfigDict({"source": "toy", "path": "", "split": "train", **fields})


def test_mixture_options_move_the_means_and_the_metrics_follow():
  """Metz et al.'s ring (radius 2, std 0.02): the source samples it, and the mixture metrics
  count within 3 of its std around its means, so its own samples score as a perfect sampler,
  and the same points score no mode against the default ring."""
  source = data.make_data_source(toy_data(name="ring8", radius=2.0, std=0.02))
  ring = source.distribution
  np.testing.assert_allclose(np.linalg.norm(ring.means, axis=1), 2.0, rtol=1e-6)
  assert ring.std == 0.02
  points = np.asarray(source.sample(source.arrays, KEY, 20000)["x"])
  result = mixture.evaluate_mixture(points, ring)
  assert result.modes == 8 and abs(result.high_quality - PERFECT_HIGH_QUALITY) < 0.005
  assert mixture.evaluate_mixture(points, toy.ring()).modes == 0
  grid = data.make_data_source(toy_data(name="grid25", spacing=2 / 2.828, std=0.05 / 2.828))
  np.testing.assert_allclose(grid.distribution.means.max(), 4 / 2.828, rtol=1e-6)


def test_mixture_options_are_checked_per_distribution():
  config = load("wgangp_toy_8gaussians")
  config.data.name = "grid25"  # keeps the ring's radius
  with pytest.raises(ValueError, match="toy dataset 'grid25' has no option 'radius'; accepted"):
    validation.validate_config(config)
  with pytest.raises(ValueError, match="has no option 'radius'"):
    toy.make_distribution("grid25", radius=1.0)
  with pytest.raises(ValueError, match="std must be > 0"):
    toy.make_distribution("ring8", std=0.0)
  config = load("wgangp_toy_8gaussians")
  config.data.source = "idx"
  with pytest.raises(ValueError, match="radius is an option of toy mixtures"):
    validation.validate_config(config)


def test_training_set_size_trains_on_a_fixed_set():
  """A fixed set of N points drawn once (the same for every run), batches drawn from it;
  the metrics still count against the mixture."""
  config = toy_data(name="grid25", training_set_size=1000)
  source = data.make_data_source(config)
  again = data.make_data_source(config)
  assert source.arrays["x"].shape == (1000, 2) and len(source) == 1000
  np.testing.assert_array_equal(source.arrays["x"], again.arrays["x"])
  batch = np.asarray(source.sample(source.arrays, KEY, 64)["x"])
  distances = np.abs(batch[:, None, :] - source.arrays["x"][None]).sum(-1).min(axis=1)
  assert (distances == 0).all()
  assert source.distribution.num_modes == 25
  assert data.make_data_source(toy_data(name="grid25")).arrays == {}


# --- The results page: experiments/reproductions.py ----------------------------------


def reproductions_script():
  import importlib.util

  path = os.path.join(ROOT, "experiments", "reproductions.py")
  spec = importlib.util.spec_from_file_location("reproductions_script", path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[spec.name] = module  # its dataclasses look their module up
  spec.loader.exec_module(module)
  return module


def test_reproductions_script_writes_a_row(tmp_path, quick_compiles):
  """One row, 2 seeds, 20 steps into tmp: its json record, its line on the page beside the
  paper's figure, its figure, and the rows not run listed with the command that runs them."""
  script = reproductions_script()
  assert (
    script.main(
      [
        "--rows",
        "unrolled_ring_5",
        "--seeds",
        "2",
        "--steps",
        "20",
        "--out",
        str(tmp_path),
        "--jobs",
        "1",
      ]
    )
    == 0
  )
  with open(tmp_path / "reproductions.json") as f:
    (record,) = json.load(f)
  assert record["row"] == "unrolled_ring_5" and record["steps"] == 20
  assert len(record["per_seed"]) == 2 and record["paper_steps"] == 25000
  assert [p["step"] for p in record["curve"]] == [10, 20] and record["seconds"] > 0
  page = (tmp_path / "reproductions.md").read_text()
  assert "| Unrolled GAN ring, 5 steps | VEEGAN Table 1 (unrolled GAN, 5 steps) | | | 7.6 |" in page
  assert "| ours (`unrolled_ring_5`) | 2 | 20 / 25,000 |" in page
  assert "--rows unrolled_ring_5 --seeds 2 --steps 20" in page
  assert "not run yet**: `python experiments/reproductions.py --rows pacgan_ring_gan`" in page
  assert (tmp_path / "reproductions_unrolled_ring_5.png").stat().st_size > 0


def test_reproductions_tolerance():
  """Within 0.5 modes, 3 points of high quality and 2x reverse KL of PacGAN's GAN ring row
  (6.3, 98.2%, 0.45) reproduces; one figure past its margin does not."""
  script = reproductions_script()

  def record(modes, hq, kl):
    return {
      "per_seed": [{"modes": modes, "high_quality": hq, "reverse_kl": kl}] * 2,
      "counts": [[0] * 8] * 2,
    }

  assert script.check("pacgan_ring_gan", record(5.85, 0.953, 0.9))[0] == "reproduces"
  for bad in (record(5.7, 0.99, 0.1), record(8, 0.951, 0.1), record(8, 0.99, 0.91)):
    assert script.check("pacgan_ring_gan", bad)[0] == "does not reproduce"
  assert (
    script.check(
      "wgangp_8",
      {
        "per_seed": [
          {"modes": 8, "high_quality": 1.0, "reverse_kl": 0.0},
          {"modes": 7, "high_quality": 1.0, "reverse_kl": 0.1},
        ],
        "counts": [[1] * 8] * 2,
      },
    )[0]
    == "does not reproduce"
  )
