"""GAN variants as recipes on the shared core (DESIGN.md: "Variants are recipes, not forks").

One module per variant; importing it registers its `Recipe`:

  conditional  Conditional GAN (Mirza & Osindero 2014); projection D (Miyato & Koyama 2018)
  acgan        Auxiliary-classifier GAN (Odena et al. 2017)
  infogan      InfoGAN (Chen et al. 2016)
  unrolled     Unrolled GAN (Metz et al. 2017)
  pacgan       PacGAN (Lin et al. 2018)
  translation  the paired image-to-image step shared by pix2pix, superres, inpainting
  pix2pix      pix2pix (Isola et al. 2017): U-Net G, conditional PatchGAN D, adv + 100 L1
  superres     SRGAN-style super-resolution (Ledig et al. 2017): SRResNet G, adv + content
  inpainting   context-encoder-style inpainting (Pathak et al. 2016): adv + masked L2/L1
  cyclegan     CycleGAN (Zhu et al. 2017): two G, two D, cycle + identity, least squares
  progressive  Progressive GAN (Karras et al. 2018): 4x4 -> 32x32 with fade-in, one parameter tree
  stylegan     StyleGAN (Karras et al. 2019, AdaIN): mapping, constant input, noise, mixing,
  truncation
  lapgan       LAPGAN (Denton et al. 2015): Laplacian pyramid of generators 7 -> 14 -> 28
  cogan        CoGAN (Liu & Tuzel 2016): weight-shared generator and discriminator pairs
  text_to_image  GAN-INT-CLS (Reed et al. 2016) with StackGAN's conditioning augmentation
  text_to_speech  acoustic-model GAN (Yang et al. 2017): text -> log-mels, adv + L1, PatchGAN D

A variant's options live in `config.variant` (a ConfigDict), its name in
`config.recipe`. The helpers here are shared by the variant modules.
"""

from __future__ import annotations

import dataclasses

from gan_jax import builders, models


def variant_options(config) -> dict:
  """config.variant as a plain dict ({} when absent)."""
  options = config.get("variant", None)
  if options is None:
    return {}
  return options.to_dict() if hasattr(options, "to_dict") else dict(options)


def option(config, name: str, default):
  """config.variant.NAME, or `default`."""
  return variant_options(config).get(name, default)


def positive_int(config, name: str, default: int, minimum: int = 1) -> int:
  """config.variant.NAME as an int >= minimum; one-line error otherwise."""
  value = option(config, name, default)
  if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
    raise ValueError(f"variant.{name} must be an integer >= {minimum}, got {value!r}")
  return value


DEFAULT_NUM_CLASSES = 10


def num_classes_of(config) -> int:
  """config.variant.num_classes of a class-conditional recipe (default DEFAULT_NUM_CLASSES):
  the size of its label embeddings and class heads, which must be the data's number of
  classes (`validation.check_classes`)."""
  return positive_int(config, "num_classes", DEFAULT_NUM_CLASSES, minimum=2)


def base_models(config, data_shape, axis_name: str | None = None, *, return_features: bool = False):
  """The core (generator, discriminator) of config.model; the D returns (logits, features)
  when `return_features`, for variants that put a head on D's last hidden layer."""
  options = {
    "generator": builders._as_dict(config.model.get("generator", {})),
    "discriminator": builders._as_dict(config.model.get("discriminator", {})),
  }
  if return_features:
    options["discriminator"]["return_features"] = True
  return models.build_models(config.model.name, data_shape, axis_name=axis_name, options=options)


def extend_game(game, game_class, **fields):
  """A `game_class` (a subclass of `Game`) with the fields of `game` and `fields`."""
  values = {f.name: getattr(game, f.name) for f in dataclasses.fields(game)}
  return game_class(**{**values, **fields})
