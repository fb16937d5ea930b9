"""Which configs may resume a checkpoint: identity fields, and fields added since it was written."""

import pytest

from gan_jax import checkpoint, config_base


def test_a_config_saved_before_later_fields_existed_resumes_with_their_defaults():
  config = config_base.ring().to_dict()
  saved = {k: v for k, v in config.items() if k != "r1_decay_steps"}
  saved["model"] = {k: v for k, v in config["model"].items() if k != "noise_categories"}
  checkpoint.check_compatible(saved, config)  # no error: the old code had these defaults
  checkpoint.check_compatible(saved, saved)  # nor for a run whose config lacks them too
  coded = {**config["model"], "noise_categories": 10}
  for field, value in (("r1_decay_steps", 500), ("model", coded)):
    changed = {**config, field: value}
    with pytest.raises(checkpoint.CheckpointMismatchError, match=f"{field}="):
      checkpoint.check_compatible(saved, changed)


def test_every_identity_field_that_differs_is_refused_by_name():
  config = config_base.ring().to_dict()
  for field, value in (("loss", "hinge"), ("r1_weight", 2.0), ("r1_decay_steps", 100), ("seed", 7)):
    with pytest.raises(checkpoint.CheckpointMismatchError,
                       match=f"written with {field}=.* but this run has {field}={value!r}"):
      checkpoint.check_compatible(config, {**config, field: value})
