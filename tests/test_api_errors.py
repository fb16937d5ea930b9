"""Bad inputs to the public Python API are refused up front with one plain line.

Each test gives one bad input to `create_state`, the noise sampler, the pure steps,
`sampling.draw_samples` or `parallel.make_parallel_step`, and checks the one-line
ValueError that names it (before the checks: errors deep inside JAX, or silent
acceptance). The state is the README's toy setup with small players; the checks read only
static facts (keys, shapes, dtypes), so they also hold under jit.
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import gan_jax
from gan_jax import models, parallel, sampling, steps


def toy_state(data_shape=(2,), seed=0, game=None, latent_shape=(16,)):
  return gan_jax.create_state(
    seed=seed,
    generator=models.ToyGenerator(data_shape=(2,), hidden=(8,)),
    discriminator=models.ToyDiscriminator(hidden=(8,)),
    noise=gan_jax.NoiseSampler(latent_shape=latent_shape),
    data_shape=data_shape,
    g_tx=optax.adam(1e-3, b1=0.5),
    d_tx=optax.adam(1e-3, b1=0.5),
    game=game or gan_jax.Game(loss=gan_jax.losses.non_saturating, d_steps=1),
  )


@pytest.fixture(scope="module")
def state():
  return toy_state()


def test_train_step_refuses_x_of_another_data_shape(state):
  """Before: TypeError 'Cannot concatenate arrays' from inside D's pass."""
  with pytest.raises(
    ValueError,
    match=r"rows of shape \(3,\) but the generator makes samples of shape \(2,\).*"
    r"train_step \(d_steps, B, 2\)",
  ):
    gan_jax.train_step(state, {"x": jnp.zeros((1, 16, 3))})


def test_train_step_with_reuse_fakes_refuses_x_of_another_data_shape():
  """k = 1 with reuse_fakes runs no discriminator_step; train_step compares x itself."""
  game = gan_jax.Game(loss=gan_jax.losses.non_saturating, d_steps=1, reuse_fakes=True)
  with pytest.raises(
    ValueError, match=r"train_step got batch\['x'\] rows of shape \(3,\) but the generator"
  ):
    gan_jax.train_step(toy_state(game=game), {"x": jnp.zeros((1, 16, 3))})


def test_a_state_whose_data_shape_is_not_the_generators_is_refused_at_its_first_step():
  """create_state cannot compare them (pix2pix gives D's wider input shape); the step does."""
  state = toy_state(data_shape=(3,))
  with pytest.raises(ValueError, match=r"the generator makes samples of shape \(2,\)"):
    gan_jax.train_step(state, {"x": jnp.zeros((1, 16, 3))})


def test_train_step_refuses_a_batch_of_zero_rows(state):
  """Before: ZeroDivisionError (integer modulo by zero)."""
  with pytest.raises(ValueError, match=r"with B >= 1, got \(1, 0, 2\)"):
    gan_jax.train_step(state, {"x": jnp.zeros((1, 0, 2))})


def test_train_step_refuses_a_batch_without_x(state):
  """Before: a bare KeyError 'x'."""
  with pytest.raises(ValueError, match=r"train_step needs a batch dict with 'x'.*got \['data'\]"):
    gan_jax.train_step(state, {"data": jnp.zeros((1, 16, 2))})


@pytest.mark.parametrize("dtype", [jnp.uint8, jnp.int32])
def test_train_step_refuses_integer_x(state, dtype):
  """Before: accepted silently (uint8 255 fed to D as 255.0)."""
  with pytest.raises(ValueError, match=rf"batch\['x'\] in floating point.*got {dtype.__name__}"):
    gan_jax.train_step(state, {"x": jnp.full((1, 16, 2), 255, dtype)})


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_train_step_refuses_x_in_another_float_than_float32(state, dtype):
  """Before: accepted silently, D ran on half-precision inputs."""
  with pytest.raises(ValueError, match=rf"batch\['x'\] in float32.*got {jnp.dtype(dtype).name}"):
    gan_jax.train_step(state, {"x": jnp.zeros((1, 16, 2), dtype)})


def test_numpy_float64_x_is_taken_as_jit_takes_it(state):
  """Without jax_enable_x64, float64 arrays are float32 to JAX: the eager step accepts them
  and gives what the jitted step gives."""
  x = np.random.default_rng(0).normal(size=(1, 16, 2))
  eager, _ = gan_jax.train_step(state, {"x": x})
  jitted, _ = jax.jit(gan_jax.train_step)(state, {"x": x})
  close = jax.tree.map(lambda a, b: np.allclose(a, b, atol=1e-6), eager.g_params, jitted.g_params)
  assert all(jax.tree.leaves(close))


@pytest.mark.parametrize("label_shape", [(16,), (1, 8), (2, 16)])
def test_train_step_refuses_a_batch_entry_not_shaped_as_x(state, label_shape):
  """Before: labels (1, 8) for x (1, 16, 2) ran, and with d_steps=2 labels (1, B) were read
  out of bounds (clamped: D's second step reused the first's labels)."""
  shape = re.escape(str(tuple(label_shape)))
  with pytest.raises(
    ValueError,
    match=rf"every batch entry of shape \(d_steps=1, B=16, \.\.\.\) as batch\['x'\], got "
    rf"batch\['label'\] of shape {shape}",
  ):
    gan_jax.train_step(
      state, {"x": jnp.zeros((1, 16, 2)), "label": jnp.zeros(label_shape, jnp.int32)}
    )


def test_the_checks_hold_under_jit(state):
  """Shapes and dtypes are static: the refusal comes at tracing, with the same line."""
  with pytest.raises(ValueError, match=r"batch\['x'\] in floating point.*got uint8"):
    jax.jit(gan_jax.train_step)(state, {"x": jnp.zeros((1, 16, 2), jnp.uint8)})


def test_discriminator_step_refuses_a_negative_d_index(state):
  """Before: OverflowError 'Python integer -1 out of bounds for uint32'."""
  with pytest.raises(ValueError, match=r"d_index must be an integer >= 0.*got -1"):
    gan_jax.discriminator_step(state, {"x": jnp.zeros((16, 2))}, d_index=-1)


def test_generator_step_refuses_a_train_step_batch(state):
  """Before: (k, B, 2) ran as a batch of k rows."""
  with pytest.raises(
    ValueError,
    match=r"generator_step got batch\['x'\] rows of shape \(16, 2\) but the generator makes "
    r"samples of shape \(2,\)",
  ):
    gan_jax.generator_step(state, {"x": jnp.zeros((1, 16, 2))})


def test_create_state_refuses_a_non_integer_seed():
  """Before: 'PRNG key seed must be an integer; got JitTracer'."""
  with pytest.raises(ValueError, match=r"seed must be an integer, got 1.5"):
    toy_state(seed=1.5)


def test_create_state_takes_a_numpy_integer_seed_as_the_python_one():
  a, b = toy_state(seed=np.int64(3)), toy_state(seed=3)
  np.testing.assert_array_equal(a.key, b.key)


def test_noise_sampler_refuses_a_latent_shape_that_is_not_a_tuple():
  """Before: TypeError "'int' object is not iterable"."""
  with pytest.raises(ValueError, match=r"latent_shape must be a non-empty tuple .*got 16$"):
    gan_jax.NoiseSampler(16)


def test_noise_sampler_refuses_a_size_that_is_not_an_integer():
  """Before: (16.5,) became (16,) silently."""
  with pytest.raises(ValueError, match=r"positive integers, e.g. \(100,\), got \(16.5,\)"):
    gan_jax.NoiseSampler((16.5,))


def test_noise_refuses_a_negative_batch_size(state):
  """Before: MLIRError 'Invalid type'."""
  with pytest.raises(ValueError, match=r"batch_size must be an integer >= 0, got -1"):
    state.noise(jax.random.PRNGKey(0), -1)


@pytest.mark.parametrize("num", [0, -5])
def test_draw_samples_refuses_fewer_than_one_sample(state, num):
  """Before: 'need at least one array to concatenate' (0), MLIRError (-5)."""
  with pytest.raises(ValueError, match=rf"num must be an integer >= 1, got {num}"):
    sampling.draw_samples(state, num, 0)


def test_draw_samples_refuses_a_batch_size_below_one(state):
  """Before: 'range() arg 3 must not be zero'."""
  with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1, got 0"):
    sampling.draw_samples(state, 4, 0, batch_size=0)


def test_draw_interpolations_refuses_fewer_than_one_path(state):
  """Before: ZeroDivisionError from a reshape (0 paths), "batch_size ... got -2" (-1 paths)."""
  for num_paths in (0, -1):
    with pytest.raises(ValueError, match=rf"num_paths must be an integer >= 1, got {num_paths}"):
      sampling.draw_interpolations(state, num_paths, 3, 0)


@pytest.mark.parametrize("global_batch", [-8, 0])
def test_make_parallel_step_refuses_a_global_batch_below_one(global_batch):
  """Before: accepted."""
  with pytest.raises(
    ValueError, match=rf"global_batch must be an integer >= 1, got {global_batch}"
  ):
    parallel.make_parallel_step(steps.train_step, "jit", global_batch=global_batch, shard_data=True)


def test_make_parallel_step_names_global_batch_when_it_does_not_divide(monkeypatch):
  """The Python API's argument is global_batch, not config.batch_size (the CLI's name)."""
  monkeypatch.setattr(parallel.jax, "device_count", lambda: 8)
  with pytest.raises(
    ValueError, match=r"^global_batch 60 must be divisible by the 8 devices of parallel='pmap'$"
  ):
    parallel.make_parallel_step(steps.train_step, "pmap", global_batch=60, shard_data=True)


@pytest.mark.parametrize("mode", ["none", "pmap", "shard_map", "jit"])
def test_put_data_refuses_rows_other_than_the_global_batch(mode):
  """Before: pmap ran on 32 rows of a global batch of 64 (60: a NumPy reshape error);
  shard_map and jit failed in make_array_from_process_local_data."""
  devices = jax.device_count()
  runner = parallel.make_parallel_step(
    steps.train_step, mode, global_batch=8 * devices, shard_data=True
  )
  with pytest.raises(
    ValueError,
    match=rf"put_data got a batch of {6 * devices} rows .*global_batch={8 * devices} over the "
    rf"{runner.num_devices} devices of parallel='{mode}' needs {8 * devices} rows",
  ):
    runner.put_data({"x": np.zeros((1, 6 * devices, 2), np.float32)})


@pytest.mark.parametrize(
  "z, message",
  [
    (
      jnp.zeros((5, 8)),
      r"generate needs z of shape \(B, \*latent_shape\) = \(B, 16\), got \(5, 8\)",
    ),
    (jnp.zeros((16,)), r"generate needs z of shape .* got \(16,\)"),
    (jnp.zeros((5, 16), jnp.uint8), r"generate needs z in floating point, got uint8"),
  ],
)
def test_generate_refuses_latents_of_another_shape_or_dtype(state, z, message):
  """Before: flax's ScopeParamShapeError about a kernel's shape; uint8 z ran."""
  with pytest.raises(ValueError, match=message):
    gan_jax.generate(state, z)


@pytest.mark.parametrize("data_shape", [2, (), (2, 0), (2.0,)])
def test_create_state_refuses_a_data_shape_that_is_not_a_tuple_of_sizes(data_shape):
  """Before: TypeError "'int' object is not iterable" for 2."""
  with pytest.raises(ValueError, match=r"data_shape must be a non-empty tuple of positive"):
    toy_state(data_shape=data_shape)
