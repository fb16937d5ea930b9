"""End to end: train tiny runs, then `gan-jax evaluate` writes eval.json and report.md."""

import dataclasses
import json
import os
import shutil

import jax
import ml_collections
import numpy as np
import pytest

from gan_jax import cli, data, evaluate, runs, sampling, train
from gan_jax.data import toy
from gan_jax.metrics import features, frechet, mixture
from tests.conftest import load_experiment_config, train_tiny_image_run
from tests.test_variants_text_to_image import write_tiny_captions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(name):
  return cli.load_config_file(os.path.join(ROOT, "experiments", "configs", name + ".py"))


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("ring"))
  config = _config("ring_gan")
  config.num_steps = 200
  config.log_every = 20
  config.sample_every = 200
  config.checkpoint_every = 200
  hook = evaluate.PeriodicEvaluator(workdir, config, 100)
  state = train.train_and_evaluate(config, workdir, progress=False, step_hook=hook)
  return workdir, state


def test_evaluate_cli_writes_the_pacgan_metrics_of_the_run(ring_run, capsys):
  workdir, state = ring_run
  assert cli.main(["evaluate", "--workdir", workdir]) == 0
  with open(os.path.join(workdir, "eval.json")) as f:
    result = json.load(f)
  expected = mixture.evaluate_mixture(sampling.draw_samples(state, 2500, seed=0), toy.ring())
  assert result["modes"] == expected.modes
  assert result["high_quality"] == pytest.approx(expected.high_quality)
  assert 0.0 <= result["high_quality"] <= 1.0
  assert result["reverse_kl"] == pytest.approx(expected.reverse_kl)
  assert result["num_samples"] == 2500 and result["step"] == 200 and result["data"] == "ring8"
  printed = capsys.readouterr().out
  assert "reverse_kl" in printed and f"{expected.modes} / 8" in printed


def test_report_links_every_figure_and_the_history_has_each_evaluation(ring_run, capsys):
  workdir, _ = ring_run
  history = evaluate.read_history(workdir)
  assert [r["step"] for r in history] == [100, 200]
  assert cli.main(["report", "--workdir", workdir]) == 0
  path = os.path.join(workdir, "report.md")
  assert capsys.readouterr().out == f"wrote {path}\n"
  text = open(path).read()
  for name in (
    "samples.png",
    "latent_walks.png",
    "losses.png",
    "discriminator.png",
    "grad_norms.png",
    "eval_metrics.png",
  ):
    assert f"(report/{name})" in text
    with open(os.path.join(workdir, "report", name), "rb") as f:
      assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_eval_json_records_the_samples_seed_and_the_report_says_what_was_truncated(
  ring_run, tmp_path, capsys
):
  workdir = str(tmp_path / "ring")
  shutil.copytree(ring_run[0], workdir)
  argv = ["evaluate", "--workdir", workdir, "--num-samples", "200", "--seed", "7"]
  assert cli.main([*argv, "--truncation", "1.5"]) == 0
  result = json.load(open(os.path.join(workdir, "eval.json")))
  assert result["sample_seed"] == 7 and result["truncation"] == 1.5
  text = open(os.path.join(workdir, "report.md")).read()
  assert "sample_seed: 7" in text and "- training seed 0; step 200 of 200" in text
  assert "## Final samples over the data (drawn without truncation; the metrics use truncation" in (
    text
  )
  assert cli.main(argv) == 0  # without truncation, no such words
  assert "without truncation" not in open(os.path.join(workdir, "report.md")).read()


def test_a_report_of_an_earlier_checkpoint_says_the_curves_go_past_it(tmp_path, capsys):
  workdir = str(tmp_path / "run")
  config = _config("ring_gan")
  config.update(num_steps=40, log_every=10, sample_every=40, checkpoint_every=20)
  train.train_and_evaluate(config, workdir, progress=False)
  assert cli.main(["report", "--workdir", workdir, "--step", "20"]) == 0
  text = open(os.path.join(workdir, "report.md")).read()
  assert "## Step 20 samples over the data" in text and "Final samples" not in text
  assert "## Losses (logged to step 40, past this checkpoint)" in text
  assert "- wall-clock at the last logged step (40): " in text


def test_eval_json_that_is_a_directory_is_refused_before_evaluating(ring_run, tmp_path, capsys):
  workdir = str(tmp_path / "ring")
  shutil.copytree(ring_run[0], workdir)
  if os.path.exists(os.path.join(workdir, "eval.json")):
    os.remove(os.path.join(workdir, "eval.json"))
  os.mkdir(os.path.join(workdir, "eval.json"))
  assert cli.main(["evaluate", "--workdir", workdir]) == 1
  assert capsys.readouterr().err.strip().splitlines() == [
    f"gan-jax: error: {os.path.join(workdir, 'eval.json')} is a directory; evaluate writes its "
    "metrics there"
  ]
  assert not [name for name in os.listdir(workdir) if name.endswith(".tmp")]


def test_inception_weights_are_refused_for_a_run_on_toy_points(ring_run, tmp_path, capsys):
  """Inception scores images (README): the flag is not silently ignored on a mixture."""
  weights = str(tmp_path / "inception.npz")
  np.savez(weights, x=np.zeros(1))
  assert cli.main(["evaluate", "--workdir", ring_run[0], "--inception-weights", weights]) == 2
  assert capsys.readouterr().err.strip().splitlines() == [
    "gan-jax: error: --inception-weights adds FID, KID and the Inception Score of images; this "
    "run's data ('ring8') are toy points, scored by their mixture's modes: leave out "
    "--inception-weights"
  ]


def test_train_eval_samples_sets_the_samples_of_each_evaluation(tmp_path):
  workdir = str(tmp_path / "run")
  argv = ["train", "--config", os.path.join(ROOT, "experiments", "configs", "ring_gan.py")]
  argv += ["--workdir", workdir, "--no-progress", "--eval-every", "2", "--eval-samples", "300"]
  argv += ["--config.num_steps=4", "--config.steps_per_call=1", "--config.batch_size=8"]
  assert cli.main(argv) == 0
  history = evaluate.read_history(workdir)
  assert [(r["step"], r["num_samples"]) for r in history] == [(2, 300), (4, 300)]
  _, _, state = runs.load_run(workdir)
  points = sampling.draw_samples(state, 300, seed=0)
  assert history[-1]["modes"] == mixture.evaluate_mixture(points, toy.ring()).modes


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_a_directory_without_a_run_is_a_usage_error(command, tmp_path, capsys):
  assert cli.main([command, "--workdir", str(tmp_path)]) == cli.EXIT_USAGE
  assert "no run" in capsys.readouterr().err
  assert os.listdir(tmp_path) == []


def test_image_runs_get_fd_precision_recall_and_class_kl(tmp_path):
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 10, 96).astype(np.int32)
  images = rng.integers(0, 255, (96, 28, 28)).astype(np.uint8)
  np.savez(tmp_path / "data.npz", x=images, label=labels)
  params, _ = features.train_classifier(images[..., None], labels, num_steps=2, batch_size=8)
  network_path = str(tmp_path / "net.msgpack")
  features.save_network(
    features.FeatureNetwork(params, 10, features.parameter_identity(params)), network_path
  )
  config = _config("mlp_fashion_mnist")
  config.data.source, config.data.path = "npz", str(tmp_path / "data.npz")
  config.model.generator = {"hidden": (32, 32, 32, 32)}
  config.model.discriminator = {"hidden": (32, 32)}
  config.num_steps, config.batch_size, config.log_every = 3, 8, 1
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(config, workdir, progress=False)
  result = evaluate.evaluate_run(workdir, num_samples=40, feature_network_path=network_path)
  saved = json.load(open(os.path.join(workdir, "eval.json")))
  for key in ("fd", "precision", "recall", "class_kl"):
    assert saved[key] == pytest.approx(result[key])
  assert 0 <= saved["precision"] <= 1 and 0 <= saved["recall"] <= 1
  assert 0 <= saved["class_kl"] <= np.log(10) + 1e-9 and saved["fd"] >= 0
  assert saved["feature_network"] == features.parameter_identity(params)
  assert saved["num_samples"] == 40
  # data.npz is not named after a split: no held-out images, and the table says so
  assert "floor" not in saved and "no held-out split" in saved["floor_not_computed"]
  assert "not computed: the floor; no held-out split of the data was found" in (
    evaluate.format_table(saved)
  )
  os.rename(tmp_path / "data.npz", tmp_path / "data_train.npz")
  np.savez(tmp_path / "data_test.npz", x=images[:24], label=labels[:24])
  config.data.path = str(tmp_path / "data_train.npz")
  saved = evaluate.evaluate_state(
    runs.load_run(workdir, need_data=False)[2],
    data.make_data_source(config),
    config,
    num_samples=40,
    feature_network_path=network_path,
  )
  assert saved["floor_num_samples"] == 24 and "floor_not_computed" not in saved  # all it has


def test_a_conditional_run_is_evaluated_with_the_real_images_labels(tmp_path):
  """`evaluate` on a conditional run draws each sample with the label of a real image it is
  compared with (the data's class proportions).

  Fails if evaluation calls a conditional generator without labels (it used to stop with
  "missing 1 required positional argument: 'labels'").
  """
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 10, 96).astype(np.int32)
  images = rng.integers(0, 255, (96, 28, 28)).astype(np.uint8)
  np.savez(tmp_path / "data.npz", x=images, label=labels)
  params, _ = features.train_classifier(images[..., None], labels, num_steps=2, batch_size=8)
  network_path = str(tmp_path / "net.msgpack")
  features.save_network(
    features.FeatureNetwork(params, 10, features.parameter_identity(params)), network_path
  )
  config = _config("mlp_fashion_mnist")
  config.recipe, config.reuse_fakes = "conditional", False
  config.variant = {"num_classes": 10, "embed_dim": 4}
  config.data.source, config.data.path = "npz", str(tmp_path / "data.npz")
  config.model.generator = {"hidden": (16, 16, 16, 16)}
  config.model.discriminator = {"hidden": (16, 16)}
  config.num_steps, config.batch_size, config.log_every = 3, 8, 1
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(config, workdir, progress=False)
  result = evaluate.evaluate_run(workdir, num_samples=40, feature_network_path=network_path)
  assert result["num_samples"] == 40 and result["fd"] >= 0
  _, source, _ = runs.load_run(workdir)
  drawn = evaluate._sample_labels(source, 120, seed=3)
  order = np.random.default_rng(3).permutation(96)
  np.testing.assert_array_equal(drawn[:96], labels[order])
  np.testing.assert_array_equal(drawn[96:], labels[order][:24])


def test_image_metrics_need_four_samples_and_say_so_before_any_network(tmp_path, capsys):
  assert train_tiny_image_run(tmp_path, tmp_path / "run") == 0
  for num in (2, 3):
    argv = ["evaluate", "--workdir", str(tmp_path / "run"), "--num-samples", str(num)]
    argv += ["--feature-network", str(tmp_path / "absent.msgpack")]
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
      "gan-jax: error: num_samples must be >= 4 for image metrics (precision and recall take "
      f"each sample's 3 nearest neighbours), got {num}"
    ]
  assert not os.path.exists(tmp_path / "absent.msgpack")  # nothing trained for it


def test_a_damaged_feature_network_file_is_one_line_naming_it_and_the_way_out(tmp_path):
  network = features.FeatureNetwork(
    jax.tree.map(
      lambda leaf: np.zeros(leaf.shape, leaf.dtype),
      jax.eval_shape(
        features.FeatureClassifier(num_classes=10).init,
        jax.random.PRNGKey(0),
        np.zeros((1,) + features.IMAGE_SHAPE, np.float32),
      ),
    ),
    10,
    "",
  )
  network = dataclasses.replace(network, identity=features.parameter_identity(network.params))
  path = str(tmp_path / "net.msgpack")
  features.save_network(network, path)
  assert features.load_network(path).identity == network.identity
  whole = open(path, "rb").read()
  retrain = f"delete {path} and {path}.json, and evaluate trains one there again"
  for damage, message in (
    (
      lambda: open(path, "wb").write(whole[:1000]),
      "(ValueError: Unpack failed: incomplete input); ",
    ),
    (lambda: open(path + ".json", "w").write("{x"), "(JSONDecodeError: Expecting property name"),
  ):
    meta = open(path + ".json").read()
    damage()
    with pytest.raises(ValueError) as error:
      features.load_network(path)
    assert str(error.value).startswith(f"the feature network {path} cannot be read ")
    assert message in str(error.value) and str(error.value).endswith(retrain)
    open(path, "wb").write(whole)
    open(path + ".json", "w").write(meta)
  os.remove(path + ".json")  # a write cut short before the parameters' file was replaced
  with pytest.raises(ValueError, match=f"has no {path}.json beside it; delete {path}, and"):
    features.load_network(path)


def _rgb_run(tmp_path, size=16):
  """A 3-step MLP run on random RGB size x size images in an npz."""
  rng = np.random.default_rng(0)
  np.savez(tmp_path / "rgb.npz", x=rng.integers(0, 255, (64, size, size, 3)).astype(np.uint8))
  config = _config("mlp_fashion_mnist")
  config.data = {"source": "npz", "path": str(tmp_path / "rgb.npz")}
  config.model.generator = {"hidden": (16, 16, 16, 16)}
  config.model.discriminator = {"hidden": (16, 16)}
  config.num_steps, config.batch_size, config.log_every = 3, 8, 1
  workdir = str(tmp_path / "run")
  train.train_and_evaluate(config, workdir, progress=False)
  return workdir


def test_rgb_images_without_inception_weights_get_a_report_naming_what_weights_add(
  tmp_path, capsys
):
  workdir = _rgb_run(tmp_path)
  assert cli.main(["evaluate", "--workdir", workdir]) == 0
  out = capsys.readouterr().out
  assert "not computed: fid, kid and inception_score need --inception-weights FILE" in out
  saved = json.load(open(os.path.join(workdir, "eval.json")))
  assert saved["image_shape"] == [16, 16, 3] and "fid" not in saved
  assert "--inception-weights" in saved["needs_inception_weights"]
  assert os.path.exists(os.path.join(workdir, "report.md"))
  assert "not computed: fid" in open(os.path.join(workdir, "report.md")).read()


def test_rgb_images_with_inception_weights_get_fid_kid_and_inception_score(tmp_path, monkeypatch):
  """The metrics evaluate writes are those of the run's own samples against its training
  images, in the features of the weights given."""
  import metric_references
  from gan_jax import runs
  from gan_jax.metrics import inception, inception_score, kernel_distance

  workdir = _rgb_run(tmp_path)
  weights = str(tmp_path / "inception.npz")
  np.savez(weights, **metric_references.random_inception_weights())
  seen = []
  extract = inception.InceptionFeatures.__call__

  def recording_call(self, images, progress=False):
    seen.append((np.array(images), extract(self, images, progress)))
    return seen[-1][1]

  monkeypatch.setattr(inception.InceptionFeatures, "__call__", recording_call)
  evaluate.evaluate_run(workdir, num_samples=3, inception_weights=weights)
  saved = json.load(open(os.path.join(workdir, "eval.json")))
  _, source, state = runs.load_run(workdir)
  (real_images, real), (fake_images, fake) = seen
  np.testing.assert_array_equal(real_images, evaluate._subset(source.arrays["x"], 3, 0))
  np.testing.assert_allclose(fake_images, sampling.draw_samples(state, 3, 0), atol=1e-6)
  assert saved["fid"] == pytest.approx(frechet.frechet_distance_from_features(real, fake))
  assert saved["kid"] == pytest.approx(kernel_distance.kernel_distance(real, fake)[0])
  logits = inception.InceptionFeatures(weights).logits
  assert saved["inception_score"] == pytest.approx(
    inception_score.inception_score(logits(fake), splits=3)[0]
  )
  assert saved["inception_score_real"] == pytest.approx(
    inception_score.inception_score(logits(real), splits=3)[0]
  )
  assert saved["kid_subset_size"] == 3 and saved["inception_score_std"] >= 0
  assert saved["inception_weights"] == inception.weights_identity(
    weights, inception.load_inception_weights(weights)
  )
  assert "needs_inception_weights" not in saved


def test_the_floor_of_a_run_on_the_test_split_is_taken_from_the_training_split():
  """A run trained on the test split has its floor against the training split (test against
  a reshuffle of itself gave FD 0 and precision 1), and the table says which."""
  config = load_experiment_config("dcgan_fashion_mnist")
  assert evaluate.other_split(config) == "test"
  config.data.split = "test"
  assert evaluate.other_split(config) == "train"
  table = evaluate.format_table({"fd": 3.0, "floor": {"fd": 1.0}, "floor_splits": "test vs train"})
  assert table.splitlines()[0].split() == ["metric", "value", "floor", "(test", "vs", "train)"]


def test_the_floor_of_a_file_named_after_its_split_is_the_other_split_s_file(tmp_path):
  """Text-to-image runs (captions) and npz files had no floor: only idx splits gave one. Now
  NAME_train.npz is compared with NAME_test.npz beside it, resized as the run's data is."""
  captions_train = write_tiny_captions(str(tmp_path / "caps_train.npz"), num=8, size=8)
  write_tiny_captions(str(tmp_path / "caps_test.npz"), num=6, size=8)
  config = ml_collections.ConfigDict({"data": {"source": "captions", "path": captions_train}})
  images, splits = evaluate._floor_images(config)
  assert images.shape == (6, 8, 8, 1) and splits == "train vs test"
  rng = np.random.default_rng(0)
  np.savez(tmp_path / "mine_test.npz", x=rng.integers(0, 256, (5, 16, 16, 3), np.uint8))
  np.savez(tmp_path / "mine_train.npz", x=np.zeros((4, 16, 16, 3), np.uint8))
  config.data = {"source": "npz", "path": str(tmp_path / "mine_test.npz"), "image_size": 8}
  images, splits = evaluate._floor_images(config)
  assert images.shape == (4, 8, 8, 3) and splits == "test vs train" and not images.any()
  config.data.path = str(tmp_path / "mine.npz")
  assert evaluate._floor_images(config) is None  # not named after a split
  os.remove(tmp_path / "caps_test.npz")
  config.data = {"source": "captions", "path": captions_train}
  assert evaluate._floor_images(config) is None  # the other split's file is not there


def test_a_recipe_whose_samples_are_not_the_datas_shape_is_not_evaluated():
  config = load_experiment_config("cogan_fashion_mnist")
  message = "recipe 'cogan' draws samples that are not the data's shape"
  with pytest.raises(ValueError, match=message):
    evaluate.check_evaluable(config)
  with pytest.raises(ValueError, match=message):  # --eval-every is refused before training
    evaluate.PeriodicEvaluator("/nonexistent", config, 10)


def test_eval_every_must_be_a_multiple_of_steps_per_call():
  config = load_experiment_config("ring_gan")  # steps_per_call 10
  with pytest.raises(ValueError, match="eval_every=7 must be a multiple of steps_per_call=10"):
    evaluate.PeriodicEvaluator("/nonexistent", config, 7)
  evaluate.PeriodicEvaluator("/nonexistent", config, 20)


def test_image_metrics_score_samples_clipped_to_the_data_range(tmp_path, monkeypatch):
  """Outputs of an unbounded generator (StyleGAN's linear toRGB) are scored as the pixels they
  become, clipped to [-1, 1], as the authors' FID code does; they were scored as they came.
  Here the MLP's samples are scaled by 5 to stand for such a generator."""
  assert train_tiny_image_run(tmp_path, tmp_path / "run") == 0
  config, source, state = runs.load_run(str(tmp_path / "run"))
  real = np.asarray(source.arrays["x"])
  params, _ = features.train_classifier(real[:32], np.arange(32) % 10, num_steps=1)
  network = features.FeatureNetwork(params, 10, features.parameter_identity(params))
  draw = evaluate.draw_samples

  def scored(scale, clip):
    def wide(*args, **kwargs):
      fake = scale * draw(*args, **kwargs)
      return np.clip(fake, -1.0, 1.0) if clip else fake

    monkeypatch.setattr(evaluate, "draw_samples", wide)
    return evaluate.evaluate_state(state, source, config, num_samples=32, network=network)

  wide, clipped, plain = scored(5.0, False), scored(5.0, True), scored(1.0, False)
  assert wide["fd"] == clipped["fd"] and wide["precision"] == clipped["precision"]
  assert wide["fd"] != plain["fd"]  # the scaling reaches the metrics: the clip is what matters
