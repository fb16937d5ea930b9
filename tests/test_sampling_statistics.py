"""BatchNorm statistics for sampling with the generator EMA: recomputed for the EMA's own
weights ("standing statistics") by default, or the EMA of the online statistics."""

import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_jax import cli, config_base, losses, recipes, runs, sampling, state as state_lib
from tests.conftest import CONFIG_DIR
from tests.test_batch_statistics import NormedDiscriminator
from tests.test_cli import TINY

RECIPE = recipes.RECIPES["gan"]


class MomentumGenerator(nn.Module):
  """z (B, 2) -> x (B, 2): Dense(4), BatchNorm with the given momentum, Dense(2)."""

  momentum: float = 0.9

  @nn.compact
  def __call__(self, z, train: bool = True):
    h = nn.Dense(4)(z)
    h = nn.BatchNorm(use_running_average=not train, momentum=self.momentum, name="bn")(h)
    return nn.Dense(2)(nn.relu(h))


def ema_state(momentum: float = 0.9):
  """A step-0 state whose EMA weights differ from the online ones and whose averaged
  statistics are unlike any batch's."""
  state = state_lib.create_state(
    seed=0,
    generator=MomentumGenerator(momentum),
    discriminator=NormedDiscriminator(),
    noise=state_lib.NoiseSampler((2,)),
    data_shape=(2,),
    g_tx=optax.adam(1e-2),
    d_tx=optax.adam(1e-2),
    game=losses.Game(),
    ema_decay=0.5,
  )
  shifted = jax.tree.map(lambda p: p * 1.5 + 0.25, state.g_params)
  stats = jax.tree.map(lambda s: s + 3.0, state.g_collections)
  return state.replace(g_ema_params=shifted, g_ema_collections=stats)


def expected_statistics(state, batch_size, num_batches, seed=0):
  """The mean over the batches of the EMA generator's pre-BatchNorm batch moments, with
  the noise drawn as the docstring of `recompute_batch_statistics` says."""
  root = state_lib.step_key(jax.random.PRNGKey(seed), 0, "batch_statistics")
  means, variances = [], []
  layer = state.g_ema_params["Dense_0"]
  for index in range(num_batches):
    noise_key, _ = jax.random.split(jax.random.fold_in(root, index))
    h = state.noise(noise_key, batch_size) @ layer["kernel"] + layer["bias"]
    means.append(jnp.mean(h, 0))
    variances.append(jnp.var(h, 0))
  return np.mean(means, 0), np.mean(variances, 0)


@pytest.mark.parametrize("momentum", [0.9, 0.5])
def test_recomputed_statistics_are_the_mean_of_the_ema_generators_batch_moments(momentum):
  """Each running mean and variance becomes the mean over the batches of the batch moments
  that the EMA weights produce, every batch weighing the same whatever the layer's momentum.

  Fails if the online weights are used, if the momentum's running average is kept (recent
  batches weigh more), or if the old statistics leak into the new ones.
  """
  state = ema_state(momentum)
  recomputed = sampling.recompute_batch_statistics(state, RECIPE, batch_size=32, num_batches=3)
  mean, var = expected_statistics(state, 32, 3)
  got = recomputed.g_ema_collections["batch_stats"]["bn"]
  np.testing.assert_allclose(got["mean"], mean, rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(got["var"], var, rtol=1e-4, atol=1e-5)
  # the online generator and the trained weights are left as they are
  for a, b in [
    (recomputed.g_collections, state.g_collections),
    (recomputed.g_params, state.g_params),
  ]:
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
      np.testing.assert_array_equal(x, y)


def test_sampling_state_recomputes_by_default_and_keeps_the_average_when_asked():
  """`sampling_state` recomputes the EMA's statistics by default ('recomputed' is the base
  config's value); 'averaged' and runs without EMA sample from the state as it is.

  Fails if the default turns to the averaged statistics, or 'averaged' recomputes.
  """
  state = ema_state()
  config = config_base.base()
  assert config.sampling_statistics == "recomputed"
  config.batch_size = 32
  got = sampling.sampling_state(state, config, RECIPE)
  want = sampling.recompute_batch_statistics(state, RECIPE, batch_size=32)
  for x, y in zip(jax.tree.leaves(got.g_ema_collections), jax.tree.leaves(want.g_ema_collections)):
    np.testing.assert_array_equal(x, y)
  assert not np.allclose(
    got.g_ema_collections["batch_stats"]["bn"]["mean"],
    state.g_ema_collections["batch_stats"]["bn"]["mean"],
  )
  config.sampling_statistics = "averaged"
  assert sampling.sampling_state(state, config, RECIPE) is state
  config.sampling_statistics = "recomputed"
  without_ema = state.replace(g_ema_params=None, g_ema_collections=None)
  assert sampling.sampling_state(without_ema, config, RECIPE) is without_ema


def test_a_generator_without_batch_norm_is_left_as_it_is():
  config = config_base.ring()
  state = recipes.recipe_of(config).create_state(config, (2,))
  assert sampling.recompute_batch_statistics(state, RECIPE, batch_size=8) is state


def test_gan_jax_sample_draws_with_the_recomputed_statistics(tmp_path):
  """`gan-jax sample` on an EMA run with BatchNorm in G: the samples are those of the
  recomputed statistics; a run that asks for 'averaged' (same training bits) samples with
  the EMA's averaged statistics.

  Fails if `sample` skips `sampling_state`.
  """
  ring = os.path.join(CONFIG_DIR, "ring_gan.py")
  common = [*TINY, "--config.ema_decay=0.9", "--config.model.generator.batch_norm=True"]
  outputs = {}
  for statistics in ("recomputed", "averaged"):
    workdir = tmp_path / statistics
    argv = ["train", "--config", ring, "--workdir", str(workdir), "--no-progress", *common]
    assert cli.main(argv + [f"--config.sampling_statistics={statistics}"]) == 0
    out = tmp_path / f"{statistics}.npz"
    argv = ["sample", "--workdir", str(workdir), "--num", "64", "--seed", "1", "--out", str(out)]
    assert cli.main(argv) == 0
    outputs[statistics] = np.load(out)["samples"]
    config, source, state = runs.load_run(str(workdir))
    outputs[statistics + "_state"] = state
  config.sampling_statistics = "recomputed"
  recomputed = sampling.sampling_state(outputs["averaged_state"], config, RECIPE)
  np.testing.assert_array_equal(outputs["recomputed"], sampling.draw_samples(recomputed, 64, 1))
  np.testing.assert_array_equal(
    outputs["averaged"], sampling.draw_samples(outputs["averaged_state"], 64, 1)
  )
  assert not np.allclose(outputs["recomputed"], outputs["averaged"])
