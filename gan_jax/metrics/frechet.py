"""Frechet distance between Gaussians fitted to two sets of features.

  FD = ||mu_1 - mu_2||^2 + tr(S_1 + S_2 - 2 (S_1^1/2 S_2 S_1^1/2)^1/2)

(Dowson & Landau 1982; Heusel et al. 2017). On Inception-v3 pool features this
is FID; on any other network's features it is a Frechet distance (FD) in that
network's feature space, comparable only between runs using the same network.
The trace of the matrix square root is computed from the eigenvalues of the
symmetric PSD matrix S_1^1/2 S_2 S_1^1/2, in float64, so it never goes complex.
"""

from __future__ import annotations

import numpy as np


def gaussian_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Mean (F,) and unbiased covariance (F, F), float64, of features (N, F) with N >= 2."""
  features = np.asarray(features, np.float64)
  if features.ndim != 2 or features.shape[0] < 2:
    raise ValueError(f"features must be (N, F) with N >= 2, got shape {features.shape}")
  if not np.isfinite(features).all():
    raise ValueError("features contain nan or inf; the generator or the feature network diverged")
  return features.mean(axis=0), np.cov(features, rowvar=False).reshape(
    features.shape[1], features.shape[1]
  )


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
  """Symmetric square root of a symmetric PSD matrix (negative eigenvalues clipped to 0)."""
  values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
  return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(
  mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
  """Squared Frechet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

  Args:
    mu1, mu2: (F,) means.
    sigma1, sigma2: (F, F) symmetric PSD covariances.
  Returns:
    a float >= 0.
  """
  mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
  sigma1, sigma2 = (
    np.atleast_2d(np.asarray(sigma1, np.float64)),
    np.atleast_2d(np.asarray(sigma2, np.float64)),
  )
  f = mu1.shape[0]
  for name, value, shape in (
    ("mu1", mu1, (f,)),
    ("mu2", mu2, (f,)),
    ("sigma1", sigma1, (f, f)),
    ("sigma2", sigma2, (f, f)),
  ):
    if value.shape != shape:
      raise ValueError(f"{name} must have shape {shape} to match mu1, got {value.shape}")
  root1 = _psd_sqrt(sigma1)
  middle = root1 @ sigma2 @ root1
  trace_sqrt = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)))
  value = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt
  return float(max(value, 0.0))


def frechet_distance_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
  """FD between Gaussians fitted to features1 (N1, F) and features2 (N2, F)."""
  features1, features2 = np.asarray(features1), np.asarray(features2)
  if features1.ndim != 2 or features2.ndim != 2 or features1.shape[1] != features2.shape[1]:
    raise ValueError(
      f"features must be (N1, F) and (N2, F) with the same F, got "
      f"{features1.shape} and {features2.shape}"
    )
  return frechet_distance(*gaussian_statistics(features1), *gaussian_statistics(features2))
