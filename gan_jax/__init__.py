"""gan_jax: functional GANs on JAX/Flax.

A GAN is data (`GANState`) and pure functions transform it
(`discriminator_step`, `generator_step`, `train_step`). Jit or pmap them yourself,
or run `gan_jax.train_and_evaluate(config, workdir)`, the training loop of
`gan_jax.train`, and `gan_jax.load_run(workdir, step=None)` to get a run back (both
imported on first use).
"""

from gan_jax import losses, models
from gan_jax.builders import create_state_from_config, make_game, make_optimizer
from gan_jax.data import DataSource, make_data_source
from gan_jax.losses import GANLoss, Game, get_loss
from gan_jax.state import GANState, NoiseSampler, create_state, generate, step_key
from gan_jax.steps import discriminator_step, generator_step, train_step

__version__ = "0.1.0"


def __getattr__(name):
  """`train_and_evaluate` and `load_run` (config, data source, state of a run's checkpoint),
  imported on first use: the loop's modules (orbax, tqdm) load only then."""
  if name == "train_and_evaluate":
    from gan_jax.train import train_and_evaluate

    return train_and_evaluate
  if name == "load_run":
    from gan_jax.runs import load_run

    return load_run
  raise AttributeError(f"module 'gan_jax' has no attribute {name!r}")


__all__ = [
  "train_and_evaluate",
  "load_run",
  "GANState",
  "NoiseSampler",
  "create_state",
  "create_state_from_config",
  "generate",
  "step_key",
  "discriminator_step",
  "generator_step",
  "train_step",
  "GANLoss",
  "Game",
  "get_loss",
  "losses",
  "models",
  "make_game",
  "make_optimizer",
  "DataSource",
  "make_data_source",
]
