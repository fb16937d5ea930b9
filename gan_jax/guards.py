"""Non-finite values: detected inside the compiled step, acted on by the loop.

`guard_train_step(train_step, policy)` wraps any recipe's pure train step. After
the step it reduces `jnp.isfinite` over each player's loss, gradient norm and
new parameters (one pass over the parameters, no host sync) into a bitmask,
returned as metrics[FLAGS_KEY]. With policy 'skip' it also keeps the old
variables and optimizer state of a player whose update is not finite (the step
counter still advances, so the next step draws fresh noise). A step without
non-finite values returns exactly the bits of the unguarded step.

`NonFiniteMonitor` reads the flags on the host in batches, before anything
is logged or saved (so the device is never waited on just for them), and with
policy 'stop' raises
`NonFiniteError` naming the step and the player; with 'skip' it counts the
skipped updates.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

POLICIES = ("stop", "skip")
FLAGS_KEY = "nonfinite_flags"
# Bit i of the flags is set when CHECKS[i] holds a NaN or an Inf.
CHECKS = ("d_loss", "d_grad_norm", "d_params", "g_loss", "g_grad_norm", "g_params")
D_MASK = 0b000111
G_MASK = 0b111000
# The state fields of each player: kept as they were when its update is skipped.
D_FIELDS = ("d_params", "d_collections", "d_opt_state")
G_FIELDS = ("g_params", "g_collections", "g_opt_state", "g_ema_params", "g_ema_collections")


class NonFiniteError(RuntimeError):
  """A loss, gradient or parameter became NaN or Inf (policy 'stop')."""


def all_finite(tree) -> jax.Array:
  """True (bool scalar) when no float leaf of `tree` holds a NaN or an Inf.

  x * 0 is NaN exactly where x is NaN or infinite, and a sum with a NaN term is
  NaN: one fused reduction per leaf, with no boolean array written out (fewer
  kernels for XLA to compile than isfinite and all; benchmarks/RESULTS.md, "Finding: one
  reduction for the guard and the gradient norm").
  """
  leaves = [x for x in jax.tree.leaves(tree) if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
  if not leaves:
    return jnp.array(True)
  return jnp.isfinite(sum(jnp.sum(x * 0) for x in leaves))


def nonfinite_flags(state, metrics: dict, checks: tuple[str, ...] = CHECKS) -> jax.Array:
  """int32 bitmask over CHECKS of what is not finite after a step (0: all finite).

  `checks`: the names of CHECKS tested (the others' bits stay 0); all of them in the loop.
  """
  values = {
    "d_loss": metrics.get("d_loss"),
    "d_grad_norm": metrics.get("d_grad_norm"),
    "d_params": (state.d_params, state.d_collections),
    "g_loss": metrics.get("g_loss"),
    "g_grad_norm": metrics.get("g_grad_norm"),
    "g_params": (state.g_params, state.g_collections),
  }
  flags = jnp.zeros((), jnp.int32)
  for bit, name in enumerate(CHECKS):
    if name in checks:
      flags = flags | jnp.where(all_finite(values[name]), 0, 1 << bit).astype(jnp.int32)
  return flags


def _keep_old(bad: jax.Array, old, new, fields):
  return {
    name: jax.tree.map(lambda o, n: jnp.where(bad, o, n), getattr(old, name), getattr(new, name))
    for name in fields
  }


def check_policy(policy) -> None:
  """The rule of config.nonfinite: a name in `POLICIES`."""
  if not isinstance(policy, str) or policy not in POLICIES:
    raise ValueError(f"config.nonfinite {policy!r} is unknown; accepted: {', '.join(POLICIES)}")


def guard_train_step(train_step: Callable, policy: str = "stop") -> Callable:
  """Wraps a pure fn(state, batch, *, axis_name) -> (state, metrics) with the finiteness checks.

  Args:
    train_step: the recipe's pure train step.
    policy: 'stop' (flag only; the loop stops) or 'skip' (also discard a
      non-finite player's update inside the step).
  Returns:
    The same kind of function; its metrics gain FLAGS_KEY, an int32 bitmask.
  """
  check_policy(policy)

  def guarded(state, batch, *, axis_name=None):
    new_state, metrics = train_step(state, batch, axis_name=axis_name)
    flags = nonfinite_flags(new_state, metrics)
    if policy == "skip":
      new_state = new_state.replace(
        **_keep_old((flags & D_MASK) != 0, state, new_state, D_FIELDS),
        **_keep_old((flags & G_MASK) != 0, state, new_state, G_FIELDS),
      )
    return new_state, {**metrics, FLAGS_KEY: flags}

  return guarded


def describe(flags: int) -> str:
  """'the discriminator (d_loss, d_params)' for a bitmask."""
  players = []
  for player, mask in (("discriminator", D_MASK), ("generator", G_MASK)):
    if flags & mask:
      names = [name for bit, name in enumerate(CHECKS) if flags & (1 << bit) & mask]
      players.append(f"the {player} ({', '.join(names)})")
  return " and ".join(players)


# Under policy 'skip', this many steps in a row with a skipped update end the run: its
# players no longer produce finite steps, and skipping would only spin in place.
MAX_STEPS_SKIPPED_IN_A_ROW = 100


class NonFiniteMonitor:
  """Acts on the flags of each step on the host, in batches.

  The flags stay on the device until `settle` (which the loop calls before it
  logs, saves or samples) or until `max_pending` steps have gathered, and are
  then read in one transfer: the host never waits on the device for them alone.

  Args:
    policy: 'stop' raises `NonFiniteError`; 'skip' counts skipped updates.
    skipped_d, skipped_g, skipped_in_a_row: counts so far (from the checkpoint of a resumed
      run).
    max_pending: most steps whose flags are not read yet.
  """

  def __init__(
    self,
    policy: str = "stop",
    skipped_d: int = 0,
    skipped_g: int = 0,
    max_pending: int = 100,
    *,
    skipped_in_a_row: int = 0,
  ):
    self.policy = policy
    self.skipped_d = int(skipped_d)
    self.skipped_g = int(skipped_g)
    self.max_pending = max_pending
    self._pending: list[tuple[int, jax.Array]] = []  # (step, flags on the device)
    # Steps up to the newest read, each with a skipped update (kept across a resume).
    self.skipped_in_a_row = int(skipped_in_a_row)

  def push(self, step: int, flags: jax.Array) -> None:
    """Records the flags of `step`, or of the len(flags) steps ending at `step` when `flags`
    is a vector (fused steps); reads the gathered ones when there are `max_pending`."""
    self._pending.append((step, flags))
    if len(self._pending) >= self.max_pending:
      self.settle()

  def settle(self) -> None:
    """Reads the pending flags now; raises `NonFiniteError` under policy 'stop'."""
    if not self._pending:
      return
    pending, self._pending = self._pending, []
    values = jax.device_get([flags for _, flags in pending])
    expanded = []
    for (step, _), value in zip(pending, values):
      value = np.asarray(value).reshape(-1)
      expanded += [(step - len(value) + 1 + i, int(v)) for i, v in enumerate(value)]
    for step, value in expanded:
      if not value:
        self.skipped_in_a_row = 0
        continue
      if self.policy == "stop":
        raise NonFiniteError(f"non-finite values (NaN or Inf) at step {step} in {describe(value)}")
      self.skipped_d += bool(value & D_MASK)
      self.skipped_g += bool(value & G_MASK)
      self.skipped_in_a_row += 1
      if self.skipped_in_a_row >= MAX_STEPS_SKIPPED_IN_A_ROW:
        raise NonFiniteError(
          f"steps {step - self.skipped_in_a_row + 1} to {step} all skipped an update (non-finite "
          f"values, last in {describe(value)}): the run does not recover; nonfinite='skip' "
          "passes over occasional bad steps, not a run whose every step is bad"
        )

  def summary(self) -> str | None:
    """A line saying how many updates were skipped, or None when none was."""
    if self.policy != "skip" or not (self.skipped_d or self.skipped_g):
      return None
    return (
      f"warning: {self.skipped_d} discriminator and {self.skipped_g} generator updates were "
      "skipped for non-finite values (nonfinite='skip')"
    )

  def resume_counts(self) -> dict[str, int]:
    """`counts` and the steps skipped in a row, for a checkpoint's metadata."""
    if self.policy != "skip":
      return {}
    return {**self.counts(), "skipped_in_a_row": self.skipped_in_a_row}

  def counts(self) -> dict[str, int]:
    """{'skipped_d_updates', 'skipped_g_updates'} under policy 'skip', else {}."""
    if self.policy != "skip":
      return {}
    return {"skipped_d_updates": self.skipped_d, "skipped_g_updates": self.skipped_g}
