"""From a config to library objects: optimizers, the game, the models and the state.

Every builder raises a one-line ValueError naming the bad value and what is
accepted, before anything is compiled.
"""

from __future__ import annotations

import inspect
import math

import optax

from gan_jax import augment, losses, models
from gan_jax.state import GANState, NoiseSampler, check_num_categories, create_state
from gan_jax.validation import Check, boolean, integer, number, one_of

OPTIMIZERS = {
  "adam": optax.adam,
  "adamw": optax.adamw,
  "rmsprop": optax.rmsprop,
  "sgd": optax.sgd,
}


def _as_dict(config) -> dict:
  return config.to_dict() if hasattr(config, "to_dict") else dict(config)


SCHEDULES = ("constant", "cosine", "linear")


def _learning_rate(value, name):
  if (
    not isinstance(value, (int, float))
    or isinstance(value, bool)
    or not math.isfinite(value)
    or value < 0
  ):
    raise ValueError(f"{name} must be a number > 0, or 0 to freeze the player, got {value!r}")


# The rule of each optimizer option with a known range (config.g_optimizer.<option>, ...);
# others go to the optax optimizer, which refuses the ones it does not take.
OPTIMIZER_FIELDS: dict[str, Check] = {
  "learning_rate": _learning_rate,
  "b1": number(minimum=0.0, below=1.0),
  "b2": number(minimum=0.0, below=1.0),
  "eps": number(minimum=0.0),
  "weight_decay": number(minimum=0.0),
  "decay": number(minimum=0.0, below=1.0),
  "momentum": lambda v, n: None if v is None else number(minimum=0.0, below=1.0)(v, n),
  "nesterov": boolean,
  "centered": boolean,
  "schedule": one_of("schedule", lambda: SCHEDULES),
  "decay_steps": integer(1),
  "final_learning_rate": number(minimum=0.0),
}


def make_schedule(
  learning_rate: float,
  schedule: str = "constant",
  decay_steps: int | None = None,
  final_learning_rate: float = 0.0,
  player: str = "optimizer",
):
  """The learning rate as a float ('constant') or an optax schedule of the update count.

  'cosine' and 'linear' go from `learning_rate` to `final_learning_rate` over
  `decay_steps` updates of this player's optimizer (with d_steps = k the
  discriminator makes k updates per generator step), then stay there.
  """
  OPTIMIZER_FIELDS["schedule"](schedule, f"{player}.schedule")
  if schedule == "constant":
    return learning_rate
  if decay_steps is None:
    raise ValueError(
      f"{player}.decay_steps must be an integer >= 1 with schedule {schedule!r}, got None"
    )
  OPTIMIZER_FIELDS["decay_steps"](decay_steps, f"{player}.decay_steps")
  if schedule == "cosine":
    return optax.cosine_decay_schedule(
      learning_rate, decay_steps, alpha=final_learning_rate / learning_rate
    )
  return optax.linear_schedule(learning_rate, final_learning_rate, decay_steps)


def make_optimizer(config, player: str = "optimizer") -> optax.GradientTransformation:
  """An optax optimizer from {'name': 'adam', 'learning_rate': 2e-4, **kwargs}.

  `learning_rate` may be 0 to freeze a player (optax.set_to_zero). Optional
  schedule keys: 'schedule' ('constant', 'cosine', 'linear'), 'decay_steps' and
  'final_learning_rate' (`make_schedule`); the rest go to the optax optimizer. An option
  set to None is left out (switching Adam to SGD on the command line:
  `--config.g_optimizer.name=sgd --config.g_optimizer.b1=None --config.g_optimizer.b2=None`).
  The options in `OPTIMIZER_FIELDS` are checked here and nowhere else.
  """
  options = {key: value for key, value in _as_dict(config).items() if value is not None}
  name = options.pop("name", "adam")
  one_of(f"{player} name", lambda: OPTIMIZERS)(name, f"{player}.name")
  if "learning_rate" not in options:
    raise ValueError(f"{player}.learning_rate is missing; give a number > 0 (0 freezes the player)")
  for key, value in options.items():
    if key in OPTIMIZER_FIELDS:
      OPTIMIZER_FIELDS[key](value, f"{player}.{key}")
  learning_rate = options.pop("learning_rate")
  schedule = {
    key: options.pop(key)
    for key in ("schedule", "decay_steps", "final_learning_rate")
    if key in options
  }
  if learning_rate == 0:
    return optax.set_to_zero()
  learning_rate = make_schedule(learning_rate, player=player, **schedule)
  taken = inspect.signature(OPTIMIZERS[name]).parameters
  others = sorted(key for key in options if key not in taken)
  if others:
    accepted = ", ".join(key for key in taken if key != "learning_rate")
    raise ValueError(
      f"{player} option {others[0]!r} is not one that {name!r} takes; accepted: {accepted}, "
      f"and learning_rate, schedule, decay_steps, final_learning_rate (leave it out with "
      f"--config.{player}.{others[0]}=None)"
    )
  try:
    return OPTIMIZERS[name](learning_rate, **options)
  except TypeError as error:
    raise ValueError(f"bad {player} option for {name!r}: {error}") from None


def make_game(config) -> losses.Game:
  """The `Game` (loss pair, k, regularizers, augmentation) of a config.

  The Game checks its fields (`losses.GAME_FIELDS`).
  config.augment: DiffAugment policy, e.g. 'color,translation,cutout'; '' or absent for none.
  """
  return losses.Game(
    loss=losses.get_loss(config.loss),
    d_steps=config.get("d_steps", 1),
    gradient_penalty_weight=config.get("gradient_penalty_weight", 0.0),
    r1_weight=config.get("r1_weight", 0.0),
    r1_decay_steps=config.get("r1_decay_steps", 0),
    clip_value=config.get("clip_value", 0.0),
    reuse_fakes=config.get("reuse_fakes", False),
    augment=augment.from_policy(config.get("augment", "")),
  )


def make_noise(config) -> NoiseSampler:
  """The latent sampler of config.model. latent_dim's rule is here; noise and noise_categories
  have `NoiseSampler`'s (`state.check_num_categories`)."""
  latent_dim = config.model.get("latent_dim", None)
  integer(1)(latent_dim, "model.latent_dim")
  categories = config.model.get("noise_categories", 0)
  check_num_categories(categories, "model.noise_categories")
  return NoiseSampler((categories + latent_dim,), config.model.get("noise", "normal"), categories)


def make_models(config, data_shape, axis_name: str | None = None):
  """(generator, discriminator) of config.model for data of `data_shape`."""
  options = {
    "generator": _as_dict(config.model.get("generator", {})),
    "discriminator": _as_dict(config.model.get("discriminator", {})),
  }
  generator, discriminator = models.build_models(
    config.model.name, data_shape, axis_name=axis_name, options=options
  )
  dtype = config.get("dtype", "float32")
  return (
    models.with_compute_dtype(generator, dtype, config.model.name),
    models.with_compute_dtype(discriminator, dtype, config.model.name),
  )


def create_state_from_config(
  config,
  data_shape,
  *,
  axis_name: str | None = None,
  players: tuple | None = None,
  noise: NoiseSampler | None = None,
  game: losses.Game | None = None,
  init_batch_size: int = 2,
  g_extra_inputs: tuple = (),
  d_extra_inputs: tuple = (),
) -> GANState:
  """The step-0 `GANState` of a run: parameters and the root key from `config.seed`, the
  optimizers of config.g_optimizer and config.d_optimizer, and config.ema_decay.

  A variant passes what it changes and nothing else: `players` (generator, discriminator)
  in place of config.model's, `noise` in place of `make_noise(config)`, `game` in place of
  `make_game(config)`, and `state.create_state`'s `init_batch_size`, `g_extra_inputs` and
  `d_extra_inputs`. data_shape: the shape of one input of D, e.g. (28, 28, 1).
  """
  generator, discriminator = (
    make_models(config, data_shape, axis_name) if players is None else players
  )
  return create_state(
    seed=config.seed,
    generator=generator,
    discriminator=discriminator,
    noise=make_noise(config) if noise is None else noise,
    data_shape=data_shape,
    g_tx=make_optimizer(config.g_optimizer, "g_optimizer"),
    d_tx=make_optimizer(config.d_optimizer, "d_optimizer"),
    game=make_game(config) if game is None else game,
    ema_decay=float(config.get("ema_decay", 0.0)),
    init_batch_size=init_batch_size,
    g_extra_inputs=g_extra_inputs,
    d_extra_inputs=d_extra_inputs,
  )
