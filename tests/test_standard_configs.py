"""The CIFAR-10 and CelebA 64x64 configs (meant for a GPU) build and train on mock tfds data.

`tfds.testing.mock_data` stands in for the prepared datasets (nothing is downloaded here):
each config runs as shipped except for smaller players, a small batch and 5 steps.
"""

import os

import pytest
import tensorflow_datasets as tfds

from conftest import load_experiment_config
from gan_jax import runs, train, validation

CONFIGS = {
  "dcgan_cifar10": (32, 32, 3),
  "sngan_cifar10": (32, 32, 3),
  "wgan_gp_cifar10": (32, 32, 3),
  "dcgan_celeba64": (64, 64, 3),
  "sngan_celeba64": (64, 64, 3),
  "wgan_gp_celeba64": (64, 64, 3),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_the_config_cites_a_published_figure_and_says_it_is_meant_for_a_gpu(name):
  config_text = open(
    os.path.join(os.path.dirname(__file__), "..", "experiments", "configs", name + ".py")
  ).read()
  assert "Published" in config_text and "FID" in config_text and "GPU" in config_text
  config = load_experiment_config(name)
  validation.validate_config(config)
  assert config.num_steps == 100000 and config.batch_size == 64


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_five_steps_on_mock_data(name, tmp_path):
  config = load_experiment_config(name)
  config.num_steps = 5
  config.batch_size = 4
  config.log_every = 5
  config.sample_every = 5
  config.checkpoint_every = 5
  config.num_sample_images = 4
  config.model.generator.features = 4
  config.model.discriminator.features = 4
  with tfds.testing.mock_data(num_examples=8):
    state = train.train_and_evaluate(config, str(tmp_path), progress=False)
    _, source, _ = runs.load_run(str(tmp_path))
  assert int(state.step) == 5
  assert source.data_shape == CONFIGS[name]
