"""Measurements of XLA on this CPU that shaped gan_jax's code. Each prints a ratio in one run.

  python benchmarks/xla_cpu_findings.py

Each finding has a name (benchmarks/RESULTS.md, "Finding: ..."), given here with its
former number, which the command line also accepts:

sub-pixel-transposed-convolution (1):
   The kernel gradient of a stride-2 transposed convolution (lax.conv_transpose, as
   flax.linen.ConvTranspose computes it) against the same layer as a sub-pixel
   convolution (gan_jax.models.layers.SubpixelConvTranspose): why DCGAN uses the latter.
convolutions-inside-scan (2):
   A convolution's forward+backward inside lax.scan against the same work unrolled
   in Python: why train_step loops over k discriminator steps in Python, and why
   `steps_per_call` (which uses lax.scan) stays 1 for convolutional models.
dispatch-cost (3):
   One small-MLP GAN step per compiled call against ten per call (lax.scan): the
   dispatch cost that `steps_per_call` removes for toy and MLP models.
dcgan-layer-times (4):
   The DCGAN-28 step's largest layers alone: forward, input gradient and kernel
   gradient, i.e. where the step's time goes.
convolutions-inside-switch (5):
   The same convolution's forward+backward as one branch of lax.switch against
   called directly: why the progressive GAN compiles one step per stage
   (recipes.Recipe.phase) instead of selecting the stage with lax.switch.
matrix-product-floor (6):
   The matrix products of one MLP GAN step (seeds' MLP, batch 64; 2D toy, batch 512),
   each timed as XLA runs it with the step's options (several per call, so dispatch is
   shared) and as PyTorch's torch.mm runs it, summed, against the library's whole fused
   step: the floor that XLA's products set on this CPU, and how it compares with PyTorch's;
   and Adam's update over the same parameters, optax's against torch.optim.Adam's.
cores-change-bits (7):
   The same 20 training steps (config_base.ring(), seed 0) in a process allowed one core
   against one allowed every core: XLA sizes its CPU thread pool from the cores a process
   may use, and that can change how its kernels split float sums, so the parameters can
   differ in their last bits. Why the mixture benchmark trains every row in a worker pinned
   to one core whatever --jobs is, and why "same seed, same bits" assumes the same affinity.
xla-own-convolutions-and-phases (8):
   The DCGAN-28 convolutions, forward and both gradients, compiled with XLA's default
   CPU options (YNNPACK takes every convolution) and with gan_jax.xla_options (XLA's
   own convolutions), and D's stride-2 convolution as lax computes it and as
   gan_jax.models.layers.PhaseConv does: why the loop's steps compile with
   xla_options and why DCGAN discriminators use PhaseConv from 16 input channels.
small-maps-by-dft (9):
   Stride-1 'SAME' convolutions of small maps, forward and both gradients, as XLA
   computes them and by a small DFT (gan_jax.models.layers.conv_fourier): a kernel
   larger than its map (5x5 on the 4x4 map of DCGAN-32/64's first layer) takes a slow
   path in XLA's CPU convolutions, and on a 7x7 map a 5x5 kernel needs 7x fewer
   multiplications by DFT. Why DCGAN generators compute their first layer by DFT on CPU
   (models.dcgan.fourier_pays) and keep XLA's convolution for 3x3 kernels.
dcgan-layers-against-pytorch:
   Each DCGAN-28 convolution, forward and both gradients, as gan_jax computes it on CPU
   against PyTorch's eager layer in its own process (skipped without torch), and the
   other formulations tried for the layers where PyTorch is faster: where the DCGAN-28
   step's ratio to PyTorch comes from, layer by layer, on the host it runs on.
dcgan-step-formulations:
   The whole DCGAN-28 step with each choice of its stride-2 layers' formulations
   (generator: sub-pixel or output phases; discriminator: phases, or lax with the input
   gradient by phases), alternating windows in one process: what decides
   models.layer_formulations on CPU, since layers timed alone in programs of their own
   do not rank the same as inside the step.
dot-fusion-types:
   The toy and MLP steps compiled with YNNPACK taking each matrix product alone (the
   shipped gan_jax.xla_options) against YNNPACK fusing products with their elementwise
   neighbours, alternating windows in one process: why the shipped options keep products
   alone.
batch-norm-reductions:
   flax's BatchNorm over the DCGAN-28 generator's first activations (64 x 12544), its
   forward pass and its gradients, and the DCGAN-28 and MLP steps, compiled with the shipped
   options (YNNPACK takes reductions and fuses their elementwise neighbours) and with
   YNNPACK taking matrix products only: why the shipped options keep YNNPACK's reductions
   although they make a batch norm's gradient slower.
step-page-faults:
   The DCGAN-28 step (compare_pytorch's dcgan28 workload) in a process on one core with
   glibc's malloc as it comes and with gan_jax.host_memory.retain_freed_memory(): page
   faults, kernel time and steps/s per step, alternating processes: why the training loop
   keeps freed host memory on CPU (config.retain_host_memory).
copies-of-the-loop-carried-state:
   The MLP and toy fused steps compiled with the shipped options and without region
   analysis in copy insertion: the parameter-sized copies in the loop body, the state's
   bits after 30 steps, and steps/s in alternating windows: why the shipped options turn
   region analysis on.
second-core:
   Single matrix products of the MLP and toy steps (one per call) and those whole steps,
   each framework in a process allowed one core and in one allowed two: how much each
   gains from the second core, i.e. why the toy step's ratio to PyTorch is lower on two
   cores than on one on hosts where XLA runs those products on one thread.
threefry-rolled-loops:
   The MLP and toy fused steps with jax's CPU lowering of the threefry hash (a rolled
   loop) and with the unrolled lowering jax uses elsewhere: same bits (integer
   arithmetic), while loops, compile time and steps/s in alternating windows; why the
   library leaves jax's random-number lowering as it is.
the-guards-cost:
   The MLP and toy fused steps with the non-finite guard as shipped and with fewer of its
   checks (no parameter checks, no gradient norms, losses only, none), alternating
   windows in one process: what the guard costs a step that PyTorch's reference does
   without.

  python benchmarks/xla_cpu_findings.py matrix-product-floor   # one finding (or: 6)
"""

from __future__ import annotations

import math
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from gan_jax import xla_options
from gan_jax.models.layers import SubpixelConvTranspose


def per_call_ms(fn, *args, seconds: float = 2.0) -> float:
  jax.block_until_ready(fn(*args))
  calls, t0 = 0, time.perf_counter()
  while time.perf_counter() - t0 < seconds:
    jax.block_until_ready(fn(*args))
    calls += 1
  return (time.perf_counter() - t0) / calls * 1000


def conv_transpose_kernel_gradient():
  print(
    "sub-pixel-transposed-convolution\n   stride-2 ConvTranspose 128->64, 5x5, 7x7 -> 14x14, "
    "batch 64: kernel gradient"
  )
  x = jax.random.normal(jax.random.PRNGKey(0), (64, 7, 7, 128))
  results = {}
  for name, module in (
    ("lax.conv_transpose", nn.ConvTranspose(64, (5, 5), strides=(2, 2), padding="SAME")),
    ("sub-pixel", SubpixelConvTranspose(64, (5, 5), strides=(2, 2))),
  ):
    variables = module.init(jax.random.PRNGKey(1), x)
    grad = jax.jit(jax.grad(lambda v, x, m=module: jnp.sum(m.apply(v, x) ** 2)))
    results[name] = per_call_ms(grad, variables, x)
    print(f"   {name:20s} {results[name]:8.2f} ms")
  print(f"   ratio: {results['lax.conv_transpose'] / results['sub-pixel']:.1f}x")


def conv_gradient_problem():
  """(params, x, grad) of D's Conv 64->128, 5x5 stride 2 on 14x14, batch 64."""
  conv = nn.Conv(128, (5, 5), strides=(2, 2), padding="SAME")
  x = jax.random.normal(jax.random.PRNGKey(0), (64, 14, 14, 64))
  params = conv.init(jax.random.PRNGKey(1), x)
  return params, x, jax.grad(lambda p, x: jnp.sum(conv.apply(p, x) ** 2))


def conv_inside_scan():
  print(
    "convolutions-inside-scan\n   Conv 64->128, 5x5 stride 2 on 14x14, batch 64, "
    "forward+backward, 4 times"
  )
  params, x, grad = conv_gradient_problem()

  def unrolled(p, x):
    for _ in range(4):
      p = jax.tree.map(lambda a, g: a - 1e-4 * g, p, grad(p, x))
    return p

  def scanned(p, x):
    def body(p, _):
      return jax.tree.map(lambda a, g: a - 1e-4 * g, p, grad(p, x)), None

    return lax.scan(body, p, None, length=4)[0]

  a = per_call_ms(jax.jit(unrolled), params, x)
  b = per_call_ms(jax.jit(scanned), params, x)
  print(
    f"   Python loop (unrolled) {a:8.2f} ms\n   lax.scan               {b:8.2f} ms\n   ratio: "
    f"{b / a:.1f}x"
  )
  # Why: outside a loop XLA transposes the kernel gradient's operands so that its
  # convolution has the canonical layout b01f_01io->b01f; inside the loop body it
  # keeps the layout autodiff produced, which the CPU backend runs on a slow path.
  for name, fn in (("unrolled", unrolled), ("lax.scan", scanned)):
    text = jax.jit(fn).lower(params, x).compile().as_text()
    labels = sorted(
      {
        line.split("dim_labels=")[1].split(",")[0]
        for line in text.splitlines()
        if " convolution(" in line
      }
    )
    print(f"   {name:22s} convolution layouts: {', '.join(labels)}")


def conv_inside_switch():
  print(
    "convolutions-inside-switch\n   Conv 64->128, 5x5 stride 2 on 14x14, batch 64, "
    "forward+backward, in a lax.switch branch"
  )
  params, x, grad = conv_gradient_problem()
  branches = [lambda p, x: jax.tree.map(jnp.zeros_like, p), grad]
  direct = per_call_ms(jax.jit(grad), params, x)
  switched = per_call_ms(
    jax.jit(lambda p, x, i: lax.switch(i, branches, p, x)), params, x, jnp.int32(1)
  )
  print(
    f"   direct                 {direct:8.2f} ms\n   lax.switch branch      {switched:8.2f} ms\n"
    f"   ratio: {switched / direct:.1f}x"
  )


def dispatch_cost():
  print("dispatch-cost\n   2D toy GAN (2x128 tanh, z=100, batch 512): steps per compiled call")
  import ml_collections
  from gan_jax import builders, data, train

  config = ml_collections.ConfigDict(
    {
      "seed": 0,
      "loss": "non_saturating",
      "d_steps": 1,
      "model": {
        "name": "toy_mlp",
        "latent_dim": 100,
        "generator": {"hidden": (128, 128), "activation": "tanh"},
        "discriminator": {"hidden": (128, 128), "activation": "tanh"},
      },
      "g_optimizer": {"name": "adam", "learning_rate": 2e-4},
      "d_optimizer": {"name": "adam", "learning_rate": 2e-4},
    }
  )
  source = data.toy_source(data.toy.ring())
  state = builders.create_state_from_config(config, source.data_shape)
  rates = {}
  for n in (1, 10):
    import functools

    step = functools.partial(train.sampled_train_step, sample=source.sample, local_batch=512)
    fn = jax.jit(functools.partial(train.fuse_steps(step, n), axis_name=None))
    rates[n] = n / per_call_ms(fn, state, {}) * 1000
    print(f"   {n:2d} per call: {rates[n]:8.1f} steps/s")
  print(f"   ratio: {rates[10] / rates[1]:.2f}x")


def dcgan_layer_times():
  print(
    "dcgan-layer-times\n   DCGAN-28 layers, batch 64: forward, input gradient, kernel gradient (ms)"
  )
  layers = (
    (
      "G ConvTranspose 256->128 5x5 s1 on 7x7",
      (64, 7, 7, 256),
      nn.ConvTranspose(128, (5, 5), strides=(1, 1), padding="SAME", use_bias=False),
    ),
    (
      "D Conv 64->128 5x5 s2 on 14x14",
      (64, 14, 14, 64),
      nn.Conv(128, (5, 5), strides=(2, 2), padding="SAME"),
    ),
    (
      "D Conv 1->64 5x5 s2 on 28x28",
      (64, 28, 28, 1),
      nn.Conv(64, (5, 5), strides=(2, 2), padding="SAME"),
    ),
  )
  for name, shape, module in layers:
    x = jax.random.normal(jax.random.PRNGKey(0), shape)
    variables = module.init(jax.random.PRNGKey(1), x)
    loss = lambda v, x, m=module: jnp.sum(m.apply(v, x) ** 2)
    forward = per_call_ms(jax.jit(module.apply), variables, x)
    input_grad = per_call_ms(jax.jit(jax.grad(loss, argnums=1)), variables, x)
    kernel_grad = per_call_ms(jax.jit(jax.grad(loss)), variables, x)
    print(f"   {name:40s} {forward:7.1f} {input_grad:7.1f} {kernel_grad:7.1f}")


def step_matmuls(g_layers, d_layers, batch):
  """(name, lhs shape, rhs shape, dimension numbers) of every matrix product of one GAN step.

  G forward and backward on `batch` rows; D forward and backward on real and fake rows
  together (2 * batch, kernel gradients, input gradients but the first layer's); the
  generator's loss through D on `batch` rows (input gradients only).
  """
  forward = (((1,), (0,)), ((), ()))  # x (B, in) @ W (in, out)
  input_grad = (((1,), (1,)), ((), ()))  # dy (B, out) @ W.T
  kernel_grad = (((0,), (0,)), ((), ()))  # x.T @ dy
  products = []

  def layers(name, dims, rows, kernel, first_input):
    for i, (n_in, n_out) in enumerate(dims):
      products.append((f"{name}{i} fwd", (rows, n_in), (n_in, n_out), forward))
      if kernel:
        products.append((f"{name}{i} dW", (rows, n_in), (rows, n_out), kernel_grad))
      if i > 0 or first_input:
        products.append((f"{name}{i} dx", (rows, n_out), (n_in, n_out), input_grad))

  layers("G", g_layers, batch, kernel=True, first_input=False)
  layers("D", d_layers, 2 * batch, kernel=True, first_input=False)
  layers("D(G)", d_layers, batch, kernel=False, first_input=True)
  return products


# (in, out) of the Dense layers of compare_pytorch's MLP workloads: (generator, discriminator).
DENSE_LAYERS = {
  "mlp": (
    [(100, 128), (128, 256), (256, 512), (512, 1024), (1024, 784)],
    [(784, 512), (512, 256), (256, 1)],
  ),
  "toy2d": ([(100, 128), (128, 128), (128, 2)], [(2, 128), (128, 128), (128, 1)]),
}

# Independent products per compiled call, so that the call's dispatch (5-50 us on CPU) is
# shared and each product is timed as it runs inside a step.
PRODUCT_REPEATS = 8

# The same products in PyTorch (torch.mm, oneDNN/MKL on CPU), in a process of its own: its
# OpenMP threads keep spinning after their last task and would slow XLA's threads beside them.
_TORCH_PRODUCTS = r"""
import json, sys, time
import torch
cases, repeats = json.loads(sys.argv[1]), int(sys.argv[2])
parameter_shapes = json.loads(sys.argv[3])
g = torch.Generator().manual_seed(0)
out = []
for lhs, rhs, lhs_contracting, rhs_contracting in cases:
  a = [torch.randn(*lhs, generator=g) for _ in range(repeats)]
  a = [x if lhs_contracting == 1 else x.t() for x in a]
  b = torch.randn(*rhs, generator=g)
  b = b if rhs_contracting == 0 else b.t()
  def call():
    for x in a:
      torch.mm(x, b)
  best = float("inf")
  for _ in range(2):
    call()
    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 0.3:
      call(); calls += 1
    best = min(best, (time.perf_counter() - t0) / calls / repeats * 1000)
  out.append(best)
parameters = [torch.nn.Parameter(torch.randn(*s, generator=g) * 0.01) for s in parameter_shapes]
for p in parameters:
  p.grad = torch.full_like(p, 1e-3)
adam = torch.optim.Adam(parameters, lr=2e-4, betas=(0.5, 0.999))
adam.step()
calls, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 1.0:
  adam.step(); calls += 1
print(json.dumps({"products": out, "adam": (time.perf_counter() - t0) / calls * 1000}))
"""


def adam_update_ms(parameter_shapes) -> float:
  """ms of one optax Adam update (the workloads' settings) over parameters of these shapes,
  jitted with the step's options and the parameters and optimizer state donated, as in the
  train step."""
  import optax

  keys = jax.random.split(jax.random.PRNGKey(0), len(parameter_shapes))
  params = [0.01 * jax.random.normal(k, s) for k, s in zip(keys, parameter_shapes)]
  grads = [jnp.full(s, 1e-3) for s in parameter_shapes]
  adam = optax.adam(2e-4, b1=0.5, b2=0.999)

  def update(params, state, grads):
    updates, state = adam.update(grads, state, params)
    return optax.apply_updates(params, updates), state

  update = xla_options.jit(update, donate_argnums=(0, 1))
  state = adam.init(params)
  params, state = update(params, state, grads)
  jax.block_until_ready(params)
  calls, t0 = 0, time.perf_counter()
  while time.perf_counter() - t0 < 1.0:
    params, state = update(params, state, grads)
    calls += 1
  jax.block_until_ready(params)
  return (time.perf_counter() - t0) / calls * 1000


def product_ms(lhs, rhs, dims) -> float:
  """One product's ms as XLA runs it with the step's options: PRODUCT_REPEATS independent
  products (fresh operands each) in one call, the best of two windows, per product."""
  keys = jax.random.split(jax.random.PRNGKey(0), PRODUCT_REPEATS + 1)
  lefts = [jax.random.normal(k, lhs) for k in keys[:-1]]
  right = jax.random.normal(keys[-1], rhs)
  products = xla_options.jit(lambda xs, w: tuple(lax.dot_general(x, w, dims) for x in xs))
  return min(per_call_ms(products, lefts, right, seconds=0.3) for _ in range(2)) / PRODUCT_REPEATS


def mlp_step_matmul_floor():
  print(
    "matrix-product-floor\n   one GAN step's matrix products (ms), as XLA runs them with the "
    "step's options\n   and as PyTorch's torch.mm does (both cores), against the library's "
    "whole step"
  )
  import json
  import os
  import subprocess
  import sys

  sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
  import compare_pytorch
  from gan_jax import host_memory

  if jax.default_backend() == "cpu":  # as the training loop does: no page faults per call
    host_memory.retain_freed_memory()
  for workload, (g_layers, d_layers) in DENSE_LAYERS.items():
    batch = compare_pytorch.BATCH[workload]
    products = step_matmuls(g_layers, d_layers, batch)
    cases = [(lhs, rhs, dims[0][0][0], dims[0][1][0]) for _, lhs, rhs, dims in products]
    # Dense kernels and biases of both players; the batch norms' few scales are left out.
    parameter_shapes = [
      list(s) for n_in, n_out in g_layers + d_layers for s in ((n_in, n_out), (n_out,))
    ]
    done = subprocess.run(
      [
        sys.executable,
        "-c",
        _TORCH_PRODUCTS,
        json.dumps(cases),
        str(PRODUCT_REPEATS),
        json.dumps(parameter_shapes),
      ],
      capture_output=True,
      text=True,
      env=os.environ,
    )
    torch_ms, torch_adam = [None] * len(products), None
    if done.returncode == 0:
      measured = json.loads(done.stdout.strip().splitlines()[-1])
      torch_ms, torch_adam = measured["products"], measured["adam"]
    else:
      print("   PyTorch not measured:", (done.stderr.strip().splitlines() or ["?"])[-1])
    print(f"   {workload}, batch {batch}: {'product':34s} {'XLA':>7s} {'PyTorch':>7s}")
    total = total_torch = 0.0
    for (name, lhs, rhs, dims), theirs in zip(products, torch_ms):
      ours = product_ms(lhs, rhs, dims)
      total += ours
      total_torch += theirs or 0.0
      text = f"{theirs:7.3f}" if theirs else "      -"
      print(f"     {name:10s} {str(lhs):12s} x {str(rhs):12s}       {ours:7.3f} {text}")
    run_window, _ = compare_pytorch.setup_jax(
      workload, batch, compare_pytorch.STEPS_PER_CALL[workload]
    )
    step_ms = 1000 / max(run_window(2.0) for _ in range(3))
    ratio = f" ({total / total_torch:.2f}x PyTorch's {total_torch:.2f} ms)" if total_torch else ""
    print(
      f"   {workload}: products {total:.2f} ms{ratio}; the library's whole step {step_ms:.2f} ms "
      f"(products {100 * total / step_ms:.0f}% of it)"
    )
    adam = adam_update_ms(parameter_shapes)
    theirs = f" against torch.optim.Adam's {torch_adam:.2f} ms" if torch_adam else ""
    count = sum(math.prod(shape) for shape in parameter_shapes) / 1e6
    print(f"   {workload}: Adam's update over {count:.2f} M parameters {adam:.2f} ms{theirs}")


_AFFINITY_RUN = r"""
import os, sys
os.sched_setaffinity(0, {int(c) for c in sys.argv[1].split(",")})  # before XLA starts
import hashlib, jax, numpy as np
from gan_jax import config_base, sweep
config = config_base.ring()
config.num_steps, config.steps_per_call = 20, 10
state = sweep.select(sweep.train_seeds(config, [0]), 0)
leaves = [np.asarray(x) for x in jax.tree.leaves(state.g_params)]
print(hashlib.sha256(b"".join(x.tobytes() for x in leaves)).hexdigest()[:16])
"""


def cores_change_bits():
  print(
    "cores-change-bits\n   the same 20 ring GAN steps in a process allowed one core and one "
    "allowed all"
  )
  import os
  import subprocess
  import sys

  cores = sorted(os.sched_getaffinity(0))
  if len(cores) < 2:
    print("   needs at least 2 cores")
    return
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  digests = {}
  for allowed in ({cores[0]}, set(cores)):
    done = subprocess.run(
      [sys.executable, "-c", _AFFINITY_RUN, ",".join(str(c) for c in sorted(allowed))],
      capture_output=True,
      text=True,
      cwd=root,
      check=True,
    )
    digests[len(allowed)] = done.stdout.split()[-1]
    print(f"   {len(allowed)} core(s): generator parameters sha256 {digests[len(allowed)]}")
  print(f"   same bits: {digests[1] == digests[len(cores)]}")


def conv_same(x, w, stride=1):
  return lax.conv_general_dilated(
    x, w, (stride, stride), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
  )


def conv_gradients_ms(conv, x_shape, w_shape, jit) -> float:
  """ms per call of conv's forward and both gradients (of sum(sin(conv(x, w)))), compiled by jit."""
  x = jax.random.normal(jax.random.PRNGKey(0), x_shape)
  w = 0.05 * jax.random.normal(jax.random.PRNGKey(1), w_shape)
  grad = jax.grad(lambda x, w: jnp.sum(jnp.sin(conv(x, w))), argnums=(0, 1))
  return per_call_ms(jit(grad), x, w, seconds=1.0)


def conv_kernels_and_phases():
  print(
    "xla-own-convolutions-and-phases\n   DCGAN-28 convolutions, forward + input and kernel "
    "gradients (ms): XLA's default CPU\n"
    "   options (YNNPACK) against gan_jax.xla_options (XLA's own), and PhaseConv"
  )
  from gan_jax.models.layers import conv_phases

  stride1, strided = conv_same, lambda x, w: conv_same(x, w, 2)
  cases = (
    ("G ConvT_0 256->128 5x5 s1 on 7x7, batch 64", stride1, (64, 7, 7, 256), (5, 5, 256, 128)),
    ("G ConvT_1 (sub-pixel) 128->4*64 3x3 on 7x7", stride1, (64, 7, 7, 128), (3, 3, 128, 256)),
    ("G ConvT_2 (sub-pixel) 64->4*1 3x3 on 14x14", stride1, (64, 14, 14, 64), (3, 3, 64, 4)),
    ("D Conv_1 64->128 5x5 s2 on 14x14, batch 128", strided, (128, 14, 14, 64), (5, 5, 64, 128)),
    (
      "  the same as PhaseConv",
      lambda x, w: conv_phases(x, w, 2),
      (128, 14, 14, 64),
      (5, 5, 64, 128),
    ),
    ("D Conv_0 1->64 5x5 s2 on 28x28, batch 128", strided, (128, 28, 28, 1), (5, 5, 1, 64)),
    ("  the same as PhaseConv", lambda x, w: conv_phases(x, w, 2), (128, 28, 28, 1), (5, 5, 1, 64)),
  )
  print(f"   {'':46s} {'YNNPACK':>8s} {'XLA own':>8s}")
  for name, conv, x_shape, w_shape in cases:
    ynn = conv_gradients_ms(conv, x_shape, w_shape, jax.jit)
    own = conv_gradients_ms(conv, x_shape, w_shape, xla_options.jit)
    print(f"   {name:46s} {ynn:8.2f} {own:8.2f}")


def small_map_convolutions():
  print(
    "small-maps-by-dft\n   Stride-1 'SAME' convolutions of small maps, forward + input and kernel "
    "gradients (ms),\n"
    "   compiled with gan_jax.xla_options: XLA's convolution against conv_fourier (by DFT)"
  )
  from gan_jax.models.layers import conv_fourier, same_padding

  def by_dft(x, w):
    return conv_fourier(x, w, [same_padding(k, transpose=False) for k in w.shape[:2]])

  cases = (
    ("DCGAN-32 G ConvT_0 512->256 5x5 on 4x4, batch 64", (64, 4, 4, 512), (5, 5, 512, 256)),
    ("DCGAN-28 G ConvT_0 256->128 5x5 on 7x7, batch 64", (64, 7, 7, 256), (5, 5, 256, 128)),
    ("3x3 kernel, 128->256 on 7x7, batch 64", (64, 7, 7, 128), (3, 3, 128, 256)),
    ("3x3 kernel, 512->256 on 4x4, batch 64", (64, 4, 4, 512), (3, 3, 512, 256)),
  )
  print(f"   {'':50s} {'XLA':>9s} {'DFT':>8s} {'ratio':>6s}")
  for name, x_shape, w_shape in cases:
    times = [
      conv_gradients_ms(conv, x_shape, w_shape, xla_options.jit) for conv in (conv_same, by_dft)
    ]
    print(f"   {name:50s} {times[0]:9.2f} {times[1]:8.2f} {times[0] / times[1]:5.1f}x")


# The DCGAN-28 layers (batch 64; D on real and fake together, 128): name, kind, input shape
# (NHWC), kernel shape (HWIO), stride. "convt" layers are transposed convolutions.
DCGAN28_LAYERS = (
  ("G ConvT_0 256->128 5x5 s1 on 7x7", "convt", (64, 7, 7, 256), (5, 5, 256, 128), 1),
  ("G ConvT_1 128->64 5x5 s2 on 7x7", "convt", (64, 7, 7, 128), (5, 5, 128, 64), 2),
  ("G ConvT_2 64->1 5x5 s2 on 14x14", "convt", (64, 14, 14, 64), (5, 5, 64, 1), 2),
  ("D Conv_0 1->64 5x5 s2 on 28x28, b128", "conv", (128, 28, 28, 1), (5, 5, 1, 64), 2),
  ("D Conv_1 64->128 5x5 s2 on 14x14, b128", "conv", (128, 14, 14, 64), (5, 5, 64, 128), 2),
)

_TORCH_LAYERS = r"""
import json, sys, time
import torch
cases = json.loads(sys.argv[1])
out = []
for name, kind, x_shape, w_shape, stride in cases:
  g = torch.Generator().manual_seed(0)
  x = torch.randn(x_shape[0], x_shape[3], x_shape[1], x_shape[2], generator=g).requires_grad_(True)
  cin, cout = w_shape[2], w_shape[3]
  if kind == "convt":
    layer = torch.nn.ConvTranspose2d(cin, cout, 5, stride, 2, output_padding=stride - 1, bias=False)
  else:
    layer = torch.nn.Conv2d(cin, cout, 5, stride, 2, bias=False)
  y_shape = layer(x).shape
  cotangent = torch.randn(y_shape, generator=g)
  def call():
    layer(x).backward(cotangent)
  call(); call()
  calls, t0 = 0, time.perf_counter()
  while time.perf_counter() - t0 < 1.0:
    call(); calls += 1
  out.append((time.perf_counter() - t0) / calls * 1000)
print(json.dumps(out))
"""


def library_layer(kind, w_shape, stride):
  """The layer as gan_jax's DCGAN computes it on CPU (`models.layer_formulations`):
  (x NHWC, w HWIO) -> y."""
  from gan_jax.models import dcgan
  from gan_jax.models.layers import (
    conv_fourier,
    conv_phase_gradient,
    conv_transpose_phases,
    conv_transpose_subpixel,
    same_padding,
  )

  if kind == "convt" and stride == 1:
    return lambda x, w: conv_fourier(x, w, [same_padding(k, transpose=True) for k in w.shape[:2]])
  if kind == "convt" and w_shape[3] >= dcgan.PHASE_MIN_CHANNELS:
    return lambda x, w: conv_transpose_phases(x, w, stride)
  if kind == "convt":
    return lambda x, w: conv_transpose_subpixel(x, w, stride)
  if w_shape[2] >= dcgan.PHASE_MIN_CHANNELS:
    return lambda x, w: conv_phase_gradient(x, w, stride)
  return lambda x, w: conv_same(x, w, stride)


def conv_by_patches(x, w, stride):
  """A 'SAME' strided convolution as explicit patches (kh*kw strided slices) times the
  kernel as one matrix: the product goes to YNNPACK's dot."""
  from gan_jax.models.layers import _same_padding_low

  kh, kw, _, cout = w.shape
  b, h, w_in, _ = x.shape
  oh, ow = h // stride, w_in // stride
  low = _same_padding_low(h, kh, stride)
  high = (oh - 1) * stride + kh - h - low
  padded = jnp.pad(x, ((0, 0), (low, high), (low, high), (0, 0)))
  span = stride * (oh - 1) + 1
  patches = jnp.concatenate(
    [
      padded[:, i : i + span : stride, j : j + span : stride, :]
      for i in range(kh)
      for j in range(kw)
    ],
    axis=-1,
  )
  return (patches.reshape(b * oh * ow, -1) @ w.reshape(-1, cout)).reshape(b, oh, ow, cout)


def conv_space_to_depth(x, w, stride):
  """A 'SAME' strided convolution as space-to-depth and one stride-1 convolution whose
  kernel is zero-padded to a multiple of the stride (6x6 for 5x5, stride 2)."""
  from gan_jax.models.layers import _same_padding_low

  kh, _, cin, cout = w.shape
  b, h, w_in, _ = x.shape
  low = _same_padding_low(h, kh, stride)
  front = (-low) % stride
  padded = jnp.pad(w, ((front, (-(kh + front)) % stride),) * 2 + ((0, 0), (0, 0)))
  taps = padded.shape[0] // stride
  kernel = padded.reshape(taps, stride, taps, stride, cin, cout).transpose(0, 2, 1, 3, 4, 5)
  kernel = kernel.reshape(taps, taps, stride * stride * cin, cout)
  x = x.reshape(b, h // stride, stride, w_in // stride, stride, cin).transpose(0, 1, 3, 2, 4, 5)
  x = x.reshape(b, h // stride, w_in // stride, stride * stride * cin)
  shift = (low + front) // stride
  padding = ((shift, taps - 1 - shift),) * 2
  return lax.conv_general_dilated(
    x, kernel, (1, 1), padding, dimension_numbers=("NHWC", "HWIO", "NHWC")
  )


def forward_and_gradients_ms(conv, x_shape, w_shape) -> float:
  """ms per call of y = conv(x, w) and its input and kernel gradients for a fixed cotangent
  (what a training step computes; no loss function's own cost), compiled by xla_options."""
  x = jax.random.normal(jax.random.PRNGKey(0), x_shape)
  w = 0.05 * jax.random.normal(jax.random.PRNGKey(1), w_shape)
  y_shape = jax.eval_shape(conv, x, w).shape
  cotangent = jax.random.normal(jax.random.PRNGKey(2), y_shape)

  def forward_and_gradients(x, w, cotangent):
    y, pullback = jax.vjp(conv, x, w)
    return y, pullback(cotangent)

  return per_call_ms(xla_options.jit(forward_and_gradients), x, w, cotangent, seconds=1.0)


def dcgan_layers_against_pytorch():
  print(
    "dcgan-layers-against-pytorch\n   DCGAN-28 layers, forward + input and kernel gradients "
    "for a fixed cotangent (ms):\n   as gan_jax computes them (xla_options) against PyTorch's "
    "eager layer (both cores),\n   and other formulations tried"
  )
  import json
  import os
  import subprocess
  import sys

  torch_ms = [None] * len(DCGAN28_LAYERS)
  cases = json.dumps([list(case) for case in DCGAN28_LAYERS])
  done = subprocess.run(
    [sys.executable, "-c", _TORCH_LAYERS, cases], capture_output=True, text=True, env=os.environ
  )
  if done.returncode == 0:
    torch_ms = json.loads(done.stdout.strip().splitlines()[-1])
  else:
    print("   PyTorch not measured:", (done.stderr.strip().splitlines() or ["?"])[-1])
  from gan_jax.models.layers import conv_phases, conv_transpose_subpixel

  others = {
    "G ConvT_1": [("sub-pixel", conv_transpose_subpixel)],
    "D Conv_1": [
      ("phases (forward and gradients)", conv_phases),
      ("lax (forward and gradients)", conv_same),
      ("patches x dot", conv_by_patches),
      ("space-to-depth", conv_space_to_depth),
    ],
  }
  print(f"   {'':40s} {'gan_jax':>8s} {'PyTorch':>8s} {'ratio':>6s}")
  for (name, kind, x_shape, w_shape, stride), torch_layer in zip(DCGAN28_LAYERS, torch_ms):
    ours = forward_and_gradients_ms(library_layer(kind, w_shape, stride), x_shape, w_shape)
    ratio = f"{torch_layer / ours:5.2f}x" if torch_layer else "    -"
    torch_text = f"{torch_layer:8.2f}" if torch_layer else "       -"
    print(f"   {name:40s} {ours:8.2f} {torch_text} {ratio}")
    for label, conv in others.get(name[:9].strip(), []):
      ms = forward_and_gradients_ms(lambda x, w, c=conv: c(x, w, stride), x_shape, w_shape)
      print(f"     as {label:37s} {ms:8.2f}")


def step_rates_with_options(workload: str, variants: dict, rounds: int) -> dict:
  """Median steps/s of compare_pytorch's `workload` step compiled with each variant of the
  shipped options ({label: {option: value, or None to leave it out}}), windows of 2 s
  alternating for `rounds` rounds."""
  import statistics
  import sys

  sys.path.insert(0, __file__.rsplit("/", 1)[0])
  import compare_pytorch

  runs = {}
  for label, changes in variants.items():
    with xla_options.cpu_step_options(options_with(changes)):
      runs[label] = compare_pytorch.setup_jax(
        workload, compare_pytorch.BATCH[workload], compare_pytorch.STEPS_PER_CALL[workload]
      )[0]
  rates = {label: [] for label in runs}
  for _ in range(rounds):
    for label, run_window in runs.items():
      rates[label].append(run_window(2.0))
  return {label: statistics.median(windows) for label, windows in rates.items()}


def options_with(changes: dict) -> dict:
  """The shipped CPU step options with `changes` ({option: value, or None to leave it out})."""
  options = {**xla_options.CPU_STEP_OPTIONS, **changes}
  return {name: value for name, value in options.items() if value is not None}


def hlo_shape(x) -> str:
  """An f32 array's shape as HLO text writes it, e.g. 'f32[1024,784]'."""
  return f"f32[{','.join(map(str, x.shape))}]"


def loop_body_copies(hlo: str) -> list[str]:
  """The f32 shapes (as `hlo_shape` writes them) that the while loops' bodies of a compiled
  module's text copy, one entry per copy."""
  import re

  bodies = set(re.findall(r" while\(.*body=%([\w.-]+)", hlo))
  return [
    shape
    for computation in re.split(r"\n(?=\S)", hlo)
    if computation.split(" ", 1)[0].lstrip("%") in bodies
    for shape in re.findall(r"= (f32\[[\d,]*\])\{[\d,]*\} copy\(", computation)
  ]


def ynn_fusion_step_rates(workload: str, values: dict, rounds: int) -> dict:
  """`step_rates_with_options` for values of the YNNPACK fusion types ({label: value})."""
  key = "xla_cpu_experimental_ynn_fusion_type"
  variants = {label: {key: value} for label, value in values.items()}
  return step_rates_with_options(workload, variants, rounds)


def dot_fusion_types():
  print(
    "dot-fusion-types\n   the toy and MLP steps compiled with YNNPACK taking each product alone "
    "(xla_options)\n   against YNNPACK fusing products with their elementwise neighbours, "
    "windows alternating"
  )

  shipped = xla_options.CPU_STEP_OPTIONS["xla_cpu_experimental_ynn_fusion_type"]
  fused = "LIBRARY_FUSION_TYPE_DOT,LIBRARY_FUSION_TYPE_REDUCE"
  for workload in ("toy2d", "mlp"):
    rates = ynn_fusion_step_rates(workload, {"alone": shipped, "fused": fused}, rounds=6)
    alone, fused_rate = rates["alone"], rates["fused"]
    print(
      f"   {workload:6s} alone {alone:7.1f} steps/s, fused {fused_rate:7.1f} steps/s "
      f"({fused_rate / alone:.2f}x)"
    )


def dcgan_step_formulations():
  print(
    "dcgan-step-formulations\n   the DCGAN-28 step (compare_pytorch's dcgan28 workload) with "
    "each choice of its stride-2\n   layers' formulations, compiled in one process, 3-second "
    "windows alternating"
  )
  import statistics
  import sys

  sys.path.insert(0, __file__.rsplit("/", 1)[0])
  import compare_pytorch

  choices = (  # (generator conv_transpose, discriminator strided_conv)
    ("subpixel", "phases"),
    ("phases", "phases"),
    ("subpixel", "phase_gradient"),
    ("phases", "phase_gradient"),
  )
  jax_config = compare_pytorch.jax_config
  runs = {}
  try:
    for conv_transpose, strided_conv in choices:

      def config_with(*args, conv_transpose=conv_transpose, strided_conv=strided_conv, **kwargs):
        config = jax_config(*args, **kwargs)
        config.model.generator.conv_transpose = conv_transpose
        config.model.discriminator.strided_conv = strided_conv
        return config

      compare_pytorch.jax_config = config_with
      runs[(conv_transpose, strided_conv)] = compare_pytorch.setup_jax("dcgan28", 64, 1)[0]
  finally:
    compare_pytorch.jax_config = jax_config
  rates = {choice: [] for choice in runs}
  for _ in range(6):
    for choice, run_window in runs.items():
      rates[choice].append(run_window(3.0))
  first = statistics.median(rates[choices[0]])
  for (conv_transpose, strided_conv), windows in rates.items():
    rate = statistics.median(windows)
    print(
      f"   G {conv_transpose:9s} D {strided_conv:15s} {rate:6.2f} steps/s ({rate / first:.3f}x)"
    )


def batch_norm_reductions():
  print(
    "batch-norm-reductions\n   flax BatchNorm (train mode) on (64, 12544) and whole steps, "
    "compiled with the shipped\n   options and with YNNPACK taking matrix products only"
  )

  key = "xla_cpu_experimental_ynn_fusion_type"
  shipped = xla_options.CPU_STEP_OPTIONS[key]
  variants = (("shipped", shipped), ("products only", "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"))
  norm = nn.BatchNorm(use_running_average=False, momentum=0.9, epsilon=1e-5)
  x = jax.random.normal(jax.random.PRNGKey(0), (64, 12544))
  variables = norm.init(jax.random.PRNGKey(1), x)

  def forward(params, x):
    y, _ = norm.apply({**variables, "params": params}, x, mutable=["batch_stats"])
    return nn.leaky_relu(y, 0.2)

  gradients = jax.grad(lambda params, x: jnp.sum(forward(params, x)), argnums=(0, 1))
  for label, value in variants:
    options = {key: value}
    ms = [
      per_call_ms(jax.jit(fn, compiler_options=options), variables["params"], x)
      for fn in (forward, gradients)
    ]
    print(
      f"   BatchNorm + LeakyReLU, {label:13s} forward {ms[0]:6.3f} ms, gradients {ms[1]:6.3f} ms"
    )
  for workload in ("dcgan28", "mlp"):
    rates = ynn_fusion_step_rates(workload, dict(variants), rounds=5)
    first, second = (rates[label] for label, _ in variants)
    print(
      f"   {workload:7s} step: shipped {first:7.2f} steps/s, products only {second:7.2f} "
      f"steps/s ({second / first:.3f}x)"
    )


def loop_state_copies():
  print(
    "copies-of-the-loop-carried-state\n   the MLP and toy fused steps (10 per call) compiled "
    "with the shipped options and without\n   region analysis in copy insertion: copies of "
    "parameter-sized arrays in the loop body, the bits\n   after 30 steps, and steps/s in "
    "alternating windows"
  )
  import hashlib
  import sys

  import numpy as np

  sys.path.insert(0, __file__.rsplit("/", 1)[0])
  import compare_pytorch

  variants = {"shipped": {}, "without": {"xla_cpu_copy_insertion_use_region_analysis": None}}
  for workload in ("mlp", "toy2d"):
    for label, changes in variants.items():
      with xla_options.cpu_step_options(options_with(changes)):
        compiled, state, arrays, _ = compare_pytorch.compile_jax_step(
          workload, compare_pytorch.BATCH[workload], steps_per_call=10
        )
      matrices = [s for s in loop_body_copies(compiled.as_text()) if "," in s]
      for _ in range(3):
        state, _ = compiled(state, arrays)
      digest = hashlib.sha256()
      for leaf in jax.tree.leaves(state):
        digest.update(np.asarray(leaf).tobytes())
      print(
        f"   {workload:6s} {label:8s} {len(matrices):2d} matrix copies per step in the loop "
        f"body, state after 30 steps sha256 {digest.hexdigest()[:16]}"
      )
    rates = step_rates_with_options(workload, variants, rounds=6)
    print(
      f"   {workload:6s} shipped {rates['shipped']:7.1f} steps/s, without region analysis "
      f"{rates['without']:7.1f} ({rates['shipped'] / rates['without']:.3f}x)"
    )


_PAGE_FAULTS_RUN = r"""
import json, os, resource, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, before JAX starts threads
sys.path.insert(0, sys.argv[2])
from gan_jax import host_memory
if sys.argv[1] == "default":
  host_memory.retain_freed_memory = lambda: False  # setup_jax calls it, as the loop does
import compare_pytorch
run_window = compare_pytorch.setup_jax("dcgan28", 64, 1)[0]
run_window(1.0)
before, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
rates = [run_window(2.0) for _ in range(3)]
after, seconds = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - t0
steps = sum(rates) / len(rates) * seconds
print(json.dumps({"steps_per_s": sorted(rates)[1],
                  "faults_per_step": (after.ru_minflt - before.ru_minflt) / steps,
                  "kernel_ms_per_step": (after.ru_stime - before.ru_stime) / steps * 1000}))
"""


def step_page_faults():
  print(
    "step-page-faults\n   the DCGAN-28 step on one core, glibc's malloc as it comes against "
    "host_memory.retain_freed_memory(),\n   one process each, alternating"
  )
  import json
  import os
  import subprocess
  import sys

  here = os.path.dirname(os.path.abspath(__file__))
  for _ in range(2):
    for mode in ("default", "retained"):
      done = subprocess.run(
        [sys.executable, "-c", _PAGE_FAULTS_RUN, mode, here],
        capture_output=True,
        text=True,
      )
      if done.returncode:
        print("   failed:", (done.stderr.strip().splitlines() or ["?"])[-1])
        return
      r = json.loads(done.stdout.strip().splitlines()[-1])
      print(
        f"   {mode:8s} {r['steps_per_s']:6.2f} steps/s, {r['faults_per_step']:7.0f} page faults "
        f"and {r['kernel_ms_per_step']:5.1f} ms of kernel time per step"
      )


# One product per call (the step's options), and the MLP and toy steps, in a process allowed
# the given cores; PyTorch with as many threads as cores.
SECOND_CORE_PRODUCTS = {
  "toy D hidden (1024x128 @ 128x128)": ((1024, 128), (128, 128)),
  "toy G first (512x100 @ 100x128)": ((512, 100), (100, 128)),
  "MLP G last (64x1024 @ 1024x784)": ((64, 1024), (1024, 784)),
  "MLP D first (128x784 @ 784x512)": ((128, 784), (784, 512)),
}

_CORES_RUN = r"""
import json, os, sys, time
cores = {int(c) for c in sys.argv[2].split(",")}
os.sched_setaffinity(0, cores)  # before either framework starts its threads
sys.path.insert(0, sys.argv[3])
import compare_pytorch
from xla_cpu_findings import SECOND_CORE_PRODUCTS
framework, out = sys.argv[1], {"products": {}, "steps_per_s": {}}

def best_ms(call, seconds=0.3):
  best = float("inf")
  for _ in range(3):
    call()
    calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
      call(); calls += 1
    best = min(best, (time.perf_counter() - t0) / calls * 1000)
  return best

if framework == "torch":
  import torch
  torch.set_num_threads(len(cores))
  for name, (lhs, rhs) in SECOND_CORE_PRODUCTS.items():
    a, b = torch.randn(*lhs), torch.randn(*rhs)
    out["products"][name] = best_ms(lambda: torch.mm(a, b))
  setup = lambda workload: compare_pytorch.setup_torch(workload, compare_pytorch.BATCH[workload])
else:
  import jax
  from gan_jax import host_memory, xla_options
  if jax.default_backend() == "cpu":  # after the backend starts, as setup_jax and the loop do
    host_memory.retain_freed_memory()
  for name, (lhs, rhs) in SECOND_CORE_PRODUCTS.items():
    a = jax.random.normal(jax.random.PRNGKey(0), lhs)
    b = jax.random.normal(jax.random.PRNGKey(1), rhs)
    product = xla_options.jit(lambda a, b: a @ b)
    out["products"][name] = best_ms(lambda: jax.block_until_ready(product(a, b)))
  setup = lambda workload: compare_pytorch.setup_jax(
    workload, compare_pytorch.BATCH[workload], compare_pytorch.STEPS_PER_CALL[workload])
for workload in ("mlp", "toy2d"):
  run_window = setup(workload)[0]
  out["steps_per_s"][workload] = sorted(run_window(2.0) for _ in range(3))[1]
print(json.dumps(out))
"""


def second_core():
  print(
    "second-core\n   single matrix products (one per call) and the MLP and toy steps, each "
    "framework in a process\n   allowed one core and in one allowed two (PyTorch with as many "
    "threads)"
  )
  import json
  import os
  import subprocess
  import sys

  cores = sorted(os.sched_getaffinity(0))
  if len(cores) < 2:
    print("   needs at least 2 cores")
    return
  here = os.path.dirname(os.path.abspath(__file__))
  runs = {}
  for allowed in (cores[:1], cores[:2]):
    for framework in ("jax", "torch"):
      done = subprocess.run(
        [sys.executable, "-c", _CORES_RUN, framework, ",".join(map(str, allowed)), here],
        capture_output=True,
        text=True,
      )
      if done.returncode:
        print(f"   {framework} failed:", (done.stderr.strip().splitlines() or ["?"])[-1])
        continue
      runs[framework, len(allowed)] = json.loads(done.stdout.strip().splitlines()[-1])
  if len(runs) < 4:
    return
  print(f"   {'':36s} {'XLA 1 core':>10s} {'2 cores':>8s} {'torch 1':>8s} {'2 threads':>9s}")
  for name in SECOND_CORE_PRODUCTS:
    cells = [runs[f, n]["products"][name] for f in ("jax", "torch") for n in (1, 2)]
    print(f"   {name:36s} " + " ".join(f"{c:8.3f}ms" for c in cells))
  for workload in ("mlp", "toy2d"):
    cells = [runs[f, n]["steps_per_s"][workload] for f in ("jax", "torch") for n in (1, 2)]
    print(
      f"   {workload + ' step, steps/s':36s} "
      + " ".join(f"{c:10.1f}" for c in cells)
      + f"   second core: XLA {cells[1] / cells[0]:.2f}x, PyTorch {cells[3] / cells[2]:.2f}x;"
      f" ratio {cells[0] / cells[2]:.2f}x on one core, {cells[1] / cells[3]:.2f}x on two"
    )


def alternating_rates(runs: dict, rounds: int = 8, seconds: float = 1.5) -> dict:
  """Median steps/s of each fused 10-step call ({label: [compiled, state, data]}), windows of
  `seconds` alternating over the labels for `rounds` rounds; each run carries its state on."""
  import statistics

  rates = {label: [] for label in runs}
  for _ in range(rounds):
    for label, run in runs.items():
      compiled, state, arrays = run
      calls, t0 = 0, time.perf_counter()
      while time.perf_counter() - t0 < seconds:
        state, _ = compiled(state, arrays)
        calls += 1
      jax.block_until_ready(state)
      rates[label].append(calls * 10 / (time.perf_counter() - t0))
      run[1] = state
  return {label: statistics.median(windows) for label, windows in rates.items()}


def threefry_rolled_loops():
  print(
    "threefry-rolled-loops\n   the MLP and toy fused steps with jax's CPU lowering of the "
    "threefry hash (a while loop\n   of 5 iterations of 4 rounds) and with its unrolled "
    "lowering (jax's on GPU): while loops\n   left, compile seconds, the bits after 30 steps "
    "and steps/s in alternating windows"
  )
  import hashlib
  import sys

  import numpy as np
  from jax.interpreters import mlir

  try:
    from jax._src.random import threefry2x32 as threefry
  except ImportError:  # a private module: another jax may keep it elsewhere
    print("   this jax has no jax._src.random.threefry2x32 to swap the lowering of")
    return
  sys.path.insert(0, __file__.rsplit("/", 1)[0])
  import compare_pytorch
  from gan_jax import host_memory

  host_memory.retain_freed_memory()  # as the training loop does on CPU
  rules = {
    "rolled": threefry._threefry2x32_cpu_lowering_rule,
    "unrolled": threefry._threefry2x32_lowering_rule,
  }
  for workload in ("mlp", "toy2d"):
    runs = {}
    try:
      for label, rule in rules.items():
        mlir.register_lowering(threefry.threefry2x32_p, rule, platform="cpu")
        compiled, state, arrays, compile_s = compare_pytorch.compile_jax_step(
          workload, compare_pytorch.BATCH[workload], steps_per_call=10
        )
        for _ in range(3):
          state, _ = compiled(state, arrays)
        digest = hashlib.sha256()
        for leaf in jax.tree.leaves(state):
          digest.update(np.asarray(leaf).tobytes())
        loops = compiled.as_text().count(" while(")
        print(
          f"   {workload:6s} {label:8s} {loops:2d} while loops, compile {compile_s:5.2f} s, "
          f"state after 30 steps sha256 {digest.hexdigest()[:16]}"
        )
        runs[label] = [compiled, state, arrays]
    finally:
      mlir.register_lowering(threefry.threefry2x32_p, rules["rolled"], platform="cpu")
    rates = alternating_rates(runs)
    rolled, unrolled = rates["rolled"], rates["unrolled"]
    print(
      f"   {workload:6s} rolled {rolled:7.1f} steps/s, unrolled {unrolled:7.1f} "
      f"({unrolled / rolled:.3f}x)"
    )


def the_guards_cost():
  print(
    "the-guards-cost\n   the MLP and toy fused steps with the non-finite guard as shipped "
    "(losses, gradient norms,\n   parameters and collections checked every step) and with "
    "fewer of its checks, alternating\n   windows in one process"
  )
  import sys

  sys.path.insert(0, __file__.rsplit("/", 1)[0])
  import compare_pytorch
  from gan_jax import guards, host_memory

  host_memory.retain_freed_memory()  # as the training loop does on CPU
  shipped = guards.nonfinite_flags

  def flags_checking(names):
    return lambda state, metrics: shipped(state, metrics, checks=tuple(names))

  variants = {
    "shipped": shipped,
    "no parameter checks": flags_checking({"d_loss", "d_grad_norm", "g_loss", "g_grad_norm"}),
    "no gradient norms": flags_checking({"d_loss", "d_params", "g_loss", "g_params"}),
    "losses only": flags_checking({"d_loss", "g_loss"}),
    "no checks": flags_checking(set()),
  }
  for workload in ("mlp", "toy2d"):
    runs = {}
    try:
      for label, flags in variants.items():
        guards.nonfinite_flags = flags  # guard_train_step looks it up when it traces
        compiled, state, arrays, _ = compare_pytorch.compile_jax_step(
          workload, compare_pytorch.BATCH[workload], steps_per_call=10
        )
        for _ in range(3):
          state, _ = compiled(state, arrays)
        runs[label] = [compiled, state, arrays]
    finally:
      guards.nonfinite_flags = shipped
    rates = alternating_rates(runs)
    print(
      f"   {workload:6s} "
      + ", ".join(
        f"{label} {rate:.1f} steps/s ({rate / rates['shipped']:.3f}x)"
        for label, rate in rates.items()
      )
    )


# Each finding by its name (benchmarks/RESULTS.md, "Finding: ..."); its former number is an alias.
FINDINGS = {
  "sub-pixel-transposed-convolution": conv_transpose_kernel_gradient,
  "convolutions-inside-scan": conv_inside_scan,
  "dispatch-cost": dispatch_cost,
  "dcgan-layer-times": dcgan_layer_times,
  "convolutions-inside-switch": conv_inside_switch,
  "matrix-product-floor": mlp_step_matmul_floor,
  "cores-change-bits": cores_change_bits,
  "xla-own-convolutions-and-phases": conv_kernels_and_phases,
  "small-maps-by-dft": small_map_convolutions,
  "dcgan-layers-against-pytorch": dcgan_layers_against_pytorch,
  "dot-fusion-types": dot_fusion_types,
  "dcgan-step-formulations": dcgan_step_formulations,
  "batch-norm-reductions": batch_norm_reductions,
  "step-page-faults": step_page_faults,
  "copies-of-the-loop-carried-state": loop_state_copies,
  "second-core": second_core,
  "threefry-rolled-loops": threefry_rolled_loops,
  "the-guards-cost": the_guards_cost,
}
NUMBERS = dict(zip("123456789", FINDINGS))  # the first nine had numbers


def finding(name: str):
  """The function of a finding given by its name or former number; raises SystemExit if unknown."""
  name = NUMBERS.get(name, name)
  if name not in FINDINGS:
    raise SystemExit(
      f"finding {name!r} is unknown; accepted: {', '.join(FINDINGS)} "
      f"(or their former numbers 1-{len(NUMBERS)})"
    )
  return FINDINGS[name]


if __name__ == "__main__":
  import sys

  print(f"backend: {jax.default_backend()}, devices: {jax.devices()}")
  chosen = [finding(name) for name in sys.argv[1:]] or list(FINDINGS.values())
  for run in chosen:
    run()
