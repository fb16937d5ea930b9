"""A long run under load: 20,000 steps of the ring GAN, memory and throughput at start and end.

Runs `train_and_evaluate` on experiments/configs/ring_gan.py as shipped (logs
every 100 steps, pictures every 2,000, checkpoints every 5,000, non-finite
checks on) and reports:
  - steps/s over the first and the last `--window` steps, from the wall times
    in metrics.jsonl (the first window starts at the first logged step, after
    compilation);
  - the process's resident memory (VmRSS) when the first window ends and at
    the end, sampled every 0.25 s by a thread.

  python benchmarks/long_run.py [--steps 20000] [--window 1000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_mib() -> float:
  with open("/proc/self/status") as f:
    for line in f:
      if line.startswith("VmRSS:"):
        return int(line.split()[1]) / 1024
  return float("nan")


class MemorySampler(threading.Thread):
  """(seconds since start, RSS MiB) every `interval` seconds."""

  def __init__(self, interval: float = 0.25):
    super().__init__(daemon=True)
    self.interval = interval
    self.samples: list[tuple[float, float]] = []
    self.t0 = time.time()
    self._done = threading.Event()

  def run(self):
    while not self._done.is_set():
      self.samples.append((time.time() - self.t0, rss_mib()))
      self._done.wait(self.interval)

  def stop(self):
    self._done.set()
    self.join()
    self.samples.append((time.time() - self.t0, rss_mib()))

  def at(self, seconds: float) -> float:
    return min(self.samples, key=lambda s: abs(s[0] - seconds))[1]


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=20000)
  parser.add_argument("--window", type=int, default=1000)
  parser.add_argument("--workdir", default=None)
  args = parser.parse_args(argv)
  from gan_jax import train

  spec = importlib.util.spec_from_file_location(
    "ring", os.path.join(ROOT, "experiments", "configs", "ring_gan.py")
  )
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config()
  config.num_steps = args.steps
  workdir = args.workdir or tempfile.mkdtemp(prefix="long_run_")

  sampler = MemorySampler()
  sampler.start()
  started = time.time()
  train.train_and_evaluate(config, workdir, progress=False)
  sampler.stop()
  total = time.time() - started

  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    wall = {r["step"]: r["wall_time"] for r in map(json.loads, f)}
  first = min(wall)
  windows = {"first": (first, first + args.window), "last": (args.steps - args.window, args.steps)}
  offset = sampler.samples[0][0]  # the sampler started just before the run's clock
  result = {"steps": args.steps, "seconds": round(total, 1), "workdir": workdir}
  for name, (a, b) in windows.items():
    seconds = wall[b] - wall[a]
    result[f"{name}_window"] = f"steps {a}-{b}"
    result[f"{name}_steps_per_s"] = round((b - a) / seconds, 1)
    result[f"{name}_rss_mib"] = round(sampler.at(wall[b] + offset), 1)
  marks = sorted({windows["first"][1], *range(2000, args.steps + 1, 2000), args.steps})
  result["rss_mib_at_step"] = {
    step: round(sampler.at(wall[step] + offset), 1) for step in marks if step in wall
  }
  after_warmup = [rss for t, rss in sampler.samples if t >= wall[windows["first"][1]]]
  result["rss_min_max_after_first_window_mib"] = [
    round(min(after_warmup), 1),
    round(max(after_warmup), 1),
  ]
  print(json.dumps(result, indent=2))


if __name__ == "__main__":
  main()
