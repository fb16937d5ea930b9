"""Game losses on discriminator logits, and regularizers that compose with any of them.

A game is a `GANLoss`: a pair of pure functions in the manner of optax's
`GradientTransformation`,

  discriminator(real_logits (B,), fake_logits (B,)) -> scalar to minimise
  generator(fake_logits (B,)) -> scalar to minimise

Discriminators output logits o, with D(x) = sigmoid(o); every log D and
log(1 - D) is computed as -softplus(-o) and -softplus(o), which stays finite
for any logit. The seeds' networks end in a Sigmoid; ours fold it into the loss.

Regularizers are separate: `gradient_penalty` (WGAN-GP) and `r1_penalty` are
functions of the discriminator as a function of its input, and
`clip_weights` (WGAN) is a projection of the critic's parameters.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from gan_jax.validation import boolean, integer, number

Array = jax.Array


class GANLoss(NamedTuple):
  """The two players' objectives, each to be minimised.

  discriminator(real_logits (B,), fake_logits (B,)) and generator(fake_logits (B,)) give
  float32 scalars. `threshold` is the logit above which the discriminator calls an input
  real (0 for the cross-entropy, Wasserstein and hinge games, 0.5 for least squares); it
  only feeds the accuracy metrics. `mixes_rows`: the objectives compare rows with batch
  statistics (a relativistic loss's mean logits) and take an `axis_name` keyword, the
  mapped device axis or None, to take them over the global batch with `batch_mean`; the
  steps pass it (`discriminator_loss`, `generator_loss`). Without it, a loss is a mean of
  per-row terms, which the steps' device mean of the gradients makes global.
  """

  discriminator: Callable[..., Array]
  generator: Callable[..., Array]
  threshold: float = 0.0
  mixes_rows: bool = False

  def discriminator_loss(self, real_logits: Array, fake_logits: Array, axis_name=None) -> Array:
    """`discriminator`, given `axis_name` when the loss mixes rows."""
    if self.mixes_rows:
      return self.discriminator(real_logits, fake_logits, axis_name=axis_name)
    return self.discriminator(real_logits, fake_logits)

  def generator_loss(self, fake_logits: Array, axis_name=None) -> Array:
    """`generator`, given `axis_name` when the loss mixes rows."""
    if self.mixes_rows:
      return self.generator(fake_logits, axis_name=axis_name)
    return self.generator(fake_logits)


def batch_mean(x: Array, axis_name: str | None = None) -> Array:
  """The mean of `x` over the global batch: over this device's rows, then over the mapped
  device axis `axis_name` when there is one (equal rows per device)."""
  mean = jnp.mean(x)
  return mean if axis_name is None else jax.lax.pmean(mean, axis_name)


def log_d(logits: Array) -> Array:
  """log D = log sigmoid(o), stable for any logit."""
  return -jax.nn.softplus(-logits)


def log_one_minus_d(logits: Array) -> Array:
  """log(1 - D) = log sigmoid(-o), stable for any logit."""
  return -jax.nn.softplus(logits)


def game_value(real_logits: Array, fake_logits: Array) -> Array:
  """V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))] (seed 000, eq. 3); -log 4 at equilibrium."""
  return jnp.mean(log_d(real_logits)) + jnp.mean(log_one_minus_d(fake_logits))


def cross_entropy_discriminator_loss(real_logits: Array, fake_logits: Array) -> Array:
  """-V(D, G): the discriminator ascends eq. 4 of seed 000."""
  return -game_value(real_logits, fake_logits)


def minimax_generator_loss(fake_logits: Array) -> Array:
  """E[log(1 - D(G(z)))], eq. 5 of seed 000: saturates when D(G(z)) -> 0."""
  return jnp.mean(log_one_minus_d(fake_logits))


def non_saturating_generator_loss(fake_logits: Array) -> Array:
  """-E[log D(G(z))], eq. 6 of seed 000: strong gradients early in training."""
  return -jnp.mean(log_d(fake_logits))


def wasserstein_critic_loss(real_logits: Array, fake_logits: Array) -> Array:
  """E[f(G(z))] - E[f(x)]: the critic maximises E[f(x)] - E[f(G(z))] (Arjovsky et al.)."""
  return jnp.mean(fake_logits) - jnp.mean(real_logits)


def wasserstein_generator_loss(fake_logits: Array) -> Array:
  """-E[f(G(z))]."""
  return -jnp.mean(fake_logits)


def hinge_discriminator_loss(real_logits: Array, fake_logits: Array) -> Array:
  """E[relu(1 - D(x))] + E[relu(1 + D(G(z)))] (Lim & Ye; Miyato et al.)."""
  return jnp.mean(jax.nn.relu(1.0 - real_logits)) + jnp.mean(jax.nn.relu(1.0 + fake_logits))


def least_squares_discriminator_loss(real_logits: Array, fake_logits: Array) -> Array:
  """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2] (Mao et al., a=0, b=c=1)."""
  return 0.5 * jnp.mean((real_logits - 1.0) ** 2) + 0.5 * jnp.mean(fake_logits**2)


def least_squares_generator_loss(fake_logits: Array) -> Array:
  """1/2 E[(D(G(z)) - 1)^2]."""
  return 0.5 * jnp.mean((fake_logits - 1.0) ** 2)


minimax = GANLoss(cross_entropy_discriminator_loss, minimax_generator_loss)
non_saturating = GANLoss(cross_entropy_discriminator_loss, non_saturating_generator_loss)
wasserstein = GANLoss(wasserstein_critic_loss, wasserstein_generator_loss)
hinge = GANLoss(hinge_discriminator_loss, wasserstein_generator_loss)
least_squares = GANLoss(least_squares_discriminator_loss, least_squares_generator_loss, 0.5)

LOSSES: dict[str, GANLoss] = {
  "minimax": minimax,
  "non_saturating": non_saturating,
  "wasserstein": wasserstein,
  "hinge": hinge,
  "least_squares": least_squares,
}


def get_loss(name: str) -> GANLoss:
  """The game loss called `name`; raises a one-line error naming the choices."""
  if not isinstance(name, str) or name not in LOSSES:
    raise ValueError(f"loss {name!r} is unknown; accepted: {', '.join(LOSSES)}")
  return LOSSES[name]


# --- Regularizers -----------------------------------------------------------

DiscriminatorFn = Callable[[Array], Array]  # x (B, ...) -> logits (B,)


def interpolation_weights(key: Array, shape: tuple[int, ...], dtype=jnp.float32) -> Array:
  """eps ~ U[0, 1] of shape (B, 1, ..., 1), one weight per example of a (B, ...) batch."""
  return jax.random.uniform(key, (shape[0],) + (1,) * (len(shape) - 1), dtype)


def gradient_penalty(
  discriminator_fn: DiscriminatorFn, real: Array, fake: Array, eps: Array
) -> Array:
  """WGAN-GP: E[(||grad_x D(x_hat)||_2 - 1)^2], x_hat = eps * real + (1 - eps) * fake.

  Args:
    discriminator_fn: maps (B, ...) inputs to (B,) logits.
    real, fake: (B, ...) batches; `fake` should carry no generator gradient.
    eps: (B, 1, ..., 1) interpolation weights, see `interpolation_weights`.
  """
  x_hat = eps * real + (1.0 - eps) * fake
  grads = jax.grad(lambda x: jnp.sum(discriminator_fn(x)))(x_hat)
  norms = jnp.sqrt(jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=-1) + 1e-12)
  return jnp.mean((norms - 1.0) ** 2)


def r1_penalty(discriminator_fn: DiscriminatorFn, real: Array) -> Array:
  """R1 (Mescheder et al. 2018): E[||grad_x D(x)||_2^2] on real data, times 1/2.

  Multiply by gamma in the config; gamma * r1_penalty is the usual gamma/2 * E||grad||^2.
  """
  grads = jax.grad(lambda x: jnp.sum(discriminator_fn(x)))(real)
  return 0.5 * jnp.mean(jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=-1))


def r1_weight_at(game: "Game", step: Array) -> Array:
  """gamma at generator step `step` (int32 scalar): r1_weight, or its cosine decay to 0.

  With r1_decay_steps = N > 0: r1_weight * (1 + cos(pi * min(step, N) / N)) / 2, the maths
  of optax.cosine_decay_schedule (its float rounding differs in the last bit at some steps).
  """
  if game.r1_decay_steps == 0:
    return jnp.asarray(game.r1_weight, jnp.float32)
  fraction = jnp.minimum(step.astype(jnp.float32) / game.r1_decay_steps, 1.0)
  return game.r1_weight * 0.5 * (1.0 + jnp.cos(jnp.pi * fraction))


def clip_weights(params, clip_value: float):
  """WGAN weight clipping: every parameter clipped to [-c, c] (seed 003; c = 0.01)."""
  return jax.tree.map(lambda p: jnp.clip(p, -clip_value, clip_value), params)


# The rule of each scalar field of `Game`; the config fields of the same names are checked
# by these alone (`validation.validate_config` builds the Game).
GAME_FIELDS = {
  "d_steps": integer(1),
  "gradient_penalty_weight": number(minimum=0.0),
  "r1_weight": number(minimum=0.0),
  "r1_decay_steps": integer(0),
  "clip_value": number(minimum=0.0),
  "reuse_fakes": boolean,
}


@dataclasses.dataclass(frozen=True)
class Game:
  """What the two players optimise, and Algorithm 1's schedule.

  Attributes:
    loss: the `GANLoss` pair, or the name of one in LOSSES ("hinge").
    d_steps: k, discriminator updates per generator update (Algorithm 1).
    gradient_penalty_weight: lambda of the WGAN-GP penalty, 0 to turn off.
    r1_weight: gamma of the R1 penalty, 0 to turn off.
    r1_decay_steps: 0 keeps gamma constant; N > 0 decays it to 0 along a cosine over
      the first N generator steps (`r1_weight_at`), so D is smooth while the modes are
      found and sharp at the end.
    clip_value: c of WGAN weight clipping, 0 to turn off.
    reuse_fakes: the generator step reuses the last discriminator step's z and
      G(z) (one generator forward per iteration, as PyTorch's DCGAN example);
      False draws fresh noise for the generator, as Algorithm 1 does.
    augment: differentiable augmentation T applied to every input of D, real
      and fake, in both players' steps (e.g. `gan_jax.augment.DiffAugment`);
      an object with `draw(key, n) -> u (n, P)` and `apply(u, x) -> x`, or None.

  Variants that need further constants of their game subclass `Game`.
  """

  loss: GANLoss = non_saturating
  d_steps: int = 1
  gradient_penalty_weight: float = 0.0
  r1_weight: float = 0.0
  r1_decay_steps: int = 0
  clip_value: float = 0.0
  reuse_fakes: bool = False
  augment: Callable | None = None

  def __post_init__(self):
    if isinstance(self.loss, str):  # Game(loss="hinge"), as config.loss names it
      object.__setattr__(self, "loss", get_loss(self.loss))
    if not (hasattr(self.loss, "discriminator") and hasattr(self.loss, "generator")):
      raise ValueError(
        f"loss must be a GANLoss or the name of one, got {self.loss!r}; accepted: "
        f"{', '.join(LOSSES)}"
      )
    for name, check in GAME_FIELDS.items():
      check(getattr(self, name), name)
    for name in ("gradient_penalty_weight", "r1_weight", "clip_value"):
      object.__setattr__(self, name, float(getattr(self, name)))
    if self.augment is not None and not (
      hasattr(self.augment, "draw") and hasattr(self.augment, "apply")
    ):
      raise ValueError(f"augment must have draw(key, n) and apply(u, x), got {self.augment!r}")
