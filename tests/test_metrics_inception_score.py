"""The Inception Score against torch-fidelity's on the same logits, and its two limits."""

import numpy as np
import pytest

import metric_references
from gan_jax.metrics import inception_score


@pytest.mark.parametrize("shuffle", [True, False])
def test_inception_score_matches_torch_fidelity(shuffle):
  logits = metric_references.fixed_features()["logits"]
  score = inception_score.inception_score(logits, splits=10, shuffle_seed=2020 if shuffle else None)
  expected = np.load(metric_references.PATH)[f"inception_score_shuffle_{shuffle}"]
  np.testing.assert_allclose(score, expected, rtol=1e-9)


def test_one_prediction_for_all_scores_1_and_confident_even_predictions_score_k():
  same = np.tile([5.0, 0.0, 0.0, 0.0], (40, 1))
  assert inception_score.inception_score(same, splits=4)[0] == pytest.approx(1.0)
  confident = 50.0 * np.eye(4)[np.arange(48) % 4]  # each split holds every class equally often
  mean, std = inception_score.inception_score(confident, splits=4, shuffle_seed=None)
  assert mean == pytest.approx(4.0, rel=1e-6) and std < 1e-6


def test_more_splits_than_samples_is_refused():
  with pytest.raises(ValueError, match=r"splits must be an integer in \[1, N = 5\], got 10"):
    inception_score.inception_score(np.zeros((5, 3)))
