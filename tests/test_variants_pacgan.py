"""PacGAN: pack shapes and order, the divisibility errors, one logit per pack, training."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import validation
from gan_jax.variants import pacgan
from tests.conftest import load_experiment_config
from tests.variant_helpers import build, ring_batch, variant_config


def test_pack_stacks_consecutive_samples_on_the_last_axis():
  points = jnp.arange(12.0).reshape(6, 2)
  packed = pacgan.pack(points, 3)
  assert packed.shape == (2, 6)
  np.testing.assert_array_equal(packed[1], [6, 7, 8, 9, 10, 11])
  images = jnp.arange(4 * 2 * 2 * 3.0).reshape(4, 2, 2, 3)
  packed = pacgan.pack(images, 2)
  assert packed.shape == (2, 2, 2, 6)
  np.testing.assert_array_equal(
    packed[1, 0, 1], jnp.concatenate([images[2, 0, 1], images[3, 0, 1]])
  )


def test_a_batch_not_divisible_by_the_pack_size_is_refused():
  with pytest.raises(ValueError, match="batch size must be divisible by 3; got 8"):
    pacgan.pack(jnp.zeros((8, 2)), 3)
  with pytest.raises(
    ValueError, match="config.batch_size 32 is not divisible by variant.pack_size 3"
  ):
    build("pacgan", pack_size=3)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_pacgan_m_gives_one_logit_per_pack_and_trains(m):
  config = variant_config("pacgan", pack_size=m)
  config.batch_size = 12
  state = pacgan.create_state(config, (2,))
  assert state.d_apply_fn(state.d_variables, jnp.zeros((12, 2)), train=False).shape == (12 // m,)
  kernel = state.d_params["base"]["Dense_0"]["kernel"]
  assert kernel.shape[0] == 2 * m
  step = jax.jit(pacgan.RECIPE.train_step)
  for i in range(2):
    state, metrics = step(state, {"x": ring_batch(1, 12, i)["x"]})
  assert int(state.step) == 2 and all(np.isfinite(float(v)) for v in metrics.values())


@pytest.mark.parametrize("pack_size, batch_size", [(2, 64), (5, 250), (16, 64)])
def test_the_models_check_takes_any_pack_size_that_divides_the_batch(pack_size, batch_size):
  """The check that D gives one logit per (packed) sample runs D on the config's batch, so any
  pack size that divides it passes; one logit per sample without packing is still required."""
  config = load_experiment_config("pacgan_ring")
  config.variant.pack_size, config.batch_size = pack_size, batch_size
  validation.validate_models(config, (2,))
