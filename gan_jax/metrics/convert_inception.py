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
  try:
    import torch
  except ImportError:
    raise ImportError(
      "converting a .pth file needs PyTorch once: pip install torch "
      "(or convert elsewhere and copy the .npz)"
    ) from None
  state_dict = torch.load(pth_path, map_location="cpu", weights_only=True)
  np.savez(npz_path, **state_dict_to_arrays(state_dict))


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("pth", help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth")
  parser.add_argument("npz", help="output .npz")
  args = parser.parse_args(argv)
  convert(args.pth, args.npz)
  print(f"wrote {args.npz}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
