"""Flax Linen players, one file per family, and `build_models` that picks them by name."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from gan_jax.models import initializers
from gan_jax.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_jax.models.mlp import (Seed001Discriminator, Seed001Generator, Seed002Discriminator,
                                Seed002Generator)
from gan_jax.models.toy import GaussianGenerator, ToyDiscriminator, ToyGenerator

# name -> builder(data_shape, axis_name, options) -> (generator, discriminator)
MODEL_BUILDERS: dict[str, Callable[..., tuple[Any, Any]]] = {}


def register_model(name: str):
  """Decorator adding a (generator, discriminator) builder under `name`."""
  def wrap(builder):
    MODEL_BUILDERS[name] = builder
    return builder
  return wrap


@register_model("seed001_mlp")
def _seed001(data_shape, axis_name, options):
  return Seed001Generator(data_shape, **options.get("generator", {})), Seed001Discriminator(
      **options.get("discriminator", {}))


@register_model("seed002_mlp")
def _seed002(data_shape, axis_name, options):
  return (Seed002Generator(data_shape, axis_name=axis_name, **options.get("generator", {})),
          Seed002Discriminator(**options.get("discriminator", {})))


@register_model("dcgan")
def _dcgan(data_shape, axis_name, options):
  return (DCGANGenerator(data_shape, axis_name=axis_name, **options.get("generator", {})),
          DCGANDiscriminator(data_shape, axis_name=axis_name, **options.get("discriminator", {})))


@register_model("toy_mlp")
def _toy(data_shape, axis_name, options):
  return (ToyGenerator(data_shape, **options.get("generator", {})),
          ToyDiscriminator(**options.get("discriminator", {})))


@register_model("gaussian")
def _gaussian(data_shape, axis_name, options):
  return (GaussianGenerator(data_shape, **options.get("generator", {})),
          ToyDiscriminator(**options.get("discriminator", {})))


def resolve_choices(player_options: dict) -> dict:
  """A player's options with named choices made objects: 'weight_init' (a name from
  `initializers.INITIALIZATIONS`) becomes the `Initialization` the modules take."""
  player_options = dict(player_options)
  if "weight_init" in player_options:
    player_options["weight_init"] = initializers.get(player_options["weight_init"])
  return player_options


def build_models(name: str, data_shape: Sequence[int], *, axis_name: str | None = None,
                 options: dict | None = None):
  """Returns (generator, discriminator) modules for the model family `name`.

  Args:
    name: one of MODEL_BUILDERS.
    data_shape: shape of one data point, e.g. (28, 28, 1).
    axis_name: device axis for synchronized BatchNorm, or None.
    options: {'generator': {...}, 'discriminator': {...}} keyword arguments; 'weight_init'
      names an initialization (`initializers.INITIALIZATIONS`).
  """
  if name not in MODEL_BUILDERS:
    raise ValueError(f"model {name!r} is unknown; accepted: {', '.join(MODEL_BUILDERS)}")
  options = dict(options or {})
  for key in options:
    if key not in ("generator", "discriminator"):
      raise ValueError(f"model option {key!r} is unknown; accepted: generator, discriminator")
    options[key] = resolve_choices(options[key])
  try:
    return MODEL_BUILDERS[name](tuple(data_shape), axis_name, options)
  except TypeError as error:
    raise ValueError(f"bad option for model {name!r}: {error}") from None


__all__ = [
    "build_models", "register_model", "MODEL_BUILDERS", "DCGANGenerator", "DCGANDiscriminator",
    "Seed001Generator", "Seed001Discriminator", "Seed002Generator", "Seed002Discriminator",
    "ToyGenerator", "ToyDiscriminator", "GaussianGenerator",
]
