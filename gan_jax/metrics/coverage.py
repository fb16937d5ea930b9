"""Class coverage: how far the predicted-class histogram of samples is from uniform.

class_kl = KL(p || uniform) = log C - H(p) in nats, with p the histogram of a
classifier's argmax predictions over C classes. 0 when every class is
predicted equally often; log C when every sample is predicted as one class.
"""

from __future__ import annotations

import math

import numpy as np


def class_histogram(predictions: np.ndarray, num_classes: int) -> np.ndarray:
  """(C,) fraction of predictions (N,) int in [0, C) falling in each class."""
  predictions = np.asarray(predictions)
  if predictions.ndim != 1 or predictions.size == 0:
    raise ValueError(f"predictions must be a non-empty (N,) array, got shape {predictions.shape}")
  if predictions.min() < 0 or predictions.max() >= num_classes:
    raise ValueError(
      f"predictions must lie in [0, {num_classes}), got [{predictions.min()}, {predictions.max()}]"
    )
  return np.bincount(predictions, minlength=num_classes) / predictions.size


def class_kl(predictions: np.ndarray, num_classes: int) -> float:
  """KL(histogram of predictions (N,) || uniform over num_classes) in nats, in [0, log C]."""
  p = class_histogram(predictions, num_classes)
  p = p[p > 0]
  return float(max(math.log(num_classes) + np.sum(p * np.log(p)), 0.0))
