"""Progressive GAN: the growth schedule, fade-ins that start from the previous stage, layers
of later stages untouched, equalized layers, minibatch stddev, exact resume inside a fade-in,
and the one-program step (a traced stage) against the per-stage and former lax.switch steps."""

import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from jax import lax

from gan_jax import steps, train
from gan_jax.models import resample
from gan_jax.models.equalized import EqualDense, minibatch_stddev
from gan_jax.variants import progressive
from tests.conftest import tiny_ring_config
from tests.variant_helpers import trees_equal, write_tiny_images


def tiny_config(data_path: str, **overrides):
  """8x8 images: two stages (4x4, then 8x8), 4 G steps per stage, 3-step fade-in."""
  config = tiny_ring_config(
    num_steps=10,
    batch_size=8,
    log_every=5,
    sample_every=5,
    checkpoint_every=5,
    recipe="progressive",
  )
  config.data = ml_collections.ConfigDict(
    {"source": "npz", "name": "tiny", "path": data_path, "split": "train"}
  )
  config.model = ml_collections.ConfigDict(
    {"name": "progressive", "latent_dim": 8, "noise": "normal"}
  )
  config.variant = ml_collections.ConfigDict(
    {"features": 4, "stage_steps": 4, "fade_steps": 3, "mbstd_group": 4}
  )
  config.update(overrides)
  return config


def test_schedule_is_a_function_of_the_step():
  game = progressive.ProgressiveGame(canvas=32, num_stages=4, stage_steps=10, fade_steps=4)
  expected = {
    0: (0, 1.0),
    9: (0, 1.0),
    10: (1, 0.25),
    12: (1, 0.75),
    13: (1, 1.0),
    19: (1, 1.0),
    20: (2, 0.25),
    30: (3, 0.25),
    33: (3, 1.0),
    500: (3, 1.0),
  }
  for step, (stage, alpha) in expected.items():
    s, a = jax.jit(progressive.schedule, static_argnums=0)(game, step)
    assert (int(s), float(a)) == (stage, alpha), step
  with pytest.raises(ValueError, match="fade_steps must be an integer in \\[0, stage_steps=10\\]"):
    progressive.ProgressiveGame(stage_steps=10, fade_steps=11)


def test_padding_and_real_images_per_stage():
  x = jax.random.uniform(jax.random.PRNGKey(0), (2, 28, 28, 1), minval=-1, maxval=1)
  canvas = resample.pad_to_canvas(x, 32)
  assert canvas.shape == (2, 32, 32, 1) and float(canvas[0, 0, 0, 0]) == -1.0
  np.testing.assert_array_equal(resample.crop_center(canvas, 28, 28), x)
  game = progressive.ProgressiveGame(canvas=32, num_stages=4)
  coarse = progressive.real_at_stage(x, game, 0, 1.0)  # 4x4 blocks of 8x8 pixels
  np.testing.assert_allclose(
    coarse, resample.upsample_nearest(resample.downsample(coarse, 8), 8), atol=1e-6
  )
  np.testing.assert_array_equal(progressive.real_at_stage(x, game, 3, 1.0), canvas)
  half = progressive.real_at_stage(x, game, 3, 0.25)
  np.testing.assert_allclose(
    half, 0.25 * canvas + 0.75 * progressive.real_at_stage(x, game, 2, 1.0), atol=1e-6
  )


def test_a_fade_in_starts_where_the_previous_stage_ended():
  config = tiny_config("unused")
  state = progressive.create_state(config, (8, 8, 1))  # stages 4, 8
  z = jax.random.normal(jax.random.PRNGKey(1), (4, 8))

  @jax.jit
  def outputs(g, d):
    images = {
      (s, a): state.g_apply_fn({"params": g}, z, train=False, stage=s, alpha=a)
      for s in (0, 1)
      for a in (0.0, 1.0)
      if s or a
    }
    x = images[(1, 1.0)]
    logits = {
      (s, a): state.d_apply_fn({"params": d}, x, train=False, stage=s, alpha=a)
      for s, a in ((1, 0.0), (0, 1.0))
    }
    return images, logits

  images, logits = outputs(state.g_params, state.d_params)
  for s in (1,):
    np.testing.assert_array_equal(images[(s, 0.0)], images[(s - 1, 1.0)])
    assert not np.allclose(images[(s, 1.0)], images[(s - 1, 1.0)])
  np.testing.assert_allclose(logits[(1, 0.0)], logits[(0, 1.0)], rtol=1e-5, atol=1e-5)
  assert jax.jit(progressive.generate)(state, z).shape == (4, 8, 8, 1)


def test_training_in_stage_zero_leaves_later_layers_untouched(tmp_path):
  config = tiny_config(write_tiny_images(str(tmp_path / "d.npz")))
  state = progressive.create_state(config, (8, 8, 1))
  step = jax.jit(progressive.train_step)
  x = jax.random.uniform(jax.random.PRNGKey(0), (1, 8, 8, 8, 1), minval=-1, maxval=1)
  new = state
  for _ in range(3):
    new, metrics = step(new, {"x": x})
  assert float(metrics["stage"]) == 0.0 and np.isfinite(float(metrics["d_loss"]))
  assert trees_equal(new.g_params["to_rgb_1"], state.g_params["to_rgb_1"])
  assert trees_equal(new.g_params["conv_a_1"], state.g_params["conv_a_1"])
  assert trees_equal(new.d_params["from_rgb_1"], state.d_params["from_rgb_1"])
  assert not trees_equal(new.g_params["to_rgb_0"], state.g_params["to_rgb_0"])


def test_equalized_dense_scales_unit_weights_by_he_constant():
  layer = EqualDense(3)
  x = jnp.arange(8.0)[None]
  params = layer.init(jax.random.PRNGKey(0), x)["params"]
  assert abs(float(jnp.std(params["kernel"])) - 1.0) < 0.35  # stored N(0, 1)
  ones = {"kernel": jnp.ones((8, 3)), "bias": jnp.zeros(3)}
  np.testing.assert_allclose(
    layer.apply({"params": ones}, x), jnp.full((1, 3), 28.0 * math.sqrt(2.0 / 8)), rtol=1e-6
  )


def test_minibatch_stddev_keeps_groups_apart():
  x = jax.random.normal(jax.random.PRNGKey(0), (8, 2, 2, 3))
  out = minibatch_stddev(x, 4)
  assert out.shape == (8, 2, 2, 4)
  changed = minibatch_stddev(x.at[4:].multiply(10.0), 4)
  np.testing.assert_array_equal(out[:4], changed[:4])
  assert float(changed[4, 0, 0, 3]) > float(out[4, 0, 0, 3])


def test_resume_in_the_middle_of_a_fade_in_is_bit_exact(tmp_path):
  """10 steps in one go == 5 steps (stage 1, alpha 2/3), restore, 5 more: identical state."""
  data = write_tiny_images(str(tmp_path / "d.npz"))
  config = tiny_config(data)
  stage, alpha = progressive.schedule(progressive.create_state(config, (8, 8, 1)).game, 5)
  assert (int(stage), float(alpha)) == (1, pytest.approx(2 / 3))
  whole = train.train_and_evaluate(config, str(tmp_path / "whole"), progress=False)
  train.train_and_evaluate(tiny_config(data, num_steps=5), str(tmp_path / "halves"), progress=False)
  resumed = train.train_and_evaluate(config, str(tmp_path / "halves"), progress=False)
  assert int(resumed.step) == 10
  for a, b in zip(
    jax.tree.leaves((whole.g_params, whole.d_params, whole.g_opt_state, whole.d_opt_state)),
    jax.tree.leaves((resumed.g_params, resumed.d_params, resumed.g_opt_state, resumed.d_opt_state)),
  ):
    np.testing.assert_array_equal(a, b)


def switch_train_step(state, batch):
  """The one-program step as it was until 2026-12-04, for reference: the stage picked by
  lax.switch over one branch per stage (each branch the stage's own network)."""
  game = state.game
  stage, alpha = progressive.schedule(game, state.step)

  def bound(apply_fn):
    def apply(variables, x, *args, **kwargs):
      branches = [
        lambda v, x, a, s=s: apply_fn(v, x, *args, stage=s, alpha=a, **kwargs)
        for s in range(game.num_stages)
      ]
      return lax.switch(stage, branches, variables, x, alpha)

    return apply

  view = state.replace(g_apply_fn=bound(state.g_apply_fn), d_apply_fn=bound(state.d_apply_fn))
  x = batch["x"]
  flat = x.reshape((-1,) + x.shape[2:])
  real = lax.switch(
    stage,
    [lambda a, s=s: progressive.real_at_stage(flat, game, s, a) for s in range(game.num_stages)],
    alpha,
  )
  batch = {**batch, "x": real.reshape(x.shape[:2] + real.shape[1:])}
  new_view, metrics = steps.train_step(view, batch)
  return new_view.replace(g_apply_fn=state.g_apply_fn, d_apply_fn=state.d_apply_fn), metrics


def three_stage_state():
  """16x16 images: stages 4, 8, 16 of 2 steps each, the first 2 of stages 1-2 fading in."""
  config = tiny_config("unused")
  config.variant.stage_steps, config.variant.fade_steps = 2, 2
  return progressive.create_state(config, (16, 16, 1))


def test_players_at_a_traced_stage_equal_the_stage_network():
  """A traced stage runs every layer and selects (no control flow); G's canvas, D's logits
  and D's input gradient (R1's) equal those of the stage's own network, compiled apart."""
  state = three_stage_state()
  z = jax.random.normal(jax.random.PRNGKey(1), (4, 8))
  x = jax.random.uniform(jax.random.PRNGKey(2), (4, 16, 16, 1), minval=-1, maxval=1)

  def players(g, d, stage, alpha):
    fake = state.g_apply_fn({"params": g}, z, stage=stage, alpha=alpha)
    logits, grad = jax.value_and_grad(
      lambda x: jnp.sum(state.d_apply_fn({"params": d}, x, stage=stage, alpha=alpha))
    )(x)
    return fake, logits, grad

  traced = jax.jit(players)
  fixed = jax.jit(players, static_argnums=2)
  jaxpr = str(jax.make_jaxpr(players)(state.g_params, state.d_params, jnp.int32(1), 0.5))
  assert "cond" not in jaxpr and "while" not in jaxpr
  for stage in range(3):
    for alpha in (0.25, 1.0):
      got = traced(state.g_params, state.d_params, jnp.int32(stage), jnp.float32(alpha))
      want = fixed(state.g_params, state.d_params, stage, jnp.float32(alpha))
      for u, v in zip(got, want):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6, err_msg=f"{stage} {alpha}")


def test_the_one_program_step_equals_the_per_stage_and_the_switch_steps():
  """Through three stages and two fade-ins, the one-program step (every stage's layers, the
  stage's results selected) trains the same state as the loop's per-stage programs and as
  the former lax.switch step, up to float rounding; its program holds no control flow."""
  state = three_stage_state()
  x = jax.random.uniform(jax.random.PRNGKey(0), (1, 8, 16, 16, 1), minval=-1, maxval=1)
  jaxpr = str(jax.make_jaxpr(progressive.train_step)(state, {"x": x}))
  assert "cond" not in jaxpr and "while" not in jaxpr
  one_program = jax.jit(progressive.train_step)
  switched = jax.jit(switch_train_step)
  per_stage = {
    s: jax.jit(lambda st, b, s=s: progressive.train_step(st, b, phase=s)) for s in range(3)
  }
  a = b = c = state
  stages = []
  for _ in range(6):  # stage 0; stage 1 (alpha 1/2, 1); stage 2 (alpha 1/2, 1)
    stage = progressive.stage_of(state.game, int(a.step))
    stages.append(stage)
    a, metrics_a = one_program(a, {"x": x})
    b, metrics_b = per_stage[stage](b, {"x": x})
    c, metrics_c = switched(c, {"x": x})
    assert float(metrics_a["stage"]) == float(metrics_b["stage"]) == stage
    np.testing.assert_allclose(metrics_a["d_loss"], metrics_c["d_loss"], rtol=1e-5)
  assert stages == [0, 0, 1, 1, 2, 2]
  trees = [
    jax.tree.leaves((s.g_params, s.d_params, s.g_opt_state, s.d_opt_state)) for s in (a, b, c)
  ]
  for u, v, w in zip(*trees, strict=True):
    np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(u, w, rtol=1e-5, atol=1e-5)


def test_a_fused_call_may_not_cross_a_stage(tmp_path):
  config = tiny_config(write_tiny_images(str(tmp_path / "d.npz")), steps_per_call=3)
  with pytest.raises(ValueError, match="stage_steps 4 must be a multiple of steps_per_call 3"):
    progressive.create_state(config, (8, 8, 1))
  recipe = progressive.RECIPE
  game = progressive.create_state(tiny_config(config.data.path), (8, 8, 1)).game
  step_fns = train.PhasedStepFns(recipe, game, lambda phase: phase)
  assert step_fns.at(0, 4) == 0 and step_fns.at(4, 4) == 1 and step_fns.at(40, 4) == 1
  with pytest.raises(ValueError, match="steps 3..6 of one call span phases 0 and 1"):
    step_fns.at(2, 4)
