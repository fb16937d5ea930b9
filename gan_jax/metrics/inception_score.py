"""Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))) over class predictions.

Computed from Inception-v3's 1008-way logits (`inception.InceptionFeatures.logits`),
as OpenAI's original TensorFlow code and torch-fidelity do: the samples are
split into `splits` equal parts (10), p(y) is the mean prediction within a
part, and the score's mean and standard deviation over the parts are
reported. Like torch-fidelity, the rows are first shuffled with
RandomState(shuffle_seed).permutation (None: kept in order, as OpenAI's code).
It ranges from 1 (every sample gets the same prediction) to the number of
classes (confident predictions, spread evenly).
"""

from __future__ import annotations

import numpy as np

SPLITS = 10
SHUFFLE_SEED = 2020  # torch-fidelity's default


def log_softmax(logits: np.ndarray) -> np.ndarray:
  """Row-wise log-softmax in float64."""
  logits = np.asarray(logits, np.float64)
  shifted = logits - logits.max(axis=1, keepdims=True)
  return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def inception_score(
  logits: np.ndarray, *, splits: int = SPLITS, shuffle_seed: int | None = SHUFFLE_SEED
) -> tuple[float, float]:
  """(mean, standard deviation over splits) of the Inception Score of logits (N, K), N >= splits."""
  logits = np.asarray(logits)
  if logits.ndim != 2:
    raise ValueError(f"logits must be (N, K), got shape {logits.shape}")
  if not isinstance(splits, int) or not 1 <= splits <= len(logits):
    raise ValueError(f"splits must be an integer in [1, N = {len(logits)}], got {splits!r}")
  if shuffle_seed is not None:
    logits = logits[np.random.RandomState(shuffle_seed).permutation(len(logits))]
  log_p = log_softmax(logits)
  p = np.exp(log_p)
  n = len(logits)
  scores = []
  for i in range(splits):
    rows = slice(i * n // splits, (i + 1) * n // splits)
    part, log_part = p[rows], log_p[rows]
    kl = (part * (log_part - np.log(part.mean(axis=0, keepdims=True)))).sum(axis=1)
    scores.append(np.exp(kl.mean()))
  return float(np.mean(scores)), float(np.std(scores))
