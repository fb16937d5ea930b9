"""Which configs may resume a checkpoint: identity fields, and fields added since it was written."""

import pytest

from gan_jax import checkpoint, config_base, validation


def test_a_config_saved_before_later_fields_existed_resumes_with_their_defaults():
  config = config_base.ring().to_dict()
  saved = {k: v for k, v in config.items() if k != "r1_decay_steps"}
  saved["model"] = {k: v for k, v in config["model"].items() if k != "noise_categories"}
  checkpoint.check_compatible(saved, config)  # no error: the old code had these defaults
  checkpoint.check_compatible(saved, saved)  # nor for a run whose config lacks them too
  coded = {**config["model"], "noise_categories": 10}
  for field, value, name in (
    ("r1_decay_steps", 500, "r1_decay_steps"),
    ("model", coded, "model.noise_categories"),
  ):
    changed = {**config, field: value}
    with pytest.raises(checkpoint.CheckpointMismatchError, match=f"{name}="):
      checkpoint.check_compatible(saved, changed)


def test_a_changed_model_names_the_option_that_differs_not_the_whole_section():
  config = config_base.ring().to_dict()
  model = config["model"]
  changed = {**config, "model": {**model, "generator": {**model["generator"], "hidden": [64]}}}
  with pytest.raises(checkpoint.CheckpointMismatchError) as error:
    checkpoint.check_compatible(config, changed)
  saved = model["generator"]["hidden"]
  assert str(error.value) == (
    f"the checkpoint was written with model.generator.hidden={saved!r} but this run has "
    "model.generator.hidden=[64]; use a new --workdir or the same model"
  )
  dropped = {**config, "model": {k: v for k, v in model.items() if k != "generator"}}
  with pytest.raises(
    checkpoint.CheckpointMismatchError, match="this run has model.generator=absent;"
  ):
    checkpoint.check_compatible(config, dropped)


def test_every_identity_field_that_differs_is_refused_by_name():
  config = config_base.ring().to_dict()
  for field, value in (("loss", "hinge"), ("r1_weight", 2.0), ("r1_decay_steps", 100), ("seed", 7)):
    with pytest.raises(
      checkpoint.CheckpointMismatchError,
      match=f"written with {field}=.* but this run has {field}={value!r}",
    ):
      checkpoint.check_compatible(config, {**config, field: value})


def test_a_changed_batch_size_or_reuse_fakes_is_refused_unless_the_config_allows_it():
  """A resumed run with another batch size or fake reuse is no continuation of the saved one.

  Fails if batch_size or reuse_fakes leave IDENTITY_FIELDS, if resume_may_change is
  ignored (the change stays refused) or lets other fields through.
  """
  config = config_base.ring().to_dict()
  for field, value in (("batch_size", 128), ("reuse_fakes", True)):
    changed = {**config, field: value}
    with pytest.raises(
      checkpoint.CheckpointMismatchError,
      match=f"written with {field}=.* this run has {field}={value!r}.*resume_may_change",
    ):
      checkpoint.check_compatible(config, changed)
    checkpoint.check_compatible(config, {**changed, "resume_may_change": [field]})
  allowed_other = {**config, "batch_size": 128, "resume_may_change": ["reuse_fakes"]}
  with pytest.raises(checkpoint.CheckpointMismatchError, match="batch_size="):
    checkpoint.check_compatible(config, allowed_other)
  with pytest.raises(checkpoint.CheckpointMismatchError, match="seed="):
    checkpoint.check_compatible(config, {**config, "seed": 3, "resume_may_change": ["seed"]})
  saved = {k: v for k, v in config.items() if k != "reuse_fakes"}  # written before the field
  checkpoint.check_compatible(saved, config)
  with pytest.raises(checkpoint.CheckpointMismatchError, match="reuse_fakes="):
    checkpoint.check_compatible(saved, {**config, "reuse_fakes": True})


def test_resume_may_change_names_only_changeable_fields():
  """Fails if validation lets resume_may_change name an identity field such as the seed."""
  config = config_base.ring()
  config.resume_may_change = ("batch_size", "reuse_fakes")
  validation.validate_config(config)
  for bad in (("seed",), "batch_size"):
    config = config_base.ring()
    config.resume_may_change = bad
    with pytest.raises(ValueError, match="resume_may_change"):
      validation.validate_config(config)
