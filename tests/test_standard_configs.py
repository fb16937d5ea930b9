"""The CIFAR-10 and CelebA 64x64 configs (meant for a GPU) build and train on mock tfds data.

`tfds.testing.mock_data` stands in for the prepared datasets (nothing is downloaded here):
each config runs as shipped except for smaller players, a small batch and 5 steps.
"""

import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from conftest import load_experiment_config
from gan_jax import cli, runs, train, validation

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


def test_sampling_a_run_whose_tfds_data_is_gone_downloads_nothing(tmp_path, capsys):
  """A run trained with config.data.download=True samples from DIR/data.json once its
  prepared data is gone, instead of downloading the dataset again."""
  config = load_experiment_config("dcgan_cifar10")
  config.num_steps = config.log_every = config.sample_every = config.checkpoint_every = 1
  config.batch_size = config.num_sample_images = 4
  config.model.generator.features = config.model.discriminator.features = 4
  config.data.download = True
  config.data.data_dir = str(tmp_path / "tfds")  # never prepared: mock_data stands in
  workdir = str(tmp_path / "run")
  with tfds.testing.mock_data(num_examples=8):
    train.train_and_evaluate(config, workdir, progress=False)
  _, source, state = runs.load_run(workdir, need_data=False)
  assert (source.name, source.data_shape, source.arrays) == ("cifar10", (32, 32, 3), {})
  out = str(tmp_path / "s.npz")
  assert cli.main(["sample", "--workdir", workdir, "--num", "2", "--out", out]) == 0
  assert np.load(out)["samples"].shape == (2, 32, 32, 3)
  assert not os.path.exists(tmp_path / "tfds" / "downloads")
