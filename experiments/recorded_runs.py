"""What the results scripts share: pick runs by name, keep a JSON list of rows, rewrite the page.

Each script (fashion_mnist.py, class_agreement.py) trains and evaluates named runs;
a row per run is kept in experiments/results/NAME.json, so runs can be redone one
at a time (`--runs a,b`) and the markdown page is rewritten from all rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from typing import Callable

from gan_jax import cli

ROOT = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(ROOT, "results")


def host() -> str:
  """The CPU's model name and core count, e.g. 'Intel(R) Xeon(R) Processor, 2 cores'."""
  try:
    lines = subprocess.run(
      ["lscpu"], check=False, capture_output=True, text=True
    ).stdout.splitlines()
    model = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("Model name")), "")
  except OSError:
    model = platform.processor()
  return f"{model}, {os.cpu_count()} cores"


def shipped_config(filename: str):
  """get_config() of experiments/configs/FILENAME."""
  return cli.load_config_file(os.path.join(ROOT, "configs", filename))


def make_parser(
  doc: str, known: list[str], default: list[str] | None = None, *, root_required: bool = True
) -> argparse.ArgumentParser:
  """The scripts' command line: --root (where runs go) and --runs (which; default: all known),
  whose names are checked as the command line is read, before anything trains."""
  parser = argparse.ArgumentParser(
    description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
  )
  parser.add_argument("--root", required=root_required, help="directory for the runs")

  def run_names(text: str) -> str:
    unknown = [name for name in text.split(",") if name not in known]
    if unknown:
      raise argparse.ArgumentTypeError(
        f"run {unknown[0]!r} is unknown; accepted: {', '.join(known)}"
      )
    return text

  parser.add_argument(
    "--runs",
    type=run_names,
    default=",".join(default or known),
    help=f"comma-separated, from {', '.join(known)}",
  )
  return parser


def record(
  parser,
  names: str,
  known: list[str],
  json_name: str,
  run: Callable[[str], dict],
  write_page: Callable[[list[dict]], None],
) -> None:
  """Runs each of the comma-separated `names` (from `known`), keeping results/JSON_NAME.

  run(name) -> the run's row; write_page(rows) rewrites the markdown from all rows,
  in the order of `known`, after every run.
  """
  chosen = names.split(",")
  for name in chosen:
    if name not in known:
      parser.error(f"run {name!r} is unknown; accepted: {', '.join(known)}")
  path = os.path.join(RESULTS, json_name)
  rows = {r["run"]: r for r in json.load(open(path))} if os.path.exists(path) else {}
  for name in chosen:
    rows[name] = run(name)
    print(json.dumps(rows[name]), flush=True)
    ordered = [rows[n] for n in known if n in rows]
    with open(path, "w") as f:
      json.dump(ordered, f, indent=2)
    write_page(ordered)
