"""StyleGAN: style mixing after the crossover layer, truncation to w_avg, noise inputs acting only
through their per-layer strengths, AdaIN, and a few training steps through the core steps."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from gan_jax.variants import stylegan
from tests.variant_helpers import variant_config

G = stylegan.StyleGenerator((16, 16, 1), w_dim=8, mapping_layers=2, channels=4)  # 6 layers
Z = jax.random.normal(jax.random.PRNGKey(0), (3, 8))
Z2 = jax.random.normal(jax.random.PRNGKey(1), (3, 8))
VARIABLES = G.init({"params": jax.random.PRNGKey(2)}, Z, train=False)


def apply(method, *args, variables=VARIABLES, **kwargs):
  return G.apply(variables, *args, method=method, **kwargs)


def test_layout_and_style_groups():
  assert stylegan.synthesis_layout(28) == (7, 2) and stylegan.synthesis_layout(32) == (4, 3)
  groups = stylegan.style_groups(6)
  assert [list(groups[g]) for g in stylegan.STYLE_GROUPS] == [[0, 1], [2, 3], [4, 5]]


def test_style_mixing_uses_the_second_latent_after_the_crossover_layer():
  w1 = apply(G.mapping, Z)
  w2 = apply(G.mapping, Z2)
  ws = apply(G.styles, Z, Z2, 3)
  assert ws.shape == (3, 6, 8)
  np.testing.assert_array_equal(ws[:, :3], jnp.repeat(w1[:, None], 3, 1))
  np.testing.assert_array_equal(ws[:, 3:], jnp.repeat(w2[:, None], 3, 1))
  per_example = apply(G.styles, Z, Z2, jnp.array([1, 6, 4]))
  np.testing.assert_array_equal(per_example[0, 1:], jnp.repeat(w2[:1], 5, 0))
  np.testing.assert_array_equal(per_example[1], jnp.repeat(w1[1:2], 6, 0))  # 6 = no mixing
  np.testing.assert_array_equal(per_example[2, 4:], jnp.repeat(w2[2:3], 2, 0))


def test_truncation_with_psi_zero_gives_w_avg_for_every_z():
  w_avg = jnp.linspace(-1.0, 1.0, 8)
  variables = {**VARIABLES, "style_stats": {"w_avg": w_avg}}
  ws = apply(G.styles, Z, truncation_psi=0.0, variables=variables)
  np.testing.assert_allclose(ws, jnp.broadcast_to(w_avg, ws.shape), atol=1e-7)
  half = apply(G.styles, Z, truncation_psi=0.5, variables=variables)
  np.testing.assert_allclose(
    half, 0.5 * (apply(G.styles, Z, variables=variables) + w_avg), atol=1e-6
  )


def test_noise_changes_the_image_only_through_its_per_layer_strength():
  ws = apply(G.styles, Z)
  k1, k2 = jax.random.PRNGKey(5), jax.random.PRNGKey(6)
  np.testing.assert_array_equal(apply(G.synthesize, ws, k1), apply(G.synthesize, ws, k2))
  params = jax.tree.map(lambda x: x, VARIABLES["params"])
  params["noise_strength_5"] = jnp.full((4,), 0.5)  # the last (finest) layer only
  variables = {**VARIABLES, "params": params}
  (a, sa), (b, sb) = [
    apply(G.synthesize, ws, k, variables=variables, mutable=["intermediates"]) for k in (k1, k2)
  ]
  assert not np.allclose(a, b)
  for i in range(5):  # every coarser layer is untouched by the fine layer's noise
    np.testing.assert_array_equal(
      sa["intermediates"][f"layer_{i}"][0], sb["intermediates"][f"layer_{i}"][0]
    )


def test_adain_sets_each_channel_statistics_from_the_style():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 5, 3)) * 4 + 2
  scale, shift = jnp.array([[0.0, 1.0, -0.5]] * 2), jnp.array([[1.0, 0.0, 3.0]] * 2)
  y = stylegan.adain(x, scale, shift)
  np.testing.assert_allclose(jnp.mean(y, axis=(1, 2)), shift, atol=1e-5)
  np.testing.assert_allclose(jnp.std(y, axis=(1, 2)), jnp.abs(1 + scale), atol=1e-4)


def test_a_few_core_steps_train_the_style_generator_and_track_w_avg():
  config = variant_config("stylegan", w_dim=8, mapping_layers=2, channels=4)
  config.batch_size = 8
  config.r1_weight = 1.0
  config.model = ml_collections.ConfigDict(
    {
      "name": "dcgan",
      "latent_dim": 8,
      "noise": "normal",
      "discriminator": {"features": 4, "kernel_size": 3},
    }
  )
  state = stylegan.create_state(config, (28, 28, 1))
  step = jax.jit(stylegan.RECIPE.train_step)
  x = jax.random.uniform(jax.random.PRNGKey(0), (1, 8, 28, 28, 1), minval=-1, maxval=1)
  start = state
  for _ in range(3):
    state, metrics = step(state, {"x": x})
  assert all(np.isfinite(float(v)) for v in metrics.values()) and "r1_penalty" in metrics
  assert not np.allclose(state.g_collections["style_stats"]["w_avg"], 0.0)
  assert not np.allclose(state.g_params["noise_strength_5"], start.g_params["noise_strength_5"])
  grid = jax.jit(stylegan.style_mixing, static_argnums=3)(state, Z[:2], Z2, range(4, 6))
  assert grid.shape == (6, 28, 28, 1)
  ws = jax.jit(stylegan.mapped_styles, static_argnums=(4,))(state, Z, None, None, 0.0)
  np.testing.assert_allclose(
    ws, jnp.broadcast_to(state.g_collections["style_stats"]["w_avg"], ws.shape), atol=1e-6
  )
  assert jax.jit(stylegan.generate, static_argnums=(2, 3))(state, Z, None, 0.5).shape == (
    3,
    28,
    28,
    1,
  )
