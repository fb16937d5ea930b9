"""Plain PyTorch GANs of the library's DCGAN-28 and seed-002 MLP shapes: the reference that
experiments/dcgan_vs_pytorch.py scores the library against.

Written for that comparison from the recipes they stand for, not from the library:

* `dcgan28`: PyTorch's DCGAN example (pytorch/examples, dcgan/main.py) at 28x28: every
  convolution, transposed convolution and linear weight drawn from N(0, 0.02) and
  BatchNorm weights from N(1, 0.02) (its `weights_init`, Radford et al. sec. 4), biases
  0; one generator forward per iteration, the discriminator's loss the sum of the two
  binary cross-entropies on the detached fakes, then the generator's step through the
  updated discriminator at the same fakes. G: Linear 100 -> 7*7*256 (no bias), BN,
  LeakyReLU 0.2 -> ConvT 128 5x5 s1 -> ConvT 64 5x5 s2 -> ConvT 1 5x5 s2, tanh, with BN
  and LeakyReLU 0.2 between; D: Conv 64 5x5 s2 -> Conv 128 5x5 s2 -> Linear 1, LeakyReLU
  0.2, no BN.
* `mlp`: seed 002's networks and loop as printed (PyTorch-GAN's gan.py): PyTorch's
  default initialization, the generator's step first, then the discriminator's step on the
  same (detached) fakes with the mean of the two cross-entropies.

Both: Adam 2e-4, betas (0.5, 0.999), batch 64, z ~ N(0, I) of 100, Fashion-MNIST's
training split in [-1, 1], reshuffled every epoch (DataLoader(shuffle=True, drop_last=True)).
`networks` also holds the DCGAN-64 and 2D toy players: benchmarks/compare_pytorch.py times
all four against the library's steps, so the speed and fidelity comparisons share one
definition of each PyTorch network. Needs PyTorch (the `bench` extra).
"""

from __future__ import annotations

import time

import numpy as np

LATENT = 100
BATCH = 64


# The data shape (NCHW without the batch) of each model's samples.
SHAPES = {"dcgan28": (1, 28, 28), "mlp": (1, 28, 28), "dcgan64": (3, 64, 64), "toy2d": (2,)}


def networks(model: str):
  """(generator, discriminator) torch modules of `model` (a name of `SHAPES`): G maps
  (B, LATENT) noise to (B, *SHAPES[model]) samples, D those to (B, 1) logits."""
  from torch import nn

  class Reshape(nn.Module):
    def __init__(self, *shape):
      super().__init__()
      self.shape = shape

    def forward(self, x):
      return x.view(x.shape[0], *self.shape)

  if model == "dcgan28":
    g = nn.Sequential(
      nn.Linear(LATENT, 7 * 7 * 256, bias=False),
      nn.BatchNorm1d(7 * 7 * 256),
      nn.LeakyReLU(0.2),
      Reshape(256, 7, 7),
      nn.ConvTranspose2d(256, 128, 5, 1, 2, bias=False),
      nn.BatchNorm2d(128),
      nn.LeakyReLU(0.2),
      nn.ConvTranspose2d(128, 64, 5, 2, 2, output_padding=1, bias=False),
      nn.BatchNorm2d(64),
      nn.LeakyReLU(0.2),
      nn.ConvTranspose2d(64, 1, 5, 2, 2, output_padding=1),
      nn.Tanh(),
    )
    d = nn.Sequential(
      nn.Conv2d(1, 64, 5, 2, 2),
      nn.LeakyReLU(0.2),
      nn.Conv2d(64, 128, 5, 2, 2),
      nn.LeakyReLU(0.2),
      nn.Flatten(),
      nn.Linear(7 * 7 * 128, 1),
    )
    return g, d
  if model == "mlp":

    def block(i, o, normalize=True):
      layers = [nn.Linear(i, o)]
      if normalize:
        layers.append(nn.BatchNorm1d(o, 0.8))
      layers.append(nn.LeakyReLU(0.2))
      return layers

    g = nn.Sequential(
      *block(LATENT, 128, False),
      *block(128, 256),
      *block(256, 512),
      *block(512, 1024),
      nn.Linear(1024, 784),
      nn.Tanh(),
      Reshape(1, 28, 28),
    )
    d = nn.Sequential(
      nn.Flatten(),
      nn.Linear(784, 512),
      nn.LeakyReLU(0.2),
      nn.Linear(512, 256),
      nn.LeakyReLU(0.2),
      nn.Linear(256, 1),
    )
    return g, d
  if model == "dcgan64":  # gan_jax's DCGAN for 64x64x3 (models.dcgan), features 64, kernel 5
    up = lambda i, o: [
      nn.ConvTranspose2d(i, o, 5, 2, 2, output_padding=1, bias=False),
      nn.BatchNorm2d(o),
      nn.LeakyReLU(0.2),
    ]
    g = nn.Sequential(
      nn.Linear(LATENT, 4 * 4 * 1024, bias=False),
      nn.BatchNorm1d(4 * 4 * 1024),
      nn.LeakyReLU(0.2),
      Reshape(1024, 4, 4),
      nn.ConvTranspose2d(1024, 512, 5, 1, 2, bias=False),
      nn.BatchNorm2d(512),
      nn.LeakyReLU(0.2),
      *up(512, 256),
      *up(256, 128),
      *up(128, 64),
      nn.ConvTranspose2d(64, 3, 5, 2, 2, output_padding=1),
      nn.Tanh(),
    )
    down = lambda i, o: [nn.Conv2d(i, o, 5, 2, 2), nn.LeakyReLU(0.2)]
    d = nn.Sequential(
      *down(3, 64),
      *down(64, 128),
      *down(128, 256),
      *down(256, 512),
      nn.Flatten(),
      nn.Linear(4 * 4 * 512, 1),
    )
    return g, d
  if model == "toy2d":  # the 2D toy MLPs, tanh, hidden (128, 128)
    g = nn.Sequential(
      nn.Linear(LATENT, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 2)
    )
    d = nn.Sequential(
      nn.Linear(2, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 1)
    )
    return g, d
  raise ValueError(f"model {model!r} is unknown; accepted: {', '.join(SHAPES)}")


def radford_init(module) -> None:
  """N(0, 0.02) weights, N(1, 0.02) BatchNorm weights, zero biases (PyTorch's DCGAN example)."""
  from torch import nn

  if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
    nn.init.normal_(module.weight, 0.0, 0.02)
    if module.bias is not None:
      nn.init.zeros_(module.bias)
  elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
    nn.init.normal_(module.weight, 1.0, 0.02)
    nn.init.zeros_(module.bias)


def train(
  model: str,
  images: np.ndarray,
  *,
  seed: int,
  num_steps: int,
  num_samples: int,
  threads: int | None = None,
) -> dict:
  """Trains the reference on `images` (N, 28, 28, 1) float32 in [-1, 1].

  Returns {'samples': (num_samples, 28, 28, 1) float32 in [-1, 1] (generator in eval mode:
  BatchNorm's running averages), 'samples_batch_stats': the same from train mode (batches of
  64, each normalized by its own statistics), 'seconds': training wall-clock, 'steps_per_s'}.
  """
  import torch
  import torch.nn.functional as F

  if threads:
    torch.set_num_threads(threads)
  torch.manual_seed(seed)
  g, d = networks(model)
  if model == "dcgan28":
    g.apply(radford_init)
    d.apply(radford_init)
  opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
  opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
  data = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
  generator = torch.Generator().manual_seed(seed)
  ones, zeros = torch.ones(BATCH), torch.zeros(BATCH)
  order, position = torch.randperm(len(data), generator=generator), 0
  start = time.perf_counter()
  for _ in range(num_steps):
    if position + BATCH > len(data):  # drop_last, then a new epoch's order
      order, position = torch.randperm(len(data), generator=generator), 0
    real = data[order[position : position + BATCH]]
    position += BATCH
    fake = g(torch.randn(BATCH, LATENT))
    if model == "dcgan28":  # D on the detached fakes, then G through the updated D
      opt_d.zero_grad()
      d_loss = F.binary_cross_entropy_with_logits(
        d(real).view(-1), ones
      ) + F.binary_cross_entropy_with_logits(d(fake.detach()).view(-1), zeros)
      d_loss.backward()
      opt_d.step()
      opt_g.zero_grad()
      F.binary_cross_entropy_with_logits(d(fake).view(-1), ones).backward()
      opt_g.step()
    else:  # seed 002: G first, then D on the same fakes, detached
      opt_g.zero_grad()
      F.binary_cross_entropy_with_logits(d(fake).view(-1), ones).backward()
      opt_g.step()
      opt_d.zero_grad()
      d_loss = (
        F.binary_cross_entropy_with_logits(d(real).view(-1), ones)
        + F.binary_cross_entropy_with_logits(d(fake.detach()).view(-1), zeros)
      ) / 2
      d_loss.backward()
      opt_d.step()
  seconds = time.perf_counter() - start
  with torch.no_grad():
    # Train mode first (each batch of 64 normalized by its own statistics, as the seed's
    # loop saves its pictures); it moves the running averages, so keep and restore them.
    saved = {k: v.clone() for k, v in g.state_dict().items()}
    train_mode = [g(torch.randn(BATCH, LATENT)).numpy() for _ in range(-(-num_samples // BATCH))]
    g.load_state_dict(saved)
    g.eval()
    eval_mode = [
      g(torch.randn(min(1000, num_samples - i), LATENT)).numpy()
      for i in range(0, num_samples, 1000)
    ]

  def nhwc(chunks):
    return np.concatenate(chunks)[:num_samples].transpose(0, 2, 3, 1).astype(np.float32)

  return {
    "samples": nhwc(eval_mode),
    "samples_batch_stats": nhwc(train_mode),
    "seconds": seconds,
    "steps_per_s": num_steps / seconds,
  }
