"""Image-to-image recipes (pix2pix, superres, inpainting, cyclegan): data, losses, metrics,
resume."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import cli, data, recipes, report, sampling, train
from gan_jax.data import paired
from gan_jax.metrics import image_quality
from gan_jax.variants import cyclegan, inpainting, translation
from tests.conftest import (
  ROOT,
  device_count_flags,
  jitted_sampled_train_step,
  load_experiment_config,
)


def tiny_config(recipe: str, **variant):
  config = load_experiment_config(f"{recipe}_fashion_mnist")
  config.num_steps = 4
  config.batch_size = 4
  config.data.split = "test"
  config.model.generator.features = 4
  config.model.discriminator.features = 4
  config.log_every = 1
  config.sample_every = 100
  config.checkpoint_every = 2
  config.num_sample_images = 4
  for name, value in variant.items():
    config.variant[name] = value
  return config


@pytest.fixture(scope="module")
def test_images():
  return data.files.load_idx_split(data.files.FASHION_MNIST_DIR, "test")


def state_and_source(config):
  source = data.make_data_source(config)
  return recipes.recipe_of(config).create_state(config, source.data_shape), source


# --- metrics -------------------------------------------------------------------


def test_psnr_of_a_known_error_and_of_identical_images():
  a = jnp.zeros((2, 8, 8, 1))
  b = a.at[0].set(0.2).at[1].set(-0.02)  # MSE 0.04 and 0.0004 on range 2
  np.testing.assert_allclose(image_quality.psnr(a, b), [20.0, 40.0], rtol=1e-5)
  assert np.isinf(image_quality.psnr(a, a)).all()


def test_ssim_of_identical_and_of_constant_images_by_hand():
  x = jax.random.uniform(jax.random.PRNGKey(0), (3, 12, 12, 1), minval=-1, maxval=1)
  np.testing.assert_allclose(image_quality.ssim(x, x), 1.0, atol=1e-5)
  # Constant images: variances and covariance vanish, SSIM = (2 m1 m2 + C1) / (m1^2 + m2^2 + C1).
  c1 = (0.01 * 2.0) ** 2
  expected = (2 * 0.5 * -0.5 + c1) / (0.25 + 0.25 + c1)
  ssim = image_quality.ssim(jnp.full((1, 9, 9, 1), 0.5), jnp.full((1, 9, 9, 1), -0.5))
  np.testing.assert_allclose(ssim, [expected], rtol=1e-5)
  noisy = x + 0.3 * jax.random.normal(jax.random.PRNGKey(1), x.shape)
  assert (image_quality.ssim(x, noisy) < 0.9).all()


# --- data ----------------------------------------------------------------------


def test_edge_map_of_a_square_is_its_border():
  image = np.zeros((1, 8, 8, 1), np.uint8)
  image[0, 2:6, 2:6] = 255
  edges = paired.edge_maps(image)[0, ..., 0] > 0
  assert not edges[3:5, 3:5].any()  # flat inside
  assert edges[2, 3] and edges[1, 3] and edges[5, 3] and edges[6, 3]  # both sides of the step
  assert not edges[0].any()


def test_downsample_is_the_block_mean():
  image = np.arange(16, dtype=np.uint8).reshape(1, 4, 4, 1) * 10
  expected = np.round(
    [
      [(0 + 10 + 40 + 50) / 4, (20 + 30 + 60 + 70) / 4],
      [(80 + 90 + 120 + 130) / 4, (100 + 110 + 140 + 150) / 4],
    ]
  )
  np.testing.assert_array_equal(paired.downsample(image, 2)[0, ..., 0], expected)


def test_masks_centre_square_and_random_rectangles():
  centre = paired.draw_masks(jax.random.PRNGKey(0), 5, (28, 28), "centre")
  assert centre.shape == (5, 28, 28, 1)
  np.testing.assert_array_equal(centre.sum(axis=(1, 2, 3)), 144)
  assert centre[0, 8:20, 8:20].min() == 1
  random = np.asarray(paired.draw_masks(jax.random.PRNGKey(0), 200, (28, 28), "random"))
  rows, cols = random.max(axis=2)[..., 0].sum(1), random.max(axis=1)[..., 0].sum(1)
  assert rows.min() >= 8 and rows.max() <= 16 and cols.min() >= 8 and cols.max() <= 16
  np.testing.assert_array_equal(random.sum(axis=(1, 2, 3)), rows * cols)  # rectangles
  assert len({tuple(np.argwhere(m[..., 0])[0]) for m in random}) > 50  # at many places


def test_paired_rows_are_pairs(test_images):
  images, labels = test_images
  source = paired.task_source("edges", images[:300], labels[:300], name="t")
  batch = source.sample(jax.device_put(source.arrays), jax.random.PRNGKey(0), 64)
  x = np.round((np.asarray(batch["x"]) + 1) * 127.5).astype(np.uint8)
  np.testing.assert_array_equal(np.asarray(batch["cond"]) > 0, paired.edge_maps(x) > 0)


def test_unpaired_domains_are_two_classes_drawn_independently():
  n = 200
  codes = np.repeat(np.arange(n, dtype=np.uint8), 4).reshape(n, 2, 2, 1)
  images = np.concatenate([codes, codes])  # row i of each domain carries the code i
  labels = np.repeat([7, 9], n).astype(np.int32)
  source = paired.task_source("unpaired", images, labels, name="t", domains=(7, 9))
  assert set(source.arrays) == {"a", "x"}
  batch = source.sample(jax.device_put(source.arrays), jax.random.PRNGKey(0), 2000)
  same_row = np.mean(np.asarray(batch["a"])[:, 0, 0, 0] == np.asarray(batch["x"])[:, 0, 0, 0])
  assert same_row < 0.02  # independent indices: about 1/200, never the pairing a row would give
  with pytest.raises(ValueError, match=r"data.domains must be two different classes"):
    paired.task_source("unpaired", images, labels, name="t", domains=(7, 7))


def test_unknown_task_is_refused(test_images):
  with pytest.raises(ValueError, match=r"task 'colorize' is unknown; accepted: edges, superres"):
    paired.task_arrays("colorize", *test_images)


# --- recipes -------------------------------------------------------------------


@pytest.mark.parametrize("recipe", ["pix2pix", "superres", "inpainting"])  # cyclegan: resume test
def test_one_step_gives_finite_metrics_and_image_outputs(recipe):
  config = tiny_config(recipe)
  state, source = state_and_source(config)
  step = jitted_sampled_train_step(source, 4, recipes.get_recipe(recipe))
  new_state, metrics = step(state, jax.device_put(source.arrays))
  assert int(new_state.step) == 1
  assert all(np.isfinite(v) for v in jax.device_get(metrics).values())
  cond = jnp.tanh(state.noise(jax.random.PRNGKey(0), 3))  # inputs in [-1, 1]
  if recipe == "inpainting":  # the last channel is the mask: 1 where the generator fills in
    cond = cond.at[..., -1:].set((cond[..., -1:] > 0).astype(cond.dtype))
  assert cond.shape == (
    (3, 14, 14, 1)
    if recipe == "superres"
    else (3, 28, 28, 2)
    if recipe == "inpainting"
    else (3, 28, 28, 1)
  )
  out = recipes.get_recipe(recipe).sample(new_state, cond)
  assert out.shape == (3, 28, 28, 1) and float(jnp.abs(out).max()) <= 1.0


def test_pix2pix_discriminator_sees_the_condition():
  state, _ = state_and_source(tiny_config("pix2pix"))
  first_kernel = state.d_params["Conv_0"]["kernel"]
  assert first_kernel.shape[2] == 2  # image channel + condition channel
  x = jnp.zeros((1, 28, 28, 1))
  cond = jax.random.uniform(jax.random.PRNGKey(0), (2, 28, 28, 1), minval=-1, maxval=1)
  d = lambda c: state.d_apply_fn(
    {"params": state.d_params}, translation.discriminator_input(state.game, x, c), train=False
  )
  assert not np.allclose(d(cond[:1]), d(cond[1:]))


def test_reconstruction_loss_by_hand_with_and_without_mask():
  out = jnp.array([1.0, -1.0, 0.5, 0.0]).reshape(1, 2, 2, 1)
  x = jnp.zeros((1, 2, 2, 1))
  mask = jnp.array([1.0, 0.0, 1.0, 0.0]).reshape(1, 2, 2, 1)
  np.testing.assert_allclose(translation.reconstruction_loss(out, x), 2.5 / 4)
  np.testing.assert_allclose(translation.reconstruction_loss(out, x, mask), 1.5 / 2)
  np.testing.assert_allclose(translation.reconstruction_loss(out, x, mask, "l2"), 1.25 / 2)


def test_no_adversarial_baseline_is_lambda_l1_and_leaves_d_alone():
  state, source = state_and_source(tiny_config("pix2pix", adversarial_weight=0.0))
  batch = jax.tree.map(
    lambda v: v[None], source.sample(jax.device_put(source.arrays), jax.random.PRNGKey(0), 4)
  )
  expected = 100.0 * jnp.mean(
    jnp.abs(translation.translate(state, batch["cond"][0]) - batch["x"][0])
  )
  new_state, metrics = translation.translation_train_step(state, batch)
  np.testing.assert_allclose(metrics["g_loss"], expected, rtol=1e-5)
  assert jax.tree.all(
    jax.tree.map(lambda a, b: bool((a == b).all()), new_state.d_params, state.d_params)
  )


def test_inpainting_keeps_the_known_pixels():
  state, source = state_and_source(tiny_config("inpainting"))
  batch = source.sample(jax.device_put(source.arrays), jax.random.PRNGKey(0), 4)
  out = inpainting.inpaint(state, batch["cond"])
  known = 1.0 - batch["mask"]
  np.testing.assert_allclose(out * known, batch["x"] * known, atol=1e-6)


def test_cyclegan_state_holds_two_generators_and_two_discriminators_and_its_loss():
  # Both weights set here (the shipped config has no identity term), so each term is checked.
  state, source = state_and_source(tiny_config("cyclegan", cycle_weight=10.0, identity_weight=5.0))
  assert set(state.g_params) == {"g_ab", "g_ba"} and set(state.d_params) == {"d_a", "d_b"}
  batch = source.sample(jax.device_put(source.arrays), jax.random.PRNGKey(0), 4)
  a, b = batch["a"], batch["x"]
  g = lambda x: cyclegan.translate_a_to_b(state, x)
  f = lambda x: cyclegan.translate_b_to_a(state, x)
  d = lambda x, m: state.d_apply_fn({"params": state.d_params}, x, method=m)
  lsq = lambda logits: 0.5 * jnp.mean((logits - 1.0) ** 2)
  expected = (
    lsq(d(g(a), "domain_b"))
    + lsq(d(f(b), "domain_a"))
    + 10.0 * (jnp.mean(jnp.abs(f(g(a)) - a)) + jnp.mean(jnp.abs(g(f(b)) - b)))
    + 5.0 * (jnp.mean(jnp.abs(g(b) - b)) + jnp.mean(jnp.abs(f(a) - a)))
  )
  total, _ = cyclegan.cyclegan_losses(state, state.g_params, a, b)
  np.testing.assert_allclose(total, expected, rtol=1e-5)


def test_unknown_variant_option_is_refused():
  with pytest.raises(
    ValueError,
    match=r"variant option 'lambda_l1' is unknown for recipe 'pix2pix'; accepted: adversarial_",
  ):
    state_and_source(tiny_config("pix2pix", lambda_l1=10.0))


@pytest.mark.parametrize("recipe", ["pix2pix", "superres", "inpainting", "cyclegan"])
@pytest.mark.parametrize("player", ["generator", "discriminator"])
def test_a_model_option_its_module_does_not_take_is_refused_in_one_line(recipe, player):
  config = tiny_config(recipe)
  config.model[player].widht = 3
  with pytest.raises(ValueError, match=rf"^bad config.model option for {recipe}: .*'widht'") as e:
    recipes.get_recipe(recipe).create_state(config, (28, 28, 1))
  assert "; accepted: features" in str(e.value)  # every player here takes 'features' first


@pytest.mark.parametrize("recipe", ["pix2pix", "cyclegan"])
def test_resume_through_train_and_evaluate_is_bit_exact(recipe, tmp_path):
  config = tiny_config(recipe)
  straight = train.train_and_evaluate(config, str(tmp_path / "straight"), progress=False)
  config.num_steps = 2
  train.train_and_evaluate(config, str(tmp_path / "resumed"), progress=False)
  config.num_steps = 4
  resumed = train.train_and_evaluate(config, str(tmp_path / "resumed"), progress=False)
  assert int(resumed.step) == 4
  for a, b in zip(
    jax.tree.leaves((straight.g_params, straight.d_params, straight.g_opt_state)),
    jax.tree.leaves((resumed.g_params, resumed.d_params, resumed.g_opt_state)),
  ):
    np.testing.assert_array_equal(a, b)


def test_a_condition_is_neither_walked_nor_truncated(tmp_path, capsys):
  workdir = str(tmp_path / "run")
  config = tiny_config("pix2pix")
  config.num_steps = 1
  state = train.train_and_evaluate(config, workdir, progress=False)
  out = str(tmp_path / "walks.png")
  for flag in (["--interpolate", "3"], ["--truncation", "1"]):
    assert cli.main(["sample", "--workdir", workdir, *flag, "--out", out]) == cli.EXIT_USAGE
    error = capsys.readouterr().err
    assert f"{flag[0]} needs a generator of a latent" in error and "'pix2pix'" in error
  assert not os.path.exists(out)
  with pytest.raises(ValueError, match="truncation needs a generator of a latent"):
    sampling.draw_samples(state, 2, 0, recipe=recipes.get_recipe("pix2pix"), truncation=1.0)
  text = open(report.write_report(workdir)).read()
  assert "(report/samples.png)" in text and "latent_walks" not in text


def test_samples_of_a_condition_recipe_are_outputs_for_the_datas_conditions(tmp_path, capsys):
  """`gan-jax sample` and the report's picture give G's outputs for conditions drawn from
  the data (edge maps of the targets beside them), not for noise from the latent prior."""
  workdir = str(tmp_path / "run")
  config = tiny_config("pix2pix")
  config.num_steps = 1
  state = train.train_and_evaluate(config, workdir, progress=False)
  npz, png = str(tmp_path / "s.npz"), str(tmp_path / "s.png")
  for out in (npz, png):
    assert cli.main(["sample", "--workdir", workdir, "--num", "8", "--out", out]) == 0
  assert "(condition, output, target)" in capsys.readouterr().out
  arrays = np.load(npz)
  targets = np.round((arrays["targets"] + 1.0) * 127.5).astype(np.uint8)
  np.testing.assert_array_equal(
    arrays["conditions"], np.asarray(data.to_unit_range(jnp.asarray(paired.edge_maps(targets))))
  )
  np.testing.assert_allclose(
    arrays["samples"], translation.translate(state, jnp.asarray(arrays["conditions"])), atol=1e-5
  )
  report.write_report(workdir)  # its picture: 8 examples of seed 0, as `sample` drew them
  import matplotlib.pyplot as plt

  np.testing.assert_array_equal(
    plt.imread(os.path.join(workdir, "report", "samples.png")), plt.imread(png)
  )


SHARD_SCRIPT = """
import jax, numpy as np
from gan_jax import train
from tests.test_variants_image_to_image import tiny_config
out = {}
for mode in ("none", "shard_map", "pmap"):
  config = tiny_config("pix2pix")
  config.num_steps = 2
  config.parallel = mode
  state = train.train_and_evaluate(config, f"{WORKDIR}/{mode}", progress=False)
  out[mode] = jax.tree.leaves(state.g_params)
assert jax.device_count() == 2
for mode in ("shard_map", "pmap"):
  print(mode, max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in zip(out["none"],
  out[mode])))
"""


@pytest.mark.skipif(
  os.environ.get("GAN_JAX_SLOW_TESTS") != "1",
  reason="compiles six runs in a subprocess (minutes on 2 cores); GAN_JAX_SLOW_TESTS=1",
)
def test_pix2pix_runs_under_shard_map_and_pmap_on_two_devices_like_one(tmp_path):
  env = {
    **os.environ,
    "XLA_FLAGS": device_count_flags(2),
    "JAX_PLATFORMS": "cpu",
    "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
  }
  script = SHARD_SCRIPT.replace("{WORKDIR}", str(tmp_path))
  result = subprocess.run(
    [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
  )
  assert result.returncode == 0, result.stderr[-2000:]
  differences = dict(line.split() for line in result.stdout.strip().splitlines())
  assert set(differences) == {"shard_map", "pmap"}
  assert all(float(v) < 1e-4 for v in differences.values()), differences
