"""Fixed inputs for the Inception, KID, IS and FID tests, and the script that computes their
reference values with the reference implementations (pytorch-fid's InceptionV3 and Frechet
distance, torch-fidelity's KID and Inception Score) into tests/data/metric_references.npz:

  pip install torch pytorch-fid torch-fidelity torchvision   # the reference implementations
  python tests/metric_references.py

The tests read the .npz and need none of them. Inputs and Inception weights come from numpy
seeds (numpy's PCG64 streams are stable across versions), so the tests rebuild them exactly.
"""

import os
import sys

import numpy as np

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "metric_references.npz")
KID_OPTIONS = {"num_subsets": 5, "subset_size": 40}


def random_inception_weights(seed: int = 0) -> dict[str, np.ndarray]:
  """pytorch-fid-named Inception weights (with the classifier) that keep activations O(1):
  He-scaled kernels, batch-norm statistics near (0, 1)."""
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  from gan_jax.metrics import inception

  rng = np.random.default_rng(seed)
  shapes = {**inception.inception_weight_shapes(), **inception.classifier_weight_shapes()}
  weights = {}
  for name, shape in shapes.items():
    if name.endswith("conv.weight"):
      fan_in = shape[1] * shape[2] * shape[3]
      value = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
    elif name == "fc.weight":
      value = rng.standard_normal(shape) / np.sqrt(shape[1])
    elif name.endswith("running_var"):
      value = 1.0 + 0.1 * np.abs(rng.standard_normal(shape))
    elif name.endswith("bn.weight"):
      value = 1.0 + 0.1 * rng.standard_normal(shape)
    else:  # bn.bias, bn.running_mean, fc.bias
      value = 0.1 * rng.standard_normal(shape)
    weights[name] = value.astype(np.float32)
  return weights


def fixed_images() -> dict[str, np.ndarray]:
  """Images in [-1, 1]: 'rgb32' (3, 32, 32, 3), 'gray28' (2, 28, 28, 1) and
  'rgb80x64' (2, 80, 64, 3)."""
  rng = np.random.default_rng(1)
  return {
    "rgb32": rng.uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32),
    "gray28": rng.uniform(-1, 1, (2, 28, 28, 1)).astype(np.float32),
    "rgb80x64": rng.uniform(-1, 1, (2, 80, 64, 3)).astype(np.float32),
  }


def fixed_features() -> dict[str, np.ndarray]:
  """Feature sets for KID and FID ('real' (60, 16), 'fake' (50, 16), shifted and scaled) and
  logits for the Inception Score ('logits' (100, 12))."""
  rng = np.random.default_rng(2)
  return {
    "real": rng.standard_normal((60, 16)),
    "fake": 0.3 + 1.2 * rng.standard_normal((50, 16)),
    "logits": 3.0 * rng.standard_normal((100, 12)),
  }


def _pytorch_fid_features(weights, images):
  import torch
  from pytorch_fid import inception as pytorch_fid_inception

  state = {name: torch.from_numpy(value) for name, value in weights.items()}
  pytorch_fid_inception.load_state_dict_from_url = lambda *args, **kwargs: state
  model = pytorch_fid_inception.InceptionV3(
    [3], resize_input=True, normalize_input=True, use_fid_inception=True
  ).eval()
  rgb = np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images
  x = torch.from_numpy(np.transpose((rgb + 1.0) / 2.0, (0, 3, 1, 2)).copy())  # [0, 1], NCHW
  with torch.no_grad():
    features = model(x)[0][:, :, 0, 0]
    logits = torch.nn.functional.linear(features, state["fc.weight"])  # 'logits_unbiased'
  return features.numpy(), logits.numpy()


def main() -> int:
  import types

  import torch

  sys.modules.setdefault(
    "torchvision._meta_registrations",  # torchvision's C++ ops are not used
    types.ModuleType("torchvision._meta_registrations"),
  )
  from pytorch_fid.fid_score import calculate_frechet_distance
  from torch_fidelity.metric_isc import isc_features_to_metric
  from torch_fidelity.metric_kid import kid_features_to_metric

  weights = random_inception_weights()
  out = {}
  for name, images in fixed_images().items():
    out[f"features_{name}"], out[f"logits_{name}"] = _pytorch_fid_features(weights, images)
  f = fixed_features()
  kid = kid_features_to_metric(
    torch.from_numpy(f["real"]),
    torch.from_numpy(f["fake"]),
    kid_subsets=KID_OPTIONS["num_subsets"],
    kid_subset_size=KID_OPTIONS["subset_size"],
    rng_seed=2020,
    verbose=False,
    kid_kernel="poly",
    kid_kernel_poly_degree=3,
    kid_kernel_poly_gamma=None,
    kid_kernel_poly_coef0=1,
  )
  out["kid"] = np.array(
    [kid["kernel_inception_distance_mean"], kid["kernel_inception_distance_std"]]
  )
  for shuffle in (True, False):
    isc = isc_features_to_metric(
      torch.from_numpy(f["logits"]), splits=10, shuffle=shuffle, rng_seed=2020
    )
    out[f"inception_score_shuffle_{shuffle}"] = np.array(
      [isc["inception_score_mean"], isc["inception_score_std"]]
    )
  stats = [(x.mean(axis=0), np.cov(x, rowvar=False)) for x in (f["real"], f["fake"])]
  out["fid"] = np.array(calculate_frechet_distance(*stats[0], *stats[1]))
  np.savez(PATH, **out)
  print(f"wrote {PATH}: " + ", ".join(f"{k} {v.shape}" for k, v in out.items()))
  return 0


if __name__ == "__main__":
  sys.exit(main())
