"""Checking a config before anything is built or compiled.

`validate_config(config, num_devices)` checks every field of a run's config
against the table `FIELDS` (and the nested tables of `data` and `model`): unknown
names, wrong types and out-of-range values each raise a one-line `ValueError`
naming the field, the bad value and what is accepted.

Each field has one rule, in one place. A field that a constructor takes (the
optimizers' options, the `Game`'s, the noise sampler's, ema_decay, the data
source's, ...) is checked by that constructor's rule; its entry here calls that
rule, so a bad value gets the same message from `validate_config` as from the
constructor. Fields that only the training loop reads have their rules here.

`validate_models(config, data_shape, recipe)` then checks, by shape evaluation
only (`jax.eval_shape`, nothing compiled), that the models can take and
produce data of the dataset's shape.

A variant that adds top-level config fields declares them with
`register_fields({'name': check, ...})`.
"""

from __future__ import annotations

import importlib
import math
import os
import types
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

# A check is fn(value, name) that raises a one-line ValueError when `value` is
# not acceptable for the field `name` (e.g. 'config.model.latent_dim').
Check = Callable[[Any, str], None]


def _is_int(value) -> bool:
  return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_section(value) -> bool:
  return hasattr(value, "keys") and hasattr(value, "get")


def integer(minimum: int | None = None, maximum: int | None = None) -> Check:
  """An int (not a bool) in [minimum, maximum]."""

  def check(value, name):
    if not _is_int(value):
      raise ValueError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
      raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
      raise ValueError(f"{name} must be <= {maximum}, got {value}")

  return check


def number(
  minimum: float | None = None, below: float | None = None, above: float | None = None
) -> Check:
  """A finite int or float, >= minimum, < below, > above (each when given)."""

  def check(value, name):
    if not _is_number(value) or not math.isfinite(value):
      raise ValueError(f"{name} must be a finite number, got {value!r}")
    if minimum is not None and value < minimum:
      raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if above is not None and value <= above:
      raise ValueError(f"{name} must be > {above}, got {value!r}")
    if below is not None and value >= below:
      raise ValueError(f"{name} must be < {below}, got {value!r}")

  return check


def boolean(value, name):
  if not isinstance(value, bool):
    raise ValueError(f"{name} must be True or False, got {value!r}")


def first_line(error: BaseException) -> str:
  """The first line of an error's message (its type's name when the message is empty)."""
  text = str(error).strip()
  return text.splitlines()[0] if text else type(error).__name__


def string(value, name):
  if not isinstance(value, str):
    raise ValueError(f"{name} must be a string, got {value!r}")


def optional_string(value, name):
  if value is not None:
    string(value, name)


def one_of(label: str | None, choices: Callable[[], Any]) -> Check:
  """A name among `choices()`; the message reads "<label> 'x' is unknown; accepted: ... (field)"."""

  def check(value, name):
    accepted = list(choices())
    if not isinstance(value, str) or value not in accepted:
      where = "" if label is None else f" ({name})"
      raise ValueError(
        f"{label or name} {value!r} is unknown; accepted: {', '.join(accepted)}{where}"
      )

  return check


def options(value, name):
  """Free-form keyword options (checked when the object is built)."""
  if not _is_section(value):
    raise ValueError(f"{name} must be a dict of options, got {value!r}")


options.is_section = True


def section(fields: dict[str, Check], required: tuple[str, ...] = ()) -> Check:
  """A nested ConfigDict whose fields are all in `fields`."""

  def check(value, name):
    if not _is_section(value):
      raise ValueError(f"{name} must be a ConfigDict, got {value!r}")
    check_fields(value, fields, name, required)

  check.is_section = True
  return check


def check_fields(config, fields: dict[str, Check], prefix: str, required=()) -> None:
  """Checks each field of `config` with its check in `fields`; unknown or missing ones raise."""
  for key in config.keys():
    if key not in fields:
      dotted = f"{prefix}.{key}"[len("config.") :]
      here = " here" if prefix != "config" else ""
      raise ValueError(
        f"config has no field {dotted!r}; known fields{here}: {', '.join(sorted(fields))}"
      )
  for key in required:
    if key not in config:
      raise ValueError(f"{prefix}.{key} is missing; required fields: {', '.join(required)}")
  for key in config.keys():
    fields[key](config[key], f"{prefix}.{key}")


def rule_of(module: str, function: str) -> Check:
  """The check that calls `gan_jax.<module>.<function>(value)`: a field's rule kept with the
  constructor that takes it, so both give the same message. The module is imported on first
  use, since it imports this one."""

  def check(value, name):
    del name  # the rule's own message names the field
    getattr(importlib.import_module(f"gan_jax.{module}"), function)(value)

  return check


# --- The tables --------------------------------------------------------------


def _toy_option(value, name):
  """radius, spacing, std: checked with the toy dataset they belong to (`_check_data`)."""


def _check_data(value, name):
  section(DATA_FIELDS)(value, name)
  source = value.get("source", "toy")
  if source == "toy":
    from gan_jax.data import toy

    toy.check_options(
      value.get("name", "ring8"),
      {key: value[key] for key in ("radius", "spacing", "std") if key in value},
    )
    if value.get("pipeline", "device") == "host":
      raise ValueError(
        f"{name}.pipeline 'host' needs rows to read; toy data is sampled in "
        f"closed form: use 'device'"
      )
  else:
    for key in ("radius", "spacing", "std", "training_set_size"):
      if key in value:
        raise ValueError(
          f"{name}.{key} is an option of toy mixtures; data source {source!r} has none"
        )
  if source == "idx":
    from gan_jax.data import files

    files.check_split(value.get("split", "train"))
  if source == "npz" and not value.get("path"):
    raise ValueError(
      f"{name}.path must name an .npz file for source 'npz', got {value.get('path')!r}"
    )
  if source == "images" and not value.get("path"):
    raise ValueError(
      f"{name}.path must name a folder of PNG/JPEG files for source 'images', "
      f"got {value.get('path')!r}"
    )
  for key in ("channels", "cache_dir"):
    if key in value and source != "images":
      raise ValueError(
        f"{name}.{key} is an option of data source 'images'; data source {source!r} has none"
      )
  if value.get("image_size", 0) and source not in ("images", "npz", "idx", "tfds"):
    raise ValueError(
      f"{name}.image_size is an option of data sources images, npz, idx and tfds; "
      f"data source {source!r} has none"
    )


DATA_FIELDS: dict[str, Check] = {
  "source": rule_of("data", "check_source"),
  "name": string,
  "path": string,
  "split": string,
  "pipeline": rule_of("data", "check_pipeline"),
  "data_dir": optional_string,
  "download": boolean,  # tfds: download and prepare a dataset that is not prepared
  # npz: the names of the image and label arrays
  "image_key": string,
  "label_key": string,
  # images resized and center-cropped to S x S (0: as they are; for a folder, the files'
  # own size); a folder of images (gan_jax.data.image_folder): 1 or 3 channels (0: gray
  # when every file is gray), where its .npz cache goes ('': the default)
  "image_size": rule_of("data.image_folder", "check_image_size"),
  "channels": rule_of("data.image_folder", "check_channels"),
  "cache_dir": string,
  # image-to-image tasks (gan_jax.data.paired), checked where the task is built
  "task": string,
  "scale": integer(1),
  "mask": string,
  "domains": lambda value, name: None,
  # toy mixtures (gan_jax.data.toy.OPTIONS): moved means, another std, a fixed training set
  "radius": _toy_option,
  "spacing": _toy_option,
  "std": _toy_option,
  "training_set_size": integer(0),
}


def _models():
  from gan_jax import models

  return models.MODEL_BUILDERS


def _noise_field(value, name):
  """latent_dim, noise, noise_categories: checked by `builders.make_noise` (`_check_model`)."""


def _model_name(value, name):
  """A model family of gan_jax.models (or a former name of one, `models.MODEL_ALIASES`), or,
  for a recipe that builds its own players, that recipe's name (pix2pix, stylegan, ...)."""
  from gan_jax import models, recipes

  recipes.get_recipe("gan")  # imports the variant modules
  string(value, name)
  if value not in _models() and value not in models.MODEL_ALIASES and value not in recipes.RECIPES:
    one_of("model", _models)(value, name)


def _model_module(value, name):
  """A module to import before the model is built; it registers the model (user code)."""
  string(value, name)
  from gan_jax import models

  models.import_module(value)


def _check_model(value, name):
  """config.model: its module (when given) is imported first, so that its models are known."""
  if _is_section(value) and value.get("module"):
    _model_module(value["module"], f"{name}.module")
    model = value.get("name")
    from gan_jax import recipes

    recipes.get_recipe("gan")  # imports the variant modules
    if isinstance(model, str) and model not in _models() and model not in recipes.RECIPES:
      raise ValueError(
        f"model {model!r} is unknown; model.module {value['module']!r} registers "
        f"none of that name; accepted: {', '.join(_models())}"
      )
  section(MODEL_FIELDS, required=("name",))(value, name)
  if any(key in value for key in ("latent_dim", "noise", "noise_categories")):
    from gan_jax import builders  # a model without a latent (image-to-image) has none of them

    builders.make_noise(types.SimpleNamespace(model=value))


MODEL_FIELDS: dict[str, Check] = {
  "name": _model_name,
  "module": _model_module,
  "latent_dim": _noise_field,
  "noise": _noise_field,
  "noise_categories": _noise_field,
  "generator": options,
  "discriminator": options,
}


def _check_optimizer(value, name):
  """g_optimizer, d_optimizer: `builders.make_optimizer` checks their options."""
  if not _is_section(value):
    raise ValueError(
      f"{name} must be a ConfigDict like {{'name': 'adam', 'learning_rate': 2e-4}}, got {value!r}"
    )
  from gan_jax import builders

  builders.make_optimizer(value, name.rsplit(".", 1)[-1])


def _game_field(value, name):
  """A scalar field of `losses.Game` (d_steps, the penalties' weights, ...): its rule there."""
  from gan_jax import losses

  field = name.rsplit(".", 1)[-1]
  losses.GAME_FIELDS[field](value, field)


def _resume_may_change(value, name):
  from gan_jax import checkpoint

  accepted = checkpoint.CHANGEABLE_ON_RESUME
  if isinstance(value, str) or not isinstance(value, (tuple, list)):
    raise ValueError(f"{name} must be a tuple of field names from {accepted}, got {value!r}")
  for field in value:
    if field not in accepted:
      raise ValueError(
        f"{name} names {field!r}, which cannot change on resume; accepted: {', '.join(accepted)}"
      )


def _process_count(value, name):
  """num_processes, process_id: their rules in `distributed.FIELDS` (None: the environment's)."""
  from gan_jax import distributed

  if value is not None:
    distributed.FIELDS[name.rsplit(".", 1)[-1]](value, name)


def _init_from(value, name):
  """init_from: '' or the form of `runs.parse_init_from` ('DIR' or 'DIR:STEP'). Whether DIR
  holds a run is checked where a fresh run starts (`runs.check_init_from`): a resumed run does
  not read it, and a config is checked without its workdir."""
  string(value, name)
  if value:
    from gan_jax import runs

    runs.parse_init_from(value)


DISTRIBUTED_FIELDS: dict[str, Check] = {
  "coordinator_address": optional_string,
  "num_processes": _process_count,
  "process_id": _process_count,
}

FIELDS: dict[str, Check] = {
  "seed": integer(0, 2**32 - 1),
  "num_steps": integer(1, 2**31 - 1),  # state.step is int32
  "batch_size": integer(1),
  "data": _check_data,
  "model": _check_model,
  "loss": rule_of("losses", "get_loss"),
  "d_steps": _game_field,
  "gradient_penalty_weight": _game_field,
  "r1_weight": _game_field,
  "r1_decay_steps": _game_field,
  "clip_value": _game_field,
  "reuse_fakes": _game_field,
  "resume_may_change": _resume_may_change,
  "init_from": _init_from,  # 'DIR' or 'DIR:STEP' of a run (`runs.initialized_from`); '' for none
  "g_optimizer": _check_optimizer,
  "d_optimizer": _check_optimizer,
  "ema_decay": rule_of("state", "check_ema_decay"),
  "sampling_statistics": rule_of("sampling", "check_sampling_statistics"),
  "parallel": rule_of("parallel", "check_mode"),
  "dtype": rule_of("models", "check_compute_dtype"),
  "recipe": rule_of("recipes", "get_recipe"),
  "variant": options,  # the recipe's own options: names by recipes.check_variant_options,
  # values when its state is built
  "augment": rule_of("augment", "from_policy"),  # DiffAugment policy
  "diagnostics": options,  # gan_jax.diagnostics.Thresholds
  "steps_per_call": integer(1),
  "retain_host_memory": boolean,
  "log_every": integer(1),
  "sample_every": integer(1),
  "checkpoint_every": integer(1),
  "keep_checkpoints": integer(1),
  "num_sample_images": integer(1, 10000),
  "nonfinite": rule_of("guards", "check_policy"),
  "distributed": section(DISTRIBUTED_FIELDS),
}
REQUIRED = (
  "seed",
  "num_steps",
  "batch_size",
  "data",
  "model",
  "loss",
  "g_optimizer",
  "d_optimizer",
)


def known_fields(parents: list[str]) -> dict[str, Check] | None:
  """The table of fields a config section may hold (e.g. ['data']), None when free-form."""
  tables = {
    (): FIELDS,
    ("data",): DATA_FIELDS,
    ("model",): MODEL_FIELDS,
    ("distributed",): DISTRIBUTED_FIELDS,
  }
  return tables.get(tuple(parents), None)


def is_known_section(parents: list[str], name: str) -> bool:
  """Whether `name` under the section `parents` is a section of its own (a ConfigDict of
  fields or of free-form options) that a config may leave out."""
  known = known_fields(parents) or {}
  return getattr(known.get(name), "is_section", False)


def register_fields(fields: dict[str, Check]) -> None:
  """Adds top-level config fields (a variant's own options) with their checks."""
  FIELDS.update(fields)


def _check_model_of_recipe(config) -> None:
  """config.model.name is a model family (`models.MODEL_BUILDERS`, which most recipes build
  their players from), or the name of the recipe that builds its own players (pix2pix,
  cyclegan, ...): then config.recipe must be that recipe."""
  from gan_jax import models

  model, recipe = config.model.name, config.get("recipe", "gan")
  if model in models.MODEL_BUILDERS or model in models.MODEL_ALIASES or model == recipe:
    return
  raise ValueError(
    f"model {model!r} names the players recipe {model!r} builds itself, but "
    f"config.recipe is {recipe!r}; accepted: recipe {model!r}, or a model "
    f"family: {', '.join(models.MODEL_BUILDERS)}"
  )


def validate_config(config, num_devices: int | None = None) -> None:
  """Checks every field of a run's config; raises a one-line ValueError at the first bad one.

  Args:
    config: the run's ConfigDict.
    num_devices: devices sharing the global batch; default: those of config.parallel.
  """
  if not _is_section(config):
    raise ValueError(f"a config must be an ml_collections.ConfigDict, got {type(config).__name__}")
  for name in ("seed", "num_steps", "batch_size"):
    if name not in config:
      raise ValueError(
        f"config has no field {name!r}; every config needs seed, num_steps, batch_size"
      )
  check_fields(config, FIELDS, "config", REQUIRED)
  _check_model_of_recipe(config)
  from gan_jax import distributed

  distributed.settings_from_config(config)  # process_id < num_processes, with the environment's
  from gan_jax import parallel, recipes

  recipes.check_variant_options(config)
  recipe = recipes.recipe_of(config)
  if config.get("reuse_fakes", False) and not recipe.honours_reuse_fakes:
    raise ValueError(
      f"reuse_fakes=True works with the core player steps only; recipe {recipe.name!r} "
      "trains with steps of its own, which would ignore it: set reuse_fakes=False"
    )

  if num_devices is None:
    num_devices = parallel.num_devices(config.get("parallel", "none"))
  fused = config.get("steps_per_call", 1)
  for name in ("num_steps", "log_every", "sample_every", "checkpoint_every"):
    value = config.get(name, 1)
    if value % fused:
      raise ValueError(f"config.{name}={value} must be a multiple of steps_per_call={fused}")
  if fused > 1 and config.data.get("pipeline", "device") == "host":
    raise ValueError(
      "config.steps_per_call > 1 needs data.pipeline='device' (the dataset on the device)"
    )
  parallel.local_batch_size(config.batch_size, config.get("parallel", "none"), num_devices)


def validate_models(config, data_shape: tuple[int, ...], recipe=None) -> None:
  """Checks by shape evaluation (nothing runs or compiles) that the models fit `data_shape`.

  The generator must produce (B, *data_shape) and, in the core game, the discriminator
  (B,) logits (`check_discriminator_output`).
  """
  from gan_jax import recipes

  recipe = recipe or recipes.recipe_of(config)
  model = config.model.name
  try:
    state = jax.eval_shape(lambda: recipe.create_state(config, tuple(data_shape)))
    z = jax.ShapeDtypeStruct((2,) + state.noise.latent_shape, jnp.float32)
    labels = jax.ShapeDtypeStruct((2,), jnp.int32) if recipe.needs_labels else None
    fake = jax.eval_shape(lambda s, z, y: recipe.sample(s, z, y), state, z, labels)
  except ValueError:
    raise  # our own one-line messages, e.g. an unsupported DCGAN image shape
  except Exception as error:  # shape errors from the layers
    first = first_line(error)
    of_recipe = f" of recipe {recipe.name!r}" if recipe.name != "gan" else ""
    raise ValueError(
      f"model {model!r}{of_recipe} cannot work on data of shape {tuple(data_shape)}: {first}"
    ) from None
  check_penalties_without_batch_norm(state)
  expected = recipe.shape_of_sample(data_shape)
  if tuple(fake.shape[1:]) != expected:
    raise ValueError(
      f"model {model!r} generates samples of shape {tuple(fake.shape[1:])} but the "
      f"data has shape {tuple(data_shape)}"
      + (
        f" (recipe {recipe.name!r} shows samples of shape {expected})"
        if expected != tuple(data_shape)
        else ""
      )
    )
  check_discriminator_output(state, recipe, model, tuple(data_shape), int(config.batch_size))


def check_against_data(config, source, recipe) -> None:
  """What `train` checks once the data is known, before it builds anything: the models fit
  the data's shape (`validate_models`) and the data has the classes the recipe needs
  (`check_classes`)."""
  validate_models(config, source.data_shape, recipe)
  check_classes(config, source, recipe)


def check_classes(config, source, recipe) -> None:
  """Refuses (one line) a class-conditional recipe on data without labels, and one whose
  variant.num_classes differs from the number of classes of the data: more classes in the
  data index past the label embeddings (NaN from the first step), fewer leave embeddings
  that never train."""
  if recipe.needs_labels and not source.num_classes:
    raise ValueError(
      f"recipe {recipe.name!r} needs class labels but data {source.name!r} has none"
      f"{_why_unlabelled(config)}"
    )
  if "num_classes" not in recipe.options or not source.num_classes:
    return
  if source.num_classes < 2:
    raise ValueError(
      f"recipe {recipe.name!r} is conditioned on classes but data {source.name!r} has one "
      "class; accepted: data of 2 classes or more, or an unconditional recipe"
    )
  from gan_jax import variants

  declared = variants.num_classes_of(config)
  if declared != source.num_classes:
    present = len(np.unique(source.arrays["label"])) if "label" in source.arrays else 0
    if present and present < source.num_classes:  # labels with gaps, or an outlier
      raise ValueError(
        f"data {source.name!r} has labels up to {source.num_classes - 1} ({present} distinct "
        f"values) but variant.num_classes is {declared}; accepted: labels in "
        f"[0, {declared}), or variant.num_classes={source.num_classes}"
      )
    raise ValueError(
      f"data {source.name!r} has {source.num_classes} classes but variant.num_classes is "
      f"{declared}; accepted: variant.num_classes={source.num_classes}"
    )


def _why_unlabelled(config) -> str:
  """'; <reason>' for a folder of images without labels, else ''."""
  data = config.get("data", {})
  if data.get("source") != "images":
    return ""
  from gan_jax.data import image_folder

  folder = os.path.abspath(os.path.expanduser(data.get("path", "")))
  return "; " + image_folder.unlabelled_reason(folder, image_folder.list_files(folder))


def check_discriminator_output(
  state, recipe, model: str, data_shape: tuple[int, ...], batch_size: int
) -> None:
  """Refuses a discriminator of the core game whose logits are not one per row (one line).

  For the recipes that play the core game on samples (`steps.train_step`: 'gan', 'pacgan',
  'stylegan'), D in inference mode on a batch of B and of 2B samples (B = batch_size) must
  give 1-D logits whose length grows with the rows: (B,), or (B / m,) for a D that packs m
  samples (PacGAN). A (B, 5) or scalar output would otherwise train on the mean of its
  entries or fail inside the step. Other recipes feed D their own inputs and check them in
  their steps.
  """
  from gan_jax import steps

  if recipe.train_step is not steps.train_step:
    return

  def logits_of(s, x):
    return steps.apply_discriminator(s, s.d_params, x, train=False, key=jax.random.PRNGKey(0))[0]

  shapes = []
  for rows in (batch_size, 2 * batch_size):
    samples = jax.ShapeDtypeStruct((rows,) + tuple(data_shape), jnp.float32)
    try:
      logits = jax.eval_shape(logits_of, state, samples)
    except ValueError:
      raise  # our own one-line messages (PacGAN's pack size against the rows)
    except Exception as error:  # a D that cannot take the samples
      first = first_line(error)
      raise ValueError(
        f"model {model!r}: the discriminator cannot take samples of shape "
        f"{tuple(data_shape)}: {first}"
      ) from None
    shapes.append(jax.tree.map(lambda a: tuple(a.shape), logits))
  one, two = shapes
  if not (
    isinstance(one, tuple)
    and len(one) == 1
    and isinstance(one[0], int)
    and one[0] >= 1
    and batch_size % one[0] == 0
    and two == (2 * one[0],)
  ):
    raise ValueError(
      f"model {model!r}: the discriminator returns {one} for {batch_size} samples; "
      f"expected one logit per sample, shape ({batch_size},)"
    )


def check_penalties_without_batch_norm(state) -> None:
  """Refuses a gradient penalty or R1 on a discriminator with BatchNorm (one-line ValueError).

  The penalties take the gradient of D per sample, but D runs in train mode, where
  BatchNorm mixes the rows of the batch: the "per-sample" gradient would depend on
  the other rows.
  """
  game = state.game
  penalties = [
    f"{name}={getattr(game, name)}"
    for name in ("gradient_penalty_weight", "r1_weight")
    if getattr(game, name) > 0
  ]
  if penalties and "batch_stats" in state.d_collections:
    raise ValueError(
      f"{' and '.join(penalties)} needs a discriminator without BatchNorm (its "
      f"per-sample gradients would mix the batch's rows); set the "
      f"discriminator's batch_norm=False or the penalty to 0"
    )
