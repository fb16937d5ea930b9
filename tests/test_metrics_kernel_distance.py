"""KID (Binkowski et al.'s unbiased squared MMD, cubic polynomial kernel) against torch-fidelity's
value on the same features, and the estimator's properties."""

import numpy as np
import pytest

import metric_references
from gan_jax.metrics import kernel_distance


def test_kid_matches_torch_fidelity_on_the_same_features_and_subsets():
  features = metric_references.fixed_features()
  mean, std, size = kernel_distance.kernel_distance(
    features["real"], features["fake"], **metric_references.KID_OPTIONS
  )
  expected = np.load(metric_references.PATH)["kid"]
  assert size == metric_references.KID_OPTIONS["subset_size"]
  np.testing.assert_allclose([mean, std], expected, rtol=1e-9)


def test_the_estimate_is_unbiased_unlike_the_plug_in_one():
  """Over many small samples of one distribution, the unbiased MMD^2 averages to 0 (its
  standard error is ~1e-3 here) while the biased one, with the diagonal kept, stays above."""
  rng = np.random.default_rng(0)
  unbiased, biased = [], []
  for _ in range(200):
    x, y = rng.standard_normal((2, 10, 4))
    unbiased.append(kernel_distance.mmd2_unbiased(x, y))
    k = kernel_distance.polynomial_kernel
    biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
  assert abs(np.mean(unbiased)) < 3 * np.std(unbiased) / np.sqrt(200)
  assert np.mean(biased) > 10 * np.std(unbiased) / np.sqrt(200)


def test_a_shifted_distribution_is_far_and_the_subset_size_is_capped():
  rng = np.random.default_rng(1)
  near = kernel_distance.kernel_distance(
    rng.standard_normal((300, 8)), rng.standard_normal((300, 8)), num_subsets=10
  )
  far = kernel_distance.kernel_distance(
    rng.standard_normal((300, 8)), 1.0 + rng.standard_normal((200, 8)), num_subsets=10
  )
  assert far[2] == 200 and near[2] == 300
  assert far[0] > 10 * abs(near[0]) and far[0] > 5 * far[1]


def test_bad_inputs_name_what_is_accepted():
  with pytest.raises(ValueError, match=r"same d, got \(5, 3\) and \(5, 4\)"):
    kernel_distance.kernel_distance(np.zeros((5, 3)), np.zeros((5, 4)))
  with pytest.raises(ValueError, match="at least 2 rows in each set, got 1 and 5"):
    kernel_distance.kernel_distance(np.zeros((1, 3)), np.zeros((5, 3)))
