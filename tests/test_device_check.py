"""benchmarks/device_check.sh --dry-run: every stage runs on CPU with tiny sizes, the script
exits 0 and its summary lists every stage (the GPU check must work the first time)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "benchmarks", "device_check.sh")
STAGES = ["install", "devices", "tests", "train_f32", "train_bf16", "compare_x1", "compare_x8"]
# The dry run keeps itself to 100 s (stages past that are cut short); this is a margin.
TIMEOUT_S = 200


def run_script(tmp_path, *args, extra_env=None):
  env = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("PYTEST_", "XLA_FLAGS", "JAX_PLATFORMS"))
  }
  env.update(
    OUT=str(tmp_path / "out"), PYTHON=sys.executable, TMPDIR=str(tmp_path), **(extra_env or {})
  )
  done = subprocess.run(
    ["bash", SCRIPT, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S
  )
  assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
  summary = (tmp_path / "out" / "summary.md").read_text()
  rows = {}
  for line in summary.splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 5 and cells[0] in STAGES:
      rows[cells[0]] = {"status": cells[1], "seconds": cells[2], "result": cells[3]}
  assert list(rows) == STAGES, summary
  stages = json.loads((tmp_path / "out" / "summary.json").read_text())["stages"]
  assert [s["stage"] for s in stages] == STAGES
  return rows, summary, done.stdout


def torch_installed() -> bool:
  try:
    import torch  # noqa: F401
  except ImportError:
    return False
  return True


@pytest.mark.slow
def test_dry_run_runs_every_stage_and_writes_the_summary(tmp_path):
  rows, summary, stdout = run_script(tmp_path, "--dry-run")
  assert "summary (" in stdout  # the table printed at the end
  # A stage may be cut short by the dry run's time budget on a loaded machine, but none fails.
  for stage, row in rows.items():
    assert not row["status"].startswith("FAILED"), (stage, summary)
  for stage in ("install", "devices", "tests"):
    assert rows[stage]["status"] == "ok", summary
  assert "CpuDevice" in rows["devices"]["result"]
  assert "passed" in rows["tests"]["result"] and "failed" not in rows["tests"]["result"]
  if rows["train_f32"]["status"] == "ok":
    result = json.loads((tmp_path / "out" / "train_f32.json").read_text())
    assert result["finite"] and result["exit_status"] == 0 and result["logged_steps"] == [2, 4]
  bf16 = rows["train_bf16"]
  assert bf16["status"] in ("ok", "TIMEOUT"), summary  # config.dtype exists: not skipped
  if bf16["status"] == "ok":
    result = json.loads((tmp_path / "out" / "train_bf16.json").read_text())
    assert result["finite"] and result["exit_status"] == 0 and result["dtype"] == "bfloat16"
  for stage in ("compare_x1", "compare_x8"):
    if not torch_installed():  # or cut short, on a loaded machine, before its own check
      assert rows[stage]["status"] == "skipped", summary
      assert rows[stage]["result"] == "skipped: torch missing" or rows[stage]["result"].startswith(
        "skipped: out of time"
      ), summary
    elif rows[stage]["status"] == "ok":
      scale = int(stage[-1])
      lines = (tmp_path / "out" / f"{stage}.json").read_text().splitlines()
      assert [json.loads(line)["batch"] for line in lines] == [512 * scale]
  assert not any(
    name.startswith("gan_jax_device_check.") for name in os.listdir(tmp_path)
  )  # scratch removed


def test_compare_stages_record_a_missing_torch_and_the_script_still_exits_0(tmp_path):
  shadow = tmp_path / "shadow" / "torch"
  shadow.mkdir(parents=True)
  (shadow / "__init__.py").write_text("raise ImportError('torch hidden by the test')\n")
  rows, _, _ = run_script(
    tmp_path,
    "--dry-run",
    "--only",
    "compare_x1,compare_x8",
    extra_env={"PYTHONPATH": str(tmp_path / "shadow")},
  )
  for stage in ("compare_x1", "compare_x8"):
    assert rows[stage]["status"] == "skipped" and rows[stage]["result"] == "skipped: torch missing"
  for stage in ("install", "devices", "tests", "train_f32", "train_bf16"):
    assert rows[stage]["status"] == "not run"


def test_bundle_leaves_the_summaries_and_one_archive_of_everything(tmp_path):
  import tarfile

  rows, _, _ = run_script(tmp_path, "--dry-run", "--only", "devices", "--bundle")
  assert rows["devices"]["status"] == "ok"
  out = tmp_path / "out"
  assert sorted(os.listdir(out)) == ["device_check.tgz", "summary.json", "summary.md"]
  with tarfile.open(out / "device_check.tgz") as archive:
    names = {os.path.normpath(name) for name in archive.getnames()}
  assert {"devices.log", "env.txt", "summary.md", "summary.json"} <= names, names


def test_an_unknown_stage_flag_or_limit_is_refused(tmp_path):
  for args, env in (
    (["--only", "tests,nonsense"], {}),
    (["--gpu"], {}),
    ([], {"DEVICE_CHECK_LIMITS": "tests=ten"}),
    ([], {"DEVICE_CHECK_LIMITS": "testz=10"}),
  ):
    done = subprocess.run(
      ["bash", SCRIPT, "--dry-run", *args],
      cwd=ROOT,
      capture_output=True,
      text=True,
      env={**os.environ, "OUT": str(tmp_path / "out"), **env},
      timeout=60,
    )
    assert done.returncode == 2 and "device_check.sh:" in done.stderr, done.stderr
