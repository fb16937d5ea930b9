"""Training steps per second: gan_jax's normal code path against a PyTorch reference.

Workloads (one discriminator and one generator update per step, Adam, random
data): the seeds' MLP GAN (seed 002 networks, 28x28, z=100, batch 64), DCGAN-28
(batch 64) and a 2D toy GAN (2 x 128 tanh, z=100, batch 512), the default three;
and DCGAN-64 (64x64x3, batch 256; meant for GPUs: `--workloads dcgan64`).
Each (framework, workload) runs in its own subprocess, so its peak memory is its
own. The two subprocesses of one workload stay alive side by side and take turns:
one timed window of gan_jax, then one of PyTorch, and so on (`--window` seconds
each, `--seconds` in all per framework); the reported rate is the median window.
A drift of the machine's speed (this VM's can change 2x within a minute) then
moves both frameworks alike, and the ratio compares like with like.

  python benchmarks/compare_pytorch.py              # table
  python benchmarks/compare_pytorch.py --json       # one JSON object per workload
  python benchmarks/compare_pytorch.py --batch-scale 8   # larger batches (e.g. on a GPU)
  python benchmarks/compare_pytorch.py --steps-per-call 1 # no fused steps anywhere
  python benchmarks/compare_pytorch.py --workloads dcgan64 --dtype bfloat16  # gan_jax in bf16
  python benchmarks/compare_pytorch.py --whole-run --steps 2000 --runs 3 --cores 0

`--whole-run` times whole training runs instead: `gan-jax train` of
experiments/configs/dcgan_fashion_mnist.py for `--steps` steps (Fashion-MNIST read from
its idx files, a log line every log_every steps, a sample grid every sample_every, a
checkpoint every checkpoint_every) against a PyTorch script doing the same work with the
dcgan28 networks (log lines, sample grid PNGs, torch.save checkpoints at the same
intervals), one process per run, the frameworks alternating (`--cores 0` pins both to
one core; PyTorch then takes one thread). Each run's time runs from starting its process
to the last checkpoint written. The library's process also times its bare compiled step
(the loop's own call, nothing else on the host) for `--bare-steps` steps before the run
and again after it, then clears JAX's caches so the run compiles everything as a fresh
process would; those timings are not the run's. The loop's overhead is the bare steps/s
over the loop's steps/s between its first and last log line, less 1.

Each workload's JSON line is printed as soon as it is measured. On a GPU, PyTorch runs
with cudnn.benchmark on (its fastest eager convolutions) and its default TF32 rules;
JAX with its defaults (TF32 products on recent GPUs) and without preallocating memory.

PyTorch is a benchmark-only dependency: pip install torch==2.13.0 (CPU build).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

WORKLOADS = ("mlp", "dcgan28", "toy2d", "dcgan64")
DEFAULT_WORKLOADS = ("mlp", "dcgan28", "toy2d")
BATCH = {"mlp": 64, "dcgan28": 64, "toy2d": 512, "dcgan64": 256}
EXPERIMENTS_DIR = os.path.join(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "experiments"
)
IMAGE_SHAPE = {"mlp": (28, 28, 1), "dcgan28": (28, 28, 1), "dcgan64": (64, 64, 3)}
# config.steps_per_call per workload: fusing pays for the small models; convolutions run
# slower inside lax.scan on CPU, so DCGAN takes one step per call (RESULTS.md, "Finding:
# convolutions inside lax.scan").
STEPS_PER_CALL = {"mlp": 10, "dcgan28": 1, "toy2d": 10, "dcgan64": 1}
# A pause after each window: OpenMP worker threads (PyTorch's) keep spinning for a while
# after their last task, and would take a core from the other framework's next window.
SETTLE_S = 0.3


# --- gan_jax ---------------------------------------------------------------------------------


def jax_config(workload: str, batch: int, dtype: str = "float32"):
  import ml_collections

  config = ml_collections.ConfigDict()
  config.seed = 0
  config.num_steps = 1
  config.batch_size = batch
  config.loss = "non_saturating"
  config.d_steps = 1
  config.reuse_fakes = True  # the reference's maths: one G forward serves both updates
  config.ema_decay = 0.0
  config.dtype = dtype
  adam = {"name": "adam", "learning_rate": 2e-4, "b1": 0.5, "b2": 0.999}
  config.g_optimizer = dict(adam)
  config.d_optimizer = dict(adam)
  if workload == "mlp":
    config.model = {
      "name": "pytorch_gan_mlp",
      "latent_dim": 100,
      "generator": {},
      "discriminator": {},
    }
  elif workload in ("dcgan28", "dcgan64"):
    config.model = {
      "name": "dcgan",
      "latent_dim": 100,
      "generator": {"features": 64, "kernel_size": 5, "activation": "leaky_relu"},
      "discriminator": {"features": 64, "kernel_size": 5},
    }
  else:
    config.model = {
      "name": "toy_mlp",
      "latent_dim": 100,
      "generator": {"hidden": (128, 128), "activation": "tanh"},
      "discriminator": {"hidden": (128, 128), "activation": "tanh"},
    }
  return config


def compile_jax_step(workload: str, batch: int, steps_per_call: int, dtype: str = "float32"):
  """The training loop's own step (`train.make_loop_step`: non-finite guard, batches drawn
  on the device, `steps_per_call` steps fused into one call) for `workload`, compiled with
  the step options in force. Returns (compiled, state, data arrays, compile seconds)."""
  import numpy as np
  from gan_jax import builders, data, train

  config = jax_config(workload, batch, dtype)
  config.parallel = "none"
  config.nonfinite = "stop"
  config.steps_per_call = steps_per_call
  if workload == "toy2d":
    source = data.toy_source(data.toy.ring())
  else:
    shape = IMAGE_SHAPE[workload]
    images = np.random.default_rng(0).integers(0, 256, (max(8 * batch, 1024),) + shape, np.uint8)
    source = data.image_source("random", images, None)
  runner = train.make_loop_step(source, config)
  state = runner.put_state(builders.create_state_from_config(config, source.data_shape))
  arrays = runner.put_data(source.arrays)
  t0 = time.perf_counter()
  compiled = runner.step_fn.lower(state, arrays).compile()
  return compiled, state, arrays, time.perf_counter() - t0


def setup_jax(workload: str, batch: int, steps_per_call: int, dtype: str = "float32"):
  """Compiles the training loop's own step (`train.make_loop_step`: non-finite
  guard, batches drawn on the device, `steps_per_call` steps fused into one call).

  Returns (run_window, info): run_window(seconds) -> steps/s of one timed window.
  """
  import jax
  from gan_jax import host_memory

  # As the training loop does on CPU (config.retain_host_memory, the default).
  if jax.default_backend() == "cpu":
    host_memory.retain_freed_memory()
  compiled, state, arrays, compile_s = compile_jax_step(workload, batch, steps_per_call, dtype)
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  flops = float(cost.get("flops", 0.0)) if cost else 0.0
  if steps_per_call > 1:  # XLA counts a loop body once; a fused call holds it and its last step
    flops /= 2

  def run_window(seconds: float) -> float:
    nonlocal state
    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or calls < 2:
      state, _ = compiled(state, arrays)
      calls += 1
      if calls % 10 == 0:
        jax.block_until_ready(state)
    jax.block_until_ready(state)
    return calls * steps_per_call / (time.perf_counter() - t0)

  run_window(0.0)  # warm-up: the first calls allocate
  return run_window, {
    "compile_s": compile_s,
    "flops_per_step": flops,
    "dtype": dtype,
    "device": str(jax.devices()[0].device_kind),
  }


def jax_matmul_gflops(n: int = 2048) -> float:
  import jax

  a = jax.random.normal(jax.random.PRNGKey(0), (n, n))
  f = jax.jit(lambda a: a @ a)
  f(a).block_until_ready()
  reps, t0 = 0, time.perf_counter()
  while time.perf_counter() - t0 < 1.0:
    f(a).block_until_ready()
    reps += 1
  return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


# --- PyTorch reference ----------------------------------------------------------------------


def torch_models(workload: str):
  """(generator, discriminator, latent size, sample shape NCHW) of `workload` in PyTorch: the
  networks of experiments/pytorch_reference.py, which the fidelity comparison trains too."""
  if EXPERIMENTS_DIR not in sys.path:
    sys.path.insert(0, EXPERIMENTS_DIR)
  import pytorch_reference

  g, d = pytorch_reference.networks(workload)
  return g, d, pytorch_reference.LATENT, pytorch_reference.SHAPES[workload]


def setup_torch(workload: str, batch: int):
  """The same networks and step in PyTorch, eager. Returns (run_window, info)."""
  import torch
  import torch.nn.functional as F

  torch.manual_seed(0)
  device = "cuda" if torch.cuda.is_available() else "cpu"
  torch.backends.cudnn.benchmark = True
  g, d, latent, shape = torch_models(workload)
  g, d = g.to(device), d.to(device)
  opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
  opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
  data = torch.rand((max(8 * batch, 1024),) + shape, device=device) * 2 - 1
  ones = torch.ones(batch, device=device)
  zeros = torch.zeros(batch, device=device)

  def step():
    # PyTorch's DCGAN example: one generator forward, a discriminator step on the detached
    # fakes, then a generator step through the updated discriminator.
    real = data[torch.randint(0, data.shape[0], (batch,), device=device)]
    fake = g(torch.randn(batch, latent, device=device))
    opt_d.zero_grad()
    d_loss = F.binary_cross_entropy_with_logits(
      d(real).view(-1), ones
    ) + F.binary_cross_entropy_with_logits(d(fake.detach()).view(-1), zeros)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = F.binary_cross_entropy_with_logits(d(fake).view(-1), ones)
    g_loss.backward()
    opt_g.step()

  sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

  def run_window(seconds: float) -> float:
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or steps < 2:
      step()
      steps += 1
    sync()
    return steps / (time.perf_counter() - t0)

  run_window(0.0)
  return run_window, {
    "compile_s": 0.0,
    "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
    "torch_threads": torch.get_num_threads(),
  }


# --- whole runs: `gan-jax train` against a PyTorch script doing the same work --------------

WHOLE_RUN_CONFIG = os.path.join(EXPERIMENTS_DIR, "configs", "dcgan_fashion_mnist.py")
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


def read_jsonl(path: str) -> list[dict]:
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def steady_rate(records: list[dict]) -> float:
  """Steps/s between the first and the last logged step (start-up and compilation excluded)."""
  first, last = records[0], records[-1]
  return (last["step"] - first["step"]) / max(last["wall_time"] - first["wall_time"], 1e-9)


def interval_rates(records: list[dict]) -> list[float]:
  """Steps/s between each two logged steps: slow intervals show where the loop spends."""
  return [
    round((b["step"] - a["step"]) / max(b["wall_time"] - a["wall_time"], 1e-9), 3)
    for a, b in zip(records, records[1:])
  ]


def bare_step(bare_steps: int):
  """fn() -> steps/s of `bare_steps` calls of the loop's own compiled step
  (train.make_loop_step) on the whole-run config's data, dispatched back to back
  with a wait every 10 calls and nothing else on the host."""
  import jax
  from gan_jax import cli, data, recipes, train

  config = cli.load_config_file(WHOLE_RUN_CONFIG)
  source = data.make_data_source(config)
  recipe = recipes.recipe_of(config)
  runner = train.make_loop_step(source, config, recipe)
  state = runner.put_state(recipe.create_state(config, source.data_shape))
  arrays = runner.put_data(source.arrays)

  def timed() -> float:
    nonlocal state
    for _ in range(3):  # compile (again after jax.clear_caches) and warm up
      state, _ = runner.step_fn(state, arrays)
    jax.block_until_ready(state)
    t0 = time.perf_counter()
    for i in range(bare_steps):
      state, _ = runner.step_fn(state, arrays)
      if i % 10 == 9:
        jax.block_until_ready(state)
    jax.block_until_ready(state)
    return bare_steps / (time.perf_counter() - t0)

  return timed


def whole_run_jax(steps: int, workdir: str, bare_steps: int) -> dict:
  """`gan-jax train` of the DCGAN Fashion-MNIST config for `steps` steps; in the same
  process, the same compiled step alone (no logs, pictures or checkpoints) for `bare_steps`
  steps before and after it (their time is not the run's: `bare_before_s`)."""
  t0 = time.perf_counter()
  from gan_jax import cli

  import_s = time.perf_counter() - t0
  t1 = time.perf_counter()
  timed = bare_step(bare_steps)
  bare_before = timed()
  import jax

  jax.clear_caches()  # the run compiles everything again, eager initialization included
  bare_before_s = time.perf_counter() - t1
  t0 += bare_before_s
  status = cli.main(
    [
      "train",
      "--config",
      WHOLE_RUN_CONFIG,
      "--workdir",
      workdir,
      "--no-progress",
      f"--config.num_steps={steps}",
    ]
  )
  if status:
    raise RuntimeError(f"gan-jax train exited with {status}")
  trained_at = time.time()
  train_s = time.perf_counter() - t0 - import_s
  records = read_jsonl(os.path.join(workdir, "metrics.jsonl"))
  bare_after = timed()
  return {
    "import_s": import_s,
    "train_s": train_s,
    "trained_at": trained_at,
    "bare_before_s": bare_before_s,
    "loop_steps_per_s": steady_rate(records),
    "bare_steps_per_s": (bare_before + bare_after) / 2,
    "bare_before_after_steps_per_s": [bare_before, bare_after],
    "interval_steps_per_s": interval_rates(records),
    "first_log_s": records[0]["wall_time"],
    "logged_steps": [records[0]["step"], records[-1]["step"]],
  }


def _torch_image_grid(images, columns: int = 10):
  """(N, 1, H, W) in [-1, 1] -> one (rows*(H+1)+1, columns*(W+1)+1) array in [0, 1]."""
  import numpy as np

  images = np.clip((images[:, 0] + 1.0) / 2.0, 0.0, 1.0)
  n, h, w = images.shape
  rows = -(-n // columns)
  grid = np.ones((rows * (h + 1) + 1, columns * (w + 1) + 1), np.float32)
  for i, image in enumerate(images):
    r, c = divmod(i, columns)
    grid[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + c * (w + 1) : 1 + c * (w + 1) + w] = image
  return grid


def whole_run_torch(
  steps: int,
  workdir: str,
  threads: int,
  log_every: int,
  sample_every: int,
  checkpoint_every: int,
  num_sample_images: int,
) -> dict:
  """The PyTorch script: the dcgan28 networks on Fashion-MNIST (the idx files), a JSON log
  line every log_every steps, a sample grid PNG every sample_every, a checkpoint
  (torch.save to a temporary file, then renamed) every checkpoint_every and at the end."""
  t0 = time.perf_counter()
  import gzip
  import numpy as np
  import torch
  import torch.nn.functional as F
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  import_s = time.perf_counter() - t0
  start = time.time()
  torch.set_num_threads(threads)
  torch.manual_seed(0)
  with gzip.open(os.path.join(FASHION_MNIST_DIR, "train-images-idx3-ubyte.gz"), "rb") as f:
    images = torch.from_numpy(np.frombuffer(f.read(), np.uint8)[16:].reshape(-1, 1, 28, 28).copy())
  g, d, latent, _ = torch_models("dcgan28")
  opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
  opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
  batch = 64
  ones, zeros = torch.ones(batch), torch.zeros(batch)
  fixed_z = torch.randn(num_sample_images, latent)
  for name in ("samples", "checkpoints"):
    os.makedirs(os.path.join(workdir, name), exist_ok=True)
  log = open(os.path.join(workdir, "metrics.jsonl"), "a", buffering=1)

  def save_checkpoint(step):
    path = os.path.join(workdir, "checkpoints", f"step_{step:07d}.pt")
    torch.save(
      {
        "step": step,
        "g": g.state_dict(),
        "d": d.state_dict(),
        "opt_g": opt_g.state_dict(),
        "opt_d": opt_d.state_dict(),
      },
      path + ".tmp",
    )
    os.replace(path + ".tmp", path)

  for step in range(1, steps + 1):
    real = images[torch.randint(0, images.shape[0], (batch,))].float() / 127.5 - 1.0
    fake = g(torch.randn(batch, latent))
    opt_d.zero_grad()
    d_real, d_fake = d(real).view(-1), d(fake.detach()).view(-1)
    d_loss = F.binary_cross_entropy_with_logits(d_real, ones) + F.binary_cross_entropy_with_logits(
      d_fake, zeros
    )
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = F.binary_cross_entropy_with_logits(d(fake).view(-1), ones)
    g_loss.backward()
    opt_g.step()
    if step % log_every == 0 or step == steps:
      log.write(
        json.dumps(
          {
            "step": step,
            "wall_time": time.time() - start,
            "d_loss": d_loss.item(),
            "g_loss": g_loss.item(),
            "d_real": torch.sigmoid(d_real).mean().item(),
            "d_fake": torch.sigmoid(d_fake).mean().item(),
          }
        )
        + "\n"
      )
    if step % sample_every == 0 or step == steps:
      g.eval()
      with torch.no_grad():
        pictures = g(fixed_z).numpy()
      g.train()
      plt.imsave(
        os.path.join(workdir, "samples", f"step_{step:07d}.png"),
        _torch_image_grid(pictures),
        cmap="gray",
        vmin=0.0,
        vmax=1.0,
      )
    if step % checkpoint_every == 0:
      save_checkpoint(step)
  if steps % checkpoint_every:
    save_checkpoint(steps)
  log.close()
  trained_at = time.time()
  train_s = time.perf_counter() - t0 - import_s
  records = read_jsonl(os.path.join(workdir, "metrics.jsonl"))
  return {
    "import_s": import_s,
    "train_s": train_s,
    "trained_at": trained_at,
    "loop_steps_per_s": steady_rate(records),
    "interval_steps_per_s": interval_rates(records),
    "first_log_s": records[0]["wall_time"],
    "torch_threads": torch.get_num_threads(),
    "logged_steps": [records[0]["step"], records[-1]["step"]],
  }


def whole_run_intervals() -> list[int]:
  """log_every, sample_every, checkpoint_every, num_sample_images of the whole-run config."""
  from gan_jax import cli

  config = cli.load_config_file(WHOLE_RUN_CONFIG)
  return [config.log_every, config.sample_every, config.checkpoint_every, config.num_sample_images]


def whole_run_child(
  framework: str, steps: int, bare_steps: int, threads: int, intervals: list[int]
) -> None:
  with tempfile.TemporaryDirectory() as workdir:
    if framework == "jax":
      result = whole_run_jax(steps, workdir, bare_steps)
    else:  # the intervals come from the parent: this process never imports JAX
      result = whole_run_torch(steps, workdir, threads, *intervals)
    result["samples_written"] = len(os.listdir(os.path.join(workdir, "samples")))
  result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  print(json.dumps(result), flush=True)


def whole_runs(
  steps: int, runs: int, bare_steps: int, cores: str, torch_threads: int, as_json: bool
) -> None:
  """`runs` whole runs of each framework, alternating (the first framework alternates too)."""
  pinned = {int(c) for c in cores.split(",")} if cores else None
  intervals = ",".join(map(str, whole_run_intervals()))
  results = {"jax": [], "torch": []}
  for run in range(runs):
    for framework in ("jax", "torch") if run % 2 == 0 else ("torch", "jax"):
      load = os.getloadavg()[0]
      t0, started = time.perf_counter(), time.time()
      done = subprocess.run(
        [
          sys.executable,
          __file__,
          "--whole-run-child",
          framework,
          str(steps),
          str(bare_steps),
          str(torch_threads),
          intervals,
        ],
        capture_output=True,
        text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, pinned)) if pinned else None,
      )
      process_s = time.perf_counter() - t0
      if done.returncode:
        raise RuntimeError(f"{framework} whole run failed:\n{done.stderr[-3000:]}")
      result = json.loads(done.stdout.strip().splitlines()[-1])
      # The whole run: from starting the process (interpreter, imports, data, compilation)
      # to the end of training, the last checkpoint written; not the library's bare-step
      # timing, which follows in the same process.
      result["whole_run_s"] = result.pop("trained_at") - started - result.get("bare_before_s", 0.0)
      result.update(
        framework=framework,
        run=run,
        steps=steps,
        process_s=round(process_s, 2),
        load_1min_before=load,
        load_1min_after=os.getloadavg()[0],
      )
      results[framework].append(result)
      if as_json:
        print(json.dumps(result), flush=True)
  summary = whole_run_summary(results, steps, cores, torch_threads)
  print(
    json.dumps(summary) if as_json else "\n".join(f"{k}: {v}" for k, v in summary.items()),
    flush=True,
  )


def whole_run_summary(results: dict, steps: int, cores: str, torch_threads: int) -> dict:
  median = lambda fw, key: statistics.median(r[key] for r in results[fw])
  jax_whole = [r["whole_run_s"] for r in results["jax"]]
  torch_whole = [r["whole_run_s"] for r in results["torch"]]
  pairs = [t / j for j, t in zip(jax_whole, torch_whole)]
  overheads = [r["bare_steps_per_s"] / r["loop_steps_per_s"] - 1 for r in results["jax"]]
  # The same with the median of the 50-step intervals: robust to other processes' bursts
  # on a shared machine, blind to costs that come once per run (the first picture).
  median_overheads = [
    r["bare_steps_per_s"] / statistics.median(r["interval_steps_per_s"]) - 1 for r in results["jax"]
  ]
  return {
    "steps": steps,
    "runs": len(results["jax"]),
    "cores": cores or "all",
    "torch_threads": torch_threads,
    "library_whole_run_s": [round(s, 1) for s in jax_whole],
    "pytorch_whole_run_s": [round(s, 1) for s in torch_whole],
    "whole_run_ratio_per_pair": [round(p, 3) for p in pairs],
    "whole_run_ratio_median": round(statistics.median(pairs), 3),
    "library_loop_steps_per_s": [round(r["loop_steps_per_s"], 2) for r in results["jax"]],
    "pytorch_loop_steps_per_s": [round(r["loop_steps_per_s"], 2) for r in results["torch"]],
    "library_bare_steps_per_s": [round(r["bare_steps_per_s"], 2) for r in results["jax"]],
    "loop_overhead_over_bare_step": [round(o, 3) for o in overheads],
    "loop_overhead_median_interval": [round(o, 3) for o in median_overheads],
    "loop_ratio_median": round(
      median("jax", "loop_steps_per_s") / median("torch", "loop_steps_per_s"), 3
    ),
  }


# --- driver ---------------------------------------------------------------------------------


def child(framework: str, workload: str, batch: int, steps_per_call: int, dtype: str) -> None:
  """Sets up, says so, then runs one timed window per 'run SECONDS' line on stdin."""
  if framework == "matmul":
    print(json.dumps({"matmul_gflops": jax_matmul_gflops()}), flush=True)
    return
  run_window, info = (
    setup_jax(workload, batch, steps_per_call, dtype)
    if framework == "jax"
    else setup_torch(workload, batch)
  )
  print(json.dumps(info), flush=True)
  for line in sys.stdin:
    if not line.startswith("run "):
      break
    print(json.dumps({"steps_per_s": run_window(float(line.split()[1]))}), flush=True)
  print(
    json.dumps({"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}),
    flush=True,
  )


class Child:
  """One framework's benchmark process; its stdout carries one JSON object per line."""

  def __init__(
    self, framework: str, workload: str, batch: int, steps_per_call: int = 1, dtype: str = "float32"
  ):
    self.name = f"{framework}/{workload}"
    # stderr to a file, not a pipe: nobody reads it while the child runs, and a full
    # pipe would block the child's next warning.
    self.stderr = tempfile.TemporaryFile(mode="w+")
    self.proc = subprocess.Popen(
      [
        sys.executable,
        __file__,
        "--child",
        framework,
        workload,
        str(batch),
        str(steps_per_call),
        dtype,
      ],
      stdin=subprocess.PIPE,
      stdout=subprocess.PIPE,
      stderr=self.stderr,
      text=True,
      # Two processes share a GPU: JAX must not take 75% of its memory up front.
      env=dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="false"),
    )

  def read(self) -> dict:
    line = self.proc.stdout.readline()
    if not line:
      self.proc.wait()
      self.stderr.seek(0)
      raise RuntimeError(f"{self.name} failed:\n{self.stderr.read()[-3000:]}")
    return json.loads(line)

  def window(self, seconds: float) -> float:
    self.proc.stdin.write(f"run {seconds}\n")
    self.proc.stdin.flush()
    return self.read()["steps_per_s"]

  def close(self) -> dict:
    self.proc.stdin.write("quit\n")
    self.proc.stdin.flush()
    result = self.read()
    self.proc.wait()
    return result


def measure_pair(
  workload: str,
  batch: int,
  seconds: float,
  window: float,
  steps_per_call: int,
  dtype: str = "float32",
):
  """gan_jax and PyTorch on one workload, in alternating timed windows.

  Returns (library, reference): each its setup info plus the median steps/s, every
  window's steps/s and the process's peak RSS.
  """
  library = Child("jax", workload, batch, steps_per_call, dtype)
  library_info = library.read()  # compile before PyTorch starts: no overlap with its set-up
  reference = Child("torch", workload, batch)
  reference_info = reference.read()
  windows = max(3, round(seconds / window))
  rates = {"jax": [], "torch": []}
  for _ in range(windows):
    rates["jax"].append(library.window(window))
    time.sleep(SETTLE_S)
    rates["torch"].append(reference.window(window))
    time.sleep(SETTLE_S)
  out = []
  for info, child_, key in ((library_info, library, "jax"), (reference_info, reference, "torch")):
    info.update(child_.close())
    info["windows_steps_per_s"] = [round(r, 2) for r in rates[key]]
    info["steps_per_s"] = statistics.median(rates[key])
    out.append(info)
  return out


def matmul_peak_gflops() -> float:
  matmul = Child("matmul", "-", 0)
  peak = matmul.read()["matmul_gflops"]
  matmul.proc.wait()
  return peak


def train_peak_memory_mib(steps: int = 50) -> float | None:
  """Peak RSS of a real `gan-jax train` run of the DCGAN Fashion-MNIST config (a child process)."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  config = os.path.join(root, "experiments", "configs", "dcgan_fashion_mnist.py")
  if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
    return None
  with tempfile.TemporaryDirectory() as workdir:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(
      [
        sys.executable,
        "-m",
        "gan_jax.cli",
        "train",
        "--config",
        config,
        "--workdir",
        workdir,
        "--no-progress",
        f"--config.num_steps={steps}",
        f"--config.log_every={steps}",
        f"--config.sample_every={steps}",
        f"--config.checkpoint_every={steps}",
      ],
      check=True,
      capture_output=True,
      cwd=root,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
  return max(before, after) / 1024


def main() -> None:
  if len(sys.argv) > 1 and sys.argv[1] == "--child":
    child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    return
  if len(sys.argv) > 1 and sys.argv[1] == "--whole-run-child":
    whole_run_child(
      sys.argv[2],
      int(sys.argv[3]),
      int(sys.argv[4]),
      int(sys.argv[5]),
      [int(v) for v in sys.argv[6].split(",")],
    )
    return
  parser = argparse.ArgumentParser(
    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
  )
  parser.add_argument(
    "--workloads",
    default=",".join(DEFAULT_WORKLOADS),
    help=f"comma-separated, of: {', '.join(WORKLOADS)}",
  )
  parser.add_argument(
    "--dtype",
    default="float32",
    choices=("float32", "bfloat16"),
    help="gan_jax's config.dtype (PyTorch stays float32)",
  )
  parser.add_argument(
    "--seconds",
    type=float,
    default=10.0,
    help="timed seconds per framework and workload, in windows that alternate",
  )
  parser.add_argument("--window", type=float, default=1.0, help="seconds of one timed window")
  parser.add_argument("--batch-scale", type=int, default=1, help="multiply every batch size")
  parser.add_argument(
    "--steps-per-call",
    type=int,
    default=0,
    help="config.steps_per_call for every workload (default: "
    + ", ".join(f"{k} {v}" for k, v in STEPS_PER_CALL.items())
    + ")",
  )
  parser.add_argument("--json", action="store_true", help="one JSON object per workload")
  parser.add_argument(
    "--skip-train-memory",
    action="store_true",
    help="skip measuring the peak memory of `gan-jax train` on DCGAN Fashion-MNIST",
  )
  parser.add_argument(
    "--whole-run",
    action="store_true",
    help="whole runs instead: `gan-jax train` of the DCGAN Fashion-MNIST config "
    "against a PyTorch script doing the same work, alternating",
  )
  parser.add_argument("--steps", type=int, default=2000, help="--whole-run: training steps")
  parser.add_argument("--runs", type=int, default=3, help="--whole-run: runs per framework")
  parser.add_argument(
    "--bare-steps",
    type=int,
    default=300,
    help="--whole-run: steps of the library's bare compiled step, timed in the "
    "library's process before and after its run",
  )
  parser.add_argument(
    "--cores",
    default="",
    help="--whole-run: pin both frameworks to these cores (e.g. 0); default all",
  )
  parser.add_argument(
    "--torch-threads",
    type=int,
    default=0,
    help="--whole-run: PyTorch's threads (default: the pinned cores' count)",
  )
  args = parser.parse_args()
  if args.whole_run:
    threads = args.torch_threads or (len(args.cores.split(",")) if args.cores else os.cpu_count())
    whole_runs(args.steps, args.runs, args.bare_steps, args.cores, threads, args.json)
    return
  workloads = args.workloads.split(",")
  for w in workloads:
    if w not in WORKLOADS:
      parser.error(f"workload {w!r} is unknown; accepted: {', '.join(WORKLOADS)}")
  rows = []
  peak = matmul_peak_gflops()
  train_mib = None if args.skip_train_memory else train_peak_memory_mib()
  for workload in workloads:
    batch = BATCH[workload] * args.batch_scale
    fused = args.steps_per_call or STEPS_PER_CALL[workload]
    library, reference = measure_pair(workload, batch, args.seconds, args.window, fused, args.dtype)
    rows.append(
      {
        "workload": workload,
        "batch": batch,
        "steps_per_call": fused,
        "library_dtype": args.dtype,
        "library_steps_per_s": round(library["steps_per_s"], 2),
        "pytorch_steps_per_s": round(reference["steps_per_s"], 2),
        "ratio": round(library["steps_per_s"] / reference["steps_per_s"], 3),
        "library_compile_s": round(library["compile_s"], 2),
        "flops_per_step": library["flops_per_step"],
        "library_gflops_per_s": round(library["flops_per_step"] * library["steps_per_s"] / 1e9, 1),
        "library_peak_rss_mib": round(library["peak_rss_mib"], 1),
        "pytorch_peak_rss_mib": round(reference["peak_rss_mib"], 1),
        "library_device": library["device"],
        "pytorch_device": reference["device"],
        "library_windows_steps_per_s": library["windows_steps_per_s"],
        "pytorch_windows_steps_per_s": reference["windows_steps_per_s"],
        "matmul_peak_gflops_per_s": round(peak, 1) if peak else None,
        "train_dcgan_fashion_mnist_peak_rss_mib": train_mib and round(train_mib, 1),
      }
    )
    if args.json:  # as soon as measured: a run cut short keeps its finished workloads
      print(json.dumps(rows[-1]), flush=True)
  if not args.json:
    print(
      f"machine: {platform.machine()} {os.cpu_count()} cores; matmul peak (JAX, 2048^2 f32): "
      f"{peak and round(peak, 1)} GFLOP/s"
    )
    print(
      f"peak memory of `gan-jax train` (DCGAN, Fashion-MNIST): {train_mib and round(train_mib)} MiB"
    )
    print(
      f"{'workload':10} {'batch':>5} {'gan_jax/s':>10} {'torch/s':>9} {'ratio':>6} "
      f"{'compile s':>9} "
      f"{'GFLOP/s':>8} {'jax MiB':>8} {'torch MiB':>9}"
    )
    for r in rows:
      print(
        f"{r['workload']:10} {r['batch']:5d} {r['library_steps_per_s']:10.1f} "
        f"{r['pytorch_steps_per_s']:9.1f} "
        f"{r['ratio']:6.2f} {r['library_compile_s']:9.2f} {r['library_gflops_per_s']:8.1f} "
        f"{r['library_peak_rss_mib']:8.0f} {r['pytorch_peak_rss_mib']:9.0f}"
      )


if __name__ == "__main__":
  main()
