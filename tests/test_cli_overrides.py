"""`gan-jax` command-line forms: config_flags-style overrides, `FILE.py:ARG`, `--version`,
`train --help`, and `gan_jax.train_and_evaluate`. No training: each test parses only."""

import importlib.metadata
import os

import pytest

import gan_jax
from gan_jax import cli
from tests.conftest import CONFIG_DIR

RING = os.path.join(CONFIG_DIR, "ring_gan.py")


def overridden(*argv):
  """The ring config after the overrides of a command line."""
  rest, overrides = cli.split_overrides(list(argv))
  assert rest == [], rest
  return cli.apply_overrides(cli.load_config_file(RING), overrides)


def test_equals_and_space_forms_set_the_same_values():
  """`--config.x=v` and `--config.x v` (config_flags accepts both) give one config.

  Catches a parser that takes the space form's value as a stray argument or
  drops it (the hand parser once refused `--config.num_steps 50`).
  """
  spaced = overridden(
    "--config.num_steps",
    "50",
    "--config.g_optimizer.learning_rate",
    "2e-4",
    "--config.model.generator.hidden",
    "(8, 4)",
    "--config.loss",
    "hinge",
  )
  joined = overridden(
    "--config.num_steps=50",
    "--config.g_optimizer.learning_rate=2e-4",
    "--config.model.generator.hidden=(8, 4)",
    "--config.loss=hinge",
  )
  assert spaced.to_dict() == joined.to_dict()
  assert (spaced.num_steps, spaced.g_optimizer.learning_rate) == (50, 2e-4)
  assert spaced.model.generator.hidden == (8, 4) and spaced.loss == "hinge"


def test_split_overrides_leaves_the_other_arguments_alone():
  rest, overrides = cli.split_overrides(
    [
      "train",
      "--config",
      RING,
      "--config.num_steps",
      "7",
      "--workdir",
      "w",
      "--config.reuse_fakes",
      "--no-progress",
      "--config.seed=3",
    ]
  )
  assert rest == ["train", "--config", RING, "--workdir", "w", "--no-progress"]
  assert overrides == [("num_steps", "7"), ("reuse_fakes", None), ("seed", "3")]


def test_values_are_parsed_by_the_field_type_as_config_flags_does():
  """A string field takes the text as written (also digits), quoted or not; a float field
  takes an int's spelling; booleans take true/false and the bare and `no` forms."""
  config = overridden(
    "--config.data.name=123",
    "--config.loss='hinge'",
    "--config.d_optimizer.learning_rate=1",
    "--config.reuse_fakes=True",
  )
  assert config.data.name == "123" and config.loss == "hinge"
  assert config.d_optimizer.learning_rate == 1.0
  assert isinstance(config.d_optimizer.learning_rate, float)
  assert overridden("--config.reuse_fakes").reuse_fakes is True
  assert overridden("--config.reuse_fakes=true", "--config.noreuse_fakes").reuse_fakes is False
  assert overridden("--config.model.generator.hidden=32").model.generator.hidden == (32,)


@pytest.mark.parametrize(
  "argv, message",
  [
    (["--config.num_steps=1e3"], "--config.num_steps='1e3': expected an integer, got a number"),
    (
      ["--config.reuse_fakes=1"],
      "--config.reuse_fakes='1': expected true or false, got an integer",
    ),
    (
      ["--config.num_steps"],
      "--config.num_steps needs a value: --config.num_steps=VALUE or --config.num_steps VALUE",
    ),
    (["--config.num_stepz", "3"], "config has no field 'num_stepz'; known fields here: augment"),
    (["--config.model.generator.hidden={1: 2}"], "expected a tuple such as (1, 2), got a dict"),
    (
      ["--config.model", "3"],
      "--config.model cannot be set from the command line: the field holds a ConfigDict",
    ),
    (["--config..seed=1"], "--config..seed names no field"),
  ],
)
def test_a_bad_override_is_one_line_naming_it(argv, message):
  rest, overrides = cli.split_overrides(argv)
  with pytest.raises(cli.UsageError) as error:
    cli.apply_overrides(cli.load_config_file(RING), overrides)
  assert message in str(error.value) and "\n" not in str(error.value), str(error.value)


def test_none_leaves_out_the_options_another_optimizer_does_not_take():
  """Adam -> SGD from the command line: b1 and b2 given as None are removed, and the
  optimizer built is SGD with the given momentum (its update equals optax.sgd's)."""
  import jax.numpy as jnp
  import optax

  from gan_jax import builders

  config = overridden(
    "--config.g_optimizer.name=sgd",
    "--config.g_optimizer.b1=None",
    "--config.g_optimizer.b2=None",
    "--config.g_optimizer.momentum=0.5",
  )
  assert "b1" not in config.g_optimizer and config.g_optimizer.name == "sgd"
  params, grads = jnp.ones(3), jnp.array([1.0, -2.0, 0.5])
  built = builders.make_optimizer(config.g_optimizer)
  reference = optax.sgd(config.g_optimizer.learning_rate, momentum=0.5)
  ours, theirs = built.init(params), reference.init(params)
  for _ in range(2):  # the second update carries the momentum of the first
    ours_update, ours = built.update(grads, ours, params)
    theirs_update, theirs = reference.update(grads, theirs, params)
    assert jnp.array_equal(ours_update, theirs_update)


def test_the_config_command_prints_the_checked_config_with_its_overrides(capsys):
  import json

  assert cli.main(["config", "--config", RING, "--config.num_steps=50", "--config.loss=hinge"]) == 0
  printed = json.loads(capsys.readouterr().out)
  expected = cli.apply_overrides(
    cli.load_config_file(RING), [("num_steps", "50"), ("loss", "hinge")]
  ).to_dict()
  assert printed["num_steps"] == 50 and printed["loss"] == "hinge"
  assert printed == json.loads(json.dumps(expected))
  assert cli.main(["config", "--config", RING, "--config.loss=vanilla"]) == cli.EXIT_USAGE
  assert "loss 'vanilla' is unknown" in capsys.readouterr().err


def test_an_unknown_argument_points_to_its_commands_help(tmp_path, capsys):
  argv = ["sample", "--workdir", str(tmp_path), "--out", "s.npz", "--steps", "3"]
  assert cli.main(argv) == cli.EXIT_USAGE
  assert capsys.readouterr().err.strip().splitlines() == [
    "gan-jax: error: unrecognized arguments: --steps 3 (see gan-jax sample --help)"
  ]


def test_a_field_of_a_known_section_the_file_leaves_out_can_be_overridden():
  config = overridden("--config.diagnostics.window=3", "--config.distributed.num_processes=1")
  assert config.diagnostics.window == 3 and config.distributed.num_processes == 1
  with pytest.raises(cli.UsageError, match=r"config has no field 'loss.x' \(no section 'loss'\)"):
    overridden("--config.loss.x=1")  # loss is a field, not a section


def test_the_config_command_checks_the_models_when_the_data_is_there_and_says_when_not(
  tmp_path, capsys
):
  assert cli.main(["config", "--config", RING, "--config.model.generator.hidden='(0,)'"]) == 2
  assert "model.generator.hidden of model 'toy_mlp' must be" in capsys.readouterr().err
  missing = tmp_path / "none.npz"
  argv = ["config", "--config", RING, "--config.data.source=npz", f"--config.data.path={missing}"]
  assert cli.main(argv) == 0
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith(
    "note: the models were not checked against the data: "
  ), err
  assert str(missing) in err[0]


def test_debug_keeps_the_exit_status_of_bad_input():
  import subprocess
  import sys

  argv = [sys.executable, "-m", "gan_jax.cli", "config", "--config", RING, "--config.num_stepz=3"]
  for extra in ([], ["--debug"]):
    process = subprocess.run(argv + extra, capture_output=True, text=True)
    assert process.returncode == 2, (extra, process.stderr[-500:])
    assert ("Traceback" in process.stderr) == bool(extra)


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_before_or_after_the_command_shows_the_traceback(where, tmp_path):
  command = ["report", "--workdir", str(tmp_path)]
  argv = ["--debug", *command] if where == "before" else [*command, "--debug"]
  with pytest.raises(FileNotFoundError, match="holds no run"):
    cli.main(argv)


def test_a_config_file_argument_reaches_get_config(tmp_path):
  """Flax's `--config file.py:arg` form: the text after the first colon is get_config's argument."""
  path = tmp_path / "sized.py"
  path.write_text(
    f"import importlib.util\n"
    f"spec = importlib.util.spec_from_file_location('ring', {RING!r})\n"
    f"ring = importlib.util.module_from_spec(spec); spec.loader.exec_module(ring)\n"
    f"def get_config(size):\n"
    f"  config = ring.get_config(); config.batch_size = int(size); return config\n"
  )
  assert cli.load_config_file(f"{path}:48").batch_size == 48
  with pytest.raises(
    cli.UsageError, match=r"needs an argument; give it as --config .*sized.py:ARG"
  ):
    cli.load_config_file(str(path))
  with pytest.raises(cli.UsageError, match=r"takes no argument, got 'x'"):
    cli.load_config_file(f"{RING}:x")


def test_version_names_the_package_and_jax(capsys):
  with pytest.raises(SystemExit) as stop:
    cli.main(["--version"])
  assert stop.value.code == 0
  out = capsys.readouterr().out.strip()
  assert out.startswith(f"gan-jax {gan_jax.__version__} (jax {importlib.metadata.version('jax')}, ")
  assert gan_jax.__version__ == importlib.metadata.version("gan_jax")


def test_train_help_documents_the_overrides(capsys):
  with pytest.raises(SystemExit):
    cli.main(["train", "--help"])
  out = capsys.readouterr().out
  for form in (
    "--config.FIELD=VALUE",
    "--config.FIELD VALUE",
    "--config.noFLAG",
    "FILE.py:ARG",
    "--no-progress",
  ):
    assert form in out, form


def test_train_and_evaluate_is_exported_and_named_in_the_docstring():
  from gan_jax import train

  assert gan_jax.train_and_evaluate is train.train_and_evaluate
  assert "gan_jax.train_and_evaluate" in gan_jax.__doc__
  assert "train_and_evaluate" in gan_jax.__all__
  with pytest.raises(AttributeError, match="has no attribute 'train_and_evaluat'"):
    gan_jax.train_and_evaluat
  from gan_jax import runs

  assert gan_jax.load_run is runs.load_run and "load_run" in gan_jax.__all__
  assert "gan_jax.load_run(workdir, step=None)" in gan_jax.__doc__
