"""`gan-jax`: train, sample. Parses arguments, then calls library functions.

  gan-jax train --config experiments/configs/ring_gan.py --workdir DIR [--config.FIELD=VALUE ...]
  gan-jax sample --workdir DIR --num N --seed S --out FILE.npz
  gan-jax evaluate --workdir DIR [--num-samples N] [--feature-network PATH] [--inception-weights FILE.npz]
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import logging
import os
import sys

from gan_jax import validation

EXIT_USAGE = 2
EXIT_FAILURE = 1


class UsageError(ValueError):
  """Bad command-line input: exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
  """argparse, but a bad command line is one line `gan-jax: error: ...` and exit status 2."""

  def error(self, message):
    raise UsageError(f"{message} (see {self.prog} --help)")


def load_config_file(path: str):
  """Imports `path` and returns its get_config()."""
  if not os.path.isfile(path):
    raise UsageError(f"config file {path!r} does not exist")
  if not path.endswith(".py"):
    raise UsageError(f"config file {path!r} must be a python file (.py) with get_config()")
  spec = importlib.util.spec_from_file_location("gan_jax_user_config", path)
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except Exception as error:
    raise UsageError(f"config file {path!r} failed to load: {type(error).__name__}: "
                     f"{_first_line(error)}") from error
  if not hasattr(module, "get_config"):
    raise UsageError(f"config file {path!r} has no get_config() function")
  try:
    config = module.get_config()
  except Exception as error:
    raise UsageError(f"get_config() of {path!r} failed: {type(error).__name__}: "
                     f"{_first_line(error)}") from error
  if not hasattr(config, "keys"):
    raise UsageError(f"get_config() of {path!r} must return an ml_collections.ConfigDict, "
                     f"got {type(config).__name__}")
  return config


def _first_line(error: BaseException) -> str:
  text = str(error).strip()
  return text.splitlines()[0] if text else type(error).__name__


TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
              tuple: "a tuple", list: "a list"}


def _type_name(value) -> str:
  return TYPE_NAMES.get(type(value), f"a {type(value).__name__}")


def _parse_value(text: str):
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def apply_overrides(config, overrides: list[str]):
  """Applies ['--config.a.b=value', ...] to an ml_collections ConfigDict, type-checked."""
  for item in overrides:
    if not item.startswith("--config.") or "=" not in item:
      raise UsageError(f"argument {item!r} is not understood; overrides look like --config.FIELD=VALUE")
    dotted, text = item[len("--config."):].split("=", 1)
    *parents, leaf = dotted.split(".")
    node = config
    for name in parents:
      if name not in node or not hasattr(node[name], "keys"):
        raise UsageError(f"config has no field {dotted!r} (no section {name!r})")
      node = node[name]
    value = _parse_value(text)
    if leaf not in node:
      known = validation.known_fields(parents)
      if known is None or leaf in known:
        node[leaf] = value  # free-form options, or an optional field the file leaves out
        continue
      raise UsageError(f"config has no field {dotted!r}; known fields here: "
                       f"{', '.join(sorted(set(node.keys()) | set(known)))}")
    current = node[leaf]
    if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
      value = float(value)
    if isinstance(current, tuple) and isinstance(value, list):
      value = tuple(value)
    if current is not None and hasattr(current, "keys") is False and type(value) is not type(current):
      raise UsageError(f"--config.{dotted}={text!r}: expected {_type_name(current)}, "
                       f"got {_type_name(value)}")
    node[leaf] = value
  return config


def _train(args, overrides):
  if args.eval_every < 0:
    raise UsageError(f"--eval-every must be >= 0 (0: never), got {args.eval_every}")
  from gan_jax import train
  config = apply_overrides(load_config_file(args.config), overrides)
  hook = None
  if args.eval_every:
    from gan_jax import evaluate
    hook = evaluate.PeriodicEvaluator(args.workdir, config, args.eval_every)
  try:
    train.train_and_evaluate(config, args.workdir, progress=not args.no_progress, step_hook=hook)
  except KeyboardInterrupt:
    print(f"interrupted; a checkpoint was saved in {args.workdir}", file=sys.stderr)
    return 130
  except train._StopRequested:
    print(f"terminated; a checkpoint was saved in {args.workdir}", file=sys.stderr)
    return 143
  print(f"done: {args.workdir}")
  return 0


def _sample(args, overrides):
  if overrides:
    raise UsageError(f"sample takes no config overrides, got {overrides[0]!r}")
  if args.num < 1:
    raise UsageError(f"--num must be >= 1, got {args.num}")
  if args.seed < 0:
    raise UsageError(f"--seed must be >= 0, got {args.seed}")
  if not args.out.endswith(".npz"):
    raise UsageError(f"--out must name an .npz file, got {args.out!r}")
  out_dir = os.path.dirname(os.path.abspath(args.out))
  if os.path.exists(out_dir) and not os.path.isdir(out_dir):
    raise UsageError(f"--out {args.out!r} cannot be written: {out_dir} is not a directory")
  import numpy as np
  from gan_jax import recipes, train
  config, source, state = train.load_run(args.workdir)
  recipe = recipes.recipe_of(config)
  labels = None
  if args.label is not None:
    if not recipe.needs_labels:
      raise UsageError(f"--label needs a conditional recipe; this run's recipe is {recipe.name!r}")
    if not 0 <= args.label < source.num_classes:
      raise UsageError(f"--label must be in [0, {source.num_classes - 1}], got {args.label}")
    labels = np.full((args.num,), args.label, np.int32)
  elif recipe.needs_labels:
    labels = (np.arange(args.num) % source.num_classes).astype(np.int32)
  samples = train.draw_samples(state, args.num, args.seed, recipe=recipe, labels=labels)
  os.makedirs(out_dir, exist_ok=True)
  np.savez(args.out, samples=samples)
  print(f"wrote {args.num} samples of shape {samples.shape[1:]} to {args.out}")
  return 0


def _evaluate(args, overrides):
  if overrides:
    raise UsageError(f"evaluate takes no config overrides, got {overrides[0]!r}")
  if args.num_samples is not None and args.num_samples < 2:
    raise UsageError(f"--num-samples must be >= 2, got {args.num_samples}")
  from gan_jax import evaluate, report
  result = evaluate.evaluate_run(
      args.workdir, seed=args.seed, num_samples=args.num_samples,
      feature_network_path=args.feature_network, inception_weights=args.inception_weights)
  print(evaluate.format_table(result))
  print(f"wrote {os.path.join(args.workdir, evaluate.EVAL_FILE)}")
  if not args.no_report:
    print(f"wrote {report.write_report(args.workdir)}")
  return 0


def build_parser() -> argparse.ArgumentParser:
  parser = ArgumentParser(prog="gan-jax", description="Functional GANs on JAX/Flax.")
  parser.add_argument("--debug", action="store_true", help="show Python tracebacks")
  commands = parser.add_subparsers(dest="command", required=True)
  train = commands.add_parser("train", help="train a GAN from a config file")
  train.add_argument("--config", required=True, help="python file with get_config()")
  train.add_argument("--workdir", required=True, help="directory for logs, samples, checkpoints")
  train.add_argument("--no-progress", action="store_true", help="no progress bar")
  train.add_argument("--eval-every", type=int, default=0,
                     help="evaluate every N steps into DIR/eval_metrics.jsonl (0: never)")
  train.set_defaults(run=_train)
  sample = commands.add_parser("sample", help="draw samples from a trained run")
  sample.add_argument("--workdir", required=True)
  sample.add_argument("--num", type=int, default=64)
  sample.add_argument("--seed", type=int, default=0)
  sample.add_argument("--out", required=True, help="output .npz with an array 'samples'")
  sample.add_argument("--label", type=int, default=None,
                      help="class to generate, for conditional recipes (default: cycle through classes)")
  sample.set_defaults(run=_sample)
  evaluate = commands.add_parser("evaluate", help="metrics of a trained run into DIR/eval.json, "
                                 "and DIR/report.md")
  evaluate.add_argument("--workdir", required=True)
  evaluate.add_argument("--num-samples", type=int, default=None,
                        help="generated samples (default: 2500 for mixtures, 10000 for images)")
  evaluate.add_argument("--seed", type=int, default=0, help="seed of the samples drawn")
  evaluate.add_argument("--feature-network", default=None,
                        help="cached feature network (default: ~/.cache/gan_jax/, trained if absent)")
  evaluate.add_argument("--inception-weights", default=None,
                        help="Inception .npz (see gan_jax.metrics.inception) to add FID")
  evaluate.add_argument("--no-report", action="store_true", help="skip DIR/report.md")
  evaluate.set_defaults(run=_evaluate)
  return parser


def main(argv: list[str] | None = None) -> int:
  argv = list(sys.argv[1:] if argv is None else argv)
  parser = build_parser()
  known = [a for a in argv if not a.startswith("--config.")]
  overrides = [a for a in argv if a.startswith("--config.")]
  debug = "--debug" in known
  if not debug:  # orbax logs failed background writes with tracebacks; we report them in one line
    logging.getLogger("absl").setLevel(logging.CRITICAL)
    for name in ("concurrent.futures", "asyncio"):
      logging.getLogger(name).setLevel(logging.CRITICAL)
  try:
    args = parser.parse_args(known)
    return args.run(args, overrides)
  except Exception as error:  # one line unless --debug
    if debug:
      raise
    print(f"gan-jax: error: {error_line(error)}", file=sys.stderr)
    return exit_status(error)


def exit_status(error: BaseException) -> int:
  """2 for bad input (usage, config, data, an incompatible checkpoint), 1 for runtime failures."""
  from gan_jax.checkpoint import CheckpointMismatchError
  usage = isinstance(error, (UsageError, ValueError, TypeError, FileNotFoundError,
                             NotADirectoryError, CheckpointMismatchError))
  return EXIT_USAGE if usage else EXIT_FAILURE


def error_line(error: BaseException) -> str:
  """The error as one line: its first line, or its type when it has no message."""
  line = _first_line(error)
  if len(str(error).strip().splitlines()) > 1:
    line += " (--debug shows the rest)"
  return line


if __name__ == "__main__":
  sys.exit(main())
