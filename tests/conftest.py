"""Shared test helpers: tiny configs built from the shipped experiment configs."""

import os

import pytest

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
