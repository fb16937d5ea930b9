"""What an unrolled GAN step costs against a plain one: XLA's flop count, compile and run time.

  python benchmarks/unrolled_cost.py                 # k = 5, the mixture benchmark's config
  python benchmarks/unrolled_cost.py --k 10 --windows 5

The config is experiments/mixture_benchmark.py's `unrolled` row on the ring
(2 x 128 ReLU players, batch 256), one seed, and its `gan_ns` row as the plain
step. Prints, per generator step: the flops of XLA's cost analysis of the
compiled generator and discriminator steps for k = 0, 1, ..., K; then the
compile time and the run time per step of the training loop's fused step
(10 steps a call) for the plain step and for the unrolled step with its k
updates written out (`unroll_discriminator`, a Python loop: k copies in the
program) and in a `lax.scan` (one copy), in alternating timed windows of the
same process (the best window counts).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import jax.numpy as jnp
import optax
from jax import lax

from gan_jax import data, losses, recipes, steps, sweep
from gan_jax.variants import unrolled

sys.path.insert(
  0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "experiments")
)
import mixture_benchmark


def scanned_unroll(state, d_params, real, fake, inputs: tuple = (), axis_name=None, num_steps=None):
  """`unrolled.unroll_discriminator` with its k updates in a lax.scan."""
  num_steps = state.game.unrolled_steps if num_steps is None else num_steps
  if num_steps == 0:
    return d_params

  def update(carry, j):
    d_params, opt_state = carry
    key = state.key_for("unrolled", j)
    grads = jax.grad(
      lambda p: steps.discriminator_loss(state, p, real, fake, key, axis_name, inputs)[0]
    )(d_params)
    grads = steps.mean_over_devices(grads, axis_name)
    updates, opt_state = state.d_tx.update(grads, opt_state, d_params)
    d_params = optax.apply_updates(d_params, updates)
    if state.game.clip_value > 0:
      d_params = losses.clip_weights(d_params, state.game.clip_value)
    return (d_params, opt_state), None

  (d_params, _), _ = lax.scan(update, (d_params, state.d_opt_state), jnp.arange(num_steps))
  return d_params


def config_for(k: int | None):
  config = mixture_benchmark.recipe_config("gan_ns" if k is None else "unrolled", "ring", 0, 4000)
  if k is not None:
    config.variant.unrolled_steps = k
  return config


def flops(k: int | None) -> tuple[float, float]:
  """XLA's flop count of the compiled (generator step, discriminator step)."""
  config = config_for(k)
  recipe = recipes.recipe_of(config)
  source = data.make_data_source(config)
  state = recipe.create_state(config, source.data_shape)
  batch = {"x": source.distribution.sample(jax.random.PRNGKey(0), config.batch_size)}
  g_step = steps.generator_step if k is None else unrolled.generator_step
  out = []
  for fn in (g_step, steps.discriminator_step):
    analysis = jax.jit(fn).lower(state, batch).compile().cost_analysis()
    analysis = analysis[0] if isinstance(analysis, list) else analysis
    out.append(float(analysis["flops"]))
  return tuple(out)


def compiled_step(k: int | None, scan: bool):
  """(the loop's compiled fused step of one seed, its state, its data, compile seconds)."""
  unrolled.unroll_discriminator = scanned_unroll if scan else LOOP
  try:
    config = config_for(k)
    recipe = recipes.recipe_of(config)
    source = data.make_data_source(config)
    states = sweep.create_states(config, [0], source.data_shape, recipe)
    arrays = jax.device_put(source.arrays)
    start = time.perf_counter()
    fn = sweep.make_sweep_step(source, config, recipe).lower(states, arrays).compile()
    return fn, states, arrays, time.perf_counter() - start
  finally:
    unrolled.unroll_discriminator = LOOP


LOOP = unrolled.unroll_discriminator


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--k", type=int, default=5, help="unrolled D updates")
  parser.add_argument("--windows", type=int, default=3, help="timed windows per step kind")
  parser.add_argument("--calls", type=int, default=20, help="fused calls (10 steps) a window")
  args = parser.parse_args(argv)
  plain = sum(flops(None))
  print("flops per step (generator + discriminator step), XLA's cost analysis:")
  print(f"  plain: {plain / 1e6:.1f} M")
  for k in range(args.k + 1):
    total = sum(flops(k))
    print(f"  unrolled k={k}: {total / 1e6:.1f} M, {total / plain:.2f}x plain", flush=True)
  kinds = {
    "plain": compiled_step(None, False),
    "loop": compiled_step(args.k, False),
    "scan": compiled_step(args.k, True),
  }
  times = {name: [] for name in kinds}
  finals = {}
  for _ in range(args.windows):
    for name, (fn, states, arrays, _) in kinds.items():
      state, _ = fn(states, arrays)
      jax.block_until_ready(state)
      start = time.perf_counter()
      for _ in range(args.calls):
        state, _ = fn(state, arrays)
      jax.block_until_ready(state)
      times[name].append((time.perf_counter() - start) / (10 * args.calls))
      finals[name] = state
  best = {name: min(t) for name, t in times.items()}
  print(
    f"compile and run, k={args.k}, one seed, best of {args.windows} windows of "
    f"{10 * args.calls} steps (1-minute load {os.getloadavg()[0]:.1f}):"
  )
  for name, (_, _, _, seconds) in kinds.items():
    per_4000 = seconds + 4000 * best[name]
    print(
      f"  {name}: compile {seconds:.1f} s, {1000 * best[name]:.2f} ms per step "
      f"({', '.join(f'{1000 * t:.2f}' for t in times[name])}), {best[name] / best['plain']:.2f}x"
      f" plain; a 4,000-step run {per_4000:.0f} s",
      flush=True,
    )
  gap = max(
    float(jnp.max(jnp.abs(a - b)))
    for a, b in zip(
      jax.tree.leaves(finals["loop"].g_params), jax.tree.leaves(finals["scan"].g_params)
    )
  )
  print(
    f"  loop vs scan, G's parameters after {10 * (args.calls + 1)} steps: max |difference| "
    f"{gap:.3g}"
  )
  return 0


if __name__ == "__main__":
  raise SystemExit(main())
