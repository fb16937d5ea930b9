"""Recipes are found by listing gan_jax/variants: a new variant module is the only edit."""

import importlib
import sys

from gan_jax import recipes

# Modules of gan_jax.variants that hold parts other variants use and no recipe: translation's
# shared steps, text_matching's pre-training of text_to_image's encoder.
SHARED_MODULES = {"gan_jax.variants.translation", "gan_jax.variants.text_matching"}


def test_every_variant_module_registers_a_recipe_and_is_found():
  """Each module of gan_jax/variants registers its recipes, and get_recipe finds them all.

  Fails if the variants are listed by hand again and a module is left off the list, or if
  a module defines a `Recipe` without `register_recipe`.
  """
  recipes.get_recipe("gan")
  modules = recipes.variant_modules()
  assert {"gan_jax.variants.pacgan", "gan_jax.variants.cogan"} <= set(modules)
  registered = {id(recipe) for recipe in recipes.RECIPES.values()}
  for name in modules:
    assert name in sys.modules, f"{name} was not imported by get_recipe"
    held = [
      value
      for value in vars(importlib.import_module(name)).values()
      if isinstance(value, recipes.Recipe)
    ]
    if name in SHARED_MODULES:
      continue
    assert held, f"{name} registers no recipe"
    for recipe in held:
      assert id(recipe) in registered, f"{name} defines recipe {recipe.name!r} unregistered"
      assert recipes.get_recipe(recipe.name) is recipe
