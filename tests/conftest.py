"""Shared test helpers: tiny configs built from the shipped experiment configs."""

import os

# The suite is compile-bound: hundreds of tiny programs, each compiled once and run a few
# times (flax's eager init alone compiles every initializer). XLA without its expensive
# CPU optimizations compiles them 2.5x faster and computes the same functions. On a 2-core
# AMD EPYC, 2026-12-07, the whole suite took 1159 s at the default level, 820-923 s at
# level 0 (three runs) and 1017 s at level 1 (which runs the longer tests faster but
# compiles slower). Runs compared bit for bit are all made under these flags (subprocesses
# inherit them, `device_count_flags` keeps them). Set before jax starts its backend; an
# XLA_FLAGS that names an optimization level is kept.
TEST_XLA_FLAGS = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
  os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {TEST_XLA_FLAGS}".strip()

import jax  # noqa: E402
import pytest  # noqa: E402

# The tests check maths against float32 references (NumPy, PyTorch, another formulation of
# the same layer). On GPUs JAX's default precision for float32 products and convolutions
# is TF32 (10-bit mantissa), far outside their tolerances; CPUs compute float32 anyway, so
# the setting is left alone there (the bit-exact tests compare CPU runs made without it).
if jax.default_backend() == "gpu":
  jax.config.update("jax_default_matmul_precision", "highest")

# One persistent XLA compilation cache for the session: the many tiny runs compile the same
# programs again and again (in this process, in the other xdist worker, and in the CLI
# subprocesses the tests start, which inherit the variable). A cached executable is the one
# XLA compiled, so no result changes; the session's controller makes the folder and removes it.
CACHE_VARIABLE = "JAX_COMPILATION_CACHE_DIR"


def pytest_configure(config):
  if CACHE_VARIABLE not in os.environ:  # the controller, or a run without xdist
    import tempfile

    os.environ[CACHE_VARIABLE] = config._gan_jax_xla_cache = tempfile.mkdtemp(
      prefix="gan_jax_test_xla_cache_"
    )
  os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
  os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
  jax.config.update("jax_compilation_cache_dir", os.environ[CACHE_VARIABLE])
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def pytest_unconfigure(config):
  folder = getattr(config, "_gan_jax_xla_cache", None)
  if folder:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def device_count_flags(num_devices: int) -> str:
  """XLA_FLAGS for a subprocess with `num_devices` fake CPU devices, with the suite's flags."""
  return f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={num_devices}"


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_DIR = os.path.join(ROOT, "experiments", "configs")


def load_experiment_config(name: str):
  """get_config() of experiments/configs/NAME.py."""
  from gan_jax.cli import load_config_file

  return load_config_file(os.path.join(CONFIG_DIR, name + ".py"))


def tiny_ring_config(**overrides):
  """The ring GAN config, shrunk to a few fast steps."""
  config = load_experiment_config("ring_gan")
  config.num_steps = 20
  config.steps_per_call = 1
  config.batch_size = 32
  config.log_every = 5
  config.sample_every = 10
  config.checkpoint_every = 10
  config.model.generator.hidden = (16, 16)
  config.model.discriminator.hidden = (16, 16)
  for key, value in overrides.items():
    node = config
    *parents, leaf = key.split("__")
    for p in parents:
      node = node[p]
    node[leaf] = value
  return config


@pytest.fixture
def ring_config():
  return tiny_ring_config()


def train_tiny_image_run(tmp_path, workdir, *overrides, write_images=True) -> int:
  """`gan-jax train` of the seeds' MLP GAN (layers of width 8) for 2 steps on 64 random
  28 x 28 images written to tmp_path/images.npz (write_images=False: on the file there);
  `overrides` (--config.X=Y) come last and win. Returns the command's exit status."""
  import numpy as np

  from gan_jax import cli

  if write_images:
    images = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    np.savez(os.path.join(tmp_path, "images.npz"), x=images)
  return cli.main(
    [
      "train",
      "--config",
      os.path.join(CONFIG_DIR, "mlp_fashion_mnist.py"),
      "--workdir",
      str(workdir),
      "--no-progress",
      "--config.data.source='npz'",
      f"--config.data.path='{os.path.join(tmp_path, 'images.npz')}'",
      "--config.num_steps=2",
      "--config.batch_size=8",
      "--config.sample_every=2",
      "--config.model.generator.hidden=(8, 8, 8, 8)",
      "--config.model.discriminator.hidden=(8, 8)",
      "--config.num_sample_images=4",
      *overrides,
    ]
  )


def jitted_sampled_train_step(source, batch_size: int, recipe=None):
  """`train.sampled_train_step` of the recipe on one device, jitted as the loop compiles it:
  fn(state, arrays) -> (state, metrics), drawing the real minibatches from the on-device
  `arrays` with the state's key, then running the train step."""
  import functools

  from gan_jax import recipes, train, xla_options

  recipe = recipe or recipes.RECIPES["gan"]
  fn = functools.partial(
    train.sampled_train_step,
    sample=source.sample,
    local_batch=batch_size,
    train_step=recipe.train_step,
  )
  donate = () if jax.default_backend() == "cpu" else (0,)
  return xla_options.jit(fn, donate_argnums=donate)


make_train_step_fn = jitted_sampled_train_step  # its former name
