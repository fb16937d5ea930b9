"""Kernel distance (KID on Inception features; Binkowski et al. 2018, "Demystifying MMD GANs").

KID is the squared maximum mean discrepancy between two feature sets under the
cubic polynomial kernel k(x, y) = (x . y / d + 1)^3, with d the feature
dimension, estimated without bias (the unbiased U-statistic of Gretton et al.
2012, eq. 3, with the cross term over all pairs). Unlike FID it has an unbiased
estimator, so its value does not depend on the number of samples in
expectation, and it can be slightly negative when the two sets are alike.

As Binkowski et al.'s code and torch-fidelity do, it is averaged over
`num_subsets` random subsets of `subset_size` rows of each set, drawn with
numpy's RandomState(seed).choice(..., replace=False), one set then the other;
the spread over subsets is reported beside the mean. KID is often quoted x 1000.
"""

from __future__ import annotations

import numpy as np

NUM_SUBSETS = 100
SUBSET_SIZE = 1000
SEED = 2020  # torch-fidelity's default rng_seed, so the same features give its value


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """(x y^T / d + 1)^3 of x (N, d) and y (M, d), float64 (N, M)."""
  return (np.asarray(x, np.float64) @ np.asarray(y, np.float64).T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(features1: np.ndarray, features2: np.ndarray) -> float:
  """Unbiased squared MMD of two sets of m rows each (m >= 2), under `polynomial_kernel`.

  mean of k(x_i, x_j) over i != j, plus the same for y, minus twice the mean of
  k(x_i, y_j) over all i, j.
  """
  m = len(features1)
  k_xx = polynomial_kernel(features1, features1)
  k_yy = polynomial_kernel(features2, features2)
  k_xy = polynomial_kernel(features1, features2)
  within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
  return float(within - 2.0 * k_xy.sum() / (m * m))


def kernel_distance(
  features1: np.ndarray,
  features2: np.ndarray,
  *,
  num_subsets: int = NUM_SUBSETS,
  subset_size: int = SUBSET_SIZE,
  seed: int = SEED,
) -> tuple[float, float, int]:
  """(mean, standard deviation over subsets, subset size used) of the KID of two feature sets.

  Args:
    features1, features2: (N1, d) and (N2, d) features, e.g. Inception pool features.
    num_subsets: how many subset pairs to average over (>= 1).
    subset_size: rows per subset; lowered to min(N1, N2) when either set is smaller.
    seed: the RandomState seed of the subset draws.
  """
  features1, features2 = np.asarray(features1), np.asarray(features2)
  if features1.ndim != 2 or features2.ndim != 2 or features1.shape[1] != features2.shape[1]:
    raise ValueError(
      f"features must be (N1, d) and (N2, d) with the same d, got "
      f"{features1.shape} and {features2.shape}"
    )
  if not isinstance(num_subsets, int) or num_subsets < 1:
    raise ValueError(f"num_subsets must be an integer >= 1, got {num_subsets!r}")
  size = min(subset_size, len(features1), len(features2))
  if size < 2:
    raise ValueError(
      f"KID needs at least 2 rows in each set, got {len(features1)} and {len(features2)}"
    )
  rng = np.random.RandomState(seed)
  values = np.empty(num_subsets)
  for i in range(num_subsets):
    subset1 = features1[rng.choice(len(features1), size, replace=False)]
    subset2 = features2[rng.choice(len(features2), size, replace=False)]
    values[i] = mmd2_unbiased(subset1, subset2)
  return float(values.mean()), float(values.std()), size
