"""Diagnostics: the diversity metric, the three signals on records, and the loop's warning lines."""

import math

import jax
import jax.numpy as jnp
import pytest

from gan_jax import diagnostics, train
from tests.conftest import tiny_ring_config


def test_mean_pairwise_distance_by_hand_and_collapse_ratio():
  x = jnp.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
  # Pairs: 5, 4, 3 (each counted twice over 6 ordered pairs).
  assert math.isclose(float(diagnostics.mean_pairwise_distance(x)), 4.0, rel_tol=1e-6)
  collapsed = jnp.zeros((3, 2)) + 1e-3 * x
  assert float(diagnostics.diversity_ratio(collapsed, x)) < 0.01
  assert math.isclose(float(diagnostics.diversity_ratio(x, x)), 1.0, rel_tol=1e-6)


def test_mean_pairwise_distance_traces_at_batches_whose_pair_count_passes_int32():
  # B(B-1) > 2**31 - 1 from B = 46342: the count must not become an int32 argument.
  for rows in (46341, 46342, 60000):
    traced = jax.eval_shape(
      diagnostics.mean_pairwise_distance, jax.ShapeDtypeStruct((rows, 2), jnp.float32)
    )
    assert traced.shape == () and traced.dtype == jnp.float32


def _records(**series):
  n = len(next(iter(series.values())))
  return [{"step": 10 * (i + 1), **{k: v[i] for k, v in series.items()}} for i in range(n)]


def test_each_signal_fires_only_after_its_window():
  th = diagnostics.Thresholds(window=3)
  acc = _records(d_acc_real=[0.9, 0.52, 0.5, 0.49], d_acc_fake=[0.9, 0.5, 0.48, 0.5])
  assert not diagnostics.convergence(acc[:3], th) and diagnostics.convergence(acc, th)
  grads = _records(g_grad_norm=[1.0, 2.0, 0.01, 0.005, 0.001])
  assert not diagnostics.vanishing_gradients(grads[:4], th)
  assert diagnostics.vanishing_gradients(grads, th)
  div = _records(diversity_ratio=[0.9, 0.3, 0.2, 0.1])
  assert diagnostics.mode_collapse(div, th) and not diagnostics.mode_collapse(div[:3], th)
  healthy = _records(
    d_acc_real=[0.8] * 6, d_acc_fake=[0.7] * 6, g_grad_norm=[1.0] * 6, diversity_ratio=[0.95] * 6
  )
  assert not any(diagnostics.signals(healthy, th).values())


def test_no_signal_fires_during_the_warmup():
  # An image generator's first hundreds of steps have low diversity in every run.
  records = [{"step": 50 * (i + 1), "diversity_ratio": 0.3 if i < 6 else 0.9} for i in range(12)]
  th = diagnostics.Thresholds(window=5, warmup_steps=300)
  assert not any(diagnostics.new_warnings(records[:i], th) for i in range(1, 13))
  assert diagnostics.new_warnings(records[:5], diagnostics.Thresholds(window=5, warmup_steps=0))
  late = records[:12] + [{"step": 650 + 50 * i, "diversity_ratio": 0.2} for i in range(5)]
  assert diagnostics.new_warnings(late, th)[0].startswith("WARNING step 850: sample diversity")
  with pytest.raises(ValueError, match="warmup_steps must be an integer >= 0, got -1"):
    diagnostics.Thresholds(warmup_steps=-1)


def test_a_wasserstein_critic_gets_no_accuracy_signal():
  # A critic's scores have no decision threshold: WGAN-clip on Fashion-MNIST warned at
  # steps 700, 1150 and 1750 of a run that was still improving.
  at_chance = _records(d_acc_real=[0.5] * 6, d_acc_fake=[0.5] * 6)
  for loss, fires in (("wasserstein", False), ("non_saturating", True), ("hinge", True)):
    config = tiny_ring_config(loss=loss, diagnostics={"window": 3, "warmup_steps": 0})
    assert diagnostics.convergence(at_chance, diagnostics.thresholds_for(config)) is fires
  config = tiny_ring_config(loss="wasserstein", diagnostics={"window": 3, "use_accuracy": True})
  assert diagnostics.thresholds_for(config).use_accuracy


def test_a_warning_is_printed_once_when_a_signal_turns_on():
  th = diagnostics.Thresholds(window=2, warmup_steps=0)
  records = _records(diversity_ratio=[0.9, 0.2, 0.1, 0.1])
  fired = [diagnostics.new_warnings(records[:i], th) for i in range(1, 5)]
  assert [len(f) for f in fired] == [0, 0, 1, 0]
  assert fired[2][0].startswith("WARNING step 30: sample diversity is 0.10")
  assert "mode collapse" in fired[2][0]


def test_the_training_loop_prints_the_warning_lines(tmp_path, capsys):
  config = tiny_ring_config(num_steps=6, log_every=2, sample_every=6, checkpoint_every=6)
  config.diagnostics = {"window": 1, "diversity_floor": 1e9, "warmup_steps": 0}  # fires at once
  train.train_and_evaluate(config, str(tmp_path), progress=False)
  lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("WARNING")]
  assert len(lines) == 1 and lines[0].startswith("WARNING step 2: sample diversity")
