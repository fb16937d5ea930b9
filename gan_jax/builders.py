"""From a config to library objects: optimizers, the game, the models and the state.

Every builder raises a one-line ValueError naming the bad value and what is
accepted, before anything is compiled.
"""

from __future__ import annotations

import optax

from gan_jax import augment, losses, models
from gan_jax.state import GANState, NoiseSampler, create_state

OPTIMIZERS = {
    "adam": optax.adam,
    "adamw": optax.adamw,
    "rmsprop": optax.rmsprop,
    "sgd": optax.sgd,
}


def _as_dict(config) -> dict:
  return config.to_dict() if hasattr(config, "to_dict") else dict(config)


SCHEDULES = ("constant", "cosine", "linear")


def make_schedule(learning_rate: float, schedule: str = "constant", decay_steps: int = 0,
                  final_learning_rate: float = 0.0, player: str = "optimizer"):
  """The learning rate as a float ('constant') or an optax schedule of the update count.

  'cosine' and 'linear' go from `learning_rate` to `final_learning_rate` over
  `decay_steps` updates of this player's optimizer (with d_steps = k the
  discriminator makes k updates per generator step), then stay there.
  """
  if schedule not in SCHEDULES:
    raise ValueError(f"{player}.schedule {schedule!r} is unknown; accepted: {', '.join(SCHEDULES)}")
  if schedule == "constant":
    return learning_rate
  if not isinstance(decay_steps, int) or isinstance(decay_steps, bool) or decay_steps < 1:
    raise ValueError(f"{player}.decay_steps must be an integer >= 1 with schedule {schedule!r}, "
                     f"got {decay_steps!r}")
  if schedule == "cosine":
    return optax.cosine_decay_schedule(learning_rate, decay_steps,
                                       alpha=final_learning_rate / learning_rate)
  return optax.linear_schedule(learning_rate, final_learning_rate, decay_steps)


def make_optimizer(config, player: str = "optimizer") -> optax.GradientTransformation:
  """An optax optimizer from {'name': 'adam', 'learning_rate': 2e-4, **kwargs}.

  `learning_rate` may be 0 to freeze a player (optax.set_to_zero). Optional
  schedule keys: 'schedule' ('constant', 'cosine', 'linear'), 'decay_steps' and
  'final_learning_rate' (`make_schedule`); the rest go to the optax optimizer.
  """
  options = _as_dict(config)
  name = options.pop("name", "adam")
  if name not in OPTIMIZERS:
    raise ValueError(f"{player} name {name!r} is unknown; accepted: {', '.join(OPTIMIZERS)}")
  learning_rate = options.pop("learning_rate", None)
  if not isinstance(learning_rate, (int, float)) or isinstance(learning_rate, bool) or learning_rate < 0:
    raise ValueError(f"{player}.learning_rate must be a number >= 0, got {learning_rate!r}")
  schedule = {key: options.pop(key) for key in ("schedule", "decay_steps", "final_learning_rate")
              if key in options}
  if learning_rate == 0:
    return optax.set_to_zero()
  learning_rate = make_schedule(learning_rate, player=player, **schedule)
  try:
    return OPTIMIZERS[name](learning_rate, **options)
  except TypeError as error:
    raise ValueError(f"bad {player} option for {name!r}: {error}") from None


def make_game(config) -> losses.Game:
  """The `Game` (loss pair, k, regularizers, augmentation) of a config.

  config.augment: DiffAugment policy, e.g. 'color,translation,cutout'; '' or absent for none.
  """
  return losses.Game(
      loss=losses.get_loss(config.loss),
      d_steps=config.get("d_steps", 1),
      gradient_penalty_weight=float(config.get("gradient_penalty_weight", 0.0)),
      r1_weight=float(config.get("r1_weight", 0.0)),
      r1_decay_steps=config.get("r1_decay_steps", 0),
      clip_value=float(config.get("clip_value", 0.0)),
      reuse_fakes=bool(config.get("reuse_fakes", False)),
      augment=augment.from_policy(config.get("augment", "")),
  )


def make_noise(config) -> NoiseSampler:
  latent_dim = config.model.get("latent_dim", None)
  if not isinstance(latent_dim, int) or isinstance(latent_dim, bool) or latent_dim < 1:
    raise ValueError(f"model.latent_dim must be an integer >= 1, got {latent_dim!r}")
  categories = config.model.get("noise_categories", 0)
  if not isinstance(categories, int) or isinstance(categories, bool) or categories < 0:
    raise ValueError(f"model.noise_categories must be an integer >= 0, got {categories!r}")
  return NoiseSampler((categories + latent_dim,), config.model.get("noise", "normal"), categories)


def make_models(config, data_shape, axis_name: str | None = None):
  """(generator, discriminator) of config.model for data of `data_shape`."""
  options = {"generator": _as_dict(config.model.get("generator", {})),
             "discriminator": _as_dict(config.model.get("discriminator", {}))}
  generator, discriminator = models.build_models(config.model.name, data_shape,
                                                 axis_name=axis_name, options=options)
  dtype = config.get("dtype", "float32")
  return (models.with_compute_dtype(generator, dtype, config.model.name),
          models.with_compute_dtype(discriminator, dtype, config.model.name))


def create_state_from_config(config, data_shape, *, axis_name: str | None = None) -> GANState:
  """The step-0 `GANState` of a run: models, optimizers, game and noise from `config`,
  parameters and the root key from `config.seed`."""
  generator, discriminator = make_models(config, data_shape, axis_name)
  return create_state(
      seed=config.seed,
      generator=generator,
      discriminator=discriminator,
      noise=make_noise(config),
      data_shape=data_shape,
      g_tx=make_optimizer(config.g_optimizer, "g_optimizer"),
      d_tx=make_optimizer(config.d_optimizer, "d_optimizer"),
      game=make_game(config),
      ema_decay=float(config.get("ema_decay", 0.0)),
  )
