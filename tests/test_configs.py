"""Every shipped experiment config has the common fields, validates, and builds a state."""

import glob
import os

import jax
import pytest

from gan_jax import recipes, validation
from tests.conftest import CONFIG_DIR, load_experiment_config

NAMES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(CONFIG_DIR, "*.py")))


def test_the_required_configs_ship():
  assert {"ring_gan", "mlp_fashion_mnist", "dcgan_fashion_mnist"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_config_has_common_fields_and_builds(name):
  """Shapes only (jax.eval_shape): building the real parameters compiles op by op, minutes in
  all."""
  config = load_experiment_config(name)
  for field in ("seed", "num_steps", "batch_size"):
    assert isinstance(config[field], int)
  data_shape = (2,) if config.data.source == "toy" else (28, 28, 1)
  validation.validate_config(config)
  validation.validate_models(config, data_shape)  # builds the state and a sample, by shape
  state = jax.eval_shape(lambda: recipes.recipe_of(config).create_state(config, data_shape))
  assert (
    state.step.shape == () and jax.tree.leaves(state.g_params) and jax.tree.leaves(state.d_params)
  )
