"""Conditional GAN: labels reach both players, the projection D's formula, training and sampling."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import cli, recipes, runs, sampling, train
from gan_jax.variants import conditional
from tests.conftest import ROOT, tiny_ring_config
from tests.variant_helpers import build, ring_batch, write_tiny_images


def test_labels_change_the_generator_and_both_discriminators():
  for projection in (False, True):
    _, state = build("conditional", num_classes=8, projection=projection)
    z = jnp.ones((4, 16))
    x = jnp.ones((4, 2))
    same, other = jnp.zeros((4,), jnp.int32), jnp.full((4,), 3, jnp.int32)
    assert not np.allclose(
      conditional.generate(state, z, same), conditional.generate(state, z, other)
    )
    d = lambda labels: state.d_apply_fn(state.d_variables, x, labels, train=False)
    assert d(same).shape == (4,)
    assert not np.allclose(d(same), d(other))


def test_projection_discriminator_is_psi_plus_embedding_dot_features():
  _, state = build("conditional", num_classes=8, projection=True)
  x = jax.random.normal(jax.random.PRNGKey(1), (5, 2))
  labels = jnp.arange(5, dtype=jnp.int32)
  module = conditional.make_models(build("conditional", num_classes=8, projection=True)[0], (2,))[1]
  base_variables = {"params": state.d_params["base"]}
  psi, phi = module.base.apply(base_variables, x, train=False)
  embedding = state.d_params["Embed_0"]["embedding"][labels]
  expected = psi + jnp.sum(embedding * phi, axis=-1)
  np.testing.assert_allclose(
    state.d_apply_fn(state.d_variables, x, labels, train=False), expected, rtol=1e-5, atol=1e-6
  )


def test_a_few_conditional_steps_train_and_are_deterministic():
  _, state = build("conditional", num_classes=8)
  step = jax.jit(recipes.get_recipe("conditional").train_step)
  a, b = state, state
  for i in range(3):
    a, metrics = step(a, ring_batch(1, 32, i))
    b, _ = step(b, ring_batch(1, 32, i))
  assert int(a.step) == 3
  assert all(np.isfinite(float(v)) for v in metrics.values())
  assert all(
    np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a.g_params), jax.tree.leaves(b.g_params))
  )


def test_a_batch_without_labels_is_refused_in_one_line():
  _, state = build("conditional", num_classes=8)
  batch = {"x": ring_batch(1, 8)["x"]}
  with pytest.raises(
    ValueError, match=r"conditioned on batch\['label'\] but the batch holds only \['x'\]"
  ):
    conditional.train_step(state, batch)


def test_sampling_needs_labels():
  _, state = build("conditional", num_classes=8)
  with pytest.raises(ValueError, match="needs labels"):
    conditional.generate(state, jnp.zeros((2, 16)), None)


def test_train_then_sample_a_label_from_the_cli(tmp_path, capsys):
  config = tiny_ring_config(
    recipe="conditional", num_steps=4, log_every=2, sample_every=4, checkpoint_every=4, batch_size=8
  )
  config.data = {
    "source": "npz",
    "name": "tiny",
    "path": write_tiny_images(str(tmp_path / "d.npz")),
    "split": "train",
  }
  config.model = {
    "name": "seed002_mlp",
    "latent_dim": 8,
    "noise": "normal",
    "generator": {"hidden": (16, 16)},
    "discriminator": {"hidden": (16,)},
  }
  config.variant = {"num_classes": 4, "embed_dim": 4}
  workdir = str(tmp_path / "run")
  state = train.train_and_evaluate(config, workdir, progress=False)
  assert int(state.step) == 4
  out = str(tmp_path / "s.npz")
  assert cli.main(["sample", "--workdir", workdir, "--num", "3", "--label", "2", "--out", out]) == 0
  samples = np.load(out)["samples"]
  assert samples.shape == (3, 8, 8, 1)
  _, _, restored = runs.load_run(workdir)
  np.testing.assert_allclose(
    samples,
    sampling.draw_samples(
      restored, 3, 0, recipe=conditional.RECIPE, labels=np.full(3, 2, np.int32)
    ),
  )
  assert cli.main(["sample", "--workdir", workdir, "--label", "7", "--out", out]) == 2


@pytest.mark.parametrize("recipe", ["conditional", "acgan"])
@pytest.mark.parametrize("data_classes", [12, 3])
def test_a_class_count_other_than_the_datas_is_refused_before_training(
  recipe, data_classes, tmp_path, capsys
):
  path = write_tiny_images(str(tmp_path / "d.npz"), classes=data_classes)
  workdir = tmp_path / "run"
  config = "cgan" if recipe == "conditional" else recipe
  status = cli.main(
    [
      "train",
      "--config",
      f"{ROOT}/experiments/configs/{config}_fashion_mnist.py",
      "--workdir",
      str(workdir),
      "--config.data.source=npz",
      f"--config.data.path={path}",
      "--config.data.image_size=28",
    ]
  )
  assert status == 2
  assert capsys.readouterr().err.strip().splitlines() == [
    f"gan-jax: error: data 'd.npz' has {data_classes} classes but variant.num_classes is 10; "
    f"accepted: variant.num_classes={data_classes}"
  ]
  assert not (workdir / "checkpoints").exists()


class _Inputs(nn.Module):
  """A stand-in core player that returns what it is given."""

  @nn.compact
  def __call__(self, x, train: bool = True):
    return x


def test_one_hot_labels_reach_the_players_at_the_pixels_scale():
  """label_encoding='one_hot' (Mirza & Osindero): D sees K channels of one_hot(y), 0 or 1 over
  the whole image, and G sees [z, one_hot(y)]; a learned embedding (std 1/sqrt(H*W) per pixel
  in D) would put the label ~28 times below the pixels' scale."""
  labels = jnp.array([0, 3], jnp.int32)
  x = jnp.zeros((2, 4, 4, 1))
  d = conditional.LabelConcatDiscriminator(_Inputs(), num_classes=5, one_hot=True)
  seen = d.apply(d.init(jax.random.PRNGKey(0), x, labels), x, labels)
  assert seen.shape == (2, 4, 4, 6)
  np.testing.assert_array_equal(
    seen[..., 1:], jnp.broadcast_to(jax.nn.one_hot(labels, 5)[:, None, None, :], (2, 4, 4, 5))
  )
  g = conditional.LabelConcatGenerator(_Inputs(), num_classes=5, one_hot=True)
  z = jnp.ones((2, 3))
  np.testing.assert_array_equal(
    g.apply(g.init(jax.random.PRNGKey(0), z, labels), z, labels),
    jnp.concatenate([z, jax.nn.one_hot(labels, 5)], axis=-1),
  )


def test_an_unknown_label_encoding_is_refused_in_one_line():
  config, _ = build("conditional", num_classes=8)
  config.variant.label_encoding = "onehot"
  with pytest.raises(
    ValueError, match=r"label_encoding 'onehot' is unknown; accepted: embedding, one_hot"
  ):
    conditional.make_models(config, (2,))
