#!/usr/bin/env bash
# One prepared check of gan_jax on a lent GPU machine (15 minutes of device time in all,
# so it has to work the first time). Every stage is time-limited; a failed or timed-out
# stage is recorded and the later stages still run. Exit status 0 when every stage ran.
#
#   bash benchmarks/device_check.sh             # the GPU check, under 8 minutes
#   bash benchmarks/device_check.sh --dry-run   # the same stages on CPU, tiny sizes, < 2 minutes
#   bash benchmarks/device_check.sh --only tests,train_f32   # a subset (rerun what failed)
#   bash benchmarks/device_check.sh --bundle    # leave only summary.md, summary.json and
#                                               # device_check.tgz (all the files) in $OUT
#
# Stages (in order):
#   install     pip install --no-deps (no network) of the wheels in wheels/ that the
#               machine lacks, then `pip install --no-deps --no-build-isolation -e .`;
#               PYTHONPATH holds the repository in any case, so a failed editable
#               install does not stop `import gan_jax`. Dry run: installs nothing, only
#               reports what it would install.
#   devices     jax.devices(), versions, nvidia-smi; fails when the full run finds no GPU.
#   tests       pytest on the files that exercise steps, parallel paths, checkpoints and
#               the CLI (-n 8 --dist loadfile when pytest-xdist is there; tfds tests
#               deselected when tensorflow_datasets is absent).
#   train_f32   `gan-jax train` (python -m gan_jax.cli train) of DCGAN-64 at batch 256 on a
#               generated npz of random 64x64x3 images; steady steps/s from metrics.jsonl
#   train_bf16  the same in bfloat16 when the config has a `dtype` field
#               (config.dtype or config.model.dtype); else "bf16: not supported yet"
#   compare_x1  benchmarks/compare_pytorch.py --json --batch-scale 1 (short windows) on the
#               DCGAN-64 (batch 256) and DCGAN-28 (batch 64) workloads
#   compare_x8  DCGAN-64 at --batch-scale 8 (batch 2048); both are "skipped: torch missing"
#               without torch
#
# Output: everything under $OUT (./device_out when OUT is unset): STAGE.log per stage,
# compare_x1.json / compare_x8.json (JSON lines), train_f32.json, train_bf16.json,
# tests.xml (junit), env.txt, summary.md and summary.json. Large files (the npz, train
# workdirs with their checkpoints, pytest's tmp dirs) go to a scratch dir that is removed
# at the end (KEEP_SCRATCH=1 keeps it).
#
# The lent machine (Python 3.12, jax with the CUDA plugin, flax, optax, orbax-checkpoint,
# torch, pytest, tqdm, matplotlib, tensorboard; NO network) lacks ml_collections (needed
# by `import gan_jax`'s configs and the tests) and maybe pytest-xdist. Fetch their wheels
# on a networked machine into the git-ignored folder wheels/ at the repository root:
#
#   pip download --only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 \
#     --platform manylinux2014_x86_64 --no-deps -d wheels \
#     ml_collections==1.1.0 pytest-xdist==3.8.0 execnet==2.1.2 absl-py==2.5.1 PyYAML==6.0.3 \
#     "setuptools>=70.1"
#
# needed: ml_collections (deps absl-py and PyYAML come with flax/orbax; their wheels are
# only a fallback), pytest-xdist + execnet (else the tests run serially), setuptools>=70.1
# (the editable install runs without build isolation, as pip cannot fetch it offline).
# A wheel whose distribution is already installed is not installed again, so the
# machine's own versions (jax above all) stay. tensorflow-datasets is not needed.
# wheels/ is git-ignored, so the device tool must be told to carry it, e.g.
#   run(command="bash benchmarks/device_check.sh", carry=["wheels"], timeout_s=560)
#
# Environment: PYTHON (interpreter; default the first of python3/python that imports jax),
# OUT, KEEP_SCRATCH=1, DEVICE_CHECK_BUDGET_S (total seconds; 470 full, 100 dry run),
# DEVICE_CHECK_LIMITS (per-stage limits in seconds overriding the defaults, e.g.
# "tests=110,compare_x1=60", to fit what is left of a device lease).

set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$ROOT/benchmarks/device_check.sh"
STAGES=(install devices tests train_f32 train_bf16 compare_x1 compare_x8)
SKIPPED=75  # a stage's exit status for "skipped" (its note says why)

# --- stage bodies (run as `bash device_check.sh __stage NAME`, under timeout) ---------------

note() {  # the one-line result of the running stage
  printf '%s\n' "$*" > "$DC_NOTES/$DC_STAGE"
}

stage_install() {
  local wheels=() missing=() whl dist
  shopt -s nullglob
  for whl in "$ROOT"/wheels/*.whl; do
    dist="$(basename "$whl")"
    dist="${dist%%-*}"
    if "$PY" -c "import importlib.metadata as m, sys; m.version(sys.argv[1])" "$dist" 2>/dev/null; then
      echo "have $dist $("$PY" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$dist"); not installing $(basename "$whl")"
    else
      wheels+=("$whl")
    fi
  done
  for module in ml_collections xdist setuptools; do
    "$PY" -c "import $module" 2>/dev/null || missing+=("$module")
  done
  echo "python: $PY ($("$PY" -V 2>&1)); modules missing before install: ${missing[*]:-none}"
  echo "wheels to install: ${wheels[*]:-none}"
  if [[ "$DC_DRY" == 1 ]]; then
    "$PY" -c "import gan_jax, ml_collections; print('gan_jax from', gan_jax.__file__)" || {
      note "dry run: import gan_jax failed in the current environment"; return 1; }
    local names
    names="$(for w in "${wheels[@]}"; do basename "$w"; done | tr '\n' ' ')"
    note "dry run: nothing installed; would install: ${names:-no wheel} (missing now: ${missing[*]:-none})"
    return 0
  fi
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
  pip_install() {  # plain, then past PEP 668 (an "externally managed" python), then --user
    local how
    for how in "" "--break-system-packages" "--user" "--user --break-system-packages"; do
      # shellcheck disable=SC2086
      "$PY" -m pip install --no-deps --no-index $how "$@" && return 0
    done
    return 1
  }
  local result=""
  if ((${#wheels[@]})); then
    pip_install "${wheels[@]}" || result="wheel install FAILED; "
  fi
  if pip_install --no-build-isolation -e "$ROOT"; then
    result+="pip install -e . ok"
  else
    result+="pip install -e . FAILED (PYTHONPATH=$ROOT used instead)"
  fi
  local check
  check="$("$PY" -c "import gan_jax, ml_collections, sys; print('gan_jax from', gan_jax.__file__)" 2>&1)"
  echo "$check"
  if [[ "$check" != gan_jax\ from* ]]; then
    note "$result; import gan_jax FAILED: $(tail -n 1 <<<"$check") (missing before: ${missing[*]:-none}; ${#wheels[@]} wheel(s) to install from wheels/, see this script's header)"
    return 1
  fi
  "$PY" -c "import xdist" 2>/dev/null || result+="; no pytest-xdist (tests run serially)"
  note "$result; installed ${#wheels[@]} wheel(s)"
}

stage_devices() {
  "$PY" - "$DC_OUT/env.txt" <<'EOF'
import importlib.metadata as m, platform, sys
import jax
lines = [f"python {sys.version.split()[0]} {platform.machine()} {platform.node()}"]
for dist in ("jax", "jaxlib", "jax-cuda12-plugin", "jax-cuda12-pjrt", "jax-cuda13-plugin", "jax-cuda13-pjrt",
             "flax", "optax", "orbax-checkpoint", "numpy", "ml_collections", "torch", "pytest",
             "pytest-xdist", "tensorflow-datasets", "gan_jax"):
  try:
    lines.append(f"{dist} {m.version(dist)}")
  except m.PackageNotFoundError:
    pass
lines.append(f"backend {jax.default_backend()}")
lines.append(f"devices {jax.devices()}")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
  [[ $? == 0 ]] || { note "import jax FAILED"; return 1; }
  if command -v nvidia-smi >/dev/null; then
    timeout 20 nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv |
      tee -a "$DC_OUT/env.txt"
  fi
  local backend devices
  backend="$(sed -n 's/^backend //p' "$DC_OUT/env.txt")"
  devices="$(sed -n 's/^devices //p' "$DC_OUT/env.txt")"
  if [[ "$DC_DRY" == 0 && "$backend" != gpu && "$backend" != cuda ]]; then
    note "NO GPU: backend $backend, devices $devices"
    return 1
  fi
  note "$(sed -n 's/^jax /jax /p' "$DC_OUT/env.txt"), backend $backend: $devices"
}

stage_tests() {
  local files=() args=() f
  if [[ "$DC_DRY" == 1 ]]; then
    # A few quick ones: a CLI run with checkpoints, config errors, parallel-mode and
    # checkpoint-identity checks (the steps file is collected, its tests deselected).
    for f in test_steps.py test_parallel.py test_cli.py test_checkpoint_identity.py; do
      [[ -f "$ROOT/tests/$f" ]] && files+=("tests/$f")
    done
    args+=(-k "unknown_parallel_mode or bad_input or train_writes_metrics or identity")
  else
    # Longest files first: --dist loadfile hands out whole files in this order.
    for f in test_parallel.py test_crash.py test_cli.py test_checkpoint_damage.py test_steps.py \
             test_sweep.py test_layers.py test_models.py test_mixed_precision.py test_nonfinite.py \
             test_checkpoint_identity.py; do
      [[ -f "$ROOT/tests/$f" ]] && files+=("tests/$f")
    done
    if "$PY" -c "import xdist" 2>/dev/null; then
      args+=(-n 8 --dist loadfile)
    fi
    if ! "$PY" -c "import tensorflow_datasets" 2>/dev/null; then
      args+=(-k "not tfds")
    fi
  fi
  # Several processes share the GPU: no process grabs 75% of its memory up front.
  export XLA_PYTHON_CLIENT_PREALLOCATE=false
  cd "$ROOT" || return 1
  "$PY" -m pytest -v -rfEs --durations=15 -p no:cacheprovider --basetemp="$DC_SCRATCH/pytest" \
    --junitxml="$DC_OUT/tests.xml" "${args[@]}" "${files[@]}"
  local rc=$?
  local line
  line="$(grep -E '^=+ .*(passed|failed|error|skipped|deselected|no tests ran).* =+$' "$DC_LOG" | tail -n 1 | tr -d '=')"
  note "pytest${args[*]:+ ${args[*]}}: ${line# } (${#files[@]} files)"
  return $rc
}

stage_compare() {  # $1: batch scale
  local scale="$1" json="$DC_OUT/compare_x$1.json"
  if ! "$PY" -c "import torch" 2>/dev/null; then
    note "skipped: torch missing"
    return $SKIPPED
  fi
  local args=(--json --batch-scale "$scale" --skip-train-memory)
  if [[ "$DC_DRY" == 1 ]]; then
    args+=(--workloads toy2d --seconds 0.3 --window 0.1 --steps-per-call 1)
    export CUDA_VISIBLE_DEVICES=""
  else
    args+=(--seconds 2.5 --window 0.5)
    if [[ "$scale" == 1 ]]; then args+=(--workloads dcgan64,dcgan28); else args+=(--workloads dcgan64); fi
  fi
  cd "$ROOT" || return 1
  echo "$PY benchmarks/compare_pytorch.py ${args[*]}"
  "$PY" benchmarks/compare_pytorch.py "${args[@]}" > "$json"
  local rc=$?
  cat "$json"
  note "$("$PY" - "$json" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
print("; ".join(f"{r['workload']} b{r['batch']}: gan_jax {r['library_steps_per_s']}/s, "
                f"torch {r['pytorch_steps_per_s']}/s, ratio {r['ratio']} ({r['library_device']})"
                for r in rows) or "no result")
EOF
)"
  return $rc
}

stage_train() {  # $1: float32 or bfloat16
  local dtype="$1" config="$ROOT/experiments/configs/dcgan_fashion_mnist.py"
  local tag=f32
  [[ "$dtype" == bfloat16 ]] && tag=bf16
  local field
  field="$("$PY" - "$config" <<'EOF'
import sys
from gan_jax import cli, validation
config = cli.load_config_file(sys.argv[1])
if "dtype" in config or "dtype" in getattr(validation, "FIELDS", {}):
  print("dtype")
elif ("model" in config and "dtype" in config.model) or "dtype" in getattr(validation, "MODEL_FIELDS", {}):
  print("model.dtype")
EOF
)" || { note "loading $config FAILED"; return 1; }
  local overrides=()
  if [[ -n "$field" ]]; then
    overrides+=("--config.$field='$dtype'")
  elif [[ "$dtype" != float32 ]]; then
    echo "the config has no dtype field (config.dtype or config.model.dtype)"
    note "skipped: $tag: not supported yet (the config has no dtype field)"
    return $SKIPPED
  fi
  local npz="$DC_SCRATCH/random64.npz" num_images=1024 steps=300 log_every=50 batch=256
  if [[ "$DC_DRY" == 1 ]]; then
    num_images=32 steps=4 log_every=2 batch=8
    overrides+=(--config.model.generator.features=8 --config.model.discriminator.features=8
                --config.num_sample_images=4)
  fi
  "$PY" -c "
import numpy as np, sys
images = np.random.default_rng(0).integers(0, 256, ($num_images, 64, 64, 3), dtype=np.uint8)
np.savez(sys.argv[1], x=images)" "$npz" || { note "writing $npz FAILED"; return 1; }
  local workdir="$DC_SCRATCH/train_$tag"
  rm -rf "$workdir"
  local command=("$PY" -m gan_jax.cli train --config "$config" --workdir "$workdir" --no-progress
    "--config.data.source='npz'" "--config.data.path='$npz'" "--config.data.name='random64'"
    "--config.batch_size=$batch" "--config.num_steps=$steps" "--config.log_every=$log_every"
    "--config.sample_every=$steps" "--config.checkpoint_every=$steps" "${overrides[@]}")
  echo "${command[*]}"
  local t0 t1 rc
  t0="$(date +%s%N)"
  cd "$ROOT" || return 1
  "${command[@]}"
  rc=$?
  t1="$(date +%s%N)"
  [[ -f "$workdir/metrics.jsonl" ]] && cp "$workdir/metrics.jsonl" "$DC_OUT/train_${tag}_metrics.jsonl"
  note "$("$PY" - "$workdir/metrics.jsonl" "$DC_OUT/train_$tag.json" "$dtype" "$batch" "$steps" \
          "$(( (t1 - t0) / 1000000 ))" "$rc" <<'EOF'
import json, math, sys
path, out, dtype, batch, steps, wall_ms, rc = sys.argv[1:]
try:
  records = [json.loads(l) for l in open(path) if l.strip()]
except OSError:
  records = []
result = {"dtype": dtype, "batch": int(batch), "num_steps": int(steps), "exit_status": int(rc),
          "command_wall_s": int(wall_ms) / 1000, "logged_steps": [r["step"] for r in records]}
if records:
  first, last = records[0], records[-1]
  result["first_log_wall_s"] = first["wall_time"]  # includes the compilation
  if len(records) > 1 and last["wall_time"] > first["wall_time"]:
    rate = (last["step"] - first["step"]) / (last["wall_time"] - first["wall_time"])
    result["steady_steps_per_s"] = round(rate, 2)
    result["steady_images_per_s"] = round(rate * int(batch), 1)
  result["final_d_loss"] = last.get("d_loss")
  result["final_g_loss"] = last.get("g_loss")
  result["finite"] = all(isinstance(last.get(k), (int, float)) and math.isfinite(last[k])
                         for k in ("d_loss", "g_loss"))
json.dump(result, open(out, "w"), indent=1)
line = (f"DCGAN-64 {dtype} batch {batch}, {steps} steps: "
        f"{result.get('steady_steps_per_s', 'n/a')} steps/s steady "
        f"({result.get('steady_images_per_s', 'n/a')} img/s), first log at "
        f"{result.get('first_log_wall_s', 'n/a')} s, command {result['command_wall_s']} s")
if records:
  line += f", final d_loss {last.get('d_loss')} g_loss {last.get('g_loss')}"
print(line)
EOF
)"
  return $rc
}

if [[ "${1:-}" == "__stage" ]]; then
  DC_STAGE="$2"
  case "$DC_STAGE" in
    install) stage_install ;;
    devices) stage_devices ;;
    tests) stage_tests ;;
    compare_x1) stage_compare 1 ;;
    compare_x8) stage_compare 8 ;;
    train_f32) stage_train float32 ;;
    train_bf16) stage_train bfloat16 ;;
    *) echo "unknown stage $DC_STAGE" >&2; exit 2 ;;
  esac
  exit $?
fi

# --- driver -------------------------------------------------------------------------------

usage() {
  sed -n '2,9p' "$SELF" | sed 's/^# \{0,1\}//'
  echo "stages: ${STAGES[*]}"
}

DRY=0
BUNDLE=0
ONLY=""
while (($#)); do
  case "$1" in
    --dry-run) DRY=1 ;;
    --only) ONLY="${2:-}"; shift ;;
    --only=*) ONLY="${1#--only=}" ;;
    --bundle) BUNDLE=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "device_check.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
declare -A SELECTED
for stage in "${STAGES[@]}"; do SELECTED[$stage]=$([[ -z "$ONLY" ]] && echo 1 || echo 0); done
if [[ -n "$ONLY" ]]; then
  IFS=, read -r -a wanted <<<"$ONLY"
  for stage in "${wanted[@]}"; do
    [[ -n "${SELECTED[$stage]+x}" ]] || { echo "device_check.sh: unknown stage $stage; stages: ${STAGES[*]}" >&2; exit 2; }
    SELECTED[$stage]=1
  done
fi

if [[ -n "${PYTHON:-}" ]]; then
  PY="$PYTHON"
else
  PY=""
  for candidate in python3 python; do
    if command -v "$candidate" >/dev/null && "$candidate" -c "import jax" 2>/dev/null; then
      PY="$(command -v "$candidate")"
      break
    fi
  done
  [[ -n "$PY" ]] || PY="$(command -v python3 || command -v python)"
fi

OUT_DIR="${OUT:-./device_out}"
mkdir -p "$OUT_DIR" || { echo "device_check.sh: cannot create $OUT_DIR" >&2; exit 1; }
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/gan_jax_device_check.XXXXXX")"
[[ "${KEEP_SCRATCH:-0}" == 1 ]] || trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$SCRATCH/notes"

export PY DC_DRY="$DRY" DC_OUT="$OUT_DIR" DC_SCRATCH="$SCRATCH" DC_NOTES="$SCRATCH/notes"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
if [[ "$DRY" == 1 ]]; then
  export JAX_PLATFORMS=cpu
  # Tiny programs, many of them (flax's eager init compiles each op): XLA without its
  # expensive optimizations compiles the dry run's train 2.5x faster. Dropped if unknown.
  fast="--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
  if XLA_FLAGS="${XLA_FLAGS:-} $fast" "$PY" -c "import jax.numpy as jnp; jnp.zeros(1).block_until_ready()" \
      >/dev/null 2>&1; then
    export XLA_FLAGS="${XLA_FLAGS:-} $fast"
  fi
  declare -A LIMIT=([install]=20 [devices]=20 [tests]=40 [train_f32]=60 [train_bf16]=60
                    [compare_x1]=40 [compare_x8]=40)
  BUDGET="${DEVICE_CHECK_BUDGET_S:-100}"
  RESERVE=4  # seconds kept for each later stage
else
  declare -A LIMIT=([install]=60 [devices]=40 [tests]=170 [train_f32]=90 [train_bf16]=90
                    [compare_x1]=85 [compare_x8]=70)
  BUDGET="${DEVICE_CHECK_BUDGET_S:-470}"
  RESERVE=20
fi

if [[ -n "${DEVICE_CHECK_LIMITS:-}" ]]; then
  IFS=, read -r -a overrides <<<"$DEVICE_CHECK_LIMITS"
  for pair in "${overrides[@]}"; do
    [[ "$pair" =~ ^([a-z0-9_]+)=([0-9]+)$ && -n "${LIMIT[${BASH_REMATCH[1]}]+x}" ]] ||
      { echo "device_check.sh: DEVICE_CHECK_LIMITS entry '$pair' is not STAGE=SECONDS with a stage of: ${STAGES[*]}" >&2; exit 2; }
    LIMIT[${BASH_REMATCH[1]}]="${BASH_REMATCH[2]}"
  done
fi

now_ms() { date +%s%3N; }
START="$(now_ms)"
MODE=$([[ "$DRY" == 1 ]] && echo "dry run (CPU, tiny sizes)" || echo "full")
echo "gan_jax device check, $MODE: python $PY, output $OUT_DIR, budget ${BUDGET}s"

declare -A STATUS SECS NOTE
for i in "${!STAGES[@]}"; do
  stage="${STAGES[$i]}"
  if [[ "${SELECTED[$stage]}" != 1 ]]; then
    STATUS[$stage]="not run"; SECS[$stage]=0; NOTE[$stage]="not selected (--only $ONLY)"
    continue
  fi
  later=0
  for next in "${STAGES[@]:$((i + 1))}"; do [[ "${SELECTED[$next]}" == 1 ]] && later=$((later + 1)); done
  elapsed=$(( ($(now_ms) - START) / 1000 ))
  limit=$(( BUDGET - elapsed - later * RESERVE ))
  (( limit > LIMIT[$stage] )) && limit=${LIMIT[$stage]}
  log="$OUT_DIR/$stage.log"
  if (( limit < 5 )); then
    STATUS[$stage]="skipped"; SECS[$stage]=0; NOTE[$stage]="skipped: out of time (budget ${BUDGET}s)"
    echo "[$stage] skipped: out of time"
    continue
  fi
  echo "[$stage] start (limit ${limit}s, log $log)"
  t0="$(now_ms)"
  DC_LOG="$log" timeout -k 5 "$limit" bash "$SELF" __stage "$stage" > "$log" 2>&1 < /dev/null
  rc=$?
  if [[ "$stage" == tests && ($rc == 124 || $rc == 137) ]]; then  # what finished before the cut
    note_file="$SCRATCH/notes/tests"
    echo "$(grep -c ' PASSED' "$log") passed, $(grep -c ' FAILED' "$log") failed, $(grep -c ' SKIPPED' "$log") skipped before the cut" > "$note_file"
  fi
  SECS[$stage]="$(awk -v ms=$(( $(now_ms) - t0 )) 'BEGIN { printf "%.1f", ms / 1000 }')"
  NOTE[$stage]="$(cat "$SCRATCH/notes/$stage" 2>/dev/null | head -c 1500)"
  case $rc in
    0) STATUS[$stage]="ok" ;;
    "$SKIPPED") STATUS[$stage]="skipped" ;;
    124|137) STATUS[$stage]="TIMEOUT"; NOTE[$stage]="timed out after ${limit}s; ${NOTE[$stage]:-$(tail -n 2 "$log" | tr '\n' ' ')}" ;;
    *) STATUS[$stage]="FAILED (exit $rc)"; [[ -n "${NOTE[$stage]}" ]] || NOTE[$stage]="$(tail -n 2 "$log" | tr '\n' ' ' | head -c 400)" ;;
  esac
  echo "[$stage] ${STATUS[$stage]} in ${SECS[$stage]}s: ${NOTE[$stage]}"
done
TOTAL="$(awk -v ms=$(( $(now_ms) - START )) 'BEGIN { printf "%.1f", ms / 1000 }')"

# --- summary ------------------------------------------------------------------------------

escape() { sed 's/|/\\|/g' <<<"$1" | tr '\n' ' '; }
{
  echo "# gan_jax device check"
  echo
  echo "- mode: $MODE"
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), host $(hostname 2>/dev/null || echo '?')"
  echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "- python: $PY"
  echo "- total: ${TOTAL}s (budget ${BUDGET}s)"
  echo
  echo "| stage | status | seconds | result | log |"
  echo "| --- | --- | --- | --- | --- |"
  for stage in "${STAGES[@]}"; do
    echo "| $stage | ${STATUS[$stage]} | ${SECS[$stage]} | $(escape "${NOTE[$stage]}") | $stage.log |"
  done
  if [[ -f "$OUT_DIR/env.txt" ]]; then
    echo
    echo '## Environment'
    echo
    echo '```'
    cat "$OUT_DIR/env.txt"
    echo '```'
  fi
} > "$OUT_DIR/summary.md"

for stage in "${STAGES[@]}"; do
  printf '%s\t%s\t%s\t%s\n' "$stage" "${STATUS[$stage]}" "${SECS[$stage]}" "$(tr '\t\n' '  ' <<<"${NOTE[$stage]}")"
done > "$SCRATCH/results.tsv"
"$PY" - "$SCRATCH/results.tsv" "$OUT_DIR/summary.json" "$MODE" "$TOTAL" <<'EOF' || echo "summary.json not written"
import json, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
json.dump({"mode": sys.argv[3], "total_s": float(sys.argv[4]),
           "stages": [{"stage": s, "status": st, "seconds": float(sec), "result": n.strip()}
                      for s, st, sec, n in rows]}, open(sys.argv[2], "w"), indent=1)
EOF

echo
echo "summary ($OUT_DIR/summary.md), ${TOTAL}s:"
printf '%-11s %-16s %8s  %s\n' stage status seconds result
for stage in "${STAGES[@]}"; do
  printf '%-11s %-16s %8s  %s\n' "$stage" "${STATUS[$stage]}" "${SECS[$stage]}" "${NOTE[$stage]}"
done
if [[ "$BUNDLE" == 1 ]]; then  # one archive: the device tool brings back only a few files
  tar czf "$SCRATCH/device_check.tgz" -C "$OUT_DIR" . && mv "$SCRATCH/device_check.tgz" "$OUT_DIR/" &&
    find "$OUT_DIR" -mindepth 1 -maxdepth 1 ! -name summary.md ! -name summary.json \
      ! -name device_check.tgz -exec rm -rf {} + &&
    echo "bundled: $OUT_DIR/device_check.tgz (all files), summary.md, summary.json"
fi
exit 0
