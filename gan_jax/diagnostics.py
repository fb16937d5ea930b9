"""Training diagnostics for the seeds' failure modes, as pure functions over metric records.

A record is one logged line of metrics.jsonl: {'step': int, 'd_acc_real': float, ...}.
Three signals, each on when it has held for the last `window` records, none
before step `warmup_steps` (an image generator starts near one output, so its
diversity is low for a few hundred steps in every run):

  convergence        D's accuracy (mean of d_acc_real and d_acc_fake) within
                     `accuracy_band` of 50%: its feedback has become random.
                     Off for a Wasserstein critic (`thresholds_for`): its scores
                     have no decision threshold, so their sign means nothing.
  vanishing_gradients the generator's gradient norm below `grad_ratio` times
                     its peak so far: D is too strong to learn from.
  mode_collapse      the fakes' mean pairwise distance below `diversity_floor`
                     times the real batch's (`diversity_ratio`).

`new_warnings(records)` gives one line for each signal that turns on at the
newest record; the training loop prints them.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp


def mean_pairwise_distance(x: jax.Array) -> jax.Array:
  """Mean Euclidean distance over the B(B-1) ordered pairs of distinct rows of x (B, ...)."""
  x = x.reshape(x.shape[0], -1).astype(jnp.float32)
  sq = jnp.sum(x * x, axis=1)
  d2 = jnp.maximum(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0)
  off_diagonal = 1.0 - jnp.eye(x.shape[0], dtype=x.dtype)
  n = x.shape[0]
  pairs = float(max(n * (n - 1), 1))  # a Python float: B(B-1) passes int32's range at B 46342
  return jnp.sum(jnp.sqrt(d2) * off_diagonal) / pairs


def diversity_ratio(fake: jax.Array, real: jax.Array, axis_name: str | None = None) -> jax.Array:
  """mean_pairwise_distance(fake) / mean_pairwise_distance(real): about 1 when G covers the data,
  near 0 when it collapses to a point.

  With `axis_name` (inside pmap or shard_map, each device holding its rows of the global
  batch), the distances are those of the whole global batch, gathered from every device:
  the value does not depend on how many devices share the batch.
  """
  if axis_name is not None:
    fake = jax.lax.all_gather(fake, axis_name, tiled=True)
    real = jax.lax.all_gather(real, axis_name, tiled=True)
  return mean_pairwise_distance(fake) / (mean_pairwise_distance(real) + 1e-12)


@dataclasses.dataclass(frozen=True)
class Thresholds:
  """When each signal fires (see the module docstring)."""

  window: int = 5
  accuracy_band: float = 0.05
  grad_ratio: float = 0.01
  diversity_floor: float = 0.5
  warmup_steps: int = 500
  use_accuracy: bool = True

  def __post_init__(self):
    if not isinstance(self.window, int) or self.window < 1:
      raise ValueError(f"diagnostics window must be an integer >= 1, got {self.window!r}")
    if not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
      raise ValueError(
        f"diagnostics warmup_steps must be an integer >= 0, got {self.warmup_steps!r}"
      )
    if not isinstance(self.use_accuracy, bool):
      raise ValueError(f"diagnostics use_accuracy must be true or false, got {self.use_accuracy!r}")


def thresholds_for(config) -> Thresholds:
  """A run's thresholds: config.diagnostics, with use_accuracy off for the Wasserstein loss
  unless the config sets it."""
  options = dict(config.get("diagnostics", {}))
  options.setdefault("use_accuracy", config.get("loss", "non_saturating") != "wasserstein")
  return Thresholds(**options)


def _value(record: dict, name: str) -> float:
  value = record.get(name, math.nan)
  try:
    return float(value)
  except (TypeError, ValueError):
    return math.nan


def discriminator_accuracy(record: dict) -> float:
  """(d_acc_real + d_acc_fake) / 2 of a record; nan when absent."""
  return 0.5 * (_value(record, "d_acc_real") + _value(record, "d_acc_fake"))


def convergence(records: list[dict], thresholds: Thresholds = Thresholds()) -> bool:
  """D's accuracy has stayed within the band around 50% for the last `window` records."""
  last = records[-thresholds.window :]
  return (
    thresholds.use_accuracy
    and len(last) == thresholds.window
    and all(abs(discriminator_accuracy(r) - 0.5) <= thresholds.accuracy_band for r in last)
  )


def vanishing_gradients(records: list[dict], thresholds: Thresholds = Thresholds()) -> bool:
  """The generator's gradient norm has stayed below grad_ratio * its peak for `window` records."""
  norms = [_value(r, "g_grad_norm") for r in records]
  if len(norms) <= thresholds.window or any(math.isnan(n) for n in norms):
    return False
  peak = max(norms)
  return peak > 0 and all(n < thresholds.grad_ratio * peak for n in norms[-thresholds.window :])


def mode_collapse(records: list[dict], thresholds: Thresholds = Thresholds()) -> bool:
  """The fakes' diversity has stayed below diversity_floor of the data's for `window` records."""
  last = records[-thresholds.window :]
  return len(last) == thresholds.window and all(
    _value(r, "diversity_ratio") < thresholds.diversity_floor for r in last
  )


SIGNALS = {
  "convergence": convergence,
  "vanishing_gradients": vanishing_gradients,
  "mode_collapse": mode_collapse,
}


def signals(records: list[dict], thresholds: Thresholds = Thresholds()) -> dict[str, bool]:
  """{signal name: on} at the newest record; records before step warmup_steps are left out."""
  records = [r for r in records if _value(r, "step") >= thresholds.warmup_steps]
  return {name: fn(records, thresholds) for name, fn in SIGNALS.items()}


def _message(name: str, records: list[dict], thresholds: Thresholds) -> str:
  record, window = records[-1], thresholds.window
  head = f"WARNING step {record.get('step', '?')}: "
  if name == "convergence":
    return head + (
      f"discriminator accuracy {discriminator_accuracy(record):.2f} has stayed within "
      f"{thresholds.accuracy_band:.2f} of 50% for {window} logs: D's feedback is "
      "random now (convergence, or the start of a collapse); consider stopping here"
    )
  if name == "vanishing_gradients":
    peak = max(_value(r, "g_grad_norm") for r in records)
    return head + (
      f"generator gradient norm {_value(record, 'g_grad_norm'):.2e} has stayed below "
      f"{thresholds.grad_ratio:g} x its peak {peak:.2e} for {window} logs: vanishing "
      "gradients (D too strong); try the non-saturating or Wasserstein loss"
    )
  return head + (
    f"sample diversity is {_value(record, 'diversity_ratio'):.2f} of the data's "
    f"(mean pairwise distance) for {window} logs: mode collapse; try unrolling, "
    "PacGAN or a lower generator learning rate"
  )


def new_warnings(records: list[dict], thresholds: Thresholds = Thresholds()) -> list[str]:
  """A warning line for each signal that is on at the newest record and was off before it."""
  now = signals(records, thresholds)
  before = signals(records[:-1], thresholds)
  return [_message(name, records, thresholds) for name in SIGNALS if now[name] and not before[name]]
