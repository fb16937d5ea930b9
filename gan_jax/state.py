"""The GAN training state, the noise sampler and the named random streams.

A `GANState` holds everything needed to continue a run bit-exactly: the step,
both players' parameters and non-trainable collections (batch statistics),
their optax states, the run's root PRNG key and the optional generator EMA.
Static fields hold the apply functions, the optimizers and the noise sampler,
so a jitted step is traced once per model, never per value.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import operator
import zlib
from typing import Any, Callable

import flax
import jax
import jax.numpy as jnp
import optax
from flax import struct

from gan_jax.losses import Game

PyTree = Any
NOISE_DISTRIBUTIONS = ("normal", "uniform")


def check_num_categories(value, name: str = "num_categories") -> None:
  """The one rule of a categorical code's size (`NoiseSampler`, config.model.noise_categories):
  0 for none, else >= 2 (a code of one value carries nothing)."""
  if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value == 1:
    raise ValueError(f"{name} must be 0 (no categorical code) or an integer >= 2, got {value!r}")


def check_seed(value, name: str = "seed") -> None:
  """The one rule of a run's seed (`create_state`): an integer (a Python or NumPy integer, or an
  integer scalar array, e.g. under jax.vmap); checked on its type alone."""
  if hasattr(value, "dtype") and hasattr(value, "shape"):  # an array or a NumPy scalar
    if not value.shape and jnp.issubdtype(value.dtype, jnp.integer):
      return
    raise ValueError(
      f"{name} must be an integer, got an array of dtype {value.dtype} and shape {value.shape}"
    )
  if isinstance(value, bool) or not isinstance(value, numbers.Integral):
    raise ValueError(f"{name} must be an integer, got {value!r}")


def check_latent_shape(value, name: str = "latent_shape") -> None:
  """The one rule of a latent shape (`NoiseSampler`): a non-empty tuple (or list) of integers
  >= 1, e.g. (100,)."""
  if (
    not isinstance(value, (tuple, list))
    or not value
    or any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1 for d in value)
  ):
    raise ValueError(
      f"{name} must be a non-empty tuple of positive integers, e.g. (100,), got {value!r}"
    )


def check_rows(value, name: str, minimum: int = 1) -> None:
  """The one rule of a count of rows (a batch size): an integer >= `minimum` (anything
  `operator.index` takes, so NumPy integers too; never a traced array)."""
  try:
    rows = operator.index(value)
  except TypeError:
    rows = None
  if isinstance(value, bool) or rows is None or rows < minimum:
    raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_ema_decay(value, name: str = "ema_decay") -> None:
  """The one rule of the generator EMA's decay (`create_state`, config.ema_decay): a number in
  [0, 1); 0 turns the EMA off."""
  if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value < 1.0:
    raise ValueError(f"{name} must be a number in [0, 1) (0: no EMA), got {value!r}")


@dataclasses.dataclass(frozen=True)
class NoiseSampler:
  """Draws generator inputs z of shape (batch, *latent_shape).

  Attributes:
    latent_shape: shape of one latent vector, e.g. (100,).
    distribution: 'normal' (standard normal) or 'uniform' (on [-1, 1]).
    num_categories: 0, or C >= 2: then the last axis of z starts with the
      one-hot code of a categorical variable with C equally likely values and
      the distribution fills its other latent_shape[-1] - C entries. Such a
      latent space is disconnected, so a generator can give each value its own
      mode without spreading samples between modes (Khayatkhoei et al. 2018;
      InfoGAN's categorical code, without the information term).
  """

  latent_shape: tuple[int, ...]
  distribution: str = "normal"
  num_categories: int = 0

  def __post_init__(self):
    check_latent_shape(self.latent_shape)
    shape = tuple(self.latent_shape)
    if self.distribution not in NOISE_DISTRIBUTIONS:
      raise ValueError(
        f"noise distribution {self.distribution!r} is unknown; accepted: "
        f"{', '.join(NOISE_DISTRIBUTIONS)}"
      )
    check_num_categories(self.num_categories)
    if self.num_categories >= int(shape[-1]):
      raise ValueError(
        f"num_categories must be < latent_shape[-1] = {int(shape[-1])} (the "
        f"code and at least one continuous entry), got {self.num_categories}"
      )
    object.__setattr__(self, "latent_shape", tuple(int(d) for d in shape))

  def __call__(
    self, key: jax.Array, batch_size: int, dtype=jnp.float32, truncation: float | None = None
  ) -> jax.Array:
    """Returns float array of shape (batch_size, *latent_shape).

    truncation: None, or t > 0 for sampling only: the normal entries are drawn from the
    normal truncated to [-t, t] (BigGAN's truncation trick, Brock et al. 2019): less varied
    samples, more faithful ones where the generator was trained to be truncated (BigGAN's
    orthogonal regularization; experiments/results/latent_space.md shows a DCGAN where they
    only fade). A categorical code is drawn as without it.
    """
    check_rows(batch_size, "batch_size", minimum=0)
    self.check_truncation(truncation)
    if not self.num_categories:
      return self._continuous(key, (batch_size,) + self.latent_shape, dtype, truncation)
    *lead, last = (batch_size,) + self.latent_shape
    category_key, continuous_key = jax.random.split(key)
    category = jax.random.randint(category_key, tuple(lead), 0, self.num_categories)
    return jnp.concatenate(
      [
        jax.nn.one_hot(category, self.num_categories, dtype=dtype),
        self._continuous(continuous_key, (*lead, last - self.num_categories), dtype, truncation),
      ],
      axis=-1,
    )

  def check_truncation(self, truncation, name: str = "truncation") -> None:
    """Raises a one-line ValueError unless `truncation` is None, or a number > 0 and this
    sampler's noise is normal."""
    check_truncation(truncation, name)
    if truncation is not None and self.distribution != "normal":
      raise ValueError(
        f"{name} {truncation!r} needs normal noise; this sampler's is {self.distribution!r}"
      )

  def _continuous(self, key, shape, dtype, truncation=None):
    if truncation is not None:
      return jax.random.truncated_normal(key, -truncation, truncation, shape, dtype)
    if self.distribution == "normal":
      return jax.random.normal(key, shape, dtype)
    return jax.random.uniform(key, shape, dtype, minval=-1.0, maxval=1.0)


FLOAT32_MAX = 3.4028234663852886e38  # the latents are float32


def check_truncation(value, name: str = "truncation") -> None:
  """The one rule of a sampling truncation: None, or a number > 0 that float32 holds."""
  if value is None:
    return
  if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
    raise ValueError(f"{name} must be a number > 0 (or None: no truncation), got {value!r}")
  if value > FLOAT32_MAX:
    raise ValueError(f"{name} must be at most {FLOAT32_MAX:.4g} (float32's largest), got {value!r}")


def stream_id(name: str) -> int:
  """A stable integer for a named random stream (CRC32 of the name)."""
  return zlib.crc32(name.encode()) & 0x7FFFFFFF


def step_key(root_key: jax.Array, step: jax.Array | int, name: str, *indices) -> jax.Array:
  """The key of stream `name` at `step`: fold_in(fold_in(root, step), name, *indices).

  Every random draw of a run comes from here, so it is a function of
  (seed, step, stream name, indices) alone.
  """
  key = jax.random.fold_in(root_key, step)
  key = jax.random.fold_in(key, stream_id(name))
  for index in indices:
    key = jax.random.fold_in(key, index)
  return key


# Sub-streams of a player step's key, `GANState.key_for('discriminator', d_index)` or
# `key_for('generator')`: each draw of a step takes fold_in(step key, <sub-stream>). The values
# are part of the bit-exactness contract (changing one changes every run's bits); two names
# with one value belong to different steps' keys, so they never meet.
D_DROPOUT_STREAM = 0  # discriminator step: D's dropout (its passes and its penalties)
INTERPOLATION_STREAM = 1  # discriminator step: the gradient penalty's interpolation weights
NOISE_STREAM = 2  # both steps: the latent z
G_DROPOUT_STREAM = 3  # both steps: G's dropout
G_STEP_D_DROPOUT_STREAM = 4  # generator step: D's dropout
AUGMENT_REAL_STREAM = 5  # discriminator step: DiffAugment of the real batch
AUGMENT_FAKE_STREAM = 6  # discriminator step: DiffAugment of the fakes
G_STEP_AUGMENT_STREAM = 5  # generator step: DiffAugment of the fakes
CODES_STREAM = 7  # both steps: InfoGAN's latent codes, split further:
CODE_CATEGORY_STREAM = 0  # fold_in(codes key, .): the categorical code
CODE_CONTINUOUS_STREAM = 1  # fold_in(codes key, .): the continuous codes


class GANState(struct.PyTreeNode):
  """The whole state of a GAN run.

  Array fields (saved in checkpoints):
    step: int32 scalar, generator updates done so far.
    key: uint32[2], the run's root PRNG key; never split in place, every draw
      derives from it through `step_key`.
    g_params, d_params: the players' trainable parameters.
    g_collections, d_collections: their other variable collections, e.g.
      {'batch_stats': ...}; empty dicts when a model has none.
    g_opt_state, d_opt_state: optax states.
    g_ema_params: exponential moving average of g_params, or None when off.
    g_ema_collections: with the EMA on, the same average of G's floating-point
      collections (batch statistics), so that sampling pairs the averaged weights with
      averaged statistics; None when off.

  Static fields (part of the tree structure, not saved):
    g_apply_fn, d_apply_fn: the Flax `Module.apply` of each player.
    g_tx, d_tx: the optax optimizers.
    noise: the `NoiseSampler`.
    game: the `Game`: loss pair, k discriminator steps, regularizer weights.
    ema_decay: decay of the generator EMA, 0.0 when off.
  """

  step: jax.Array
  key: jax.Array
  g_params: PyTree
  d_params: PyTree
  g_collections: PyTree
  d_collections: PyTree
  g_opt_state: optax.OptState
  d_opt_state: optax.OptState
  g_ema_params: PyTree | None
  g_ema_collections: PyTree | None
  g_apply_fn: Callable = struct.field(pytree_node=False)
  d_apply_fn: Callable = struct.field(pytree_node=False)
  g_tx: optax.GradientTransformation = struct.field(pytree_node=False)
  d_tx: optax.GradientTransformation = struct.field(pytree_node=False)
  noise: NoiseSampler = struct.field(pytree_node=False)
  game: Game = struct.field(pytree_node=False, default=Game())
  ema_decay: float = struct.field(pytree_node=False, default=0.0)

  @property
  def g_variables(self) -> dict:
    return {"params": self.g_params, **self.g_collections}

  @property
  def d_variables(self) -> dict:
    return {"params": self.d_params, **self.d_collections}

  @property
  def sampling_params(self) -> PyTree:
    """The generator parameters to sample with: the EMA when on."""
    return self.g_ema_params if self.g_ema_params is not None else self.g_params

  @property
  def sampling_variables(self) -> dict:
    """G's variables to sample with: the EMA's parameters and collections when on."""
    if self.g_ema_params is None:
      return self.g_variables
    collections = self.g_collections if self.g_ema_collections is None else self.g_ema_collections
    return {"params": self.g_ema_params, **collections}

  def key_for(self, name: str, *indices) -> jax.Array:
    """The key of the named stream at this state's step."""
    return step_key(self.key, self.step, name, *indices)


def _split_variables(variables) -> tuple[PyTree, dict]:
  variables = flax.core.unfreeze(variables)
  params = variables.pop("params")
  return params, variables


def create_state(
  *,
  seed: int,
  generator,
  discriminator,
  noise: NoiseSampler,
  data_shape: tuple[int, ...],
  g_tx: optax.GradientTransformation,
  d_tx: optax.GradientTransformation,
  game: Game = Game(),
  ema_decay: float = 0.0,
  init_batch_size: int = 2,
  g_extra_inputs: tuple = (),
  d_extra_inputs: tuple = (),
) -> GANState:
  """Initialises both players from `seed` and returns a step-0 `GANState`.

  Args:
    seed: integer seed of the run; the same seed gives the same bits.
    generator: a Flax module mapping z (B, *latent_shape) to x (B, *data_shape).
    discriminator: a Flax module mapping x (B, *data_shape) to logits (B,).
    noise: the latent sampler.
    data_shape: shape of one input of D, e.g. (28, 28, 1) or (2,): in the core game one data
      point, the shape of G's samples (`steps.discriminator_step` refuses real rows of another);
      a recipe whose D also sees a condition (pix2pix) gives D's wider input, so it is not
      compared with G's output here.
    g_tx, d_tx: optax optimizers for each player.
    game: the losses, k and the regularizers.
    ema_decay: generator EMA decay in [0, 1); 0 turns the EMA off.
    init_batch_size: rows of the dummy batches the players are initialised on.
    g_extra_inputs, d_extra_inputs: further arrays, with init_batch_size rows,
      passed to `init` after z (resp. x), e.g. (labels int32 (2,),) for
      conditional players.
  """
  check_seed(seed)
  check_ema_decay(ema_decay)
  check_latent_shape(data_shape, "data_shape")  # the same rule: a tuple of positive integers
  root = jax.random.PRNGKey(seed)
  g_key, d_key = jax.random.split(jax.random.fold_in(root, stream_id("init")))
  z = jnp.zeros((init_batch_size,) + noise.latent_shape, jnp.float32)
  x = jnp.zeros((init_batch_size,) + tuple(data_shape), jnp.float32)
  g_params, g_collections = _split_variables(generator.init(g_key, z, *g_extra_inputs, train=False))
  d_params, d_collections = _split_variables(
    discriminator.init(d_key, x, *d_extra_inputs, train=False)
  )
  return GANState(
    step=jnp.zeros((), jnp.int32),
    key=root,
    g_params=g_params,
    d_params=d_params,
    g_collections=g_collections,
    d_collections=d_collections,
    g_opt_state=g_tx.init(g_params),
    d_opt_state=d_tx.init(d_params),
    g_ema_params=g_params if ema_decay > 0 else None,
    g_ema_collections=g_collections if ema_decay > 0 else None,
    g_apply_fn=generator.apply,
    d_apply_fn=discriminator.apply,
    g_tx=g_tx,
    d_tx=d_tx,
    noise=noise,
    game=game,
    ema_decay=float(ema_decay),
  )


def generate(state: GANState, z: jax.Array, *inputs, params: PyTree | None = None) -> jax.Array:
  """Samples G(z, *inputs) in inference mode (running batch statistics, EMA if on).

  Args:
    z: (B, *latent_shape) latent vectors.
    inputs: further generator inputs, e.g. labels int32 (B,) of a conditional G.
    params: generator parameters to use, with the online collections; default:
      `state.sampling_variables` (the EMA parameters with the EMA statistics when on).
  Returns:
    (B, *data_shape) samples in data space.
  """
  shape, dtype = tuple(getattr(z, "shape", ())), getattr(z, "dtype", None)
  if shape[1:] != tuple(state.noise.latent_shape) or not shape[:1]:
    raise ValueError(
      f"generate needs z of shape (B, *latent_shape) = (B, "
      f"{', '.join(map(str, state.noise.latent_shape))}), got {shape}"
    )
  if dtype is None or not jnp.issubdtype(dtype, jnp.floating):
    raise ValueError(f"generate needs z in floating point, got {dtype}")
  variables = (
    state.sampling_variables if params is None else {"params": params, **state.g_collections}
  )
  return state.g_apply_fn(variables, z, *inputs, train=False)
