"""Bad input stops `gan-jax` early, with one line naming the bad value and what is accepted.

Every case runs the real command line (`cli.main`) and fails before anything
is compiled: exit status 2, a single `gan-jax: error: ...` line, no traceback.
"""

import glob
import os
import struct

import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import builders, cli, config_base, data, losses, models, sampling, validation
from gan_jax import state as state_lib
from tests.conftest import CONFIG_DIR, load_experiment_config, tiny_ring_config

RING = os.path.join(CONFIG_DIR, "ring_gan.py")
MLP = os.path.join(CONFIG_DIR, "mlp_fashion_mnist.py")
DCGAN = os.path.join(CONFIG_DIR, "dcgan_fashion_mnist.py")
TINY = [
  "--config.num_steps=2",
  "--config.steps_per_call=1",
  "--config.batch_size=8",
  "--config.model.generator.hidden=(8,)",
  "--config.model.discriminator.hidden=(8,)",
]


def ring(*overrides):
  return lambda tmp: [
    "train",
    "--config",
    RING,
    "--workdir",
    str(tmp / "run"),
    "--no-progress",
    *TINY,
    *overrides,
  ]


def config_file(text):
  def make(tmp):
    path = tmp / "my_config.py"
    path.write_text(text)
    return ["train", "--config", str(path), "--workdir", str(tmp / "run")]

  return make


def npz(config=MLP, **arrays):
  """A run of `config` (default: the seeds' MLP GAN) on an .npz file holding `arrays`."""

  def make(tmp):
    path = tmp / "data.npz"
    np.savez(path, **arrays)
    return image_run(tmp, path, config)

  return make


def image_run(tmp, path, config=MLP, *extra):
  return [
    "train",
    "--config",
    config,
    "--workdir",
    str(tmp / "run"),
    "--no-progress",
    "--config.data.source='npz'",
    f"--config.data.path='{path}'",
    "--config.num_steps=2",
    "--config.batch_size=8",
    *extra,
  ]


def raw_file(content: bytes):
  def make(tmp):
    path = tmp / "data.npz"
    path.write_bytes(content)
    return image_run(tmp, path)

  return make


def truncated_idx(tmp):
  directory = tmp / "idx"
  directory.mkdir()
  header = struct.pack(">BBBB3I", 0, 0, 0x08, 3, 10, 28, 28)
  (directory / "train-images-idx3-ubyte").write_bytes(header + bytes(28 * 28 * 3))
  (directory / "train-labels-idx1-ubyte").write_bytes(
    struct.pack(">BBBBI", 0, 0, 0x08, 1, 10) + bytes(10)
  )
  return [
    "train",
    "--config",
    MLP,
    "--workdir",
    str(tmp / "run"),
    "--config.data.source='idx'",
    f"--config.data.path='{directory}'",
  ]


def bad_gzip_idx(tmp):
  directory = tmp / "idx"
  directory.mkdir()
  (directory / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
  return [
    "train",
    "--config",
    MLP,
    "--workdir",
    str(tmp / "run"),
    "--config.data.source='idx'",
    f"--config.data.path='{directory}'",
  ]


def a_folder(path):
  path.mkdir()
  return path


def workdir_under_a_file(tmp):
  (tmp / "plain_file").write_text("")
  return ["train", "--config", RING, "--workdir", str(tmp / "plain_file" / "run"), *TINY]


IMAGES = np.zeros((16, 28, 28), np.uint8)

CASES = [
  # the command line
  (
    "missing --workdir",
    lambda tmp: ["train", "--config", RING],
    "the following arguments are required: --workdir",
  ),
  ("unknown command", lambda tmp: ["fly"], "invalid choice: 'fly'"),
  (
    "--eval-every not an int",
    ring("--eval-every", "often"),
    "argument --eval-every: invalid int value: 'often'",
  ),
  ("--eval-every < 0", ring("--eval-every", "-1"), "--eval-every must be >= 0 (0: never), got -1"),
  (
    "--eval-samples without --eval-every",
    ring("--eval-samples", "500"),
    "--eval-samples 500 needs --eval-every N",
  ),
  (
    "--eval-samples < 2",
    ring("--eval-every", "2", "--eval-samples", "1"),
    "--eval-samples must be >= 2, got 1",
  ),
  (
    "sample --num 0",
    lambda tmp: ["sample", "--workdir", str(tmp), "--num", "0", "--out", str(tmp / "s.npz")],
    "--num must be >= 1, got 0",
  ),
  (
    "sample --out not .npz",
    lambda tmp: ["sample", "--workdir", str(tmp), "--out", str(tmp / "s.txt")],
    "--out must name an .npz file",
  ),
  (
    "sample --seed < 0",
    lambda tmp: ["sample", "--workdir", str(tmp), "--seed", "-3", "--out", str(tmp / "s.npz")],
    "--seed must be in [0, 4294967295], got -3",
  ),
  (
    "sample without a run",
    lambda tmp: ["sample", "--workdir", str(tmp), "--out", str(tmp / "s.npz")],
    "holds no run (no config.json)",
  ),
  (
    "sample --text with --label",
    lambda tmp: (
      ["sample", "--workdir", str(tmp), "--text", "a bright sandal", "--label", "3"]
      + ["--out", str(tmp / "s.npz")]
    ),
    "--text and --label cannot be used together",
  ),
  (
    "sample --speech with flags it does not use",
    lambda tmp: (
      ["sample", "--workdir", str(tmp), "--speech", "hello", "--text", "a sandal"]
      + ["--num", "64", "--seed", "0", "--out", str(tmp / "h.wav")]
    ),
    "--speech does not use --text, --num, --seed (it speaks one text); accepted with --speech: "
    "--workdir, --step, --out FILE.wav, --label VOICE",
  ),
  (
    "evaluate --seed < 0",
    lambda tmp: ["evaluate", "--workdir", str(tmp), "--seed", "-1"],
    "--seed must be in [0, 4294967295], got -1",
  ),
  (
    "evaluate --inception-weights missing",
    lambda tmp: ["evaluate", "--workdir", str(tmp), "--inception-weights", str(tmp / "no.npz")],
    "--inception-weights: Inception weights file '",
  ),
  # config files
  (
    "config file missing",
    lambda tmp: ["train", "--config", str(tmp / "nope.py"), "--workdir", str(tmp)],
    "does not exist",
  ),
  (
    "config file a directory",
    lambda tmp: ["train", "--config", CONFIG_DIR, "--workdir", str(tmp / "run")],
    f"config file {CONFIG_DIR!r} is a directory; accepted: a python file (.py) with get_config(), "
    f"such as {CONFIG_DIR}{os.sep}",
  ),
  ("config file syntax error", config_file("def get_config(:\n"), "failed to load: SyntaxError"),
  ("config file without get_config", config_file("x = 1\n"), "has no get_config() function"),
  (
    "typo in a config file field",
    config_file(
      f"import importlib.util\nspec = importlib.util.spec_from_file_location('r', {RING!r})\n"
      "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
      "def get_config():\n  c = m.get_config(); c.num_stepz = 3; return c\n"
    ),
    "config has no field 'num_stepz'; known fields: augment, batch_size, checkpoint_every",
  ),
  # overrides: names and types
  ("unknown field", ring("--config.num_stepz=3"), "config has no field 'num_stepz'"),
  (
    "unknown nested field",
    ring("--config.data.colour='red'"),
    "config has no field 'data.colour'; known fields here: cache_dir, channels, data_dir, "
    "domains, download, image_key, image_size, label_key, mask, name, path",
  ),
  (
    "batch_size a string",
    ring("--config.batch_size=big"),
    "--config.batch_size='big': expected an integer, got a string",
  ),
  (
    "learning rate a string",
    ring("--config.g_optimizer.learning_rate='fast'"),
    "expected a number, got a string",
  ),
  ("reuse_fakes an int", ring("--config.reuse_fakes=1"), "expected true or false, got an integer"),
  (
    "retain_host_memory a string",
    ring("--config.retain_host_memory=sometimes"),
    "retain_host_memory",
  ),
  ("unknown loss", ring("--config.loss='vanilla'"), "loss 'vanilla' is unknown; accepted: minimax"),
  ("unknown model", ring("--config.model.name='resnet'"), "model 'resnet' is unknown; accepted:"),
  (
    "unknown optimizer",
    ring("--config.g_optimizer.name='adagrad9'"),
    "g_optimizer name 'adagrad9' is unknown; accepted: adam, adamw, rmsprop, sgd",
  ),
  (
    "unknown optimizer option",
    ring("--config.d_optimizer.momentum2=0.9"),
    "d_optimizer option 'momentum2' is not one that 'adam' takes; accepted: b1, b2, eps,",
  ),
  (
    "another optimizer's option",
    ring("--config.g_optimizer.name=sgd"),
    "g_optimizer option 'b1' is not one that 'sgd' takes; accepted: momentum, nesterov, "
    "accumulator_dtype, and learning_rate, schedule, decay_steps, final_learning_rate (leave "
    "it out with --config.g_optimizer.b1=None)",
  ),
  (
    "unknown noise",
    ring("--config.model.noise='cauchy'"),
    "noise distribution 'cauchy' is unknown; accepted: normal, uniform",
  ),
  ("r1_decay_steps < 0", ring("--config.r1_decay_steps=-5"), "r1_decay_steps must be >= 0, got -5"),
  (
    "one noise category",
    ring("--config.model.noise_categories=1"),
    "model.noise_categories must be 0 (no categorical code) or an integer >= 2, got 1",
  ),
  (
    "unknown parallel mode",
    ring("--config.parallel='gpu'"),
    "config.parallel 'gpu' is unknown; accepted: none, pmap, shard_map, jit",
  ),
  (
    "unknown compute dtype",
    ring("--config.dtype='float16'"),
    "dtype 'float16' is unknown; accepted: float32, bfloat16",
  ),
  (
    "unknown data source",
    ring("--config.data.source='csv'"),
    "data source 'csv' is unknown; accepted: toy, idx, npz, images, tfds",
  ),
  (
    "unknown toy dataset",
    ring("--config.data.name='spiral'"),
    "toy dataset 'spiral' is unknown; accepted: ring8, grid25",
  ),
  (
    "host pipeline on toy data",
    ring("--config.data.pipeline='host'"),
    "config.data.pipeline 'host' needs rows to read",
  ),
  (
    "unknown nonfinite policy",
    ring("--config.nonfinite='ignore'"),
    "config.nonfinite 'ignore' is unknown; accepted: stop, skip",
  ),
  (
    "unknown model option",
    ring("--config.model.generator.widths=(3,)"),
    "bad option for model 'toy_mlp'",
  ),
  (
    "unknown discriminator option",
    ring("--config.model.discriminator.widths=(3,)"),
    "bad option for model 'toy_mlp': ToyDiscriminator.__init__() got an unexpected keyword "
    "argument 'widths'; accepted: hidden, activation, maxout_pieces, input_scale, "
    "spectral_norm, weight_init",
  ),
  (
    "negative hidden width",
    ring("--config.model.generator.hidden=(64, -1)"),
    "model.generator.hidden of model 'toy_mlp' must be a positive integer or a tuple of "
    "them, got (64, -1)",
  ),
  (
    "fractional hidden width",
    ring("--config.model.discriminator.hidden=(64, 2.5)"),
    "model.discriminator.hidden of model 'toy_mlp' must be a positive integer or a tuple of "
    "them, got (64, 2.5)",
  ),
  ("unknown recipe", ring("--config.recipe='vae'"), "recipe 'vae' is unknown; accepted: acgan"),
  (
    "bad variant option",
    ring("--config.recipe='pacgan'", "--config.variant.pack_size=0"),
    "variant.pack_size must be an integer >= 1, got 0",
  ),
  (
    "misspelt variant option",
    ring("--config.recipe='pacgan'", "--config.variant.packing=2"),
    "variant option 'packing' is unknown for recipe 'pacgan'; accepted: pack_size",
  ),
  (
    "variant option of another recipe",
    ring("--config.variant.pack_size=2"),
    "variant option 'pack_size' is unknown for recipe 'gan'; accepted: none",
  ),
  (
    "unknown augmentation",
    ring("--config.augment='blur'"),
    "augmentation 'blur' is unknown; accepted: color, translation, cutout",
  ),
  (
    "unknown idx split",
    lambda tmp: [
      "train",
      "--config",
      MLP,
      "--workdir",
      str(tmp / "run"),
      "--config.data.split='dev'",
    ],
    "split 'dev' is unknown; accepted: train, test",
  ),
  # overrides: ranges
  ("seed < 0", ring("--config.seed=-1"), "config.seed must be >= 0, got -1"),
  ("num_steps 0", ring("--config.num_steps=0"), "config.num_steps must be >= 1, got 0"),
  ("batch_size 0", ring("--config.batch_size=0"), "config.batch_size must be >= 1, got 0"),
  (
    "negative learning rate",
    ring("--config.d_optimizer.learning_rate=-0.001"),
    "d_optimizer.learning_rate must be a number > 0, or 0 to freeze the player, got -0.001",
  ),
  (
    "infinite learning rate",
    ring("--config.d_optimizer.learning_rate=1e999"),
    "d_optimizer.learning_rate must be a number > 0, or 0 to freeze the player, got inf",
  ),
  ("adam b1 >= 1", ring("--config.g_optimizer.b1=1.5"), "g_optimizer.b1 must be < 1.0, got 1.5"),
  ("k < 1", ring("--config.d_steps=0"), "d_steps must be >= 1, got 0"),
  ("latent size 0", ring("--config.model.latent_dim=0"), "model.latent_dim must be >= 1, got 0"),
  (
    "ema_decay 1",
    ring("--config.ema_decay=1.0"),
    "ema_decay must be a number in [0, 1) (0: no EMA), got 1.0",
  ),
  (
    "unknown sampling statistics",
    ring("--config.sampling_statistics=standing"),
    "sampling_statistics 'standing' is unknown; accepted: recomputed, averaged",
  ),
  (
    "negative penalty",
    ring("--config.gradient_penalty_weight=-1.0"),
    "gradient_penalty_weight must be >= 0.0, got -1.0",
  ),
  ("negative R1 weight", ring("--config.r1_weight=-1.0"), "r1_weight must be >= 0.0, got -1.0"),
  ("negative clip value", ring("--config.clip_value=-0.1"), "clip_value must be >= 0.0, got -0.1"),
  (
    "steps_per_call 0",
    ring("--config.steps_per_call=0"),
    "config.steps_per_call must be >= 1, got 0",
  ),
  ("sample_every 0", ring("--config.sample_every=0"), "config.sample_every must be >= 1, got 0"),
  (
    "checkpoint_every 0",
    ring("--config.checkpoint_every=0"),
    "config.checkpoint_every must be >= 1, got 0",
  ),
  (
    "num_sample_images 0",
    ring("--config.num_sample_images=0"),
    "config.num_sample_images must be >= 1, got 0",
  ),
  ("log_every 0", ring("--config.log_every=0"), "config.log_every must be >= 1, got 0"),
  (
    "keep_checkpoints 0",
    ring("--config.keep_checkpoints=0"),
    "config.keep_checkpoints must be >= 1, got 0",
  ),
  # data files
  ("npz file missing", lambda tmp: image_run(tmp, tmp / "none.npz"), "none.npz does not exist"),
  ("npz without x", npz(images=IMAGES), "has no array 'x'; it has: images"),
  (
    "npz of the wrong rank",
    npz(x=np.zeros((16,), np.uint8)),
    "must be (N, H, W) or (N, H, W, C), got (16,)",
  ),
  (
    "npz floats out of range",
    npz(x=np.full((4, 28, 28), 3.0, np.float32)),
    "float images of data.npz must lie in [-1, 1], got [3, 3]",
  ),
  (
    "npz with NaN",
    npz(x=np.full((4, 28, 28), np.nan, np.float32)),
    "float images of data.npz must be finite",
  ),
  (
    "npz of int32",
    npz(x=np.zeros((4, 28, 28), np.int32)),
    "images of data.npz must be uint8 or float in [-1, 1], got int32",
  ),
  ("empty npz", npz(x=np.zeros((0, 28, 28), np.uint8)), "dataset data.npz is empty"),
  (
    "negative labels",
    npz(x=IMAGES, label=np.full((16,), -1)),
    "labels of data.npz must be integers >= 0",
  ),
  ("not an npz file", raw_file(b"this is not a zip archive"), "is not a readable .npz file"),
  ("pickled npz", raw_file(b"\x80\x04\x95" + bytes(20)), "is not a readable .npz file"),
  (
    "idx directory missing",
    lambda tmp: (
      image_run(tmp, tmp) + ["--config.data.source='idx'", f"--config.data.path='{tmp / 'none'}'"]
    ),
    "does not exist; for Fashion-MNIST install",
  ),
  ("truncated idx", truncated_idx, "is truncated or padded: header shape (10, 28, 28)"),
  ("broken gzip idx", bad_gzip_idx, "is not a readable idx file"),
  (
    "image shape DCGAN cannot produce",
    npz(DCGAN, x=np.zeros((4, 30, 30), np.uint8)),
    "DCGAN image shape (30, 30, 1) is not supported; accepted: (H, H, C) with H = 3, 4 or 7 "
    "times a power of two >= 2 (6, 8, 12, 14, 16, 24, 28, 32, 48, 56, 64, 96, 112, 128, ...)",
  ),
  # init_from: checked before the data, the state or the workdir's checkpoints
  (
    "init_from names no run",
    ring("--config.init_from=/nonexistent/run"),
    "config.init_from '/nonexistent/run' names no run: /nonexistent/run does not exist; "
    "accepted: 'DIR' or 'DIR:STEP' of a run written by gan-jax train",
  ),
  (
    "init_from step not a number",
    ring("--config.init_from=/nonexistent/run:abc"),
    "config.init_from '/nonexistent/run:abc': the step after ':' must be a whole number, got "
    "'abc'; accepted: 'DIR' (its newest checkpoint) or 'DIR:STEP'",
  ),
  # the workdir
  ("workdir not writable", workdir_under_a_file, "cannot be written: Not a directory"),
  # model options checked before anything is built, by `config` as by `train`
  (
    "DCGAN activation unknown",
    npz(DCGAN, x=np.zeros((4, 28, 28), np.uint8)),
    None,  # filled below with the override
  ),
  (
    "num_steps past int32",
    ring("--config.num_steps=2147483648"),
    "config.num_steps must be <= 2147483647, got 2147483648",
  ),
  (
    "config: a width that is not a number",
    lambda tmp: ["config", "--config", RING, "--config.model.generator.hidden=abc"],
    "model.generator.hidden of model 'toy_mlp' must be a positive integer or a tuple of them, "
    "got ('abc',)",
  ),
  (
    "config: a negative DCGAN kernel size",
    lambda tmp: ["config", "--config", DCGAN, "--config.model.generator.kernel_size=-1"],
    "model.generator.kernel_size of model 'dcgan' must be a positive integer, got -1",
  ),
  (
    "config: an unknown DCGAN activation",
    lambda tmp: ["config", "--config", DCGAN, "--config.model.generator.activation=relux"],
    "activation 'relux' is unknown; accepted: relu, leaky_relu",
  ),
  # sample and evaluate flags, before any run is read
  (
    "sample --seed past 2**32 - 1",
    lambda tmp: [
      "sample",
      "--workdir",
      str(tmp),
      "--seed",
      "4294967296",
      "--out",
      str(tmp / "s.npz"),
    ],
    "--seed must be in [0, 4294967295], got 4294967296",
  ),
  (
    "evaluate --seed past 2**32 - 1",
    lambda tmp: ["evaluate", "--workdir", str(tmp), "--seed", str(10**25)],
    f"--seed must be in [0, 4294967295], got {10**25}",
  ),
  (
    "sample --out a directory",
    lambda tmp: ["sample", "--workdir", str(tmp), "--out", str(a_folder(tmp / "out.npz"))],
    "is a directory; accepted: the path of a file to write",
  ),
  (
    "sample --truncation past float32",
    lambda tmp: [
      "sample",
      "--workdir",
      str(tmp),
      "--truncation",
      "1e308",
      "--out",
      str(tmp / "s.npz"),
    ],
    "--truncation must be at most 3.403e+38 (float32's largest), got 1e+308",
  ),
]
CASES = [
  (
    (
      name,
      lambda tmp, make=make: make(tmp) + ["--config.model.generator.activation=relux"],
      "activation 'relux' is unknown; accepted: relu, leaky_relu",
    )
    if message is None
    else (name, make, message)
  )
  for name, make, message in CASES
]


@pytest.mark.parametrize("make_argv, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, make_argv, message):
  status = cli.main(make_argv(tmp_path))
  err = capsys.readouterr().err
  lines = err.strip().splitlines()
  assert status == 2, err
  assert len(lines) == 1 and lines[0].startswith("gan-jax: error: "), err
  assert message in lines[0], lines[0]
  assert "Traceback" not in err
  assert not os.path.exists(tmp_path / "run" / "checkpoints")


# Overrides every ring() or image_run() case carries; the others are what a case is about.
SHARED_OVERRIDES = {
  *TINY,
  "--config.data.source='npz'",
  "--config.num_steps=2",
  "--config.batch_size=8",
}


def overridden_fields(argv):
  """Dotted names of the fields that `argv` overrides beyond SHARED_OVERRIDES."""
  return {
    arg[len("--config.") :].split("=")[0]
    for arg in argv
    if arg.startswith("--config.") and arg not in SHARED_OVERRIDES
  }


def field_names(config, parents=()):
  """Dotted names of a config's fields, walking into the sections validation has a table for."""
  names = []
  for key in config.keys():
    path = (*parents, key)
    if validation.known_fields(list(path)) is not None:
      names += field_names(config[key], path)
    else:
      names.append(".".join(path))
  return names


def test_every_field_the_library_reads_is_checked_and_has_a_bad_input_case(tmp_path):
  """Every field of config_base.base() has a check in validation's tables and a case above.

  Fails if a field is added to base() without a check, or if no case gives it a bad value.
  """
  fields = field_names(config_base.base())
  assert {"seed", "data.source", "model.latent_dim", "g_optimizer", "augment"} <= set(fields)
  for name in fields:
    *parents, key = name.split(".")
    assert key in validation.known_fields(parents), f"validation has no check for config.{name}"
  overridden = set()
  for i, (_, make_argv, _) in enumerate(CASES):
    (tmp_path / str(i)).mkdir()
    overridden |= overridden_fields(make_argv(tmp_path / str(i)))
  missing = [
    name for name in fields if not any(o == name or o.startswith(name + ".") for o in overridden)
  ]
  assert not missing, f"no case gives a bad value to config.{', config.'.join(missing)}"


def test_debug_shows_the_traceback(tmp_path):
  with pytest.raises(ValueError, match="config.num_steps must be >= 1"):
    cli.main(["--debug", *ring("--config.num_steps=0")(tmp_path)])


def test_batch_size_must_divide_among_the_devices():
  config = tiny_ring_config(batch_size=12, parallel="pmap")
  with pytest.raises(
    ValueError,
    match=r"config.batch_size 12 \(the global batch\) must be "
    r"divisible by the 8 devices of parallel='pmap'",
  ):
    validation.validate_config(config, num_devices=8)
  validation.validate_config(tiny_ring_config(batch_size=16, parallel="pmap"), num_devices=8)


def test_learning_rate_zero_is_accepted_as_frozen():
  """Rate 0 passes validation for either player and builds an optimizer whose updates are 0.

  Fails if validation rejects 0 (e.g. `value <= 0` in _learning_rate), or if rate 0 builds
  an optimizer that moves the parameters.
  """
  for player in ("g_optimizer", "d_optimizer"):
    config = tiny_ring_config(**{player + "__learning_rate": 0.0})
    validation.validate_config(config, num_devices=1)
    tx = builders.make_optimizer(config[player], player)
    params = {"w": jnp.ones(3)}
    updates, _ = tx.update({"w": jnp.full(3, 5.0)}, tx.init(params), params)
    assert np.array_equal(updates["w"], np.zeros(3))
  with pytest.raises(ValueError, match="learning_rate must be a number > 0, or 0 to freeze"):
    validation.validate_config(tiny_ring_config(g_optimizer__learning_rate=-1e-9), num_devices=1)


def test_the_shipped_configs_pass():
  """Every config in experiments/configs/ validates, and fails once a field is made bad.

  Fails if validation rejects a shipped config, or stops checking the fields it is given.
  """
  names = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(CONFIG_DIR, "*.py")))
  assert {"ring_gan", "mlp_fashion_mnist", "dcgan_fashion_mnist"} <= set(names)
  for name in names:
    config = load_experiment_config(name)
    validation.validate_config(config, num_devices=1)
    config.keep_checkpoints = 0
    with pytest.raises(ValueError, match="config.keep_checkpoints must be >= 1, got 0"):
      validation.validate_config(config, num_devices=1)


def test_a_variant_can_declare_its_own_fields():
  config = tiny_ring_config()
  config.info_weight = 1.0
  with pytest.raises(ValueError, match="config has no field 'info_weight'"):
    validation.validate_config(config)
  saved = dict(validation.FIELDS)
  try:
    validation.register_fields({"info_weight": validation.number(minimum=0.0)})
    validation.validate_config(config)
    config.info_weight = -1.0
    with pytest.raises(ValueError, match="config.info_weight must be >= 0.0, got -1.0"):
      validation.validate_config(config)
  finally:
    validation.FIELDS.clear()
    validation.FIELDS.update(saved)


def _message(make):
  with pytest.raises(ValueError) as error:
    make()
  return str(error.value)


ONE_RULE_CASES = [
  # (field, bad value, the constructor that owns the field)
  ("d_steps", 0, lambda c: losses.Game(d_steps=c.d_steps)),
  ("r1_weight", -1.0, lambda c: losses.Game(r1_weight=c.r1_weight)),
  ("gradient_penalty_weight", -1.0, builders.make_game),
  ("loss", "vanilla", builders.make_game),
  ("model__latent_dim", 0, builders.make_noise),
  ("model__noise_categories", 1, builders.make_noise),
  ("model__noise", "cauchy", builders.make_noise),
  (
    "g_optimizer__learning_rate",
    -1e-3,
    lambda c: builders.make_optimizer(c.g_optimizer, "g_optimizer"),
  ),
  ("d_optimizer__decay_steps", 0, lambda c: builders.make_optimizer(c.d_optimizer, "d_optimizer")),
  ("ema_decay", 1.0, lambda c: state_lib.check_ema_decay(c.ema_decay)),
  (
    "sampling_statistics",
    "standing",
    lambda c: sampling.check_sampling_statistics(c.sampling_statistics),
  ),
  ("dtype", "float16", lambda c: models.check_compute_dtype(c.dtype)),
  ("data__name", "spiral", lambda c: data.make_data_source(c)),
]


@pytest.mark.parametrize(
  "field, value, construct", ONE_RULE_CASES, ids=[case[0] for case in ONE_RULE_CASES]
)
def test_a_field_has_one_rule_whoever_meets_the_bad_value(field, value, construct):
  """validate_config and the field's constructor give a bad value the same one-line message.

  Fails if a field gets a second rule in validation.py (the drift where validation refused
  model.noise_categories=1, builders accepted it and NoiseSampler refused it again).
  """
  config = tiny_ring_config(**{field: value})
  from_validation = _message(lambda: validation.validate_config(config, num_devices=1))
  assert from_validation == _message(lambda: construct(config))
  assert "\n" not in from_validation and repr(value) in from_validation


def test_a_model_named_after_a_recipe_needs_that_recipe():
  """model.name is a model family, or the name of the recipe that builds its own players.

  Fails if a config whose model names recipe 'pix2pix' passes with recipe 'gan' (it would
  stop only when the state is built, after the data is loaded).
  """
  config = tiny_ring_config(model__name="pix2pix")
  with pytest.raises(
    ValueError,
    match="model 'pix2pix' names the players recipe 'pix2pix' "
    "builds itself, but config.recipe is 'gan'",
  ):
    validation.validate_config(config, num_devices=1)


def test_the_process_counts_have_one_rule():
  """config.distributed.num_processes=0 gets the same message from validation and from
  distributed.settings_from_config (which also reads them from the environment)."""
  from gan_jax import distributed

  config = tiny_ring_config(
    distributed={"coordinator_address": "localhost:1234", "num_processes": 0, "process_id": 0}
  )
  message = _message(lambda: validation.validate_config(config, num_devices=1))
  assert message == _message(lambda: distributed.settings_from_config(config))
  assert message == "config.distributed.num_processes must be >= 1, got 0"
