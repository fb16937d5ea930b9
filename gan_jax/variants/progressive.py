"""Progressive GAN (Karras et al. 2018): training grows both players from 4x4 to the full
resolution, fading each new pair of layers in.

Data: images are padded, centred, to the next power-of-two canvas with the
background value -1 (Fashion-MNIST 28x28 -> 32x32, a 2-pixel black border);
`generate` returns the centred data_shape crop, so samples, evaluation and
checkpoints see 28x28 images. Stages s = 0 .. S-1 work at 4 * 2^s pixels
(4, 8, 16, 32 for Fashion-MNIST).

One parameter tree holds every stage's layers from step 0 (`create_state`
initialises all of them), so the state's structure never changes and
checkpoints and resume need nothing special. The stage and the fade-in weight
alpha are pure functions of `state.step` and the schedule (`schedule`): stage
s >= 1 lasts `stage_steps` generator steps, the first `fade_steps` of them
blending the new layers in, alpha = (steps into the stage + 1) / fade_steps;
the last stage lasts until the run ends.

Inside the step both players run on the canvas: G's output at 4 * 2^s pixels
is upsampled (nearest) to the canvas, D averages it back down; the real
images are box-downsampled to the stage's resolution and, during a fade-in,
blended with their half-resolution version by the same alpha (as the paper).
The recipe has phases (`recipes.Recipe.phase`): the training loop compiles
one step per stage, `train_step(..., phase=stage)`, and picks it on the host
from the step count, so each program holds only its stage's layers and alpha
stays a traced function of `state.step`. Called without `phase`, the step
is one program for the whole run, with no control flow: the players run
every stage's layers once and `lax.select_n` picks the stage's result at
each resolution (the G canvas; D's input to each block), so the stage's
values and gradients are those of its own program (up to float rounding), at
about the cost of the last stage. (It used to pick the stage with
`lax.switch`: XLA's CPU backend runs convolutions inside a switch branch
20-30x slower, benchmarks/RESULTS.md, "Finding: convolutions inside lax.switch".) The
player steps are the core's, on a view of the state whose apply functions are bound to
(stage, alpha).

Networks (small, as the paper's): G: pixel-normalised z -> Dense 4x4 -> conv,
then per stage upsample x2 and two 3x3 convs, LeakyReLU 0.2 and pixel norm
after every conv, 1x1 toRGB, linear output. D mirrors it: 1x1 fromRGB, two
3x3 convs and average pooling per stage, minibatch stddev, conv, Dense, Dense
-> logit. Every layer has an equalized learning rate. Stage s has
features * 2^(S-1-s) channels. Config: recipe='progressive',
variant.features, variant.stage_steps, variant.fade_steps, variant.mbstd_group.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from gan_jax import builders, losses, steps
from gan_jax import state as state_lib
from gan_jax.models import resample
from gan_jax.models.equalized import EqualConv, EqualDense, minibatch_stddev, pixel_norm
from gan_jax.recipes import Recipe, register_recipe
from gan_jax.variants import extend_game, positive_int

START_RESOLUTION = 4


def num_stages_for(canvas: int) -> int:
  """Stages from 4x4 to a canvas of 2^n pixels: 32 -> 4 (4, 8, 16, 32)."""
  return int(math.log2(canvas // START_RESOLUTION)) + 1


def stage_channels(features: int, num_stages: int) -> list[int]:
  """Channels per stage, features * 2^(S-1-s): coarse stages are widest."""
  return [features * 2 ** (num_stages - 1 - s) for s in range(num_stages)]


def _lrelu(x):
  return nn.leaky_relu(x, 0.2)


class ProgressiveGenerator(nn.Module):
  """z (B, latent) -> images.

  With `stage` (a Python int or a traced int32) it returns the (B, canvas, canvas, C) canvas
  drawn at 4 * 2^stage pixels, blended with the previous stage by `alpha`;
  without, the last stage at alpha 1, cropped to image_shape (B, H, W, C).
  """

  image_shape: Sequence[int]
  features: int = 16

  def setup(self):
    h, _, c = self.image_shape
    self.canvas = resample.canvas_size(h)
    self.num_stages = num_stages_for(self.canvas)
    channels = stage_channels(self.features, self.num_stages)
    self.channels = channels
    self.input_dense = EqualDense(START_RESOLUTION**2 * channels[0], gain=math.sqrt(2) / 4)
    self.conv_a = [EqualConv(channels[s], 3) for s in range(self.num_stages)]
    self.conv_b = [EqualConv(channels[s], 3) for s in range(1, self.num_stages)]
    self.to_rgb = [EqualConv(c, 1, gain=1.0) for _ in range(self.num_stages)]

  def _block(self, h, s):
    if s == 0:
      h = self.input_dense(pixel_norm(h.reshape(h.shape[0], -1)))
      h = pixel_norm(_lrelu(h)).reshape(h.shape[0], START_RESOLUTION, START_RESOLUTION, -1)
      return pixel_norm(_lrelu(self.conv_a[0](h)))
    h = resample.upsample_nearest(h)
    h = pixel_norm(_lrelu(self.conv_a[s](h)))
    return pixel_norm(_lrelu(self.conv_b[s - 1](h)))

  def _canvas(self, h, previous, s: int, alpha):
    """Stage s's canvas from its last block's features h and the block before's, `previous`."""
    rgb = self.to_rgb[s](h)
    if s > 0:
      low = resample.upsample_nearest(self.to_rgb[s - 1](previous))
      rgb = alpha * rgb + (1.0 - alpha) * low
    return resample.upsample_nearest(rgb, self.canvas // (START_RESOLUTION * 2**s))

  def stage_output(self, z, stage, alpha):
    """The canvas (B, canvas, canvas, C) at `stage` with fade-in weight `alpha`.

    `stage`: a Python int (only its layers run) or a traced int32 scalar (every
    block runs once and lax.select_n picks the stage's canvas; no control flow).
    """
    fixed = isinstance(stage, int)
    features, h = [], z
    for s in range((stage if fixed else self.num_stages - 1) + 1):
      h = self._block(h, s)
      features.append(h)
    canvases = [
      self._canvas(features[s], features[s - 1] if s else None, s, alpha)
      for s in ([stage] if fixed else range(self.num_stages))
    ]
    return canvases[0] if fixed else lax.select_n(stage, *canvases)

  def __call__(self, z, train: bool = True, stage: int | None = None, alpha=1.0):
    del train  # no batch statistics or dropout
    if stage is not None:
      return self.stage_output(z, stage, alpha)
    if self.is_initializing():  # create every stage's layers
      for s in range(self.num_stages - 1):
        self.stage_output(z, s, alpha)
    out = self.stage_output(z, self.num_stages - 1, 1.0)
    return resample.crop_center(out, self.image_shape[0], self.image_shape[1])


class ProgressiveDiscriminator(nn.Module):
  """Images -> logits (B,).

  With `stage` (a Python int or a traced int32), x is a (B, canvas, canvas, C)
  canvas judged at 4 * 2^stage pixels (fade-in weight `alpha`); without, x is
  (B, H, W, C) in image_shape, padded to the canvas and judged at the last stage.
  """

  image_shape: Sequence[int]
  features: int = 16
  mbstd_group: int = 4

  def setup(self):
    self.canvas = resample.canvas_size(self.image_shape[0])
    self.num_stages = num_stages_for(self.canvas)
    channels = stage_channels(self.features, self.num_stages)
    self.from_rgb = [EqualConv(channels[s], 1) for s in range(self.num_stages)]
    self.conv_a = [EqualConv(channels[s], 3) for s in range(1, self.num_stages)]
    self.conv_b = [EqualConv(channels[s - 1], 3) for s in range(1, self.num_stages)]
    self.final_conv = EqualConv(channels[0], 3)
    self.final_dense = EqualDense(channels[0])
    self.output = EqualDense(1, gain=1.0)

  def _block(self, h, s):
    if s == 0:
      h = _lrelu(self.final_conv(minibatch_stddev(h, self.mbstd_group)))
      h = _lrelu(self.final_dense(h.reshape(h.shape[0], -1)))
      return self.output(h)[:, 0]
    h = _lrelu(self.conv_a[s - 1](h))
    return resample.downsample(_lrelu(self.conv_b[s - 1](h)))

  def stage_logits(self, x, stage, alpha):
    """Logits (B,) of a canvas x (B, canvas, canvas, C) at `stage` with fade-in weight `alpha`.

    `stage`: a Python int, or a traced int32 scalar (`_selected_logits`).
    """
    if not isinstance(stage, int):
      return self._selected_logits(x, stage, alpha)
    x = resample.downsample(x, self.canvas // (START_RESOLUTION * 2**stage))
    h = self._block(_lrelu(self.from_rgb[stage](x)), stage)
    if stage > 0:
      low = _lrelu(self.from_rgb[stage - 1](resample.downsample(x)))
      h = alpha * h + (1.0 - alpha) * low
    for s in range(stage - 1, -1, -1):
      h = self._block(h, s)
    return h

  def _selected_logits(self, x, stage, alpha):
    """`stage_logits` at a traced stage, without control flow: every block runs once, from
    the finest down; the input of level k (4 * 2^k pixels) is, by lax.select_n, the
    fromRGB of x at level k when stage <= k, block k+1's output blended with the
    fromRGB of the half-size image when stage == k + 1 (the fade-in), and block k+1's
    output when stage > k + 1: the values of `stage_logits(x, stage)`; the layers not
    selected get zero gradients, as in the stage's own network."""
    h, finer = None, None
    for k in range(self.num_stages - 1, -1, -1):
      xk = resample.downsample(x, self.canvas // (START_RESOLUTION * 2**k))
      enter = _lrelu(self.from_rgb[k](xk))
      if h is None:
        h = enter
      else:
        above = self._block(h, k + 1)
        low = _lrelu(self.from_rgb[k](resample.downsample(finer)))
        faded = alpha * above + (1.0 - alpha) * low
        h = lax.select_n(jnp.clip(stage - k, 0, 2), enter, faded, above)
      finer = xk
    return self._block(h, 0)

  def __call__(self, x, train: bool = True, stage: int | None = None, alpha=1.0):
    del train
    if stage is not None:
      return self.stage_logits(x, stage, alpha)
    x = resample.pad_to_canvas(x, self.canvas)
    if self.is_initializing():
      for s in range(self.num_stages - 1):
        self.stage_logits(x, s, alpha)
    return self.stage_logits(x, self.num_stages - 1, 1.0)


@dataclasses.dataclass(frozen=True)
class ProgressiveGame(losses.Game):
  """The game plus the growth schedule: stages of the canvas and their lengths in G steps."""

  canvas: int = 32
  num_stages: int = 4
  stage_steps: int = 1000
  fade_steps: int = 500

  def __post_init__(self):
    super().__post_init__()
    if not isinstance(self.stage_steps, int) or self.stage_steps < 1:
      raise ValueError(f"stage_steps must be an integer >= 1, got {self.stage_steps!r}")
    if not isinstance(self.fade_steps, int) or not 0 <= self.fade_steps <= self.stage_steps:
      raise ValueError(
        f"fade_steps must be an integer in [0, stage_steps={self.stage_steps}], "
        f"got {self.fade_steps!r}"
      )


def schedule(game: ProgressiveGame, step) -> tuple[jax.Array, jax.Array]:
  """(stage int32, alpha float32) at generator step `step`; traceable.

  stage = min(step // stage_steps, S - 1); alpha = 1 in stage 0 and after the
  fade-in, else (steps into the stage + 1) / fade_steps.
  """
  step = jnp.asarray(step, jnp.int32)
  stage = jnp.minimum(step // game.stage_steps, game.num_stages - 1)
  if game.fade_steps == 0:
    return stage, jnp.ones((), jnp.float32)
  into = (step - stage * game.stage_steps).astype(jnp.float32)
  alpha = jnp.clip((into + 1.0) / game.fade_steps, 0.0, 1.0)
  return stage, jnp.where(stage == 0, 1.0, alpha).astype(jnp.float32)


def real_at_stage(x: jax.Array, game: ProgressiveGame, stage, alpha) -> jax.Array:
  """Real images (N, H, W, C) as the stage sees them: (N, canvas, canvas, C).

  Padded to the canvas, box-downsampled to 4 * 2^stage pixels and upsampled
  back (nearest); during a fade-in blended with the half-resolution version.
  """
  x = resample.pad_to_canvas(x, game.canvas)

  def at(s):
    factor = game.canvas // (START_RESOLUTION * 2**s)
    return resample.upsample_nearest(resample.downsample(x, factor), factor)

  def branch(s):
    if s == 0:
      return lambda a: at(0)
    return lambda a: a * at(s) + (1.0 - a) * at(s - 1)

  if isinstance(stage, int):
    return branch(stage)(alpha)
  return lax.select_n(stage, *[branch(s)(alpha) for s in range(game.num_stages)])


def at_stage(apply_fn, stage, alpha):
  """`apply_fn` (a player's Module.apply) bound to a stage and alpha.

  A Python int stage binds that stage's network; a traced one runs every stage's
  layers and selects the stage's result (the players' `stage_output`, `stage_logits`).
  """

  def apply(variables, x, *args, **kwargs):
    return apply_fn(variables, x, *args, stage=stage, alpha=alpha, **kwargs)

  return apply


def stage_of(game: ProgressiveGame, step: int) -> int:
  """The stage a state at generator step `step` trains in: `schedule`'s stage, on the host."""
  return min(int(step) // game.stage_steps, game.num_stages - 1)


def train_step(state, batch, *, axis_name: str | None = None, phase: int | None = None):
  """Algorithm 1 at the stage and fade-in of `state.step`; batch {'x': (k, B, H, W, C)}.

  `phase`: the stage as a Python int, as the training loop passes it (one program
  per stage); it must be the stage of `state.step`. None: chosen in the program, which
  then runs every stage's layers (about the cost of the last stage's step).
  Metrics add `stage` and `alpha`.
  """
  game = state.game
  stage, alpha = schedule(game, state.step)
  if phase is not None:
    stage = phase
  view = state.replace(
    g_apply_fn=at_stage(state.g_apply_fn, stage, alpha),
    d_apply_fn=at_stage(state.d_apply_fn, stage, alpha),
  )
  x = batch["x"]
  real = real_at_stage(x.reshape((-1,) + x.shape[2:]), game, stage, alpha)
  batch = {**batch, "x": real.reshape(x.shape[:2] + real.shape[1:])}
  new_view, metrics = steps.train_step(view, batch, axis_name=axis_name)
  new_state = new_view.replace(g_apply_fn=state.g_apply_fn, d_apply_fn=state.d_apply_fn)
  return new_state, {**metrics, "stage": jnp.asarray(stage, jnp.float32), "alpha": alpha}


def generate(state, z: jax.Array, labels=None) -> jax.Array:
  """The last stage's samples (B, H, W, C), cropped from the canvas; inference mode."""
  del labels
  return state_lib.generate(state, z)


def generate_at_stage(state, z: jax.Array, stage: int, alpha: float = 1.0) -> jax.Array:
  """Samples of stage `stage` (Python int): the (B, canvas, canvas, C) canvas, upsampled nearest."""
  return state.g_apply_fn(state.sampling_variables, z, train=False, stage=stage, alpha=alpha)


def create_state(config, data_shape, *, axis_name: str | None = None) -> state_lib.GANState:
  """The step-0 state holding every stage's layers; its game is a `ProgressiveGame`."""
  del axis_name  # no batch statistics
  if len(data_shape) != 3 or data_shape[0] != data_shape[1] or data_shape[0] < 5:
    raise ValueError(
      f"progressive GAN needs square images (H, H, C) with H > 4, got {tuple(data_shape)}"
    )
  canvas = resample.canvas_size(data_shape[0])
  features = positive_int(config, "features", 16)
  group = positive_int(config, "mbstd_group", 4)
  if config.batch_size % min(group, config.batch_size):
    raise ValueError(
      f"config.batch_size {config.batch_size} must be a multiple of "
      f"variant.mbstd_group {group} (reals and fakes are grouped apart)"
    )
  stage_steps = positive_int(config, "stage_steps", 1000)
  if stage_steps % config.get("steps_per_call", 1):
    raise ValueError(
      f"variant.stage_steps {stage_steps} must be a multiple of steps_per_call "
      f"{config.get('steps_per_call', 1)} (one call never crosses a stage)"
    )
  game = extend_game(
    builders.make_game(config),
    ProgressiveGame,
    canvas=canvas,
    num_stages=num_stages_for(canvas),
    stage_steps=stage_steps,
    fade_steps=positive_int(config, "fade_steps", stage_steps // 2, minimum=0),
  )
  return builders.create_state_from_config(
    config,
    data_shape,
    players=(
      ProgressiveGenerator(tuple(data_shape), features),
      ProgressiveDiscriminator(tuple(data_shape), features, group),
    ),
    game=game,
    init_batch_size=min(group, config.batch_size),
  )


RECIPE = register_recipe(
  Recipe(
    "progressive",
    create_state,
    train_step,
    generate,
    phase=stage_of,
    options=("fade_steps", "features", "mbstd_group", "stage_steps"),
    reuses_fakes=True,  # the core train step, with its players
  )
)
