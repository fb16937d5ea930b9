"""Converts pytorch-fid's Inception weights (.pth) to the .npz that `gan_jax.metrics.inception`
reads.

  python -m gan_jax.metrics.convert_inception pt_inception-2015-12-05-6726825d.pth inception_fid.npz

Needs PyTorch for this one step (pip install torch); the .npz then works
without it. The output holds every tensor of the state dict under its
PyTorch name, as float32 numpy arrays in PyTorch layout; the entries are
checked against `inception.inception_weight_shapes()` before writing. The
classifier ('fc.weight', 'fc.bias') is kept: the Inception Score needs it.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from gan_jax.metrics import inception


def state_dict_to_arrays(state_dict) -> dict[str, np.ndarray]:
  """{name: float32 array} of the required entries and the classifier's; ValueError names the
  first missing or misshapen required one."""
  arrays = {}
  for name, shape in inception.inception_weight_shapes().items():
    if name not in state_dict:
      raise ValueError(f"the state dict has no entry {name!r}; is it pytorch-fid's FID Inception?")
    value = state_dict[name]
    array = np.asarray(
      value.detach().cpu().numpy() if hasattr(value, "detach") else value, np.float32
    )
    if array.shape != shape:
      raise ValueError(f"entry {name!r} has shape {array.shape}, expected {shape}")
    arrays[name] = array
  for name, shape in inception.classifier_weight_shapes().items():  # for the Inception Score
    if name in state_dict:
      arrays[name] = np.asarray(
        state_dict[name].detach().cpu().numpy()
        if hasattr(state_dict[name], "detach")
        else state_dict[name],
        np.float32,
      )
  return arrays


def convert(pth_path: str, npz_path: str) -> None:
  """Writes the arrays of the state dict in `pth_path` to `npz_path` (whole, or not at all)."""
  if not os.path.isfile(pth_path):
    raise FileNotFoundError(f"weights file {pth_path!r} does not exist")
  try:
    import torch
  except ImportError:
    raise ImportError(
      "converting a .pth file needs PyTorch once: pip install torch "
      "(or convert elsewhere and copy the .npz)"
    ) from None
  try:
    state_dict = torch.load(pth_path, map_location="cpu", weights_only=True)
  except Exception as error:  # torch's unpickling errors are many kinds and many lines
    raise ValueError(
      f"{pth_path!r} is not a state dict that torch.load(weights_only=True) reads "
      f"({type(error).__name__}); accepted: pytorch-fid's pt_inception-2015-12-05-6726825d.pth"
    ) from None
  if not isinstance(state_dict, dict):
    raise ValueError(f"{pth_path!r} holds a {type(state_dict).__name__}, not a state dict")
  arrays = state_dict_to_arrays(state_dict)
  tmp = npz_path + ".tmp.npz"  # written whole, then renamed: never a half-written .npz
  try:
    np.savez(tmp, **arrays)
    os.replace(tmp, npz_path)
  except OSError:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("pth", help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth")
  parser.add_argument("npz", help="output .npz")
  args = parser.parse_args(argv)
  if not args.npz.endswith(".npz"):
    parser.error(f"the output must be an .npz file, got {args.npz!r}")
  try:
    convert(args.pth, args.npz)
  except (ImportError, OSError, ValueError) as error:
    print(f"convert_inception: error: {error}", file=sys.stderr)
    return 2
  print(f"wrote {args.npz}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
