"""Pictures of samples: image grids and scatter plots against the data, as PNG."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def image_grid(images: np.ndarray, columns: int | None = None, pad: int = 1) -> np.ndarray:
  """Tiles (N, H, W, C) images in [-1, 1] into one (rows*H, columns*W, C) array in [0, 1]."""
  images = np.clip((np.asarray(images, np.float32) + 1.0) / 2.0, 0.0, 1.0)
  n, h, w, c = images.shape
  columns = columns or int(math.ceil(math.sqrt(n)))
  rows = int(math.ceil(n / columns))
  grid = np.ones((rows * (h + pad) + pad, columns * (w + pad) + pad, c), np.float32)
  for i, image in enumerate(images):
    r, col = divmod(i, columns)
    grid[
      pad + r * (h + pad) : pad + r * (h + pad) + h,
      pad + col * (w + pad) : pad + col * (w + pad) + w,
    ] = image
  return grid


def save_image_grid(images: np.ndarray, path: str, columns: int | None = None) -> None:
  """Writes (N, H, W, C) images in [-1, 1] as one PNG grid: gray for C = 1, RGB(A) for C = 3
  or 4, and for any other C one gray grid per channel, side by side."""
  grid = image_grid(images, columns)
  if grid.shape[-1] in (3, 4):
    plt.imsave(path, grid)
  else:
    planes = np.concatenate([grid[..., c] for c in range(grid.shape[-1])], axis=1)
    plt.imsave(path, planes, cmap="gray", vmin=0.0, vmax=1.0)


def save_paths(paths: np.ndarray, data: np.ndarray, path: str, title: str = "") -> None:
  """Writes 2-D point paths (P, K, 2) as lines over a scatter of the data (N, 2), as PNG; each
  path's start is a dot and its end a cross."""
  paths, data = np.asarray(paths), np.asarray(data)
  fig, ax = plt.subplots(figsize=(5, 5))
  ax.scatter(data[:, 0], data[:, 1], s=4, alpha=0.3, label="data")
  for i, line in enumerate(paths):
    color = f"C{1 + i % 9}"
    ax.plot(line[:, 0], line[:, 1], "-", color=color, linewidth=1.2, alpha=0.8)
    ax.plot(line[0, 0], line[0, 1], "o", color=color, markersize=4)
    ax.plot(line[-1, 0], line[-1, 1], "x", color=color, markersize=5)
  ax.set_aspect("equal")
  ax.set_title(title)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)


def save_scatter(samples: np.ndarray, data: np.ndarray, path: str, title: str = "") -> None:
  """Writes a scatter (2D) or histogram (1D) of samples over the data as PNG."""
  samples, data = np.asarray(samples), np.asarray(data)
  fig, ax = plt.subplots(figsize=(5, 5))
  if samples.shape[-1] == 1:
    bins = np.linspace(min(data.min(), samples.min()), max(data.max(), samples.max()), 80)
    ax.hist(data[:, 0], bins=bins, alpha=0.5, density=True, label="data")
    ax.hist(samples[:, 0], bins=bins, alpha=0.5, density=True, label="generated")
  else:
    ax.scatter(data[:, 0], data[:, 1], s=4, alpha=0.3, label="data")
    ax.scatter(samples[:, 0], samples[:, 1], s=4, alpha=0.6, label="generated")
    ax.set_aspect("equal")
  ax.legend(loc="upper right")
  ax.set_title(title)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)
