"""Recipes are found by listing gan_jax/variants: a new variant module is the only edit."""

import importlib
import sys

import pytest

from gan_jax import recipes, validation
from tests.conftest import load_experiment_config

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


def test_a_variants_state_takes_from_the_config_all_it_does_not_pass():
  """`create_state_from_config` with a variant's players, noise and game keeps the config's
  seed, optimizers and EMA and uses what it was given in place of the config's own.

  Fails if a passed part is ignored or if the config's seed, optimizers or EMA are dropped
  when parts are passed.
  """
  import dataclasses

  import jax
  import numpy as np

  from gan_jax import builders, state
  from tests.conftest import tiny_ring_config

  config = tiny_ring_config(ema_decay=0.5, seed=3)
  config.g_optimizer.learning_rate = 0.125
  plain = builders.create_state_from_config(config, (2,))
  game = dataclasses.replace(builders.make_game(config), d_steps=3)
  noise = state.NoiseSampler((5,), "uniform")
  generator, discriminator = builders.make_models(config, (2,))
  passed = builders.create_state_from_config(
    config, (2,), players=(generator, discriminator), noise=noise, game=game
  )
  assert passed.game.d_steps == 3 and plain.game.d_steps == 1
  assert passed.noise == noise and plain.noise == builders.make_noise(config)
  assert passed.ema_decay == plain.ema_decay == 0.5
  assert np.array_equal(passed.key, plain.key)
  # G's first kernel takes the 5 latents it was built for; D is the config's, same bits.
  assert [leaf.shape for leaf in jax.tree.leaves(passed.g_params) if leaf.ndim == 2][0][0] == 5
  for a, b in zip(jax.tree.leaves(passed.d_params), jax.tree.leaves(plain.d_params)):
    np.testing.assert_array_equal(a, b)
  # The optimizers are the config's: Adam's first step moves each weight by the learning rate.
  grads = jax.tree.map(np.ones_like, passed.g_params)
  updates, _ = passed.g_tx.update(grads, passed.g_opt_state, passed.g_params)
  for update in jax.tree.leaves(updates):
    np.testing.assert_allclose(np.abs(update), 0.125, rtol=1e-4)


@pytest.mark.parametrize(
  "config_name, honoured",
  [
    ("ring_gan", True),
    ("cogan_fashion_mnist", True),
    ("progressive_fashion_mnist", True),
    ("pix2pix_fashion_mnist", False),
    ("cyclegan_fashion_mnist", False),
    ("unrolled_ring", False),
  ],
)
def test_reuse_fakes_is_refused_for_recipes_whose_steps_would_ignore_it(config_name, honoured):
  """Before: pix2pix and CycleGAN trained with reuse_fakes=True as without it; unrolled GAN
  refused it only once its step was traced, after the workdir's first files."""
  config = load_experiment_config(config_name)
  config.reuse_fakes = True
  if honoured:
    validation.validate_config(config)
  else:
    with pytest.raises(ValueError, match=r"reuse_fakes=True works with the core player steps"):
      validation.validate_config(config)
