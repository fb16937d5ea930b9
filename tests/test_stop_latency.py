"""SIGTERM stops a `gan-jax train` process within about one step's time, plus the save.

The loop dispatches steps asynchronously; if it ran far ahead of the device, a
stop would first wait for every step already dispatched (a progressive run once
took 4 minutes to stop). A ring GAN with wide players makes each step slow
(a few tenths of a second); logs every LOG_EVERY steps give the step time; the
signal comes right after a log, when a loop that runs ahead until its next log
has LOG_EVERY - 1 steps queued. The process must report that it stops within
three steps of the signal, exit with status 143, and its checkpoint must resume.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

from gan_jax import cli
from tests.conftest import CONFIG_DIR, ROOT

LOG_EVERY = 10
SLOW = [
  "--config",
  os.path.join(CONFIG_DIR, "ring_gan.py"),
  "--no-progress",
  "--config.num_steps=1000000",
  "--config.steps_per_call=1",
  "--config.batch_size=1024",
  f"--config.log_every={LOG_EVERY}",
  "--config.sample_every=1000000",
  "--config.checkpoint_every=1000000",
  "--config.model.generator.hidden=(768, 768)",
  "--config.model.discriminator.hidden=(768, 768)",
]
TIMEOUT = 120


def logged(workdir) -> list[dict]:
  try:
    with open(workdir / "metrics.jsonl") as f:
      lines = f.read().split("\n")
  except FileNotFoundError:
    return []
  records = []
  for line in lines:
    try:
      records.append(json.loads(line))
    except ValueError:
      continue  # the line being written
  return records


def test_sigterm_stops_within_about_one_step_and_the_checkpoint_resumes(tmp_path):
  workdir = tmp_path / "run"
  env = {**os.environ, "PYTHONPATH": ROOT, "PYTHONUNBUFFERED": "1"}
  process = subprocess.Popen(
    [sys.executable, "-m", "gan_jax.cli", "train", *SLOW, "--workdir", str(workdir)],
    env=env,
    cwd=ROOT,
    stdout=subprocess.PIPE,
    stderr=subprocess.STDOUT,
    text=True,
  )
  lines = []  # (time read, line)
  reader = threading.Thread(target=lambda: lines.extend((time.time(), l) for l in process.stdout))
  reader.start()
  try:
    deadline = time.time() + TIMEOUT
    while len(logged(workdir)) < 2:  # steps LOG_EVERY and 2 * LOG_EVERY
      assert process.poll() is None and time.time() < deadline, "".join(l for _, l in lines)
      time.sleep(0.005)
    first, second = logged(workdir)[:2]
    step_time = (second["wall_time"] - first["wall_time"]) / LOG_EVERY
    signalled = time.time()
    process.send_signal(signal.SIGTERM)
    returncode = process.wait(timeout=TIMEOUT)
    exited = time.time()
  finally:
    if process.poll() is None:
      process.kill()
    reader.join(timeout=TIMEOUT)
  output = "".join(l for _, l in lines)
  assert returncode == 143, output
  stopping = [(t, l) for t, l in lines if l.startswith("stopping at step")]
  assert stopping, output
  stopped_at = int(stopping[0][1].split()[3])
  # The stop waits for at most the two calls in flight: about one step, at most two.
  assert stopping[0][0] - signalled < 3 * step_time + 0.5, (step_time, output)
  assert stopped_at <= second["step"] + 3, (step_time, output)  # a step or two after the signal
  # Then the checkpoint is saved and the process exits (interpreter shutdown included).
  assert exited - signalled < 3 * step_time + 15, (step_time, output)
  saved = sorted(int(s) for s in os.listdir(workdir / "checkpoints") if s.isdigit())
  assert saved == [stopped_at], (saved, output)

  assert (
    cli.main(["train", *SLOW, "--workdir", str(workdir), f"--config.num_steps={stopped_at + 2}"])
    == 0
  )
  resumed = logged(workdir)
  assert resumed[-1]["step"] == stopped_at + 2
  saved = sorted(int(s) for s in os.listdir(workdir / "checkpoints") if s.isdigit())
  assert saved[-1] == stopped_at + 2
