"""`gan-jax`: train, sample, evaluate. Parses arguments, then calls library functions.

  gan-jax train --config experiments/configs/ring_gan.py[:ARG] --workdir DIR [--config.FIELD=VALUE
  ...]
  gan-jax sample --workdir DIR --num N --seed S --out FILE.npz|FILE.png
  gan-jax evaluate --workdir DIR [--num-samples N] [--feature-network PATH] [--inception-weights
  FILE.npz]
  gan-jax --version

Config overrides follow ml_collections' `config_flags`: `--config.FIELD=VALUE`
or `--config.FIELD VALUE`, parsed by the type of the field in the config file;
`--config.FLAG` / `--config.noFLAG` for booleans; `--config FILE.py:ARG` calls
`get_config('ARG')`.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import importlib.util
import inspect
import logging
import os
import sys

from gan_jax import validation

EXIT_USAGE = 2
EXIT_FAILURE = 1
SAMPLE_NUM = 64  # sample --num by default


class UsageError(ValueError):
  """Bad command-line input: exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
  """argparse, but a bad command line is one line `gan-jax: error: ...` and exit status 2."""

  def error(self, message):
    raise UsageError(f"{message} (see {self.prog} --help)")


def load_config_file(path: str):
  """Imports `path` and returns its get_config(); `FILE.py:ARG` returns get_config('ARG')."""
  path, has_arg, arg = path.partition(":")  # as config_flags: the first colon ends the path
  if os.path.isdir(path):
    found = sorted(n for n in os.listdir(path) if n.endswith(".py") and not n.startswith("_"))
    example = f", such as {os.path.join(path, found[0])}" if found else ""
    raise UsageError(
      f"config file {path!r} is a directory; accepted: a python file (.py) with "
      f"get_config(){example}"
    )
  if not os.path.isfile(path):
    raise UsageError(f"config file {path!r} does not exist")
  if not path.endswith(".py"):
    raise UsageError(f"config file {path!r} must be a python file (.py) with get_config()")
  spec = importlib.util.spec_from_file_location("gan_jax_user_config", path)
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except Exception as error:
    raise UsageError(
      f"config file {path!r} failed to load: {type(error).__name__}: {validation.first_line(error)}"
    ) from error
  if not hasattr(module, "get_config"):
    raise UsageError(f"config file {path!r} has no get_config() function")
  _check_config_arg(path, module.get_config, arg if has_arg else None)
  try:
    config = module.get_config(arg) if has_arg else module.get_config()
  except Exception as error:
    raise UsageError(
      f"get_config() of {path!r} failed: {type(error).__name__}: {validation.first_line(error)}"
    ) from error
  if not hasattr(config, "keys"):
    raise UsageError(
      f"get_config() of {path!r} must return an ml_collections.ConfigDict, "
      f"got {type(config).__name__}"
    )
  return config


def _check_config_arg(path: str, get_config, arg: str | None) -> None:
  """Raises a UsageError when get_config cannot take `arg` (None: no argument given)."""
  try:
    signature = inspect.signature(get_config)
  except (TypeError, ValueError):
    return
  try:
    signature.bind(*([] if arg is None else [arg]))
  except TypeError:
    if arg is None:
      raise UsageError(
        f"get_config() of {path!r} needs an argument; give it as --config {path}:ARG"
      ) from None
    raise UsageError(
      f"get_config() of {path!r} takes no argument, got {arg!r} from "
      f"--config {path}:{arg}; accepted: --config {path}"
    ) from None


TYPE_NAMES = {
  int: "an integer",
  float: "a number",
  str: "a string",
  bool: "true or false",
  tuple: "a tuple",
  list: "a list",
}


def _type_name(value) -> str:
  return TYPE_NAMES.get(type(value), f"a {type(value).__name__}")


def _parse_literal(text: str):
  """A Python literal, else the text itself (config_flags' parser for untyped fields)."""
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError, MemoryError, RecursionError):
    return text


def parse_override_value(text: str, current, name: str):
  """`text` parsed by the type of the field's `current` value, as config_flags parses it.

  Strings are taken as written (a quoted Python literal is unquoted); booleans
  accept true or false in any case (not 1 or 0); ints and floats their Python spellings;
  tuples a literal `(a, b)` (one value: a 1-tuple); a field holding None, or
  a field the file leaves out, takes any Python literal, else the text (`apply_overrides`
  removes a field given as `None` before this).
  """

  def bad(kind):
    return UsageError(
      f"--config.{name}={text!r}: expected {kind}, got {_type_name(_parse_literal(text))}"
    )

  if isinstance(current, bool):
    if text.lower() in ("true", "false"):
      return text.lower() == "true"
    raise bad("true or false")
  if isinstance(current, int):
    value = _parse_literal(text)
    if isinstance(value, int) and not isinstance(value, bool):
      return value
    raise bad("an integer")
  if isinstance(current, float):
    try:
      return float(text)
    except ValueError:
      raise bad("a number") from None
  if isinstance(current, str):
    quoted = len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""
    return ast.literal_eval(text) if quoted and isinstance(_parse_literal(text), str) else text
  if isinstance(current, (tuple, list)):
    value = _parse_literal(text)
    if isinstance(value, (tuple, list)):
      return type(current)(value)
    if text.strip() and not isinstance(value, (dict, set)):
      return type(current)((value,))
    raise bad(f"{_type_name(current)} such as (1, 2)")
  if current is None:
    return _parse_literal(text)
  raise UsageError(
    f"--config.{name} cannot be set from the command line: the field holds "
    f"{_type_name(current)}; accepted: fields holding a string, number, "
    f"boolean, tuple or None"
  )


def split_overrides(argv: list[str]) -> tuple[list[str], list[tuple[str, str | None]]]:
  """(other arguments, [(FIELD, VALUE or None), ...]) of a command line.

  `--config.FIELD=VALUE` and `--config.FIELD VALUE` (the next argument, unless
  it starts with `--`) give (FIELD, VALUE); `--config.FIELD` alone gives
  (FIELD, None): true for a boolean field.
  """
  rest, overrides = [], []
  i = 0
  while i < len(argv):
    item = argv[i]
    i += 1
    if not item.startswith("--config."):
      rest.append(item)
      continue
    name, has_value, text = item[len("--config.") :].partition("=")
    if not has_value and i < len(argv) and not argv[i].startswith("--"):
      text, has_value = argv[i], True
      i += 1
    overrides.append((name, text if has_value else None))
  return rest, overrides


def apply_overrides(config, overrides):
  """Applies overrides to an ml_collections ConfigDict, each parsed by the field's type.

  A VALUE of `None` removes the field, as if the file had not set it: an optional field
  then takes its default (an optimizer option another optimizer does not take is left
  out), a required one is reported missing.

  Args:
    overrides: ['--config.a.b=VALUE', ...] or (FIELD, VALUE or None) pairs
      from `split_overrides`.
  """
  if overrides and isinstance(overrides[0], str):
    rest, overrides = split_overrides(list(overrides))
    if rest:
      raise UsageError(
        f"argument {rest[0]!r} is not understood; overrides look like "
        f"--config.FIELD=VALUE or --config.FIELD VALUE"
      )
  for dotted, text in overrides:
    *parents, leaf = dotted.split(".")
    if not leaf or not all(parents):
      raise UsageError(
        f"--config.{dotted} names no field; overrides look like "
        f"--config.FIELD=VALUE or --config.SECTION.FIELD=VALUE"
      )
    node = config
    for depth, name in enumerate(parents):
      if name not in node and validation.is_known_section(parents[:depth], name):
        import ml_collections

        node[name] = ml_collections.ConfigDict()  # a section the file leaves out
      if name not in node or not hasattr(node[name], "keys"):
        raise UsageError(f"config has no field {dotted!r} (no section {name!r})")
      node = node[name]
    if (
      leaf not in node
      and text is None
      and leaf.startswith("no")
      and isinstance(node.get(leaf[2:]), bool)
    ):
      leaf, text = leaf[2:], "false"  # --config.noFLAG
    if leaf not in node:
      known = validation.known_fields(parents)
      if known is not None and leaf not in known:
        raise UsageError(
          f"config has no field {dotted!r}; known fields here: "
          f"{', '.join(sorted(set(node.keys()) | set(known)))}"
        )
      current = None  # free-form options, or an optional field the file leaves out
    else:
      current = node[leaf]
    if text is None:
      if not isinstance(current, bool):
        raise UsageError(
          f"--config.{dotted} needs a value: --config.{dotted}=VALUE or "
          f"--config.{dotted} VALUE (a bare --config.FIELD is for booleans)"
        )
      text = "true"
    if text == "None":  # leave the field out, as if the file had not set it
      if leaf in node:
        del node[leaf]
      continue
    node[leaf] = parse_override_value(text, current, dotted)
  return config


MAX_SEED = 2**32 - 1  # config.seed's range too (`validation.FIELDS`)


def check_seed_flag(seed: int | None) -> None:
  """--seed of sample and evaluate: None (the default) or an integer in [0, 2**32 - 1]."""
  if seed is not None and not 0 <= seed <= MAX_SEED:
    raise UsageError(f"--seed must be in [0, {MAX_SEED}], got {seed}")


def _train(args, overrides):
  if args.eval_every < 0:
    raise UsageError(f"--eval-every must be >= 0 (0: never), got {args.eval_every}")
  if args.eval_samples is not None:
    if not args.eval_every:
      raise UsageError(f"--eval-samples {args.eval_samples} needs --eval-every N")
    if args.eval_samples < 2:
      raise UsageError(f"--eval-samples must be >= 2, got {args.eval_samples}")
  from gan_jax import runs, train

  config = apply_overrides(load_config_file(args.config), overrides)
  runs.check_init_from(config.get("init_from", ""), args.workdir)  # before anything is built
  hook = None
  if args.eval_every:
    from gan_jax import evaluate

    options = {} if args.eval_samples is None else {"num_samples": args.eval_samples}
    hook = evaluate.PeriodicEvaluator(args.workdir, config, args.eval_every, **options)
  try:
    train.train_and_evaluate(
      config, args.workdir, progress="lines" if args.no_progress else True, step_hook=hook
    )
  except KeyboardInterrupt:
    print(f"interrupted; a checkpoint was saved in {args.workdir}", file=sys.stderr)
    return 130
  except train._StopRequested:
    print(f"terminated; a checkpoint was saved in {args.workdir}", file=sys.stderr)
    return 143
  print(f"done: {args.workdir}")
  return 0


def check_out_file(path: str) -> str:
  """Refuses a --out that cannot be written (a directory, a folder that cannot be created or
  written) before anything is generated; returns its folder, created when missing."""
  if os.path.isdir(path):
    raise UsageError(f"--out {path!r} is a directory; accepted: the path of a file to write")
  out_dir = os.path.dirname(os.path.abspath(path))
  if os.path.exists(out_dir) and not os.path.isdir(out_dir):
    raise UsageError(f"--out {path!r} cannot be written: {out_dir} is not a directory")
  from gan_jax import runs

  try:
    runs.probe_writable(out_dir)
  except OSError as error:
    raise UsageError(f"--out {path!r} cannot be written: {error.strerror or error}") from None
  return out_dir


def _sample(args, overrides):
  if overrides:
    raise UsageError(f"sample takes no config overrides, got --config.{overrides[0][0]}")
  if args.num is not None and args.num < 1:
    raise UsageError(f"--num must be >= 1, got {args.num}")
  check_seed_flag(args.seed)
  if args.interpolate is not None and args.interpolate < 2:
    raise UsageError(
      f"--interpolate must be >= 2 (the points of a path, both ends), got {args.interpolate}"
    )
  if args.speech is not None:
    unused = [
      flag
      for flag, value in (
        ("--text", args.text),
        ("--num", args.num),
        ("--seed", args.seed),
        ("--interpolate", args.interpolate),
        ("--interpolation", args.interpolation),
        ("--truncation", args.truncation),
      )
      if value is not None
    ]
    if unused:
      raise UsageError(
        f"--speech does not use {', '.join(unused)} (it speaks one text); accepted with "
        f"--speech: --workdir, --step, --out FILE.wav, --label VOICE"
      )
    return _sample_speech(args)
  args.num = SAMPLE_NUM if args.num is None else args.num
  args.seed = 0 if args.seed is None else args.seed
  if args.text is not None and args.label is not None:
    raise UsageError(
      "--text and --label cannot be used together: --text draws a caption's images, --label "
      "a class or category; leave out one of them"
    )
  if not args.out.endswith((".npz", ".png")):
    raise UsageError(
      f"--out must name an .npz file (the samples) or a .png file (a picture), got {args.out!r}"
    )
  out_dir = check_out_file(args.out)
  import numpy as np
  from gan_jax import recipes, runs, sampling
  from gan_jax.state import check_truncation

  if args.interpolation is not None and args.interpolate is None:
    raise UsageError(f"--interpolation {args.interpolation} needs --interpolate N")
  interpolation = args.interpolation or "slerp"
  try:
    sampling.check_interpolation(interpolation, "--interpolation")
    check_truncation(args.truncation, "--truncation")
  except ValueError as error:
    raise UsageError(str(error)) from None
  config, source, state = runs.load_run(args.workdir, args.step, need_data=False)
  recipe = recipes.recipe_of(config)
  try:
    sampling.check_memory(
      args.num * (args.interpolate or 1),
      recipe.shape_of_sample(source.data_shape),
      state.noise.latent_shape,
      "--num",
    )
  except ValueError as error:
    raise UsageError(str(error)) from None
  for flag, value in (("--interpolate", args.interpolate), ("--truncation", args.truncation)):
    if value is not None:
      try:
        sampling.check_latent_input(recipe, flag)
      except ValueError as error:
        raise UsageError(str(error)) from None
  labels = None
  if args.text is not None:
    if recipe.name != "text_to_image":
      raise UsageError(f"--text needs a text_to_image run; this run's recipe is {recipe.name!r}")
    from gan_jax.data import captions

    try:
      labels = np.tile(captions.tokenize(args.text), (args.num, 1))
    except ValueError as error:
      raise UsageError(str(error)) from None
  elif args.label is not None:
    if recipe.needs_labels:
      count, what = source.num_classes, "class"
    elif recipe.label_count is not None:
      count, what = recipe.label_count(state.game), "category"
    else:
      raise UsageError(
        "--label needs a recipe whose generator takes a class or a category (conditional "
        f"recipes, infogan); this run's recipe is {recipe.name!r}"
      )
    if not 0 <= args.label < count:
      raise UsageError(f"--label must be a {what} in [0, {count - 1}], got {args.label}")
    labels = np.full((args.num,), args.label, np.int32)
  elif recipe.needs_labels:
    labels = (np.arange(args.num) % source.num_classes).astype(np.int32)
  state.noise.check_truncation(args.truncation, "--truncation")
  state = sampling.sampling_state(state, config, recipe, source.num_classes)
  if not recipe.latent_input:
    return _sample_conditions(args, source, state, recipe, out_dir)
  options = {"recipe": recipe, "labels": labels, "truncation": args.truncation}
  title = f"step {int(state.step)}, seed {args.seed}"
  if args.interpolate is None:
    samples = sampling.draw_samples(state, args.num, args.seed, **options)
    what, save_picture = f"{args.num} samples", sampling.save_picture_of_samples
  else:
    samples = sampling.draw_interpolations(
      state, args.num, args.interpolate, args.seed, interpolation, **options
    )
    what = f"{args.num} {interpolation} paths of {args.interpolate} samples"
    save_picture = sampling.save_picture_of_paths
  os.makedirs(out_dir, exist_ok=True)
  if args.out.endswith(".png"):
    save_picture(samples, source, args.out, title)
    kind = "a grid of" if source.kind == "image" else "a scatter of"
    if args.interpolate is not None and source.kind != "image":
      kind = "lines of"
    print(f"wrote {kind} {what} to {args.out}")
    return 0
  samples = sampling.as_data(samples, source)
  np.savez(args.out, samples=samples)
  print(f"wrote {what} of shape {samples.shape[1:]} to {args.out}")
  return 0


def _show_config(args, overrides):
  """`gan-jax config --config FILE [overrides]`: validated, printed as config.json holds it."""
  import json

  from gan_jax import runs, validation

  config = apply_overrides(load_config_file(args.config), overrides)
  validation.validate_config(config)
  runs.check_init_from(config.get("init_from", ""))
  unchecked = check_models_on_data(config)
  print(json.dumps(runs.config_to_dict(config), indent=2, sort_keys=True))
  if unchecked:
    print(f"note: the models were not checked against the data: {unchecked}", file=sys.stderr)
  return 0


def check_models_on_data(config) -> str:
  """What `train` checks before it builds anything, past the config's own fields: that the
  models fit the data (by shape evaluation) and that the data has the classes the recipe
  needs. Returns '' when checked, or why not (the data is not on this machine)."""
  from gan_jax import data, recipes, validation

  recipe = recipes.recipe_of(config)
  try:
    source = data.make_data_source(config)
  except FileNotFoundError as missing:
    return validation.first_line(missing)
  validation.check_against_data(config, source, recipe)
  return ""


def _report(args, overrides):
  if overrides:
    raise UsageError(f"report takes no config overrides, got --config.{overrides[0][0]}")
  from gan_jax import report

  print(f"wrote {report.write_report(args.workdir, step=args.step)}")
  return 0


def _sample_conditions(args, source, state, recipe, out_dir):
  """`gan-jax sample` for a recipe whose z is a condition: --num conditions drawn from the
  run's data (--seed), G's outputs for them; the npz holds 'samples', 'conditions' and, for
  a paired recipe, 'targets' (and inpainting's 'masks'); the png shows the three."""
  import numpy as np
  from gan_jax import sampling

  batch = sampling.draw_conditions(source, recipe, args.num, args.seed)
  samples = sampling.generate_from_conditions(state, batch[recipe.condition], recipe)
  os.makedirs(out_dir, exist_ok=True)
  what = f"{args.num} outputs for conditions drawn from the data"
  if args.out.endswith(".png"):
    rows = sampling.condition_picture_rows(batch, samples, recipe)
    sampling.save_picture_of_conditions(rows, args.out)
    shown = sampling.condition_row_names(rows, recipe)
    print(f"wrote a grid of {what} ({shown}) to {args.out}")
    return 0
  arrays = {"samples": sampling.as_data(samples, source), "conditions": batch[recipe.condition]}
  if recipe.paired:
    arrays["targets"] = batch["x"]
  if "mask" in batch:
    arrays["masks"] = batch["mask"]
  np.savez(args.out, **arrays)
  print(f"wrote {what} ({', '.join(arrays)}) of shape {samples.shape[1:]} to {args.out}")
  return 0


def _sample_speech(args):
  """`sample --speech TEXT --out FILE.wav`: G's log-mels of TEXT through Griffin-Lim."""
  if not args.out.endswith(".wav"):
    raise UsageError(f"--speech needs --out FILE.wav, got {args.out!r}")
  check_out_file(args.out)
  from gan_jax import recipes, runs
  from gan_jax.data import speech
  from gan_jax.variants import text_to_speech

  config, source, state = runs.load_run(args.workdir, args.step)
  if recipes.recipe_of(config).name != "text_to_speech":
    raise UsageError(
      f"--speech needs a text_to_speech run; this run's recipe is "
      f"{recipes.recipe_of(config).name!r}"
    )
  try:
    audio, _ = text_to_speech.speak(
      state,
      args.speech,
      voice=args.label or 0,
      frames_per_char=speech.frames_per_char(source.arrays),
    )
  except ValueError as error:
    raise UsageError(str(error)) from None
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  speech.write_wav(args.out, audio)
  print(f"wrote {len(audio) / speech.SAMPLE_RATE:.2f} s of speech at 16 kHz to {args.out}")
  return 0


def _evaluate(args, overrides):
  if overrides:
    raise UsageError(f"evaluate takes no config overrides, got --config.{overrides[0][0]}")
  if args.num_samples is not None and args.num_samples < 2:
    raise UsageError(f"--num-samples must be >= 2, got {args.num_samples}")
  check_seed_flag(args.seed)
  from gan_jax import evaluate, report
  from gan_jax.metrics import inception
  from gan_jax.state import check_truncation

  weights = args.inception_weights
  if weights is not None and not os.path.isfile(weights):
    if os.path.exists(weights):
      raise UsageError(
        f"--inception-weights {weights!r} is not a file; accepted: an Inception .npz converted "
        f"with python -m gan_jax.metrics.convert_inception {inception.PYTORCH_FID_WEIGHTS} "
        "inception_fid.npz"
      )
    raise UsageError(f"--inception-weights: {inception.missing_weights_message(weights)}")
  try:
    check_truncation(args.truncation, "--truncation")
  except ValueError as error:
    raise UsageError(str(error)) from None
  _check_evaluate_flags(args)

  result = evaluate.evaluate_run(
    args.workdir,
    step=args.step,
    seed=args.seed,
    num_samples=args.num_samples,
    feature_network_path=args.feature_network,
    inception_weights=args.inception_weights,
    progress=True,
    truncation=args.truncation,
  )
  print(evaluate.format_table(result))
  print(f"wrote {os.path.join(args.workdir, evaluate.EVAL_FILE)}")
  if not args.no_report:
    print(f"wrote {report.write_report(args.workdir, step=args.step)}")
  return 0


def _check_evaluate_flags(args) -> None:
  """Refuses, before the run is loaded, the evaluate flags its config rules out: --truncation
  for a recipe that maps a condition (as sample refuses it), --inception-weights for a run on
  toy points (Inception scores images). A directory without a run is left to `load_run`."""
  if args.truncation is None and args.inception_weights is None:
    return
  from gan_jax import models, recipes, runs, sampling

  path = os.path.join(args.workdir, runs.CONFIG_FILE)
  if not os.path.isfile(path):
    return
  config = runs.read_json(path)
  if args.truncation is not None:
    models.import_module(config.get("model", {}).get("module", ""))  # as `load_run`
    try:
      sampling.check_latent_input(recipes.get_recipe(config.get("recipe", "gan")), "--truncation")
    except ValueError as error:
      raise UsageError(str(error)) from None
  data = config.get("data", {})
  if args.inception_weights is not None and data.get("source", "toy") == "toy":
    raise UsageError(
      f"--inception-weights adds FID, KID and the Inception Score of images; this run's data "
      f"({data.get('name', 'ring8')!r}) are toy points, scored by their mixture's modes: "
      "leave out --inception-weights"
    )


OVERRIDES_HELP = """\
config overrides (ml_collections config_flags style), any number, after `train` or `config`:
  --config.FIELD=VALUE, --config.FIELD VALUE
                        set a field of get_config(), e.g. --config.num_steps=500,
                        --config.model.generator.hidden '(64, 64)', --config.data.source npz;
                        VALUE is parsed by the field's type: strings as written,
                        integers, numbers, true/false, tuples as (a, b); None
                        removes the field, as if the file had not set it
                        (--config.g_optimizer.b1=None)
  --config.FLAG, --config.noFLAG
                        set a boolean field to true / false
  --config FILE.py:ARG  call get_config('ARG') of FILE.py
The fields and their accepted values: gan_jax/validation.py; the run's final
config is written to DIR/config.json."""


def _versions() -> str:
  """`gan-jax VERSION (jax ..., jaxlib ..., flax ..., Python ...)`, without importing jax."""
  from gan_jax import __version__

  found = []
  for name in ("jax", "jaxlib", "flax"):
    try:
      found.append(f"{name} {importlib.metadata.version(name)}")
    except importlib.metadata.PackageNotFoundError:
      found.append(f"{name} not installed")
  return f"gan-jax {__version__} ({', '.join(found)}, Python {sys.version.split()[0]})"


def add_config_argument(parser: argparse.ArgumentParser) -> None:
  parser.add_argument(
    "--config",
    required=True,
    help="python file with get_config(); FILE.py:ARG calls get_config('ARG')",
  )


def add_step_argument(parser: argparse.ArgumentParser) -> None:
  parser.add_argument(
    "--step",
    type=int,
    default=None,
    help="the checkpoint of this step (default: the newest; the run keeps "
    "config.keep_checkpoints of them)",
  )


def build_parser() -> argparse.ArgumentParser:
  parser = ArgumentParser(prog="gan-jax", description="Functional GANs on JAX/Flax.")
  parser.add_argument("--debug", action="store_true", help="show Python tracebacks")
  parser.add_argument(
    "--version",
    action="version",
    version=_versions(),
    help="print the versions of gan-jax, jax, jaxlib, flax and Python",
  )
  commands = parser.add_subparsers(dest="command", required=True)
  train = commands.add_parser(
    "train",
    help="train a GAN from a config file",
    epilog=OVERRIDES_HELP,
    formatter_class=argparse.RawDescriptionHelpFormatter,
  )
  add_config_argument(train)
  train.add_argument("--workdir", required=True, help="directory for logs, samples, checkpoints")
  train.add_argument(
    "--no-progress",
    action="store_true",
    help="no progress bar: a plain line every config.log_every steps (also "
    "the default when stderr is not a terminal)",
  )
  train.add_argument(
    "--eval-every",
    type=int,
    default=0,
    help="evaluate every N steps into DIR/eval_metrics.jsonl (0: never)",
  )
  train.add_argument(
    "--eval-samples",
    type=int,
    default=None,
    metavar="N",
    help="generated samples of each --eval-every evaluation (default: evaluate's, 2500 for "
    "mixtures, 10000 for images)",
  )
  train.set_defaults(run=_train)
  sample = commands.add_parser("sample", help="draw samples from a trained run")
  sample.add_argument(
    "--speech",
    default=None,
    help="text to speak, for text_to_speech runs: --out FILE.wav (16 kHz, "
    "Griffin-Lim), --label the voice (default 0)",
  )
  sample.add_argument("--workdir", required=True)
  add_step_argument(sample)
  sample.add_argument(
    "--num",
    type=int,
    default=None,
    help=f"how many samples, --interpolate paths or conditions (default: {SAMPLE_NUM})",
  )
  sample.add_argument("--seed", type=int, default=None, help="seed of the samples (default: 0)")
  sample.add_argument(
    "--out",
    required=True,
    help="FILE.npz: an array 'samples' (with 'conditions' and 'targets' for recipes that "
    "map a condition drawn from the data); FILE.png: a picture (an image grid, or the "
    "points over the data)",
  )
  sample.add_argument(
    "--label",
    type=int,
    default=None,
    help="class to generate, for conditional recipes, or category code, for infogan "
    "(default: cycle through them)",
  )
  sample.add_argument(
    "--text",
    default=None,
    help="caption to draw, for text-to-image recipes, e.g. \"a bright sandal\"",
  )
  sample.add_argument(
    "--interpolate",
    type=int,
    default=None,
    metavar="N",
    help="walk the latent space: --num paths of N samples each, from one random latent to "
    "another (a row of the picture per path; samples of shape (num, N, ...) in the npz)",
  )
  sample.add_argument(
    "--interpolation",
    default=None,
    help="the path of --interpolate: along the great circle (slerp, the default) or the "
    "straight line (linear)",
  )
  sample.add_argument(
    "--truncation",
    type=float,
    default=None,
    metavar="T",
    help="draw the latents' normal entries within [-T, T] (BigGAN's truncation trick: "
    "smaller T, less varied samples, more faithful ones where G was trained for it); "
    "default: the prior as trained",
  )
  sample.set_defaults(run=_sample)
  evaluate = commands.add_parser(
    "evaluate", help="metrics of a trained run into DIR/eval.json, and DIR/report.md"
  )
  evaluate.add_argument("--workdir", required=True)
  add_step_argument(evaluate)
  evaluate.add_argument(
    "--num-samples",
    type=int,
    default=None,
    help="generated samples (default: 2500 for mixtures, 10000 for images)",
  )
  evaluate.add_argument("--seed", type=int, default=0, help="seed of the samples drawn")
  evaluate.add_argument(
    "--feature-network",
    default=None,
    help="cached feature network (default: ~/.cache/gan_jax/, trained if absent)",
  )
  evaluate.add_argument(
    "--inception-weights",
    default=None,
    help="Inception .npz (see gan_jax.metrics.inception) to add FID",
  )
  evaluate.add_argument(
    "--truncation",
    type=float,
    default=None,
    metavar="T",
    help="evaluate samples whose latents' normal entries are drawn within [-T, T] (as "
    "sample --truncation); recorded in DIR/eval.json",
  )
  evaluate.add_argument("--no-report", action="store_true", help="skip DIR/report.md")
  evaluate.set_defaults(run=_evaluate)
  show = commands.add_parser(
    "config",
    help="check a config file with its overrides and print the resolved config, without "
    "training (what train would write to DIR/config.json)",
    epilog=OVERRIDES_HELP,
    formatter_class=argparse.RawDescriptionHelpFormatter,
  )
  add_config_argument(show)
  show.set_defaults(run=_show_config)
  report = commands.add_parser(
    "report",
    help="DIR/report.md and its figures from the newest checkpoint, without evaluating "
    "(the metrics of DIR/eval.json when there is one)",
  )
  report.add_argument("--workdir", required=True)
  add_step_argument(report)
  report.set_defaults(run=_report)
  return parser


def main(argv: list[str] | None = None) -> int:
  argv = list(sys.argv[1:] if argv is None else argv)
  parser = build_parser()
  known, overrides = split_overrides(argv)
  debug = "--debug" in known
  if not debug:  # orbax logs failed background writes with tracebacks; we report them in one line
    logging.getLogger("absl").setLevel(logging.CRITICAL)
    for name in ("concurrent.futures", "asyncio"):
      logging.getLogger(name).setLevel(logging.CRITICAL)
  try:
    # --debug may come before or after the command; the command's parser would refuse it.
    args, extra = parser.parse_known_args([item for item in known if item != "--debug"])
    if extra:
      raise UsageError(
        f"unrecognized arguments: {' '.join(extra)} (see {parser.prog} {args.command} --help)"
      )
    return args.run(args, overrides)
  except BrokenPipeError:  # the reader went away (`gan-jax evaluate ... | head`): not an error
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_FAILURE
  except Exception as error:  # one line unless --debug
    if debug:
      raise  # for a debugger; `command` prints it and exits as without --debug
    print(f"gan-jax: error: {error_line(error)}", file=sys.stderr)
    return exit_status(error)


def command() -> int:
  """The `gan-jax` program: `main`, whose error with --debug is printed with its traceback,
  and the exit status is the one without --debug (2 for bad input, 1 otherwise)."""
  try:
    return main()
  except Exception as error:  # raised by main only with --debug
    import traceback

    traceback.print_exc()
    return exit_status(error)


def exit_status(error: BaseException) -> int:
  """2 for bad input (usage, config, data, an incompatible checkpoint), 1 for runtime failures."""
  from gan_jax.checkpoint import CheckpointMismatchError

  usage = isinstance(
    error,
    (
      UsageError,
      ValueError,
      TypeError,
      FileNotFoundError,
      NotADirectoryError,
      CheckpointMismatchError,
    ),
  )
  return EXIT_USAGE if usage else EXIT_FAILURE


def error_line(error: BaseException) -> str:
  """The error as one line: its first line, or its type when it has no message; an OSError
  about a file as 'FILE: what is wrong' (without Python's '[Errno N]')."""
  if isinstance(error, OSError) and error.filename and error.strerror:
    return f"{error.filename}: {error.strerror}"
  line = validation.first_line(error)
  if len(str(error).strip().splitlines()) > 1:
    line += " (--debug shows the rest)"
  return line


if __name__ == "__main__":
  sys.exit(command())
