"""The InfoGAN figure: samples of a trained run varying each latent code, others fixed.

One PNG per code in OUT: category.png (rows: noise vectors, columns: the K
categories) and continuous_J.png (columns: c_J from -2 to 2, row r with
category r mod K).

  python experiments/infogan_codes.py --workdir RUN --out figures/ --rows 10
"""

import argparse
import os
import sys

import jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gan_jax import plotting, runs  # noqa: E402
from gan_jax.state import step_key  # noqa: E402
from gan_jax.variants import infogan  # noqa: E402


def write_code_figures(state, z, out_dir: str, prefix: str = "") -> int:
  """PREFIXcategory.png and PREFIXcontinuous_J.png in out_dir for noise rows z; returns the
  count."""
  images = infogan.code_traversal(state, z, "category")
  plotting.save_image_grid(
    images, os.path.join(out_dir, f"{prefix}category.png"), columns=state.game.num_categories
  )
  for j in range(state.game.num_continuous):
    images = infogan.code_traversal(state, z, j)
    plotting.save_image_grid(
      images, os.path.join(out_dir, f"{prefix}continuous_{j}.png"), columns=9
    )
  return 1 + state.game.num_continuous


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--out", required=True)
  parser.add_argument("--rows", type=int, default=10)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()
  config, _, state = runs.load_run(args.workdir)
  if config.get("recipe") != "infogan":
    raise SystemExit(f"{args.workdir} is a {config.get('recipe', 'gan')!r} run, not an InfoGAN one")
  os.makedirs(args.out, exist_ok=True)
  z = state.noise(step_key(jax.random.PRNGKey(args.seed), 0, "samples"), args.rows)
  count = write_code_figures(state, z, args.out)
  print(f"wrote {count} figures to {args.out}")


if __name__ == "__main__":
  main()
