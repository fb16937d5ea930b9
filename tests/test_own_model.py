"""A model defined outside the package trains, samples and evaluates from the command line.

`gan-jax sample` and `evaluate` rebuild the models from the run's config.json in a
new process; they find a user's model because config.model.module names the module
that registers it, and every entry point imports it before building.
"""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from gan_jax import cli, models
from tests.conftest import ROOT, tiny_ring_config

MODEL_FILE = '''
"""Players of one's own: a one-hidden-layer MLP pair for 2D points."""
import flax.linen as nn
from gan_jax import models


class Generator(nn.Module):
  data_shape: tuple
  hidden: int = 16

  @nn.compact
  def __call__(self, z, train=True):
    h = nn.relu(nn.Dense(self.hidden)(z))
    return nn.Dense(self.data_shape[0])(h)


class Discriminator(nn.Module):
  hidden: int = 16

  @nn.compact
  def __call__(self, x, train=True):
    h = nn.leaky_relu(nn.Dense(self.hidden)(x.reshape(x.shape[0], -1)), 0.2)
    return nn.Dense(1)(h)[:, 0]


@models.register_model("my_mlp")
def build(data_shape, axis_name, options):
  return (Generator(tuple(data_shape), **options.get("generator", {})),
          Discriminator(**options.get("discriminator", {})))
'''

CONFIG_FILE = '''
from gan_jax import config_base


def get_config():
  config = config_base.ring()
  config.model.name = "my_mlp"
  config.model.module = "my_players"
  config.model.generator = {"hidden": 8}
  config.model.discriminator = {"hidden": 8}
  config.num_steps = 20
  config.steps_per_call = 1
  config.batch_size = 32
  config.log_every = 10
  config.sample_every = 20
  config.checkpoint_every = 20
  return config
'''


def run_cli(*args, pythonpath):
  """`python -m gan_jax.cli ARGS` in a new process, with `pythonpath` on its path. The
  processes share a compilation cache in `pythonpath`: the second reuses the first's
  programs (state creation, restoring), about half its time."""
  env = dict(
    os.environ,
    PYTHONPATH=os.pathsep.join([pythonpath, ROOT]),
    JAX_PLATFORMS="cpu",
    JAX_COMPILATION_CACHE_DIR=os.path.join(pythonpath, "jax_cache"),
    JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
    JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
  )
  return subprocess.run(
    [sys.executable, "-m", "gan_jax.cli", *args],
    capture_output=True,
    text=True,
    env=env,
    cwd=pythonpath,
    timeout=300,
  )


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
  """A folder outside the package with the user's model and config, on sys.path; the
  model's registration is undone afterwards."""
  user = tmp_path / "user"
  user.mkdir()
  (user / "my_players.py").write_text(MODEL_FILE)
  (user / "my_config.py").write_text(CONFIG_FILE)
  monkeypatch.syspath_prepend(str(user))
  yield user
  models.MODEL_BUILDERS.pop("my_mlp", None)
  sys.modules.pop("my_players", None)


def test_a_model_of_ones_own_trains_samples_and_evaluates_from_the_cli(
  tmp_path, user_folder, capsys
):
  """Catches sample/evaluate rebuilding from config.json without importing model.module
  (they failed with "model 'my_mlp' is unknown"), and the field not being saved.

  Training runs through the command line's main in this process; sample and evaluate run
  as `python -m gan_jax.cli` in new processes, which know the model only from config.json.
  """
  workdir = tmp_path / "run"
  status = cli.main(
    [
      "train",
      "--config",
      str(user_folder / "my_config.py"),
      "--workdir",
      str(workdir),
      "--no-progress",
    ]
  )
  assert status == 0, capsys.readouterr().err
  saved = json.loads((workdir / "config.json").read_text())
  assert saved["model"]["module"] == "my_players" and saved["model"]["name"] == "my_mlp"
  out = tmp_path / "samples.npz"
  sampled = run_cli(
    "sample",
    "--workdir",
    str(workdir),
    "--num",
    "7",
    "--out",
    str(out),
    pythonpath=str(user_folder),
  )
  assert sampled.returncode == 0, sampled.stderr
  assert np.load(out)["samples"].shape == (7, 2)
  evaluated = run_cli(
    "evaluate",
    "--workdir",
    str(workdir),
    "--num-samples",
    "200",
    "--no-report",
    pythonpath=str(user_folder),
  )
  assert evaluated.returncode == 0, evaluated.stderr
  result = json.loads((workdir / "eval.json").read_text())
  assert (result["step"], result["num_samples"], result["num_modes"]) == (20, 200, 8)
  # A run whose module is not on the path: one line naming it and what is accepted, exit 2.
  moved = tmp_path / "moved"
  moved.mkdir()
  saved["model"]["module"] = "players_not_on_the_path"
  (moved / "config.json").write_text(json.dumps(saved))
  capsys.readouterr()
  assert cli.main(["sample", "--workdir", str(moved), "--out", str(out)]) == 2
  assert capsys.readouterr().err.strip().splitlines() == [
    "gan-jax: error: model.module 'players_not_on_the_path' cannot be found; accepted: a "
    "module on the Python path (add its folder to PYTHONPATH) that registers models with "
    "gan_jax.models.register_model or recipes with gan_jax.recipes.register_recipe"
  ]


RING = os.path.join(ROOT, "experiments", "configs", "ring_gan.py")


def train_ring(workdir, *overrides) -> int:
  """`gan-jax train` of the ring GAN's config into `workdir` with `overrides`; exit status."""
  return cli.main(["train", "--config", RING, "--workdir", str(workdir), *overrides])


def test_an_unknown_or_broken_model_module_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
  monkeypatch.syspath_prepend(str(tmp_path))
  (tmp_path / "broken_players.py").write_text("import no_such_dependency\n")
  (tmp_path / "empty_players.py").write_text("X = 1\n")
  cases = [
    (
      "no_such_players",
      "model.module 'no_such_players' cannot be found; accepted: a module on the Python path",
    ),
    (
      "broken_players",
      "model.module 'broken_players' failed to import: ModuleNotFoundError: "
      "No module named 'no_such_dependency'",
    ),
    (
      "empty_players",
      "model 'my_mlp' is unknown; model.module 'empty_players' registers none "
      "of that name; accepted: ",
    ),
    (
      "user/my_players.py",
      "model.module 'user/my_players.py' is a file path; accepted: a "
      "module name such as 'my_players' for my_players.py",
    ),
  ]
  for module, message in cases:
    status = cli.main(
      [
        "train",
        "--config",
        RING,
        "--workdir",
        str(tmp_path / "run"),
        "--config.model.name='my_mlp'",
        f"--config.model.module='{module}'",
      ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and message in err[0], (module, err)
  assert not (tmp_path / "run" / "checkpoints").exists()


BAD_DISCRIMINATORS = '''
import flax.linen as nn
import jax.numpy as jnp
from gan_jax import models
from my_players import Generator


class FiveLogits(nn.Module):
  @nn.compact
  def __call__(self, x, train=True):
    return nn.Dense(5)(x)


class OneLogit(nn.Module):
  @nn.compact
  def __call__(self, x, train=True):
    return jnp.mean(nn.Dense(1)(x))


class FirstLogit(nn.Module):
  @nn.compact
  def __call__(self, x, train=True):
    return nn.Dense(1)(x)[:1, 0]


class ThreeCoordinates(nn.Module):
  @nn.compact
  def __call__(self, z, train=True):
    return nn.Dense(3)(z)


@models.register_model("first_logit")
def build_first(data_shape, axis_name, options):
  return Generator(tuple(data_shape)), FirstLogit()


@models.register_model("wrong_g")
def build_wrong_g(data_shape, axis_name, options):
  return ThreeCoordinates(), FiveLogits()


@models.register_model("five_logits")
def build_five(data_shape, axis_name, options):
  return Generator(tuple(data_shape)), FiveLogits()


@models.register_model("one_logit")
def build_one(data_shape, axis_name, options):
  return Generator(tuple(data_shape)), OneLogit()
'''


@pytest.mark.parametrize(
  "model, returned", [("five_logits", "(256, 5)"), ("one_logit", "()"), ("first_logit", "(1,)")]
)
def test_a_discriminator_without_one_logit_per_sample_is_refused_before_training(
  model, returned, tmp_path, capsys, monkeypatch
):
  monkeypatch.syspath_prepend(str(tmp_path))
  (tmp_path / "my_players.py").write_text(MODEL_FILE)
  (tmp_path / "bad_players.py").write_text(BAD_DISCRIMINATORS)
  status = train_ring(
    tmp_path / "run", f"--config.model.name='{model}'", "--config.model.module='bad_players'"
  )
  err = capsys.readouterr().err.strip().splitlines()
  assert status == 2 and err == [
    f"gan-jax: error: model '{model}': the discriminator returns {returned} for 256 samples; "
    "expected one logit per sample, shape (256,)"
  ]
  assert not (tmp_path / "run" / "checkpoints").exists()


def test_a_generator_of_the_wrong_shape_is_blamed_on_the_generator(tmp_path, capsys, monkeypatch):
  monkeypatch.syspath_prepend(str(tmp_path))
  (tmp_path / "my_players.py").write_text(MODEL_FILE)
  (tmp_path / "bad_players.py").write_text(BAD_DISCRIMINATORS)
  overrides = ["--config.model.name=wrong_g", "--config.model.module=bad_players"]
  assert train_ring(tmp_path / "run", *overrides) == 2
  assert capsys.readouterr().err.strip().splitlines() == [
    "gan-jax: error: model 'wrong_g' generates samples of shape (3,) but the data has shape (2,)"
  ]


VARIANT_FILE = '''
"""A recipe of one's own: the relativistic average GAN's losses (Jolicoeur-Martineau 2018)."""
import dataclasses

import jax
from gan_jax import builders, losses, steps
from gan_jax.recipes import Recipe, register_recipe


def discriminator_loss(real_logits, fake_logits, axis_name=None):
  # The mean logits are the global batch's: `batch_mean` takes them over the devices too.
  real_mean = losses.batch_mean(real_logits, axis_name)
  fake_mean = losses.batch_mean(fake_logits, axis_name)
  return (
    jax.nn.softplus(fake_mean - real_logits).mean()
    + jax.nn.softplus(fake_logits - real_mean).mean()
  )


def generator_loss(state, g_params, batch, inputs, keys, axis_name=None):
  fake, collections = steps.apply_generator(
    state, g_params, *inputs.generator, train=True, key=keys.generator_dropout
  )
  fake_logits, _ = steps.apply_discriminator(
    state, state.d_params, fake, train=True, key=keys.discriminator_dropout
  )
  real_logits, _ = steps.apply_discriminator(
    state, state.d_params, batch["x"], train=True, key=keys.discriminator_dropout
  )
  real_logits = jax.lax.stop_gradient(real_logits)
  loss = discriminator_loss(fake_logits, real_logits, axis_name)  # the roles swapped
  return loss, (fake_logits, collections, {})


def fake_logits_only_loss(fake_logits, axis_name=None):
  """GANLoss.generator: not called here, generator_loss (above) needs the real logits too."""
  return losses.non_saturating_generator_loss(fake_logits)


RAGAN = losses.GANLoss(discriminator_loss, fake_logits_only_loss, mixes_rows=True)


def create_state(config, data_shape, *, axis_name=None):
  game = dataclasses.replace(builders.make_game(config), loss=RAGAN)
  return builders.create_state_from_config(config, data_shape, axis_name=axis_name, game=game)


_, _, train_step = steps.player_steps(generator_loss_fn=generator_loss)
register_recipe(Recipe("my_ragan", create_state, train_step))
'''


def test_a_recipe_of_ones_own_trains_and_samples_from_its_module(tmp_path, monkeypatch, capsys):
  monkeypatch.syspath_prepend(str(tmp_path))
  (tmp_path / "my_variant.py").write_text(VARIANT_FILE)
  workdir = str(tmp_path / "run")
  overrides = [
    "--no-progress",
    "--config.model.module=my_variant",
    "--config.recipe=my_ragan",
    "--config.num_steps=4",
    "--config.steps_per_call=1",
    "--config.log_every=2",
    "--config.sample_every=4",
    "--config.checkpoint_every=4",
  ]
  assert train_ring(workdir, *overrides) == 0
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    records = [json.loads(line) for line in f]
  assert [r["step"] for r in records] == [2, 4] and all(np.isfinite(r["g_loss"]) for r in records)
  out = str(tmp_path / "s.npz")
  assert cli.main(["sample", "--workdir", workdir, "--num", "5", "--out", out]) == 0
  assert np.load(out)["samples"].shape == (5, 2)


def test_a_recipe_whose_loss_mixes_rows_trains_alike_on_one_device_and_on_two(
  tmp_path, monkeypatch
):
  """The relativistic loss's mean logits are the global batch's (`losses.batch_mean` over the
  device axis): two devices, emulated by `jax.vmap` with an axis name (the steps' collectives
  run over it as over pmap's), train as one device on the whole batch. Taking the means over
  each device's rows instead gives another discriminator loss."""
  import importlib

  import jax

  from gan_jax import data

  monkeypatch.syspath_prepend(str(tmp_path))
  (tmp_path / "my_variant_rows.py").write_text(
    VARIANT_FILE.replace('"my_ragan"', '"my_ragan_rows"')
  )
  variant = importlib.import_module("my_variant_rows")
  config = tiny_ring_config()
  config.batch_size = 16
  state = variant.create_state(config, (2,))
  x = data.toy.ring().sample(jax.random.PRNGKey(3), 16)[None]
  _, one_metrics = jax.jit(variant.train_step)(state, {"x": x})

  def two_devices(step):
    halves = {"x": x.reshape(1, 2, 8, 2).swapaxes(0, 1)}  # (devices, k, rows, 2)
    mapped = jax.vmap(lambda batch: step(state, batch, axis_name="devices"), axis_name="devices")
    return jax.jit(mapped)(halves)

  # Adam's first update is about lr * sign(gradient): compare the losses and gradients' norms,
  # which rounding moves by 1e-7, not parameters whose gradient is near 0.
  _, two_metrics = two_devices(variant.train_step)
  for name in ("d_loss", "g_loss", "d_grad_norm", "g_grad_norm"):
    np.testing.assert_allclose(two_metrics[name][0], one_metrics[name], rtol=1e-5, err_msg=name)
    np.testing.assert_array_equal(two_metrics[name][0], two_metrics[name][1])

  local = dataclasses.replace(
    state.game,
    loss=state.game.loss._replace(
      discriminator=lambda r, f, axis_name=None: variant.discriminator_loss(r, f, None)
    ),
  )
  state = state.replace(game=local)
  _, local_metrics = two_devices(variant.train_step)
  assert abs(float(local_metrics["d_loss"][0]) - float(one_metrics["d_loss"])) > 1e-4


def test_a_recipe_whose_create_state_needs_axis_name_is_refused_when_registered(
  tmp_path, capsys, monkeypatch
):
  """Before: the loop's call without axis_name failed inside the model check, which blamed
  the model and the data's shape."""
  monkeypatch.syspath_prepend(str(tmp_path))
  source = VARIANT_FILE.replace('"my_ragan"', '"my_ragan_kw"').replace(
    "def create_state(config, data_shape, *, axis_name=None):",
    "def create_state(config, data_shape, *, axis_name):",
  )
  (tmp_path / "my_variant_kw.py").write_text(source)
  overrides = ["--config.model.module=my_variant_kw", "--config.recipe=my_ragan_kw"]
  assert train_ring(tmp_path / "run", *overrides) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1, err
  assert (
    "model.module 'my_variant_kw' failed to import: TypeError: recipe "
    "'my_ragan_kw': create_state create_state(config, data_shape, *, axis_name) cannot be "
    "called as create_state(config, data_shape, axis_name=None) (missing a required argument: "
    "'axis_name')" in err[0]
  ), err
  assert not os.path.exists(tmp_path / "run" / "config.json")
