"""The training loop's sample pictures compile the generator once per run, not once per picture."""

import numpy as np

from gan_jax import builders, config_base, recipes, sampling, state as state_lib


def test_sample_pictures_trace_the_generator_once():
  """Catches a new `jax.jit(recipe.sample)` at every picture: each one traced and compiled
  the generator again (about 1 s per picture of a DCGAN on CPU, on the training thread)."""
  traces = []

  def counting_generate(state, z, labels=None):
    traces.append(z.shape)  # runs when the function is traced, not when it is called
    return state_lib.generate(state, z)

  recipe = recipes.Recipe("counting", generate=counting_generate)
  state = builders.create_state_from_config(config_base.ring(), (2,))
  first = sampling.draw_samples(state, 16, seed=0, recipe=recipe)
  second = sampling.draw_samples(state, 16, seed=0, recipe=recipe)
  assert len(traces) == 1, f"the generator was traced {len(traces)} times for two pictures"
  np.testing.assert_array_equal(first, second)
