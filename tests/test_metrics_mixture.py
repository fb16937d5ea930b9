"""Facts about the PacGAN mixture metrics, on hand-built point sets."""

import math

import numpy as np
import pytest

from gan_jax.data import toy
from gan_jax.metrics import mixture


def _points_at_modes(distribution, per_mode, offset_stds=0.0, modes=None):
  """per_mode points at each listed mode, shifted by offset_stds * std along the first axis."""
  modes = range(distribution.num_modes) if modes is None else modes
  shift = np.zeros(distribution.means.shape[1])
  shift[0] = offset_stds * distribution.std
  return np.concatenate(
    [np.repeat(distribution.means[k][None] + shift, per_mode, axis=0) for k in modes]
  )


@pytest.mark.parametrize("make", [toy.ring, toy.grid])
def test_points_on_every_mode_capture_all_modes_with_zero_reverse_kl(make):
  distribution = make()
  points = _points_at_modes(distribution, 100, offset_stds=1.0)
  result = mixture.evaluate_mixture(points, distribution)
  assert result.modes == distribution.num_modes
  assert result.high_quality == 1.0
  assert result.reverse_kl == pytest.approx(0.0, abs=1e-12)
  np.testing.assert_array_equal(result.counts, np.full(distribution.num_modes, 100))


def test_collapse_to_one_mode_has_reverse_kl_log_k():
  ring = toy.ring()
  points = _points_at_modes(ring, 2500, modes=[3])
  result = mixture.evaluate_mixture(points, ring)
  assert result.modes == 1
  assert result.high_quality == 1.0
  assert result.reverse_kl == pytest.approx(math.log(8))
  assert result.counts[3] == 2500


def test_half_the_modes_evenly_gives_log_two():
  ring = toy.ring()
  points = _points_at_modes(ring, 10, modes=[0, 2, 4, 6])
  assert mixture.evaluate_mixture(points, ring).reverse_kl == pytest.approx(math.log(2))


def test_high_quality_threshold_is_three_standardized_distances():
  ring = toy.ring()  # std 0.01
  inside = _points_at_modes(ring, 1, offset_stds=2.9)
  outside = _points_at_modes(ring, 1, offset_stds=3.1)
  result = mixture.evaluate_mixture(np.concatenate([inside, outside]), ring)
  assert result.high_quality == pytest.approx(0.5)
  assert result.modes == 8
  # The same absolute offsets are within 3 stds of a wider mixture.
  wide = toy.ring(std=0.02)
  assert mixture.evaluate_mixture(np.concatenate([inside, outside]), wide).high_quality == 1.0


def test_a_mode_needs_a_high_quality_point_to_be_captured():
  ring = toy.ring()
  near = _points_at_modes(ring, 5, modes=[0, 1])
  far_from_mode_2 = _points_at_modes(ring, 5, offset_stds=10.0, modes=[2])
  result = mixture.evaluate_mixture(np.concatenate([near, far_from_mode_2]), ring)
  assert result.modes == 2
  assert result.high_quality == pytest.approx(10 / 15)
  # Low-quality points do not enter the histogram: two modes evenly -> log 8 - log 2.
  assert result.reverse_kl == pytest.approx(math.log(8) - math.log(2))


def test_points_between_modes_go_to_the_nearest_one():
  ring = toy.ring()
  between = 0.6 * ring.means[0] + 0.4 * ring.means[1]
  index, distance = mixture.nearest_modes(between[None], ring.means, ring.std)
  assert index[0] == 0
  assert distance[0] == pytest.approx(
    0.4 * np.linalg.norm(ring.means[1] - ring.means[0]) / ring.std
  )


def test_true_samples_score_like_the_data():
  import jax

  grid = toy.grid()
  points = np.asarray(grid.sample(jax.random.PRNGKey(0), mixture.PROTOCOL_NUM_POINTS))
  result = mixture.evaluate_mixture(points, grid)
  assert result.modes == 25
  assert result.high_quality > 0.98  # 2D Gaussian: P(r < 3 std) = 1 - exp(-4.5) = 0.989
  assert result.reverse_kl < 0.03


def test_nothing_high_quality_gives_infinite_reverse_kl_and_nan_points_are_low_quality():
  ring = toy.ring()
  points = np.array([[10.0, 10.0], [np.nan, 0.0]])
  result = mixture.evaluate_mixture(points, ring)
  assert result.modes == 0
  assert result.high_quality == 0.0
  assert result.reverse_kl == math.inf


@pytest.mark.parametrize(
  "points, means, std, match",
  [
    (np.zeros((4, 3)), np.zeros((8, 2)), 0.1, "points must be"),
    (np.zeros((0, 2)), np.zeros((8, 2)), 0.1, "points must be"),
    (np.zeros((4, 2)), np.zeros((8,)), 0.1, "means must be"),
    (np.zeros((4, 2)), np.zeros((8, 2)), 0.0, "std must be"),
  ],
)
def test_bad_input_is_refused_in_one_line(points, means, std, match):
  with pytest.raises(ValueError, match=match):
    mixture.mixture_metrics(points, means, std)
