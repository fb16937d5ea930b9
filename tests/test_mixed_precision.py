"""config.dtype = "bfloat16": both players compute in bf16 on float32 parameters.

Mixed precision as Flax and optax recommend: layers take `dtype=bfloat16` for their
computation and keep float32 parameters, so the optimizer states and updates are
float32; the players hand back float32 images and logits, so the losses and the
non-finite guard see float32.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import load_experiment_config
from gan_jax import builders, runs, sampling, train
from gan_jax.data import files
from gan_jax.metrics import frechet

# |FD(bf16) - FD(f32)| after the short run below, relative to FD(f32). Measured on this
# test's run (2026-12-04, 2-core x86 CPU): untrained 27.2, float32 14.3, bfloat16 11.8
# (18% apart: two trajectories that round differently, not a loss of quality); the margin
# leaves room for other hosts' rounding.
FD_MARGIN = 0.35
# Both runs must have left the untrained generator's FD (27.2 above) well behind.
TRAINED = 0.7


def tiny_dcgan(dtype, **overrides):
  config = load_experiment_config("dcgan_fashion_mnist")
  config.dtype = dtype
  config.batch_size = 32
  config.model.generator.features = 16
  config.model.discriminator.features = 16
  for key, value in overrides.items():
    config[key] = value
  return config


def conv_and_dot_dtypes(fn, *args):
  """The output dtypes of every convolution and matrix product in fn's jaxpr."""
  found = []

  def visit(jaxpr):
    for eqn in jaxpr.eqns:
      if eqn.primitive.name in ("conv_general_dilated", "dot_general"):
        found.append(str(eqn.outvars[0].aval.dtype))
      for sub in jax.core.subjaxprs(eqn) if hasattr(jax.core, "subjaxprs") else ():
        visit(sub)
      for param in eqn.params.values():
        if hasattr(param, "jaxpr"):
          visit(param.jaxpr)

  visit(jax.make_jaxpr(fn)(*args).jaxpr)
  return found


@pytest.mark.parametrize("model", ["dcgan", "seed002_mlp"])
def test_bf16_players_compute_in_bf16_on_float32_parameters(model):
  """Fails if a layer is left in float32 (a dtype not passed on), if parameters or the
  optimizer states become bf16, or if images or logits come out bf16."""
  if model == "dcgan":
    # The generator's first layer by DFT (CPU's 'auto') computes its transform in float32
    # (models.layers.conv_fourier); 'lax' has no such exception.
    config = tiny_dcgan("bfloat16")
    config.model.generator.first_conv = "lax"
  else:
    config = load_experiment_config("mlp_fashion_mnist")
  config.dtype = "bfloat16"
  state = builders.create_state_from_config(config, (28, 28, 1))
  for tree in (
    state.g_params,
    state.d_params,
    state.g_collections,
    state.d_collections,
    state.g_opt_state,
    state.d_opt_state,
  ):
    dtypes = {leaf.dtype for leaf in jax.tree.leaves(tree) if hasattr(leaf, "dtype")}
    assert dtypes <= {jnp.dtype("float32"), jnp.dtype("int32")}, dtypes
  g_vars = {"params": state.g_params, **state.g_collections}
  d_vars = {"params": state.d_params, **state.d_collections}
  z = jnp.ones((4, config.model.latent_dim))
  g_apply = lambda v, z: state.g_apply_fn(v, z, train=False)
  d_apply = lambda v, x: state.d_apply_fn(v, x, train=False)
  images = g_apply(g_vars, z)
  logits = d_apply(d_vars, images)
  assert images.dtype == jnp.float32 and logits.dtype == jnp.float32
  for fn, args in ((g_apply, (g_vars, z)), (d_apply, (d_vars, images))):
    dtypes = conv_and_dot_dtypes(fn, *args)
    assert dtypes and set(dtypes) == {"bfloat16"}, dtypes


def test_float32_default_computes_in_float32():
  state = builders.create_state_from_config(tiny_dcgan("float32"), (28, 28, 1))
  g_vars = {"params": state.g_params, **state.g_collections}
  dtypes = conv_and_dot_dtypes(
    lambda v, z: state.g_apply_fn(v, z, train=False), g_vars, jnp.ones((4, 100))
  )
  assert dtypes and set(dtypes) == {"float32"}, dtypes


def test_a_model_without_a_dtype_field_is_refused_in_bf16():
  config = load_experiment_config("ring_gan")
  config.dtype = "bfloat16"
  with pytest.raises(
    ValueError, match=r"dtype 'bfloat16' needs players with a dtype field.*toy_mlp"
  ):
    builders.create_state_from_config(config, (2,))


def pixel_features(images):
  """(N, 28, 28, 1) in [-1, 1] -> (N, 49): 4x4 average-pooled pixels, a cheap fixed feature map."""
  x = np.asarray(images, np.float64).reshape(-1, 7, 4, 7, 4)
  return x.mean(axis=(2, 4)).reshape(-1, 49)


@pytest.mark.skipif(
  not os.path.isdir(files.FASHION_MNIST_DIR), reason="Debian's dataset-fashion-mnist not installed"
)
def test_200_bf16_dcgan_steps_stay_finite_and_train_as_far_as_float32(tmp_path):
  """200 steps of a small DCGAN on Fashion-MNIST in each dtype: bf16's losses and parameters
  stay finite, and its samples' Fréchet distance to the data (in 49 pooled pixels) is
  within FD_MARGIN of float32's, both below TRAINED times the untrained generator's."""
  images, _ = files.load_idx_split(files.FASHION_MNIST_DIR, "train")
  real = pixel_features(images[:2000].astype(np.float32) / 127.5 - 1.0)
  distances = {}
  for dtype in ("float32", "bfloat16"):
    config = tiny_dcgan(
      dtype,
      num_steps=200,
      log_every=50,
      sample_every=200,
      checkpoint_every=200,
      num_sample_images=4,
    )
    workdir = str(tmp_path / dtype)
    train.train_and_evaluate(config, workdir, progress=False)
    _, _, state = runs.load_run(workdir)
    assert int(state.step) == 200
    for leaf in jax.tree.leaves((state.g_params, state.d_params, state.g_collections)):
      assert np.all(np.isfinite(np.asarray(leaf)))
    fakes = sampling.draw_samples(state, 2000, seed=1)
    distances[dtype] = frechet.frechet_distance_from_features(pixel_features(fakes), real)
  untrained = builders.create_state_from_config(tiny_dcgan("float32"), (28, 28, 1))
  start = frechet.frechet_distance_from_features(
    pixel_features(sampling.draw_samples(untrained, 2000, seed=1)), real
  )
  print(
    f"pixel FD: untrained {start:.3f}, float32 {distances['float32']:.3f}, "
    f"bfloat16 {distances['bfloat16']:.3f}"
  )
  assert distances["float32"] < TRAINED * start and distances["bfloat16"] < TRAINED * start
  assert abs(distances["bfloat16"] - distances["float32"]) <= FD_MARGIN * distances["float32"]
