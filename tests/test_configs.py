"""Every shipped experiment config has the common fields and builds a state."""

import glob
import os

import pytest

from gan_jax import recipes
from tests.conftest import CONFIG_DIR, load_experiment_config

NAMES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(CONFIG_DIR, "*.py")))


def test_the_required_configs_ship():
  assert {"ring_gan", "mlp_fashion_mnist", "dcgan_fashion_mnist"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_config_has_common_fields_and_builds(name):
  config = load_experiment_config(name)
  for field in ("seed", "num_steps", "batch_size"):
    assert isinstance(config[field], int)
  data_shape = (2,) if config.data.source == "toy" else (28, 28, 1)
  state = recipes.recipe_of(config).create_state(config, data_shape)
  assert int(state.step) == 0
