"""Damaged checkpoints and failing disks: detected, reported in one line, earlier files intact."""

import errno
import json
import os
import pickle
import subprocess
import sys

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from gan_jax import checkpoint, cli, runs
from tests.conftest import CONFIG_DIR, ROOT

RING = os.path.join(CONFIG_DIR, "ring_gan.py")
TINY = [
  "--config.batch_size=32",
  "--config.steps_per_call=1",
  "--config.log_every=5",
  "--config.sample_every=1000",
  "--config.checkpoint_every=10",
  "--config.model.generator.hidden=(16, 16)",
  "--config.model.discriminator.hidden=(16, 16)",
]


def train_arguments(workdir, num_steps, *extra):
  return [
    "train",
    "--config",
    RING,
    "--workdir",
    str(workdir),
    "--no-progress",
    *TINY,
    f"--config.num_steps={num_steps}",
    *extra,
  ]


def train_to(workdir, num_steps, *extra):
  return cli.main(train_arguments(workdir, num_steps, *extra))


def saved_steps(workdir):
  return sorted(int(s) for s in os.listdir(workdir / "checkpoints") if s.isdigit())


def arrays(state):
  return [np.asarray(x) for x in jax.tree.leaves(checkpoint.state_arrays(state))]


def assert_same_state(a, b):
  for x, y in zip(arrays(a), arrays(b), strict=True):
    np.testing.assert_array_equal(x, y)


def truncate_files(step_dir):
  for root, _, names in os.walk(step_dir / "state"):
    for name in names:
      path = os.path.join(root, name)
      with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def tamper_values(workdir, step):
  """Rewrites checkpoint `step` with slightly changed parameters and its original metadata
  (a valid orbax checkpoint whose values are not those that were saved)."""
  _, _, state = runs.load_run(str(workdir), step)
  manager_dir = workdir / "checkpoints"
  reader = checkpoint.Checkpointer(str(manager_dir), writable=False)
  metadata = reader.read_metadata(step)
  reader.close()
  os.rename(manager_dir / str(step), manager_dir / "original")
  changed = state.replace(d_params=jax.tree.map(lambda p: p + 1e-3, state.d_params))
  manager = ocp.CheckpointManager(str(manager_dir))
  manager.save(
    step,
    args=ocp.args.Composite(
      state=ocp.args.StandardSave(checkpoint.state_arrays(changed)),
      metadata=ocp.args.JsonSave(metadata),
    ),
  )
  manager.close()
  import shutil

  shutil.rmtree(manager_dir / "original")


@pytest.fixture(scope="module")
def run20(tmp_path_factory):
  """A run of 20 steps with checkpoints at 10 and 20, and its final state."""
  workdir = tmp_path_factory.mktemp("run20")
  assert train_to(workdir, 20) == 0
  return workdir, runs.load_run(str(workdir))[2]


def copy_run(run20, tmp_path):
  workdir = tmp_path / "run"
  subprocess.run(["cp", "-r", str(run20[0]), str(workdir)], check=True)
  return workdir


@pytest.mark.parametrize("damage", ["truncated", "tampered"])
def test_a_damaged_checkpoint_is_skipped_and_the_run_redoes_it_exactly(
  run20, tmp_path, capsys, damage
):
  workdir = copy_run(run20, tmp_path)
  if damage == "truncated":
    truncate_files(workdir / "checkpoints" / "20")
  else:
    tamper_values(workdir, 20)
  assert train_to(workdir, 20) == 0  # falls back to step 10 and trains 10 -> 20 again
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith("warning: checkpoint at step 20 in "), err
  assert "is damaged" in err[0] and "falling back to an earlier one; moved to corrupt-20-" in err[0]
  if damage == "tampered":
    assert "do not match the SHA-256" in err[0]
  assert saved_steps(workdir) == [10, 20]
  assert any(name.startswith("corrupt-20-") for name in os.listdir(workdir / "checkpoints"))
  assert_same_state(runs.load_run(str(workdir))[2], run20[1])
  assert [json.loads(l)["step"] for l in open(workdir / "metrics.jsonl")] == [5, 10, 15, 20]


def test_no_intact_checkpoint_left_is_a_clear_error(run20, tmp_path, capsys):
  workdir = copy_run(run20, tmp_path)
  for step in (10, 20):
    truncate_files(workdir / "checkpoints" / str(step))
  assert train_to(workdir, 30) == 1
  err = capsys.readouterr().err.strip().splitlines()
  assert [line.split(" in ")[0] for line in err[:2]] == [
    "warning: checkpoint at step 20",
    "warning: checkpoint at step 10",
  ]
  assert len(err) == 3 and err[2].startswith("gan-jax: error: no intact checkpoint is left in "), (
    err
  )
  assert "step 20: " in err[2] and "step 10: " in err[2]


def test_a_damaged_config_json_is_one_line_naming_it(run20, tmp_path, capsys):
  workdir = copy_run(run20, tmp_path)
  (workdir / "config.json").write_text('{\n  "seed": 0,\n')
  for command in (["sample", "--out", str(tmp_path / "s.npz")], ["report"], ["evaluate"]):
    assert cli.main([command[0], "--workdir", str(workdir), *command[1:]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
      f"gan-jax: error: {workdir / 'config.json'} is damaged (not JSON: Expecting property name "
      "enclosed in double quotes at line 3); it is written by gan-jax train: restore it from a "
      "copy, or train the run again"
    ], (command, err)


@pytest.mark.parametrize("name", ["config.json", "metrics.jsonl"])
def test_a_run_file_replaced_by_a_folder_is_one_line_naming_it(run20, tmp_path, capsys, name):
  workdir = copy_run(run20, tmp_path)
  os.remove(workdir / name)
  os.mkdir(workdir / name)
  commands = [["report"]] + (
    [["sample", "--out", str(tmp_path / "s.npz")]] if name == "config.json" else []
  )
  for command in commands:
    assert cli.main([command[0], "--workdir", str(workdir), *command[1:]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
      f"gan-jax: error: {workdir / name} is a folder where a"
    ), (command, err)
    assert "it is written by gan-jax train" in err[0]


def test_an_os_error_about_a_file_is_one_line_without_its_errno(tmp_path):
  try:
    open(tmp_path)
  except OSError as error:
    assert cli.error_line(error) == f"{tmp_path}: Is a directory"


def folder_contents(folder):
  """{relative path: bytes} of every file under `folder`."""
  contents = {}
  for root, _, names in os.walk(folder):
    for name in names:
      path = os.path.join(root, name)
      contents[os.path.relpath(path, folder)] = open(path, "rb").read()
  return contents


@pytest.mark.parametrize("how", ["killed before its first checkpoint", "all checkpoints damaged"])
def test_training_over_logs_without_a_checkpoint_is_refused(run20, tmp_path, capsys, how):
  workdir = copy_run(run20, tmp_path)
  if how == "killed before its first checkpoint":
    subprocess.run(["rm", "-r", str(workdir / "checkpoints")], check=True)
  else:
    for step in (10, 20):
      truncate_files(workdir / "checkpoints" / str(step))
    assert train_to(workdir, 30) == 1  # moves both aside: nothing left to resume from
    capsys.readouterr()
  before = folder_contents(workdir)
  assert train_to(workdir, 30, "--config.model.latent_dim=8") == 2
  assert capsys.readouterr().err.strip().splitlines() == [
    f"gan-jax: error: {workdir} holds an earlier run's logs (metrics.jsonl up to step 20) but "
    f"no checkpoint to resume from, and training would write over them; train into a new "
    f"--workdir, or delete its metrics.jsonl and samples/ first"
  ]
  assert folder_contents(workdir) == before
  os.remove(workdir / "metrics.jsonl")
  subprocess.run(["rm", "-r", str(workdir / "samples")], check=True)
  assert train_to(workdir, 10) == 0  # what the message says to do


def test_sampling_past_a_damaged_checkpoint_prints_one_warning_and_no_traceback(run20, tmp_path):
  workdir = copy_run(run20, tmp_path)
  truncate_files(workdir / "checkpoints" / "20")
  out = tmp_path / "s.npz"
  process = subprocess.run(
    [sys.executable, "-m", "gan_jax.cli", "sample", "--workdir", str(workdir), "--out", str(out)],
    capture_output=True,
    text=True,
    cwd=ROOT,
  )
  assert process.returncode == 0, process.stderr[-2000:]
  err = process.stderr.strip().splitlines()
  assert len(err) == 1 and err[0].startswith("warning: checkpoint at step 20 in "), err[:5]
  assert "tensorstore_spec" not in err[0] and err[0].endswith("falling back to an earlier one")
  assert saved_steps(workdir) == [10, 20]  # sampling moves nothing


def test_a_damaged_checkpoint_asked_for_by_step_is_an_error_naming_the_others(
  run20, tmp_path, capsys
):
  workdir = copy_run(run20, tmp_path)
  truncate_files(workdir / "checkpoints" / "20")
  argv = ["sample", "--workdir", str(workdir), "--step", "20", "--out", str(tmp_path / "s.npz")]
  assert cli.main(argv) == 1
  [err] = capsys.readouterr().err.strip().splitlines()
  assert err.startswith(
    f"gan-jax: error: the checkpoint of step 20 in {workdir / 'checkpoints'} is damaged ("
  )
  assert err.endswith("); the other checkpoints: 10")
  assert saved_steps(workdir) == [10, 20]


def test_a_checkpoint_of_other_players_is_refused_naming_the_array_and_kept(
  run20, tmp_path, capsys
):
  workdir = copy_run(run20, tmp_path)
  saved = json.loads((workdir / "config.json").read_text())
  saved["model"]["generator"]["hidden"] = [16, 8]  # the config edited after training
  (workdir / "config.json").write_text(json.dumps(saved))
  before = folder_contents(workdir / "checkpoints")
  for command in (["sample", "--out", str(tmp_path / "s.npz")], ["report"]):
    assert cli.main([command[0], "--workdir", str(workdir), *command[1:]]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
      "gan-jax: error: the checkpoint of step 20 holds g_params.Dense_1.bias as (16,) float32, "
      "but the run's config builds it as (8,) float32: it was written with other players"
    ]
  assert folder_contents(workdir / "checkpoints") == before


@pytest.mark.parametrize(
  "file, text, message",
  [
    (
      "config.json",
      "[1, 2]",
      "config.json is damaged (a JSON list, not an object); it is written by gan-jax train: "
      "restore it from a copy, or train the run again",
    ),
    (
      "config.json",
      '{"seed": 0, "batch_size": 32, "data": {}}',
      "config.json is damaged (no field 'model', which a run's config holds); it is written "
      "by gan-jax train: restore it from a copy, or train the run again",
    ),
    ("metrics.jsonl", "[1, 2]\n{}\n", "metrics.jsonl line 1 is not a record of gan-jax train"),
    ("eval_metrics.jsonl", '{"step": 10, "modes": 3\n{"step": 20}\n', "eval_metrics.jsonl line 1"),
    (
      "eval.json",
      "[3]",
      "eval.json is damaged (a JSON list, not an object); it is written by gan-jax evaluate: "
      "restore it from a copy, or run gan-jax evaluate again",
    ),
  ],
)
def test_run_files_of_the_wrong_form_are_one_line_naming_the_file(
  run20, tmp_path, capsys, file, text, message
):
  workdir = copy_run(run20, tmp_path)
  (workdir / file).write_text(text)
  assert cli.main(["report", "--workdir", str(workdir)]) == 2
  [err] = capsys.readouterr().err.strip().splitlines()
  assert err.startswith(f"gan-jax: error: {workdir / file}") and message in err, err


class _Marker:
  """Unpickling this creates a file: proof that code from the checkpoint ran."""

  def __init__(self, path):
    self.path = path

  def __reduce__(self):
    return (open, (self.path, "w"))


def test_restoring_never_runs_code_from_the_checkpoint(run20, tmp_path, capsys):
  workdir = copy_run(run20, tmp_path)
  marker = tmp_path / "code_ran"
  payload = pickle.dumps(_Marker(str(marker)))
  for root, _, names in os.walk(workdir / "checkpoints"):
    for name in names:
      with open(os.path.join(root, name), "wb") as f:
        f.write(payload)
  assert cli.main(["sample", "--workdir", str(workdir), "--out", str(tmp_path / "s.npz")]) == 1
  assert "no intact checkpoint is left" in capsys.readouterr().err
  assert not marker.exists()
  for root, _, names in os.walk(os.path.join(ROOT, "gan_jax")):
    for name in (n for n in names if n.endswith(".py")):
      source = open(os.path.join(root, name)).read()
      for unsafe in ("import pickle", "cloudpickle", "allow_pickle=True", "import dill"):
        assert unsafe not in source, (name, unsafe)


def _failing_save(fail_at, error):
  original = ocp.CheckpointManager.save

  def save(self, step, *args, **kwargs):
    if step == fail_at:
      raise error
    return original(self, step, *args, **kwargs)

  return save


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_failing_write_is_one_line_and_earlier_files_stay(
  run20, tmp_path, capsys, monkeypatch, code
):
  workdir = copy_run(run20, tmp_path)
  before = open(workdir / "metrics.jsonl").read()
  monkeypatch.setattr(
    ocp.CheckpointManager, "save", _failing_save(30, OSError(code, os.strerror(code)))
  )
  assert train_to(workdir, 40) == 1
  err = capsys.readouterr().err.strip().splitlines()
  assert err == [
    f"gan-jax: error: could not write the checkpoint of step 30 in "
    f"{workdir / 'checkpoints'}: {os.strerror(code)}; the newest complete "
    f"checkpoint is step 20"
  ]
  monkeypatch.undo()
  assert saved_steps(workdir) == [10, 20]
  assert open(workdir / "metrics.jsonl").read().startswith(before)
  assert_same_state(runs.load_run(str(workdir))[2], run20[1])


def _mount(*args):
  return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
  """A 1 MiB tmpfs (needs the right to mount; skipped elsewhere)."""
  path = tmp_path / "disk"
  path.mkdir()
  if not _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)):
    pytest.skip("cannot mount a tmpfs here")
  yield path
  subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_while_saving(run20, small_disk):
  workdir = small_disk / "run"
  subprocess.run(["cp", "-r", str(run20[0]), str(workdir)], check=True)
  free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
  with open(small_disk / "filler", "wb") as f:
    f.write(bytes(max(free - 24 * 1024, 0)))  # room for logs, not for a checkpoint
  before = open(workdir / "metrics.jsonl").read()
  # A process of its own: what the failed background write's leftovers print comes out too.
  process = subprocess.run(
    [sys.executable, "-m", "gan_jax.cli", *train_arguments(workdir, 40)],
    capture_output=True,
    text=True,
    cwd=ROOT,
  )
  assert process.returncode == 1
  err = [line for line in process.stderr.strip().splitlines() if not line.startswith("step ")]
  assert len(err) == 1 and err[0].startswith(
    "gan-jax: error: could not write the checkpoint of step 30"
  ), err
  assert err[0].endswith("No space left on device; the newest complete checkpoint is step 20")
  assert saved_steps(workdir) == [10, 20]
  assert open(workdir / "metrics.jsonl").read().startswith(before)
  assert_same_state(runs.load_run(str(workdir))[2], run20[1])
  os.remove(small_disk / "filler")  # space again: the run resumes from 20
  assert train_to(workdir, 30) == 0
  assert saved_steps(workdir) == [10, 20, 30]
  assert not [n for n in os.listdir(workdir / "checkpoints") if "tmp" in n]


def test_a_checkpoint_directory_turning_read_only_while_saving(
  run20, tmp_path, capsys, monkeypatch
):
  workdir = copy_run(run20, tmp_path)
  checkpoints = str(workdir / "checkpoints")
  if not _mount("--bind", checkpoints, checkpoints):
    pytest.skip("cannot bind-mount here")
  original = checkpoint.Checkpointer.save

  def save(self, state, metadata, **kwargs):
    if int(state.step) == 30:  # the directory turns read-only under the running process
      assert _mount("-o", "remount,ro,bind", checkpoints)
    return original(self, state, metadata, **kwargs)

  try:
    monkeypatch.setattr(checkpoint.Checkpointer, "save", save)
    assert train_to(workdir, 40) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
      f"gan-jax: error: could not write the checkpoint of step 30 in {checkpoints}: "
      f"Read-only file system; the newest complete checkpoint is step 20"
    ]
    assert saved_steps(workdir) == [10, 20]
    assert_same_state(runs.load_run(str(workdir))[2], run20[1])
  finally:
    subprocess.run(["umount", "-l", checkpoints], check=False)


def _toy_state(ema_decay=0.0, d_tx=None):
  import optax

  from gan_jax import state as state_lib
  from gan_jax.models import toy

  return state_lib.create_state(
    seed=0,
    generator=toy.ToyGenerator(data_shape=(2,), hidden=(8,)),
    discriminator=toy.ToyDiscriminator(hidden=(8,)),
    noise=state_lib.NoiseSampler(latent_shape=(4,)),
    data_shape=(2,),
    g_tx=optax.adam(1e-3),
    d_tx=d_tx or optax.adam(1e-3),
    ema_decay=ema_decay,
  )


@pytest.mark.parametrize("other", ["without the EMA", "another optimizer"])
def test_restoring_into_a_state_of_another_tree_is_a_mismatch_and_moves_nothing(tmp_path, other):
  """From a notebook there is no config to compare: a template lacking arrays the checkpoint
  holds is a CheckpointMismatchError, and the whole checkpoint stays where it is."""
  import optax

  directory = str(tmp_path / "checkpoints")
  saver = checkpoint.Checkpointer(directory)
  saver.save(_toy_state(ema_decay=0.9), {})
  saver.close()
  before = folder_contents(directory)
  if other == "without the EMA":
    template = checkpoint.abstract_template(_toy_state)
  else:
    template = checkpoint.abstract_template(lambda: _toy_state(0.9, optax.sgd(1e-3)))
  reader = checkpoint.Checkpointer(directory)
  with pytest.raises(checkpoint.CheckpointMismatchError, match="step 0 .*other players"):
    reader.restore(template)
  assert folder_contents(directory) == before
  restored, _ = reader.restore(checkpoint.abstract_template(lambda: _toy_state(0.9)))
  assert_same_state(restored, _toy_state(0.9))
