"""Improved precision/recall and class coverage on hand-built sets."""

import math

import numpy as np
import pytest

from gan_jax.metrics import coverage, precision_recall as pr


def _grid(n=10, spacing=1.0):
  x, y = np.meshgrid(np.arange(n) * spacing, np.arange(n) * spacing)
  return np.stack([x.ravel(), y.ravel()], axis=1)


def test_k_nn_radius_is_the_distance_to_the_kth_other_point():
  points = np.array([[0.0], [1.0], [3.0], [7.0]])
  np.testing.assert_allclose(pr.knn_radii(points, k=1), [1.0, 1.0, 2.0, 4.0])
  np.testing.assert_allclose(pr.knn_radii(points, k=2), [3.0, 2.0, 3.0, 6.0])


def test_the_real_set_against_itself_has_precision_and_recall_one():
  real = _grid()
  assert pr.precision_recall(real, real) == (1.0, 1.0)


def test_far_away_samples_have_precision_and_recall_zero():
  real = _grid()
  assert pr.precision_recall(real, real + 100.0) == (0.0, 0.0)


def test_half_the_samples_off_the_manifold_halves_precision():
  real = _grid()
  fake = np.concatenate([real[:50] + 0.1, real[50:] + 100.0])
  precision, _ = pr.precision_recall(real, fake)
  assert precision == pytest.approx(0.5)


def test_a_collapsed_generator_has_high_precision_and_low_recall():
  real = _grid()  # 100 points; k = 3 radius of a grid point is 1
  rng = np.random.default_rng(0)
  fake = real[0] + 0.05 * rng.normal(size=(100, 2))  # all samples near one real point
  precision, recall = pr.precision_recall(real, fake)
  assert precision == 1.0
  assert recall < 0.05


def test_blocks_do_not_change_the_answer():
  rng = np.random.default_rng(1)
  real, fake = rng.normal(size=(300, 4)), rng.normal(size=(200, 4)) + 0.5
  np.testing.assert_allclose(pr.knn_radii(real, block=7), pr.knn_radii(real))
  assert pr.fraction_inside(real, pr.knn_radii(real), fake, block=13) == pr.fraction_inside(
    real, pr.knn_radii(real), fake
  )


def test_bad_shapes_and_k_are_refused():
  with pytest.raises(ValueError, match="same F"):
    pr.precision_recall(np.zeros((5, 2)), np.zeros((5, 3)))
  with pytest.raises(ValueError, match="k must be"):
    pr.knn_radii(np.zeros((3, 2)), k=3)


def test_class_kl_is_zero_for_balanced_and_log_c_for_one_class():
  assert coverage.class_kl(np.arange(100) % 10, 10) == pytest.approx(0.0, abs=1e-12)
  assert coverage.class_kl(np.full(100, 7), 10) == pytest.approx(math.log(10))
  assert coverage.class_kl(np.arange(100) % 5, 10) == pytest.approx(math.log(2))


def test_class_kl_refuses_out_of_range_predictions():
  with pytest.raises(ValueError, match=r"\[0, 10\)"):
    coverage.class_kl(np.array([0, 10]), 10)
