"""Toy distributions with the PacGAN protocol: ring of 8 Gaussians, 5x5 grid, 1D Gaussians.

Each is a mixture of isotropic Gaussians with known means and one std, so
samples, densities and mode-coverage metrics are exact. A config may move the means
and change the std (`make_distribution` and its `OPTIONS`: config.data.radius, .spacing,
.std), e.g. to train at a paper's data scale; the mixture metrics then count in
that std around those means.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianMixture:
  """An equal-weight mixture of K isotropic Gaussians in D dimensions.

  Attributes:
    name: e.g. 'ring8'.
    means: (K, D) float array of component means.
    std: the components' common standard deviation.
  """

  name: str
  means: np.ndarray
  std: float

  @property
  def data_shape(self) -> tuple[int, ...]:
    return (self.means.shape[1],)

  @property
  def num_modes(self) -> int:
    return self.means.shape[0]

  def sample(self, key: jax.Array, num: int) -> jax.Array:
    """(num, D) float32 points: a uniform component, then Gaussian noise."""
    component_key, noise_key = jax.random.split(key)
    means = jnp.asarray(self.means, jnp.float32)
    component = jax.random.randint(component_key, (num,), 0, self.num_modes)
    noise = jax.random.normal(noise_key, (num, means.shape[1]), jnp.float32)
    return means[component] + jnp.float32(self.std) * noise

  def log_density(self, x: jax.Array) -> jax.Array:
    """log p(x) for x of shape (N, D); returns (N,)."""
    means = jnp.asarray(self.means, jnp.float32)
    d = means.shape[1]
    sq = jnp.sum((x[:, None, :] - means[None]) ** 2, axis=-1) / self.std**2
    log_component = -0.5 * sq - d * jnp.log(self.std) - 0.5 * d * jnp.log(2 * jnp.pi)
    return jax.scipy.special.logsumexp(log_component, axis=1) - jnp.log(self.num_modes)


def ring(num_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixture:
  """Means (r cos 2 pi i/K, r sin 2 pi i/K), std 0.01: PacGAN's ring of 8."""
  angles = 2 * math.pi * np.arange(num_modes) / num_modes
  means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
  return GaussianMixture(f"ring{num_modes}", means.astype(np.float32), std)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
  """Means {-4, -2, 0, 2, 4}^2, std 0.05: PacGAN's grid of 25."""
  coords = spacing * (np.arange(side) - (side - 1) / 2)
  means = np.stack(np.meshgrid(coords, coords, indexing="ij"), axis=-1).reshape(-1, 2)
  return GaussianMixture(f"grid{side * side}", means.astype(np.float32), std)


def gaussian_1d(mean: float = 0.0, std: float = 1.0) -> GaussianMixture:
  """A single 1D Gaussian N(mean, std^2)."""
  return GaussianMixture("gaussian1d", np.array([[mean]], np.float32), std)


TOY_DISTRIBUTIONS = {"ring8": ring, "grid25": grid, "gaussian1d": gaussian_1d}
# The keyword options of each distribution that a config may set (config.data.<option>).
OPTIONS = {"ring8": ("radius", "std"), "grid25": ("spacing", "std"), "gaussian1d": ("std",)}


def check_options(name, options: dict) -> None:
  """The rules of config.data.name and the options of a toy dataset: a name in
  `TOY_DISTRIBUTIONS`, each option one of its `OPTIONS`, a number > 0."""
  if not isinstance(name, str) or name not in TOY_DISTRIBUTIONS:
    raise ValueError(f"toy dataset {name!r} is unknown; accepted: {', '.join(TOY_DISTRIBUTIONS)}")
  for key, value in options.items():
    if key not in OPTIONS[name]:
      raise ValueError(
        f"toy dataset {name!r} has no option {key!r}; accepted: {', '.join(OPTIONS[name])}"
      )
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
      raise ValueError(f"toy dataset option {key} must be > 0, got {value!r}")


def make_distribution(name: str, **options) -> GaussianMixture:
  """The toy distribution `name` with its `OPTIONS` (e.g. ring8 of radius 2, std 0.02)."""
  check_options(name, options)
  return TOY_DISTRIBUTIONS[name](**{k: float(v) for k, v in options.items()})
