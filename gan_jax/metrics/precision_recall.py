"""Improved precision and recall (Kynkaanniemi et al. 2019) with k-NN manifolds.

The real manifold is the union of balls around each real feature vector with
radius its distance to its k-th nearest other real vector; precision is the
fraction of generated vectors inside it. Recall swaps the roles: the fraction
of real vectors inside the generated manifold. The paper uses k = 3.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

DEFAULT_K = 3


class PrecisionRecall(NamedTuple):
  precision: float
  recall: float


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """(len(a), len(b)) squared Euclidean distances, float64, clipped at 0."""
  d = np.sum(a**2, axis=1)[:, None] + np.sum(b**2, axis=1)[None, :] - 2.0 * (a @ b.T)
  return np.clip(d, 0.0, None)


def knn_radii(features: np.ndarray, k: int = DEFAULT_K, block: int = 2048) -> np.ndarray:
  """(N,) distance of each row of features (N, F) to its k-th nearest other row."""
  features = np.asarray(features, np.float64)
  if not 1 <= k < len(features):
    raise ValueError(f"k must be in [1, N-1] = [1, {len(features) - 1}], got {k}")
  radii = []
  for start in range(0, len(features), block):
    d = _squared_distances(features[start : start + block], features)
    # Column k of the sorted row: column 0 is the point itself (distance 0).
    radii.append(np.sqrt(np.partition(d, k, axis=1)[:, k]))
  return np.concatenate(radii)


def fraction_inside(
  manifold: np.ndarray, radii: np.ndarray, queries: np.ndarray, block: int = 2048
) -> float:
  """Fraction of queries (M, F) within radii[i] of some manifold[i] (N, F)."""
  manifold = np.asarray(manifold, np.float64)
  queries = np.asarray(queries, np.float64)
  squared_radii = np.asarray(radii, np.float64) ** 2
  inside = []
  for start in range(0, len(queries), block):
    d = _squared_distances(queries[start : start + block], manifold)
    inside.append(np.any(d <= squared_radii[None, :], axis=1))
  return float(np.mean(np.concatenate(inside)))


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = DEFAULT_K) -> PrecisionRecall:
  """Improved precision and recall of fake (M, F) against real (N, F) feature vectors."""
  real, fake = np.asarray(real), np.asarray(fake)
  if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
    raise ValueError(
      f"real and fake must be (N, F) and (M, F) with the same F, got {real.shape} and {fake.shape}"
    )
  if not (np.isfinite(real).all() and np.isfinite(fake).all()):
    raise ValueError("features contain nan or inf; the generator or the feature network diverged")
  precision = fraction_inside(real, knn_radii(real, k), fake)
  recall = fraction_inside(fake, knn_radii(fake, k), real)
  return PrecisionRecall(precision, recall)
