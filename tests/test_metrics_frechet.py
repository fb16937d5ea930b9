"""The Frechet distance against closed-form Gaussian cases."""

import numpy as np
import pytest
from scipy import linalg

from gan_jax.metrics import frechet


def _random_covariance(rng, f):
  a = rng.normal(size=(f, f))
  return a @ a.T + 0.1 * np.eye(f)


def test_one_dimension_is_mean_gap_squared_plus_std_gap_squared():
  value = frechet.frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]])
  assert value == pytest.approx((1 + 2) ** 2 + (2 - 3) ** 2)


def test_diagonal_covariances_add_per_coordinate():
  var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
  mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
  expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
  assert frechet.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected)


def test_scaled_full_covariance_has_closed_form():
  # S2 = c^2 S1 => tr(S1 + c^2 S1 - 2 c S1) = (1 - c)^2 tr(S1), for any full S1.
  rng = np.random.default_rng(0)
  sigma = _random_covariance(rng, 6)
  mu = rng.normal(size=6)
  shift = rng.normal(size=6)
  expected = np.sum(shift**2) + (1 - 3.0) ** 2 * np.trace(sigma)
  assert frechet.frechet_distance(mu, sigma, mu + shift, 9.0 * sigma) == pytest.approx(
    expected, rel=1e-9
  )


def test_identical_gaussians_are_at_distance_zero():
  rng = np.random.default_rng(1)
  sigma = _random_covariance(rng, 8)
  assert frechet.frechet_distance(np.ones(8), sigma, np.ones(8), sigma) == pytest.approx(
    0.0, abs=1e-9
  )


def test_non_commuting_covariances_match_scipy_sqrtm_and_are_symmetric():
  rng = np.random.default_rng(2)
  s1, s2 = _random_covariance(rng, 5), _random_covariance(rng, 5)
  mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
  reference = (
    np.sum((mu1 - mu2) ** 2)
    + np.trace(s1)
    + np.trace(s2)
    - 2 * np.trace(linalg.sqrtm(s1 @ s2).real)
  )
  assert frechet.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-8)
  assert frechet.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(reference, rel=1e-8)


def test_rank_deficient_covariances_stay_real_and_non_negative():
  s1 = np.diag([1.0, 0.0, 0.0])
  s2 = np.diag([0.0, 4.0, 0.0])
  assert frechet.frechet_distance(np.zeros(3), s1, np.zeros(3), s2) == pytest.approx(5.0)


def test_features_from_two_gaussians_approach_the_closed_form():
  rng = np.random.default_rng(3)
  a = rng.normal(size=(20000, 2))
  b = 2.0 * rng.normal(size=(20000, 2)) + np.array([3.0, 0.0])
  expected = 9.0 + 2 * (2.0 - 1.0) ** 2
  assert frechet.frechet_distance_from_features(a, b) == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize(
  "args, match",
  [
    ((np.zeros(3), np.eye(3), np.zeros(2), np.eye(2)), "mu2 must have shape"),
    ((np.zeros(3), np.eye(2), np.zeros(3), np.eye(3)), "sigma1 must have shape"),
  ],
)
def test_mismatched_shapes_are_refused(args, match):
  with pytest.raises(ValueError, match=match):
    frechet.frechet_distance(*args)


def test_nan_features_are_refused():
  with pytest.raises(ValueError, match="nan"):
    frechet.frechet_distance_from_features(np.full((4, 2), np.nan), np.zeros((4, 2)))


def test_matches_pytorch_fids_frechet_distance_on_the_same_features():
  """pytorch-fid's calculate_frechet_distance (scipy sqrtm) on these features, stored by
  tests/metric_references.py."""
  import metric_references

  features = metric_references.fixed_features()
  expected = float(np.load(metric_references.PATH)["fid"])
  value = frechet.frechet_distance_from_features(features["real"], features["fake"])
  assert value == pytest.approx(expected, rel=1e-9)
