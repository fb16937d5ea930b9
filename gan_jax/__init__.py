"""gan_jax: functional GANs on JAX/Flax.

A GAN is data (`GANState`) and pure functions transform it
(`discriminator_step`, `generator_step`, `train_step`). Jit or pmap them yourself,
or run `train_and_evaluate(config, workdir)`.
"""

from gan_jax import losses, models
from gan_jax.builders import create_state_from_config, make_game, make_optimizer
from gan_jax.data import DataSource, make_data_source
from gan_jax.losses import GANLoss, Game, get_loss
from gan_jax.state import GANState, NoiseSampler, create_state, generate, step_key
from gan_jax.steps import discriminator_step, generator_step, train_step

__version__ = "0.1.0"

__all__ = [
    "GANState", "NoiseSampler", "create_state", "create_state_from_config", "generate",
    "step_key", "discriminator_step", "generator_step", "train_step", "GANLoss", "Game",
    "get_loss", "losses", "models", "make_game", "make_optimizer", "DataSource",
    "make_data_source",
]
