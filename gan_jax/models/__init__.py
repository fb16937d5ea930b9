"""Flax Linen players, one file per family, and `build_models` that picks them by name."""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp

from gan_jax.models import dcgan, initializers
from gan_jax.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_jax.models.infogan_mnist import InfoGANMNISTDiscriminator, InfoGANMNISTGenerator
from gan_jax.models.mlp import (
  PlainMLPDiscriminator,
  PlainMLPGenerator,
  PyTorchGANMLPDiscriminator,
  PyTorchGANMLPGenerator,
  Seed001Discriminator,
  Seed001Generator,
  Seed002Discriminator,
  Seed002Generator,
)
from gan_jax.models.toy import GaussianGenerator, ToyDiscriminator, ToyGenerator

# name -> builder(data_shape, axis_name, options) -> (generator, discriminator)
MODEL_BUILDERS: dict[str, Callable[..., tuple[Any, Any]]] = {}
# Former model names, which configs and runs (config.json) written before still carry.
MODEL_ALIASES = {"seed001_mlp": "plain_mlp", "seed002_mlp": "pytorch_gan_mlp"}


def register_model(name: str):
  """Decorator adding a (generator, discriminator) builder under `name`.

  The builder is fn(data_shape, axis_name, options) -> (generator, discriminator):
  data_shape the shape of one example, e.g. (32, 32, 3); axis_name the device axis
  for BatchNorm statistics or None; options {'generator': {...}, 'discriminator':
  {...}} from config.model. A model registered in a module of one's own is found by
  `gan-jax sample` and `evaluate` too when config.model.module names that module.
  """

  def wrap(builder):
    MODEL_BUILDERS[name] = builder
    return builder

  return wrap


def import_module(module: str) -> None:
  """Imports `module` (config.model.module, e.g. 'my_package.models'), which registers
  models with `register_model`; '' does nothing. One-line ValueError when it fails."""
  if not module:
    return
  if module.endswith(".py") or "/" in module or os.sep in module:
    raise ValueError(
      f"model.module {module!r} is a file path; accepted: a module name such as "
      f"'my_players' for my_players.py, with its folder on PYTHONPATH"
    )
  import importlib

  try:
    importlib.import_module(module)
  except ModuleNotFoundError as error:
    if error.name and (module == error.name or module.startswith(error.name + ".")):
      raise ValueError(
        f"model.module {module!r} cannot be found; accepted: a module on the "
        f"Python path (add its folder to PYTHONPATH) that registers models with "
        f"gan_jax.models.register_model or recipes with gan_jax.recipes.register_recipe"
      ) from None
    raise ValueError(
      f"model.module {module!r} failed to import: ModuleNotFoundError: {error}"
    ) from None
  except Exception as error:
    text = str(error).strip()
    raise ValueError(
      f"model.module {module!r} failed to import: {type(error).__name__}: "
      f"{text.splitlines()[0] if text else ''}"
    ) from None


@register_model("plain_mlp")
def _plain_mlp(data_shape, axis_name, options):
  return PlainMLPGenerator(data_shape, **options.get("generator", {})), PlainMLPDiscriminator(
    **options.get("discriminator", {})
  )


@register_model("pytorch_gan_mlp")
def _pytorch_gan_mlp(data_shape, axis_name, options):
  return (
    PyTorchGANMLPGenerator(data_shape, axis_name=axis_name, **options.get("generator", {})),
    PyTorchGANMLPDiscriminator(**options.get("discriminator", {})),
  )


# Each DCGAN layer-formulation field, the player that has it, and its accepted values.
FORMULATIONS = {
  "first_conv": ("generator", ("fourier", "lax")),
  "conv_transpose": ("generator", ("phases", "subpixel", "lax")),
  "strided_conv": ("discriminator", ("phase_gradient", "phases", "lax")),
}


def layer_formulations(backend: str, image_shape: Sequence[int], kernel_size: int = 5) -> dict:
  """The DCGAN layer formulations that 'auto' means on `backend` (as `jax.default_backend()`
  names it) for images of `image_shape` and a generator kernel of `kernel_size`.

  On 'cpu' the faster forms measured there (benchmarks/RESULTS.md): the generator's first
  layer by DFT where `dcgan.fourier_pays` ("Finding: small maps by DFT"), its stride-2
  layers by output phases, sub-pixel for few output channels ("Finding: sub-pixel
  transposed convolution", "Finding: DCGAN-28 layers against PyTorch") and the
  discriminator's stride-2 layers as lax's with the input gradient by phases ("Finding: XLA's
  own convolutions and phase convolutions", "Finding: DCGAN-28 layers against PyTorch").
  Elsewhere 'lax' for all three, conv_transpose included: each form works around a slow path of
  XLA's CPU convolutions and none was measured on another backend. Returns
  {'first_conv', 'conv_transpose', 'strided_conv'}; raises for an unsupported shape.
  """
  base, _ = dcgan.upsampling_depth(image_shape)
  if backend != "cpu":
    return {"first_conv": "lax", "conv_transpose": "lax", "strided_conv": "lax"}
  return {
    "first_conv": "fourier" if dcgan.fourier_pays(base, kernel_size) else "lax",
    "conv_transpose": "phases",
    "strided_conv": "phase_gradient",
  }


def resolve_formulations(player: str, player_options: dict, auto: dict) -> dict:
  """A DCGAN player's options with each formulation field that is 'auto' or absent set
  to its value in `auto` (`layer_formulations`); raises for an unknown value."""
  player_options = dict(player_options)
  for field, (owner, accepted) in FORMULATIONS.items():
    if owner != player:
      continue
    value = player_options.get(field, "auto")
    if value != "auto" and value not in accepted:
      raise ValueError(
        f"model.{player}.{field} {value!r} is unknown; accepted: auto, {', '.join(accepted)}"
      )
    player_options[field] = auto[field] if value == "auto" else value
  return player_options


@register_model("dcgan")
def _dcgan(data_shape, axis_name, options):
  generator, discriminator = options.get("generator", {}), options.get("discriminator", {})
  # The one place that asks which backend runs the models.
  auto = layer_formulations(
    jax.default_backend(), data_shape, generator.get("kernel_size", DCGANGenerator.kernel_size)
  )
  return (
    DCGANGenerator(
      data_shape, axis_name=axis_name, **resolve_formulations("generator", generator, auto)
    ),
    DCGANDiscriminator(
      data_shape, axis_name=axis_name, **resolve_formulations("discriminator", discriminator, auto)
    ),
  )


@register_model("infogan_mnist")
def _infogan_mnist(data_shape, axis_name, options):
  cpu = jax.default_backend() == "cpu"  # the faster, equivalent layers there
  generator = {"conv_transpose": "subpixel" if cpu else "lax", **options.get("generator", {})}
  discriminator = {"strided_conv": "phases" if cpu else "lax", **options.get("discriminator", {})}
  return (
    InfoGANMNISTGenerator(data_shape, axis_name=axis_name, **generator),
    InfoGANMNISTDiscriminator(data_shape, axis_name=axis_name, **discriminator),
  )


@register_model("toy_mlp")
def _toy(data_shape, axis_name, options):
  return (
    ToyGenerator(data_shape, axis_name=axis_name, **options.get("generator", {})),
    ToyDiscriminator(**options.get("discriminator", {})),
  )


@register_model("gaussian")
def _gaussian(data_shape, axis_name, options):
  return (
    GaussianGenerator(data_shape, **options.get("generator", {})),
    ToyDiscriminator(**options.get("discriminator", {})),
  )


# config.dtype -> the computation dtype the players' layers take (parameters stay float32).
COMPUTE_DTYPES = {"float32": None, "bfloat16": jnp.bfloat16}


def check_compute_dtype(dtype) -> None:
  """The rule of config.dtype: a name in `COMPUTE_DTYPES`."""
  if not isinstance(dtype, str) or dtype not in COMPUTE_DTYPES:
    raise ValueError(f"dtype {dtype!r} is unknown; accepted: {', '.join(COMPUTE_DTYPES)}")


def with_compute_dtype(module, dtype: str, model_name: str = "this model"):
  """`module` computing in `dtype` (a COMPUTE_DTYPES name), with float32 parameters.

  Mixed precision as Flax recommends: the layers take `dtype` for their computation and
  keep `param_dtype` float32, so the optimizers update float32 parameters; the players
  return float32 images and logits, so losses and the non-finite guard stay float32.
  'float32' returns `module` unchanged. Any module with a `dtype` field takes it (the
  DCGAN and seed MLP players, and a user's own); others are refused.
  """
  check_compute_dtype(dtype)
  if COMPUTE_DTYPES[dtype] is None:
    return module
  if "dtype" not in getattr(module, "__dataclass_fields__", {}):
    raise ValueError(
      f"dtype {dtype!r} needs players with a dtype field; {type(module).__name__} "
      f"of model {model_name!r} computes in float32 only (accepted: float32)"
    )
  return module.clone(dtype=COMPUTE_DTYPES[dtype])


def resolve_choices(player_options: dict) -> dict:
  """A player's options with named choices made objects: 'weight_init' (a name from
  `initializers.INITIALIZATIONS`) becomes the `Initialization` the modules take."""
  player_options = dict(player_options)
  if "weight_init" in player_options:
    player_options["weight_init"] = initializers.get(player_options["weight_init"])
  return player_options


# The model families of this package (a user's registered ones come later); their layer
# widths, 'hidden' (an int or a tuple of ints) and 'features', and their kernel sizes are
# checked before building.
BUILT_IN_MODELS = frozenset(MODEL_BUILDERS)
WIDTH_OPTIONS = ("hidden", "features")
SIZE_OPTIONS = ("kernel_size",)


def _positive_int(value) -> bool:
  return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_widths(name: str, player: str, player_options: dict) -> None:
  """One-line ValueError for a width option of a built-in model that is not a positive
  integer, or a tuple of them, or a kernel size that is not a positive integer (a -1 or 2.5
  otherwise fails deep in the layers)."""
  for key in WIDTH_OPTIONS:
    if key not in player_options:
      continue
    value = player_options[key]
    widths = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not widths or not all(_positive_int(w) for w in widths):
      raise ValueError(
        f"model.{player}.{key} of model {name!r} must be a positive integer or a tuple of "
        f"them, got {value!r}"
      )
  for key in SIZE_OPTIONS:
    if key in player_options and not _positive_int(player_options[key]):
      raise ValueError(
        f"model.{player}.{key} of model {name!r} must be a positive integer, "
        f"got {player_options[key]!r}"
      )


def build_models(
  name: str, data_shape: Sequence[int], *, axis_name: str | None = None, options: dict | None = None
):
  """Returns (generator, discriminator) modules for the model family `name`.

  Args:
    name: one of MODEL_BUILDERS, or a former name in MODEL_ALIASES.
    data_shape: shape of one data point, e.g. (28, 28, 1).
    axis_name: device axis for synchronized BatchNorm, or None.
    options: {'generator': {...}, 'discriminator': {...}} keyword arguments; 'weight_init'
      names an initialization (`initializers.INITIALIZATIONS`); DCGAN's layer formulations
      ('first_conv', 'conv_transpose', 'strided_conv') may be 'auto', their default, which
      `layer_formulations` resolves for the backend.
  """
  name = MODEL_ALIASES.get(name, name)
  if name not in MODEL_BUILDERS:
    raise ValueError(f"model {name!r} is unknown; accepted: {', '.join(MODEL_BUILDERS)}")
  options = dict(options or {})
  for key in options:
    if key not in ("generator", "discriminator"):
      raise ValueError(f"model option {key!r} is unknown; accepted: generator, discriminator")
    options[key] = resolve_choices(options[key])
    if name in BUILT_IN_MODELS:
      check_widths(name, key, options[key])
  try:
    return MODEL_BUILDERS[name](tuple(data_shape), axis_name, options)
  except TypeError as error:
    accepted = accepted_options(str(error))
    raise ValueError(
      f"bad option for model {name!r}: {error}" + (f"; accepted: {accepted}" if accepted else "")
    ) from None


# Player fields the library sets itself (Flax's own, the data's shape, the device axis, the
# compute dtype of config.dtype, a variant's feature output): not options a config gives.
SET_BY_BUILDERS = (
  "parent",
  "name",
  "image_shape",
  "data_shape",
  "axis_name",
  "dtype",
  "return_features",
)


def accepted_options(message: str) -> str:
  """The fields a player module takes, from a TypeError 'Cls.__init__() got an unexpected
  keyword argument ...' of a module class of gan_jax ('' when it names none)."""
  import dataclasses
  import re
  import sys

  found = re.match(r"(\w+)\.__init__\(\) got an unexpected keyword", message)
  if not found:
    return ""
  for module_name, module in list(sys.modules.items()):
    if not module_name.startswith("gan_jax."):
      continue
    cls = getattr(module, found.group(1), None)
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
      names = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in SET_BY_BUILDERS]
      return ", ".join(names)
  return ""


__all__ = [
  "build_models",
  "register_model",
  "import_module",
  "MODEL_BUILDERS",
  "MODEL_ALIASES",
  "layer_formulations",
  "DCGANGenerator",
  "DCGANDiscriminator",
  "InfoGANMNISTGenerator",
  "InfoGANMNISTDiscriminator",
  "PlainMLPGenerator",
  "PlainMLPDiscriminator",
  "PyTorchGANMLPGenerator",
  "PyTorchGANMLPDiscriminator",
  "Seed001Generator",
  "Seed001Discriminator",
  "Seed002Generator",
  "Seed002Discriminator",
  "ToyGenerator",
  "ToyDiscriminator",
  "GaussianGenerator",
]
