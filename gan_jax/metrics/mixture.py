"""Mode coverage of a Gaussian mixture, the PacGAN protocol (Lin et al. 2018, after VEEGAN).

From generated points (2500 in the protocol), each point is assigned to its
nearest mode in standardized distance ||x - mean_k|| / std. A point is
high-quality when that distance is below 3; a mode is captured when at least
one high-quality point is assigned to it; the reverse KL is
KL(p || uniform) = log K - H(p), with p the histogram of high-quality points
over the K modes.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

PROTOCOL_NUM_POINTS = 2500
PROTOCOL_THRESHOLD = 3.0


class MixtureMetrics(NamedTuple):
  """PacGAN's three numbers for one set of generated points.

  Attributes:
    modes: number of captured modes, in [0, K].
    high_quality: fraction of points within `threshold` stds of their nearest mode, in [0, 1].
    reverse_kl: KL(p || uniform) in nats over the K modes, in [0, log K]; inf when no
      point is high-quality (p is undefined: the generator covers no mode).
    counts: (K,) int64, high-quality points assigned to each mode.
  """

  modes: int
  high_quality: float
  reverse_kl: float
  counts: np.ndarray

  def as_dict(self) -> dict[str, float]:
    """{'modes', 'high_quality', 'reverse_kl'} as Python numbers."""
    return {
      "modes": int(self.modes),
      "high_quality": float(self.high_quality),
      "reverse_kl": float(self.reverse_kl),
    }


def nearest_modes(
  points: np.ndarray, means: np.ndarray, std: float
) -> tuple[np.ndarray, np.ndarray]:
  """Nearest mode of each point and its standardized distance.

  Args:
    points: (N, D) float array.
    means: (K, D) float array of the mixture's means.
    std: the components' common standard deviation, > 0.
  Returns:
    (index int64 (N,) in [0, K), distance float64 (N,) = ||x - mean|| / std);
    a non-finite point gets distance nan.
  """
  points = np.asarray(points, np.float64)
  means = np.asarray(means, np.float64)
  squared = np.sum((points[:, None, :] - means[None, :, :]) ** 2, axis=-1)  # (N, K)
  finite = np.isfinite(squared).all(axis=1)
  index = np.argmin(np.where(np.isfinite(squared), squared, np.inf), axis=1)
  distance = np.sqrt(squared[np.arange(len(points)), index]) / std
  return index, np.where(finite, distance, np.nan)


def reverse_kl_from_counts(counts: np.ndarray) -> float:
  """KL(p || uniform) = log K - H(p) in nats, p = counts / sum; inf when all counts are 0."""
  counts = np.asarray(counts, np.float64)
  total = counts.sum()
  if total == 0:
    return math.inf
  p = counts[counts > 0] / total
  return float(max(math.log(len(counts)) + np.sum(p * np.log(p)), 0.0))


def mixture_metrics(
  points: np.ndarray, means: np.ndarray, std: float, *, threshold: float = PROTOCOL_THRESHOLD
) -> MixtureMetrics:
  """Modes captured, fraction high-quality and reverse KL of `points` against a mixture.

  Args:
    points: (N, D) generated points, N >= 1 (the protocol uses 2500).
    means: (K, D) means of the mixture's equal-weight components.
    std: the components' common standard deviation, > 0.
    threshold: a point is high-quality below this many stds from its nearest mode.
  """
  points = np.asarray(points)
  means = np.asarray(means)
  if means.ndim != 2 or means.shape[0] < 1:
    raise ValueError(f"means must be (K, D) with K >= 1, got shape {means.shape}")
  if points.ndim != 2 or points.shape[1] != means.shape[1] or points.shape[0] < 1:
    raise ValueError(
      f"points must be (N, {means.shape[1]}) with N >= 1 to match means "
      f"{means.shape}, got shape {points.shape}"
    )
  if not std > 0:
    raise ValueError(f"std must be > 0, got {std!r}")
  if not threshold > 0:
    raise ValueError(f"threshold must be > 0, got {threshold!r}")
  index, distance = nearest_modes(points, means, std)
  high = distance < threshold  # nan (non-finite points) compares False
  counts = np.bincount(index[high], minlength=means.shape[0]).astype(np.int64)
  return MixtureMetrics(
    modes=int(np.count_nonzero(counts)),
    high_quality=float(np.mean(high)),
    reverse_kl=reverse_kl_from_counts(counts),
    counts=counts,
  )


def evaluate_mixture(
  points: np.ndarray, distribution, *, threshold: float = PROTOCOL_THRESHOLD
) -> MixtureMetrics:
  """`mixture_metrics` against a `gan_jax.data.toy.GaussianMixture` (its means and std)."""
  return mixture_metrics(points, distribution.means, distribution.std, threshold=threshold)
