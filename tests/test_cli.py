"""`gan-jax train` and `gan-jax sample`: the files a run leaves, overrides, exact resume, errors."""

import json
import os

import numpy as np
import pytest

from gan_jax import cli
from tests.conftest import CONFIG_DIR, train_tiny_image_run

RING = os.path.join(CONFIG_DIR, "ring_gan.py")
TINY = [
  "--config.num_steps=20",
  "--config.steps_per_call=1",
  "--config.batch_size=32",
  "--config.log_every=5",
  "--config.sample_every=10",
  "--config.checkpoint_every=10",
  "--config.model.generator.hidden=(16, 16)",
  "--config.model.discriminator.hidden=(16, 16)",
]


def train(workdir, *overrides):
  return cli.main(
    ["train", "--config", RING, "--workdir", str(workdir), "--no-progress", *TINY, *overrides]
  )


def sample(workdir, out, num=50, seed=0, *extra):
  assert (
    cli.main(
      [
        "sample",
        "--workdir",
        str(workdir),
        "--num",
        str(num),
        "--seed",
        str(seed),
        "--out",
        str(out),
        *extra,
      ]
    )
    == 0
  )
  return np.load(out)["samples"]


def test_train_writes_metrics_samples_checkpoints_and_config(tmp_path):
  assert train(tmp_path) == 0
  records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  assert [r["step"] for r in records] == [5, 10, 15, 20]
  for record in records:
    for key in (
      "wall_time",
      "d_loss",
      "g_loss",
      "d_real",
      "d_fake",
      "d_acc_real",
      "d_acc_fake",
      "d_grad_norm",
      "g_grad_norm",
    ):
      assert key in record
  assert records[-1]["wall_time"] >= records[0]["wall_time"] >= 0
  assert sorted(os.listdir(tmp_path / "samples")) == ["step_0000010.png", "step_0000020.png"]
  assert sorted(int(s) for s in os.listdir(tmp_path / "checkpoints") if s.isdigit()) == [10, 20]
  config = json.load(open(tmp_path / "config.json"))
  assert config["num_steps"] == 20 and config["model"]["generator"]["hidden"] == [16, 16]
  assert any(
    name.startswith("events.out.tfevents") for name in os.listdir(tmp_path / "tensorboard")
  )


def test_sample_writes_points_in_data_space(tmp_path):
  assert train(tmp_path) == 0
  points = sample(tmp_path, tmp_path / "s.npz", num=50, seed=3)
  assert points.shape == (50, 2) and points.dtype == np.float32
  np.testing.assert_array_equal(points, sample(tmp_path, tmp_path / "t.npz", num=50, seed=3))
  assert not np.array_equal(points, sample(tmp_path, tmp_path / "u.npz", num=50, seed=4))


def test_sample_refuses_a_num_beyond_the_machines_memory_before_drawing(tmp_path, capsys):
  assert train(tmp_path) == 0
  memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
  num = memory // (4 * (2 + 16)) + 1  # ring points (2,) from latents (16,), float32
  out = tmp_path / "s.npz"
  argv = ["sample", "--workdir", str(tmp_path), "--num", str(num), "--out", str(out)]
  assert cli.main(argv) == cli.EXIT_USAGE
  [err] = capsys.readouterr().err.strip().splitlines()
  assert err.startswith(
    f"gan-jax: error: --num asks for {num} samples of shape (2,) from latents of shape (16,), "
  )
  assert err.endswith("of memory; draw fewer at a time") and not out.exists()


def test_sample_and_report_take_an_earlier_checkpoint_by_its_step(tmp_path, capsys):
  run, ten = tmp_path / "run", tmp_path / "ten"
  assert train(run) == 0 and train(ten, "--config.num_steps=10") == 0  # run: steps 10 and 20
  at_ten = sample(ten, tmp_path / "a.npz")
  np.testing.assert_array_equal(sample(run, tmp_path / "b.npz", 50, 0, "--step", "10"), at_ten)
  assert not np.array_equal(sample(run, tmp_path / "c.npz"), at_ten)
  assert cli.main(["evaluate", "--workdir", str(run), "--no-report"]) == 0  # of step 20
  assert cli.main(["report", "--workdir", str(run), "--step", "10"]) == 0
  text = (run / "report.md").read_text()
  assert "step 10 of 20" in text and "## Metrics" not in text
  assert "holds the metrics of step 20; `gan-jax evaluate --step 10` computes" in text
  capsys.readouterr()
  assert cli.main(["sample", "--workdir", str(run), "--step", "7", "--out", "x.npz"]) == 2
  assert capsys.readouterr().err.strip().splitlines() == [
    f"gan-jax: error: {run / 'checkpoints'} has no checkpoint of step 7; accepted: 10, 20"
  ]


def test_resume_is_bit_exact(tmp_path):
  """N steps in one go == N/2, stop, N/2 more: identical parameters and `sample` output."""
  whole, halves = tmp_path / "whole", tmp_path / "halves"
  assert train(whole) == 0
  assert train(halves, "--config.num_steps=10") == 0
  assert train(halves) == 0  # resumes from step 10
  steps = [json.loads(line)["step"] for line in open(halves / "metrics.jsonl")]
  assert steps == [5, 10, 15, 20]
  np.testing.assert_array_equal(
    sample(whole, tmp_path / "a.npz"), sample(halves, tmp_path / "b.npz")
  )
  from gan_jax.runs import load_run
  import jax

  _, _, a = load_run(str(whole))
  _, _, b = load_run(str(halves))
  for x, y in zip(
    jax.tree.leaves((a.g_params, a.d_params, a.g_opt_state, a.d_opt_state)),
    jax.tree.leaves((b.g_params, b.d_params, b.g_opt_state, b.d_opt_state)),
  ):
    np.testing.assert_array_equal(x, y)


def test_resume_with_another_loss_is_refused(tmp_path, capsys):
  assert train(tmp_path, "--config.num_steps=10") == 0
  assert train(tmp_path, "--config.loss='hinge'") == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1
  assert "checkpoint was written with loss='non_saturating' but this run has loss='hinge'" in err[0]


@pytest.mark.parametrize(
  "argument, message",
  [
    ("--config.num_stepz=3", "config has no field 'num_stepz'"),
    ("--config.batch_size=big", "--config.batch_size='big': expected an integer, got a string"),
    ("--config.loss='vanilla'", "loss 'vanilla' is unknown; accepted: minimax"),
    ("--config.model.name='resnet'", "model 'resnet' is unknown"),
    ("--config.num_steps=0", "config.num_steps must be >= 1, got 0"),
    ("--config.g_optimizer.name='adagrad9'", "g_optimizer name 'adagrad9' is unknown"),
    ("--config.data.name='spiral'", "toy dataset 'spiral' is unknown; accepted: ring8, grid25"),
  ],
)
def test_bad_input_gives_one_line_and_exit_2(tmp_path, capsys, argument, message):
  assert train(tmp_path, argument) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and message in err[0], err


def train_image_run(tmp_path):
  """4 steps of the seeds' MLP GAN on 64 random 28 x 28 images in tmp_path/images.npz."""
  overrides = ["--config.num_steps=4", "--config.sample_every=4", "--config.num_sample_images=9"]
  assert train_tiny_image_run(tmp_path, tmp_path / "run", *overrides) == 0


def test_image_run_writes_a_grid_and_nhwc_samples(tmp_path):
  """An image dataset from an .npz file, the seeds' MLP GAN, a PNG grid, NHWC samples in [-1, 1]."""
  train_image_run(tmp_path)
  assert os.listdir(tmp_path / "run" / "samples") == ["step_0000004.png"]
  samples = sample(tmp_path / "run", tmp_path / "s.npz", num=5)
  assert samples.shape == (5, 28, 28, 1)
  assert samples.min() >= -1.0 and samples.max() <= 1.0


def test_samples_of_an_unbounded_generator_are_clipped_to_the_data_range(tmp_path, monkeypatch):
  """StyleGAN's and progressive GAN's linear toRGB layers and LAPGAN's pyramid sums give
  outputs beyond [-1, 1] (StyleGAN -3.1 to 2.2 after 8 steps); `sample` wrote them as they
  came although the README promises images in [-1, 1]. Here the MLP's outputs are scaled
  by 5 to stand for such a generator."""
  from gan_jax import sampling

  train_image_run(tmp_path)
  raw = sample(tmp_path / "run", tmp_path / "raw.npz", num=5)
  draw = sampling.draw_samples
  monkeypatch.setattr(sampling, "draw_samples", lambda *a, **k: 5.0 * draw(*a, **k))
  samples = sample(tmp_path / "run", tmp_path / "wide.npz", num=5)
  np.testing.assert_array_equal(samples, np.clip(5.0 * raw, -1.0, 1.0))
  assert np.abs(5.0 * raw).max() > 1.0 and samples.min() >= -1.0 and samples.max() <= 1.0


def test_a_run_whose_data_is_gone_still_samples_and_reports_but_does_not_evaluate(tmp_path, capsys):
  train_image_run(tmp_path)
  workdir = tmp_path / "run"
  before = sample(workdir, tmp_path / "a.npz", num=5)
  os.rename(tmp_path / "images.npz", tmp_path / "archived.npz")
  np.testing.assert_array_equal(sample(workdir, tmp_path / "b.npz", num=5), before)
  assert cli.main(["report", "--workdir", str(workdir)]) == 0
  assert "data: `images.npz`" in (workdir / "report.md").read_text()
  capsys.readouterr()
  assert cli.main(["evaluate", "--workdir", str(workdir)]) == cli.EXIT_USAGE
  assert capsys.readouterr().err.strip().splitlines() == [
    f"gan-jax: error: npz file {tmp_path / 'images.npz'} does not exist"
  ]


def test_tensorboard_reads_the_logged_scalars(tmp_path):
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

  assert train(tmp_path) == 0
  events = EventAccumulator(str(tmp_path / "tensorboard"))
  events.Reload()
  assert "d_loss" in events.Tags()["scalars"]
  assert [e.step for e in events.Scalars("g_loss")] == [5, 10, 15, 20]
  first = json.loads(open(tmp_path / "metrics.jsonl").readline())
  assert events.Scalars("d_loss")[0].value == pytest.approx(first["d_loss"], rel=1e-6)


def test_a_resumed_run_shows_each_step_once_in_tensorboard(tmp_path):
  """A run that crashed after logging step 15 resumes from its step-10 checkpoint; metrics.jsonl
  drops the old step 15 and TensorBoard drops it too (SessionLog START at step 11): before,
  its scalars showed step 15 twice."""
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

  from gan_jax import train as train_lib
  from tests.conftest import tiny_ring_config

  def crash_at_15(step, state, source):
    if step == 15:
      raise RuntimeError("crash")

  config = tiny_ring_config()  # 20 steps, a log every 5, a checkpoint every 10
  with pytest.raises(RuntimeError, match="crash"):
    train_lib.train_and_evaluate(config, str(tmp_path), progress="none", step_hook=crash_at_15)
  train_lib.train_and_evaluate(config, str(tmp_path), progress="none")
  events = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"scalars": 0})
  events.Reload()
  logged = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  assert (
    [e.step for e in events.Scalars("d_loss")]
    == [r["step"] for r in logged]
    == [
      5,
      10,
      15,
      20,
    ]
  )
  assert [e.value for e in events.Scalars("d_loss")] == pytest.approx(
    [r["d_loss"] for r in logged], rel=1e-6
  )


def test_sigterm_saves_a_checkpoint_and_the_resumed_run_is_exact(tmp_path):
  """A real `gan-jax train` process stopped by SIGTERM leaves a checkpoint at the step it
  reached; resuming to step N gives the same parameters as an uninterrupted run to N."""
  import signal
  import subprocess
  import sys
  import time

  stopped = tmp_path / "stopped"
  command = [
    sys.executable,
    "-m",
    "gan_jax.cli",
    "train",
    "--config",
    RING,
    "--no-progress",
    *TINY,
    "--config.num_steps=1000000",
    "--config.checkpoint_every=1000000",
  ]
  process = subprocess.Popen(
    command + ["--workdir", str(stopped)], stderr=subprocess.PIPE, text=True
  )
  deadline = time.time() + 120
  while time.time() < deadline:
    path = stopped / "metrics.jsonl"
    if path.exists() and len(path.read_text().splitlines()) >= 3:
      break
    time.sleep(0.2)
  process.send_signal(signal.SIGTERM)
  _, err = process.communicate(timeout=120)
  assert process.returncode == 143, err
  saved = sorted(int(s) for s in os.listdir(stopped / "checkpoints") if s.isdigit())
  assert len(saved) == 1 and saved[0] >= 15
  total = saved[0] + 7
  assert train(stopped, f"--config.num_steps={total}", "--config.checkpoint_every=1000000") == 0
  straight = tmp_path / "straight"
  assert train(straight, f"--config.num_steps={total}", "--config.checkpoint_every=1000000") == 0
  np.testing.assert_array_equal(
    sample(stopped, tmp_path / "a.npz"), sample(straight, tmp_path / "b.npz")
  )


def test_fused_steps_train_the_same_run_and_resume_exactly(tmp_path):
  """steps_per_call=5 runs five steps per compiled call: the same examples and noise as one
  step per call (equal up to float reassociation), logs at the same steps, and resumes exactly."""
  fused, single, halves = tmp_path / "fused", tmp_path / "single", tmp_path / "halves"
  assert train(fused, "--config.steps_per_call=5") == 0
  assert train(single, "--config.steps_per_call=1") == 0
  assert [json.loads(l)["step"] for l in open(fused / "metrics.jsonl")] == [5, 10, 15, 20]
  np.testing.assert_allclose(
    sample(fused, tmp_path / "a.npz"), sample(single, tmp_path / "b.npz"), atol=1e-4
  )
  assert train(halves, "--config.steps_per_call=5", "--config.num_steps=10") == 0
  assert train(halves, "--config.steps_per_call=5") == 0
  np.testing.assert_array_equal(
    sample(fused, tmp_path / "c.npz"), sample(halves, tmp_path / "d.npz")
  )


def test_fused_steps_must_divide_the_intervals(tmp_path, capsys):
  assert train(tmp_path, "--config.steps_per_call=3", "--config.num_steps=21") == 2
  assert "config.log_every=5 must be a multiple of steps_per_call=3" in capsys.readouterr().err
