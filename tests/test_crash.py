"""A `gan-jax train` process killed with SIGKILL at any moment resumes exactly.

One workdir is trained by a chain of real processes, each killed with SIGKILL at
a different moment (while starting, right after writing its config, after a
number of logged steps, in the middle of checkpoint writes); checkpoints are
written every other step (each write takes longer than the steps between) so
that kills land inside writes. A last process runs to
the end. Its parameters, `gan-jax sample` output and metrics.jsonl records
(less the wall time) are bit-identical to those of a run never interrupted.
"""

import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np

from gan_jax import checkpoint, cli, runs
from tests.conftest import CONFIG_DIR, ROOT

NUM_STEPS = 40
COMMAND = [
  sys.executable,
  "-m",
  "gan_jax.cli",
  "train",
  "--config",
  os.path.join(CONFIG_DIR, "ring_gan.py"),
  "--no-progress",
  f"--config.num_steps={NUM_STEPS}",
  "--config.batch_size=32",
  "--config.steps_per_call=1",
  "--config.log_every=1",
  "--config.sample_every=1000000",
  "--config.checkpoint_every=2",
  "--config.keep_checkpoints=2",
  "--config.model.generator.hidden=(16, 16)",
  "--config.model.discriminator.hidden=(16, 16)",
]
TIMEOUT = 120


def launch(workdir, log):
  env = {**os.environ, "PYTHONPATH": ROOT}
  return subprocess.Popen(
    COMMAND + ["--workdir", str(workdir)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
  )


def last_logged_step(workdir) -> int:
  try:
    with open(workdir / "metrics.jsonl") as f:
      lines = f.read().split("\n")
  except FileNotFoundError:
    return 0
  for line in reversed(lines):
    try:
      return json.loads(line)["step"]
    except (ValueError, KeyError):
      continue
  return 0


def writing_checkpoint(workdir) -> bool:
  try:
    return any("orbax-checkpoint-tmp" in name for name in os.listdir(workdir / "checkpoints"))
  except FileNotFoundError:
    return False


# Each moment: fn(workdir, launched_at) -> True when the process should be killed now.
MOMENTS = {
  "while starting (imports)": lambda w, t0: time.time() - t0 > 0.3,
  "right after writing config.json": lambda w, t0: (
    (w / "config.json").exists() and os.path.getmtime(w / "config.json") > t0
  ),
  "while writing a checkpoint after step 10": lambda w, t0: (
    last_logged_step(w) >= 10 and writing_checkpoint(w)
  ),
  "50 ms after step 20 was logged": lambda w, t0: last_logged_step(w) >= 20,
  "while writing a checkpoint after step 30": lambda w, t0: (
    last_logged_step(w) >= 30 and writing_checkpoint(w)
  ),
}


def kill_at(workdir, moment, log):
  launched_at = time.time()
  process = launch(workdir, log)
  deadline = launched_at + TIMEOUT
  while not MOMENTS[moment](workdir, launched_at):
    assert process.poll() is None, f"the run ended before the moment '{moment}'"
    assert time.time() < deadline, f"timed out waiting for '{moment}'"
    time.sleep(0.002)
  if moment.startswith("50 ms"):
    time.sleep(0.05)
  process.send_signal(signal.SIGKILL)
  process.wait(timeout=TIMEOUT)
  return writing_checkpoint(workdir)


def records_without_time(workdir):
  records = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
  return [{k: v for k, v in r.items() if k != "wall_time"} for r in records]


def test_sigkill_at_any_moment_resumes_bit_exactly(tmp_path, capsys):
  killed, straight = tmp_path / "killed", tmp_path / "straight"
  with open(tmp_path / "straight.log", "w") as log:
    reference = launch(straight, log)  # runs alongside the chain
  killed_mid_write = []
  with open(tmp_path / "killed.log", "w") as log:
    for moment in MOMENTS:
      killed_mid_write.append(kill_at(killed, moment, log))
    final = launch(killed, log)
    assert final.wait(timeout=TIMEOUT) == 0, open(tmp_path / "killed.log").read()[-3000:]
  assert reference.wait(timeout=TIMEOUT) == 0, open(tmp_path / "straight.log").read()[-3000:]
  assert sum(killed_mid_write) >= 1, "no kill landed inside a checkpoint write"

  assert records_without_time(killed) == records_without_time(straight)
  assert [r["step"] for r in records_without_time(killed)] == list(range(1, NUM_STEPS + 1))
  a, b = (runs.load_run(str(w))[2] for w in (killed, straight))
  for x, y in zip(
    jax.tree.leaves(checkpoint.state_arrays(a)),
    jax.tree.leaves(checkpoint.state_arrays(b)),
    strict=True,
  ):
    np.testing.assert_array_equal(x, y)
  for workdir in (killed, straight):
    assert (
      cli.main(
        ["sample", "--workdir", str(workdir), "--num", "100", "--out", str(workdir / "s.npz")]
      )
      == 0
    )
  np.testing.assert_array_equal(
    np.load(killed / "s.npz")["samples"], np.load(straight / "s.npz")["samples"]
  )
  assert not [n for n in os.listdir(killed / "checkpoints") if "tmp" in n]
