"""What a run shows and leaves for a person: plain progress lines for batch jobs, TensorBoard
pictures and config, `sample --out FILE.png`, a finished run re-run, a missing extra."""

import contextlib
import dataclasses
import io
import json
import os

import jax
import numpy as np
import pytest

from gan_jax import cli, logs, sampling, train
from tests.conftest import CONFIG_DIR

RING = os.path.join(CONFIG_DIR, "ring_gan.py")
TINY = [
  "--config.num_steps",
  "20",
  "--config.steps_per_call",
  "1",
  "--config.batch_size",
  "32",
  "--config.log_every",
  "5",
  "--config.sample_every",
  "10",
  "--config.checkpoint_every",
  "10",
  "--config.model.generator.hidden",
  "(16, 16)",
  "--config.model.discriminator.hidden",
  "(16, 16)",
]


def run_cli(*argv):
  """(exit status, stdout, stderr) of `gan-jax ARGV`."""
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    status = cli.main(list(argv))
  return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
  """A 20-step ring run trained with --no-progress (overrides in the space form)."""
  workdir = str(tmp_path_factory.mktemp("ring") / "run")
  status, out, err = run_cli(
    "train", "--config", RING, "--workdir", workdir, "--no-progress", *TINY
  )
  assert status == 0, err
  return workdir, out, err


def test_no_progress_prints_a_plain_line_every_log_every_steps(ring_run):
  """Catches tqdm's carriage returns in a batch job's log, or no line until `done`."""
  workdir, out, err = ring_run
  assert "\r" not in out + err
  lines = [line for line in out.splitlines() if line.startswith("step ")]
  assert [line.split()[1] for line in lines] == ["5/20", "10/20", "15/20", "20/20"]
  records = [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]
  for line, record in zip(lines, records):
    words = line.split()
    assert words[2] == f"({100 * record['step'] / 20:.1f}%)" and float(words[3]) > 0
    assert words[4:6] == ["steps/s", "ETA"]
    assert words[7:] == ["d_loss", f"{record['d_loss']:.4f}", "g_loss", f"{record['g_loss']:.4f}"]
  assert lines[-1].split()[6] == "0:00:00"
  assert out.splitlines()[-1] == f"done: {workdir}" and err == ""


def test_progress_auto_is_a_bar_on_a_terminal_and_lines_elsewhere(monkeypatch):
  class Terminal(io.StringIO):
    def isatty(self):
      return True

  monkeypatch.setattr("sys.stderr", Terminal())
  assert train.progress_mode(True) == "bar"
  monkeypatch.setattr("sys.stderr", io.StringIO())
  assert train.progress_mode(True) == train.progress_mode("auto") == "lines"
  assert train.progress_mode(False) == "none"
  with pytest.raises(
    ValueError,
    match=r"progress='quiet' is not understood; accepted: True, "
    r"False, 'auto', 'bar', 'lines', 'none'",
  ):
    train.progress_mode("quiet")


def test_tensorboard_gets_the_sample_pictures_and_the_config(ring_run):
  """The Images tab shows each saved sample picture, the Text tab the run's config.json."""
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

  workdir, _, _ = ring_run
  events = EventAccumulator(
    os.path.join(workdir, "tensorboard"), size_guidance={"images": 0, "tensors": 0}
  )
  events.Reload()
  images = events.Images("samples")
  assert [image.step for image in images] == [10, 20]
  with open(os.path.join(workdir, "samples", "step_0000020.png"), "rb") as f:
    assert images[-1].encoded_image_string == f.read()
  assert (images[-1].height, images[-1].width) == logs.png_size(images[-1].encoded_image_string)[:2]
  [text] = events.Tensors("config")
  assert events.PluginTagToContent("text") == {"config": b""}
  shown = text.tensor_proto.string_val[0].decode()
  assert all(line.startswith("    ") for line in shown.splitlines())  # a markdown code block
  with open(os.path.join(workdir, "config.json")) as f:
    assert json.loads(shown) == json.load(f)


def test_sample_writes_a_png_picture(ring_run, tmp_path):
  workdir, _, _ = ring_run
  status, out, _ = run_cli(
    "sample", "--workdir", workdir, "--num", "300", "--out", str(tmp_path / "points.png")
  )
  assert (
    status == 0 and out.strip() == f"wrote a scatter of 300 samples to {tmp_path / 'points.png'}"
  )
  with open(tmp_path / "points.png", "rb") as f:
    assert logs.png_size(f.read())[:2] == (400, 400)  # save_scatter: 5 x 5 inches at 80 dpi
  status, _, err = run_cli("sample", "--workdir", workdir, "--out", str(tmp_path / "s.jpg"))
  assert status == 2 and err.strip().splitlines() == [
    f"gan-jax: error: --out must name an .npz file (the samples) or a .png file (a picture), "
    f"got {str(tmp_path / 's.jpg')!r}"
  ]


def test_image_samples_make_a_grid(tmp_path):
  """`sample --out FILE.png` of an image run: one grid of the N samples (not a scatter)."""
  from types import SimpleNamespace
  from gan_jax import plotting

  samples = np.random.default_rng(0).uniform(-1, 1, (9, 28, 28, 1)).astype(np.float32)
  sampling.save_picture_of_samples(
    samples, SimpleNamespace(kind="image"), str(tmp_path / "grid.png")
  )
  with open(tmp_path / "grid.png", "rb") as f:
    height, width, _ = logs.png_size(f.read())
  assert (height, width) == plotting.image_grid(samples).shape[:2] == (88, 88)


def test_a_finished_run_says_so_and_changes_nothing(ring_run):
  """Re-running a complete run: exit 0, a line saying it was already complete, no new step."""
  workdir, _, _ = ring_run
  checkpoints = sorted(os.listdir(os.path.join(workdir, "checkpoints")))
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    metrics = f.read()
  status, out, err = run_cli(
    "train", "--config", RING, "--workdir", workdir, "--no-progress", *TINY
  )
  assert status == 0, err
  assert out.splitlines()[0] == (
    f"the run in {workdir} is already complete: its checkpoint is at "
    f"step 20; nothing to train (raise config.num_steps to train "
    f"further)"
  )
  assert not any(line.startswith("step ") for line in out.splitlines())
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == checkpoints
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    assert f.read() == metrics


def test_without_tensorboard_the_run_says_which_extra_writes_its_events(tmp_path, monkeypatch):
  """The tensorboard package is an extra: without it metrics.jsonl is still written and one
  line names `gan_jax[tensorboard]`."""
  monkeypatch.setattr(logs, "tensorboard_installed", lambda: False)
  status, out, err = run_cli(
    "train",
    "--config",
    RING,
    "--workdir",
    str(tmp_path),
    "--no-progress",
    *TINY[:1],
    "5",
    *TINY[2:],
  )
  assert status == 0, err
  assert logs.TENSORBOARD_MISSING in out.splitlines()
  assert "pip install 'gan_jax[tensorboard]'" in logs.TENSORBOARD_MISSING
  assert not os.path.exists(tmp_path / "tensorboard")
  assert [r["step"] for r in logs.read_metrics(str(tmp_path))] == [5]


def test_tfds_without_tensorflow_datasets_names_the_extra(monkeypatch):
  import sys
  from gan_jax.data import tfds_source

  monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # import fails as if absent
  with pytest.raises(ModuleNotFoundError) as error:
    tfds_source.open_data_source("mnist")
  assert str(error.value) == (
    "data.source='tfds' (dataset 'mnist') needs tensorflow-datasets, "
    "an extra: pip install 'gan_jax[tfds]'"
  )


def test_loading_or_resuming_a_run_builds_the_states_shapes_not_its_initial_values(
  ring_run, monkeypatch
):
  """Restoring overwrites every array, so the initializers (an eager compile per shape) are
  not run: create_state is only traced, and the arrays are the checkpoint's."""
  from gan_jax import checkpoint, recipes, runs

  workdir, _, _ = ring_run
  recipe = recipes.get_recipe("gan")
  built = []

  def recording_create_state(*args, **kwargs):
    state = create_state(*args, **kwargs)
    built.append(isinstance(state.step, jax.core.Tracer))
    return state

  create_state = recipe.create_state
  monkeypatch.setitem(
    recipes.RECIPES, "gan", dataclasses.replace(recipe, create_state=recording_create_state)
  )
  config, _, state = runs.load_run(workdir)
  assert built == [True]
  reader = checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"), writable=False)
  try:
    assert (
      checkpoint.arrays_digest(checkpoint.state_arrays(state))
      == (reader.read_metadata(20)["sha256"])
    )
  finally:
    reader.close()
  status, _, err = run_cli("train", "--config", RING, "--workdir", workdir, "--no-progress", *TINY)
  assert status == 0, err
  assert len(built) > 1 and all(built)  # (the config's validation traces it too)


def test_restoring_right_after_a_background_save_waits_for_it(tmp_path):
  """`save` returns while orbax still writes; `restore` on the same Checkpointer finds that
  checkpoint (it said there was none)."""
  import optax

  import gan_jax
  from gan_jax import checkpoint, models

  def make_state():
    return gan_jax.create_state(
      seed=0,
      generator=models.ToyGenerator(data_shape=(2,), hidden=(8,)),
      discriminator=models.ToyDiscriminator(hidden=(8,)),
      noise=gan_jax.NoiseSampler(latent_shape=(4,)),
      data_shape=(2,),
      g_tx=optax.adam(1e-3),
      d_tx=optax.adam(1e-3),
    )

  state = make_state()
  writer = checkpoint.Checkpointer(str(tmp_path / "checkpoints"), async_save=True)
  try:
    writer.save(state, {"note": "right away"})
    restored, metadata = writer.restore(checkpoint.abstract_template(make_state))
  finally:
    writer.close()
  assert metadata["note"] == "right away"
  assert checkpoint.arrays_digest(checkpoint.state_arrays(restored)) == checkpoint.arrays_digest(
    checkpoint.state_arrays(state)
  )
