"""Recipes: how a GAN variant plugs into the shared loop without editing it.

A recipe names the three things a variant may replace: how its state is built
from a config, its pure train step, and how it samples. The plain GAN uses the
core's own (`builders.create_state_from_config`, `steps.train_step`,
`state.generate`). A variant is a module of `gan_jax.variants` that registers its
recipe with `register_recipe`; the modules are found by listing that package, so a
new module is the only edit. `config.recipe` picks one (default 'gan'). The loop,
checkpoints, logs, parallel wrappers and CLI stay untouched.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import importlib
import pkgutil
from typing import Callable

from gan_jax import builders, steps
from gan_jax.state import generate


@dataclasses.dataclass(frozen=True)
class Recipe:
  """A GAN variant.

  Attributes:
    name: the value of `config.recipe` that selects it.
    create_state: fn(config, data_shape, *, axis_name=None) -> GANState.
    train_step: pure fn(state, batch, *, axis_name=None) -> (state, metrics), with
      batch {'x': (k, B, ...), optionally 'label': (k, B)}.
    generate: fn(state, z, labels=None) -> samples (B, *data_shape), inference mode.
    needs_labels: whether batches must carry 'label'.
    label_count: fn(game) -> how many values the `labels` of `generate` take when they are
      the recipe's own codes, not the data's classes (InfoGAN's categories); `gan-jax
      sample --label` then picks one. None: a recipe's labels are the data's classes
      (`needs_labels`) or it has none.
    sample_shape: fn(data_shape) -> the shape of one sample of `generate`, when it is
      not data_shape (CoGAN shows a pair side by side); checked before compiling.
    phase: fn(game, step: int) -> int, the phase of generator step `step`, for a recipe
      whose step program changes during training (progressive growing). The loop
      then compiles one step per phase, train_step(..., phase=p), each holding only
      its phase's work, and picks it on the host. None: one program for the run.
    options: the names `config.variant` may hold (`check_variant_options` refuses others).
    prepare: fn(state, config) -> state, the work a fresh run does once on its step-0 state
      before its first step (text-to-image loads its pre-trained text encoder); not on
      resume, and not for shape checks, so create_state stays cheap and pure. None: nothing.
    condition: None when the `z` of `generate` is a latent drawn from the prior; else the
      name of the batch entry that `z` stands for (pix2pix's 'cond', CycleGAN's domain-A
      images 'a'): samples, pictures and evaluation then draw `z` from the data, and walks
      and truncation (which need a prior) are refused.
    paired: with a condition, whether the batch's 'x' is the target that G should give for
      it (pix2pix, super-resolution, inpainting, speech), so outputs are scored against
      their own targets; False when 'x' is only a sample of the output domain (CycleGAN).
    reuses_fakes: whether `train_step` honours config.reuse_fakes, as the core player steps
      do (`steps.train_step` called with its own discriminator and generator steps, which
      CoGAN and progressive GAN do with their players). A train step that is
      `steps.train_step` itself honours it anyway (`honours_reuse_fakes`); validation
      refuses reuse_fakes for the others, which would ignore it.
  """

  name: str
  create_state: Callable = builders.create_state_from_config
  train_step: Callable = steps.train_step
  generate: Callable = None
  needs_labels: bool = False
  label_count: Callable = None
  sample_shape: Callable = None
  phase: Callable = None
  options: tuple[str, ...] = ()
  prepare: Callable = None
  condition: str | None = None
  paired: bool = False
  reuses_fakes: bool = False

  @property
  def honours_reuse_fakes(self) -> bool:
    """Whether config.reuse_fakes takes effect in this recipe's step (`reuses_fakes`)."""
    return self.reuses_fakes or self.train_step is steps.train_step

  @property
  def latent_input(self) -> bool:
    """Whether the `z` of `generate` is a latent drawn from the prior (not a condition)."""
    return self.condition is None

  def train_step_for(self, phase: int | None = None) -> Callable:
    """The train step of `phase` (the plain train step when the recipe has no phases)."""
    if phase is None:
      return self.train_step
    return functools.partial(self.train_step, phase=phase)

  def shape_of_sample(self, data_shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(data_shape) if self.sample_shape is None else tuple(self.sample_shape(data_shape))

  def prepared(self, state, config):
    """The step-0 `state` after the recipe's `prepare` (itself when there is none)."""
    return state if self.prepare is None else self.prepare(state, config)

  def sample(self, state, z, labels=None):
    if self.generate is None:
      return generate(state, z)
    return self.generate(state, z, labels)


RECIPES: dict[str, Recipe] = {"gan": Recipe("gan")}


def variant_modules() -> list[str]:
  """The modules of the package gan_jax.variants, whose import registers their recipes."""
  from gan_jax import variants

  return [
    f"{variants.__name__}.{module.name}" for module in pkgutil.iter_modules(variants.__path__)
  ]


def check_signature(fn: Callable, args: tuple, what: str, expected: str, **keywords) -> None:
  """Refuses (one-line TypeError) a function that cannot be called as the loop and the
  library call it: with `args` and `keywords`, with and without `axis_name`."""
  try:
    signature = inspect.signature(fn)
  except (TypeError, ValueError):  # a builtin or a C callable: nothing to read
    return
  try:
    signature.bind(*args, **keywords)
    signature.bind(*args, axis_name=None, **keywords)
  except TypeError as error:
    raise TypeError(
      f"{what} {getattr(fn, '__name__', fn)}{signature} cannot be called as {expected} ({error})"
    ) from None


def register_recipe(recipe: Recipe) -> Recipe:
  """Adds `recipe` to RECIPES under its name, after checking that its `create_state` and
  `train_step` take the arguments the loop passes (`axis_name` included, with a default)."""
  where = f"recipe {recipe.name!r}:"
  check_signature(
    recipe.create_state,
    (None, None),
    f"{where} create_state",
    "create_state(config, data_shape, axis_name=None)",
  )
  phase = {"phase": 0} if recipe.phase is not None else {}
  check_signature(
    recipe.train_step,
    (None, None),
    f"{where} train_step",
    f"train_step(state, batch, axis_name=None{', phase=p' if phase else ''})",
    **phase,
  )
  RECIPES[recipe.name] = recipe
  return recipe


def get_recipe(name: str) -> Recipe:
  """The recipe called `name`; one-line error naming the choices."""
  for module in variant_modules():
    importlib.import_module(module)
  if not isinstance(name, str) or name not in RECIPES:
    raise ValueError(
      f"recipe {name!r} is unknown; accepted: {', '.join(sorted(RECIPES))} (a recipe of your "
      "own is registered by the module that config.model.module names)"
    )
  return RECIPES[name]


def recipe_of(config) -> Recipe:
  return get_recipe(config.get("recipe", "gan"))


def check_variant_options(config) -> None:
  """Every name in config.variant is an option of config.recipe; one-line error otherwise
  (a misspelt option would otherwise be ignored and its default used)."""
  recipe = recipe_of(config)
  variant = config.get("variant", None) or {}
  unknown = sorted(set(variant.keys()) - set(recipe.options))
  if unknown:
    accepted = ", ".join(sorted(recipe.options)) or "none"
    raise ValueError(
      f"variant option {unknown[0]!r} is unknown for recipe {recipe.name!r}; accepted: {accepted}"
    )
