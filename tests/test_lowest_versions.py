"""The package beside the oldest versions pyproject.toml admits.

A venv holds exactly each dependency's lower bound (jax 0.10.1, flax, optax,
orbax, numpy, matplotlib, ...) and the tensorboard extra's, and no
tensorflow-datasets; the package is installed into it with --no-deps, as on a
machine whose jax came first (a GPU or TPU build). There it trains, samples
and writes TensorBoard events, and data.source='tfds' says which extra to
install. The venv is built once per set of versions and Python under
~/.cache/gan_jax/ (1.5 to 2.5 minutes from the package index on 2 cores, mostly
downloads; then the test takes about 30 s), so the default test command
deselects it (marker `lowest_versions`; run it with `-m lowest_versions`).

Catches: a lower bound that is not true (the code calls something newer than
the bound admits), a dependency without a lower bound, lower bounds that
cannot be installed together, and an extra imported whether or not it is
used (checked by importing tensorflow_datasets at the top of
gan_jax/data/tfds_source.py once: the package no longer imports).
"""

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RING = os.path.join(ROOT, "experiments", "configs", "ring_gan.py")
CACHE = os.path.expanduser(os.environ.get("GAN_JAX_CACHE", "~/.cache/gan_jax"))
EXTRAS = ("tensorboard",)  # installed at their lower bounds too; tfds stays out

pytestmark = pytest.mark.lowest_versions


def lower_bounds() -> dict[str, str]:
  """{distribution: lowest version} of the dependencies and EXTRAS in pyproject.toml."""
  with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
    project = tomllib.load(f)["project"]
  requirements = list(project["dependencies"])
  for extra in EXTRAS:
    requirements += project["optional-dependencies"][extra]
  bounds = {}
  for requirement in requirements:
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)(,.*)?", requirement)
    assert match, f"{requirement!r} in pyproject.toml has no tested lower bound (NAME>=VERSION)"
    bounds[match.group(1)] = match.group(2)
  return bounds


def run(command, **kwargs):
  return subprocess.run(command, capture_output=True, text=True, **kwargs)


def lowest_venv() -> str:
  """A venv with the lower bounds installed, cached by versions and Python."""
  pins = [f"{name}=={version}" for name, version in sorted(lower_bounds().items())]
  key = hashlib.sha256(" ".join(pins + [sys.version]).encode()).hexdigest()[:12]
  venv = os.path.join(CACHE, f"venv-lowest-{key}")
  os.makedirs(CACHE, exist_ok=True)
  with open(f"{venv}.lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; a venv cannot be moved once built
    if os.path.exists(os.path.join(venv, "complete")):
      return venv
    shutil.rmtree(venv, ignore_errors=True)  # a build cut short
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    install = run(
      [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "-q", *pins], timeout=900
    )
    if install.returncode != 0:
      shutil.rmtree(venv, ignore_errors=True)
      jax_pin = next(p for p in pins if p.startswith("jax=="))
      versions = run([sys.executable, "-m", "pip", "index", "versions", "jax"], timeout=120)
      if jax_pin.split("==")[1] not in versions.stdout:
        pytest.skip(
          f"the package index is unreachable (pip index versions jax: "
          f"{(versions.stderr or versions.stdout).strip().splitlines()[-1:]}); "
          f"the venv of {jax_pin} and the other lower bounds cannot be built"
        )
      pytest.fail(f"pip could not install the lower bounds {pins}: {install.stderr[-2000:]}")
    with open(os.path.join(venv, "complete"), "w") as f:
      f.write("\n".join(pins) + "\n")
  return venv


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
  venv = lowest_venv()
  source = tmp_path_factory.mktemp("source")
  for name in ("pyproject.toml", "README.md"):
    shutil.copy(os.path.join(ROOT, name), source)
  shutil.copytree(
    os.path.join(ROOT, "gan_jax"), source / "gan_jax", ignore=shutil.ignore_patterns("__pycache__")
  )
  pip = [os.path.join(venv, "bin", "python"), "-m", "pip"]
  install = run([*pip, "install", "-q", "--no-deps", "--force-reinstall", str(source)], timeout=300)
  assert install.returncode == 0, install.stderr[-2000:]
  check = run([*pip, "check"])
  assert check.returncode == 0, f"pip check in the lowest-versions venv: {check.stdout}"
  return venv


def test_the_package_trains_samples_and_logs_beside_the_lowest_versions(venv, tmp_path):
  bounds = lower_bounds()
  python, gan_jax = (os.path.join(venv, "bin", name) for name in ("python", "gan-jax"))
  # Neither the checkout's package nor the suite's compilation cache: jax 0.10.1 loading its own
  # cached executables logs a false machine-feature mismatch on stderr, which the tests read.
  env = {
    k: v
    for k, v in os.environ.items()
    if k != "PYTHONPATH" and not k.startswith(("JAX_COMPILATION_CACHE", "JAX_PERSISTENT_CACHE"))
  }
  found = run(
    [
      python,
      "-c",
      "import gan_jax, jax, flax, optax; print(gan_jax.__file__); "
      "print(jax.__version__, flax.__version__, optax.__version__)",
    ],
    cwd=tmp_path,
    env=env,
  )
  where, versions = found.stdout.split("\n")[:2]
  assert where.startswith(venv), where  # not the checkout's package
  assert versions.split() == [bounds["jax"], bounds["flax"], bounds["optax"]]

  workdir = str(tmp_path / "run")
  trained = run(
    [
      gan_jax,
      "train",
      "--config",
      RING,
      "--workdir",
      workdir,
      "--no-progress",
      "--config.num_steps",
      "10",
      "--config.steps_per_call=1",
      "--config.log_every=5",
      "--config.sample_every=10",
      "--config.checkpoint_every=10",
      "--config.batch_size=32",
      "--config.model.generator.hidden=(16, 16)",
      "--config.model.discriminator.hidden=(16, 16)",
    ],
    cwd=tmp_path,
    env=env,
    timeout=300,
  )
  assert trained.returncode == 0, trained.stderr[-2000:]
  assert [line.split()[1] for line in trained.stdout.splitlines() if line.startswith("step ")] == [
    "5/10",
    "10/10",
  ], trained.stdout
  sampled = run(
    [gan_jax, "sample", "--workdir", workdir, "--num", "100", "--out", str(tmp_path / "s.png")],
    cwd=tmp_path,
    env=env,
    timeout=300,
  )
  assert sampled.returncode == 0, sampled.stderr[-2000:]
  with open(tmp_path / "s.png", "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"

  events = run(
    [
      python,
      "-c",
      (
        "import sys\n"
        "from tensorboard.backend.event_processing.event_accumulator import EventAccumulator\n"
        "a = EventAccumulator(sys.argv[1]); a.Reload(); t = a.Tags()\n"
        "print(' '.join(t['images']), ' '.join(t['tensors']), len(a.Scalars('d_loss')))"
      ),
      os.path.join(workdir, "tensorboard"),
    ],
    cwd=tmp_path,
    env=env,
  )
  assert events.stdout.split() == ["samples", "config", "2"], events.stderr[-2000:]

  no_tfds = run(
    [
      gan_jax,
      "train",
      "--config",
      RING,
      "--workdir",
      str(tmp_path / "tfds"),
      "--config.data.source=tfds",
      "--config.data.name=mnist",
    ],
    cwd=tmp_path,
    env=env,
    timeout=300,
  )
  assert no_tfds.returncode != 0
  assert no_tfds.stderr.strip().splitlines() == [
    "gan-jax: error: data.source='tfds' (dataset 'mnist') needs tensorflow-datasets, an extra: "
    "pip install 'gan_jax[tfds]'"
  ]
