"""Text-to-speech GAN: the losses, training and resume, Griffin-Lim, bad input, espeak-ng data."""

import dataclasses
import importlib.util
import os
import shutil
import subprocess

import jax
import numpy as np
import pytest

from gan_jax import cli, train
from gan_jax.data import speech
from gan_jax.variants import text_to_speech, translation
from tests.conftest import ROOT, load_experiment_config

TEXTS = ("the red cat", "you sing now", "a big tree here")


def write_speech_npz(path, num: int = 6) -> str:
  """A tiny speech .npz: random scaled mels over the uniform alignment of short texts."""
  rng = np.random.default_rng(0)
  rows = {"chars": [], "position": [], "length": [], "num_chars": []}
  for i in range(num):
    tokens = speech.encode_text(TEXTS[i % len(TEXTS)])
    length = int(rng.integers(40, speech.FRAMES))
    chars, position = speech.frame_characters(tokens, length)
    for name, value in zip(rows, (chars, position, length, len(tokens))):
      rows[name].append(value)
  x = rng.uniform(-1, 1, (num, speech.FRAMES, speech.NUM_MELS)).astype(np.float16)
  np.savez(
    path,
    x=x,
    chars=np.stack(rows["chars"]),
    position=np.stack(rows["position"]),
    voice=(np.arange(num) % len(speech.VOICES)).astype(np.int32),
    length=np.array(rows["length"], np.int32),
    num_chars=np.array(rows["num_chars"], np.int32),
  )
  return str(path)


def tiny_config(path, **variant):
  config = load_experiment_config("text_to_speech_espeak")
  config.data.path = path
  config.num_steps = 4
  config.batch_size = 2
  config.model.generator.features = 8
  config.model.generator.dilations = (1, 2)
  config.model.discriminator.features = 4
  config.model.discriminator.num_layers = 1
  config.log_every = 1
  config.sample_every = 100
  config.num_sample_images = 2
  config.variant.update(variant)
  return config


@pytest.fixture(scope="module")
def speech_npz(tmp_path_factory):
  return write_speech_npz(tmp_path_factory.mktemp("speech") / "train.npz")


@pytest.fixture(scope="module")
def trained(speech_npz, tmp_path_factory):
  """(workdir, final state) of 4 straight training steps of the tiny config."""
  workdir = str(tmp_path_factory.mktemp("straight"))
  return workdir, train.train_and_evaluate(tiny_config(speech_npz), workdir, progress=False)


def test_generator_loss_is_adversarial_plus_weighted_regression(speech_npz, trained):
  """Catches a G loss that drops the adversarial term (the GAN would be the L1 baseline)."""
  from gan_jax import data, steps

  state = trained[1]
  source = data.make_data_source(tiny_config(speech_npz))
  batch = source.sample(source.arrays, jax.random.PRNGKey(1), 2)
  inputs = translation.condition_inputs(state, batch, None)
  keys = steps.generator_keys(jax.random.PRNGKey(2), None)
  regression = dataclasses.replace(state.game, adversarial_weight=0.0)

  def loss(params, game):
    return translation.translation_generator_loss(
      state.replace(game=game), params, batch, inputs, keys
    )

  @jax.jit
  def losses_and_gradients(params):
    total, (_, _, parts) = loss(params, state.game)
    with_adv = jax.grad(lambda p: loss(p, state.game)[0])(params)
    without = jax.grad(lambda p: loss(p, regression)[0])(params)
    return total, parts, with_adv, without

  total, parts, with_adv, without = losses_and_gradients(state.g_params)
  assert state.game.adversarial_weight == 1.0 and state.game.reconstruction_weight == 10.0
  assert float(parts["g_adversarial"]) > 0.1
  np.testing.assert_allclose(
    total, parts["g_adversarial"] + 10 * parts["g_reconstruction"], rtol=1e-6
  )
  difference = sum(
    float(np.abs(a - b).sum()) for a, b in zip(jax.tree.leaves(with_adv), jax.tree.leaves(without))
  )
  assert difference > 1e-3


def test_resume_is_bit_exact(speech_npz, trained, tmp_path):
  config = tiny_config(speech_npz)
  config.num_steps = 2
  train.train_and_evaluate(config, str(tmp_path), progress=False)
  config.num_steps = 4
  resumed = train.train_and_evaluate(config, str(tmp_path), progress=False)
  straight = trained[1]
  assert int(resumed.step) == 4
  for a, b in zip(
    jax.tree.leaves((straight.g_params, straight.d_params, straight.g_opt_state)),
    jax.tree.leaves((resumed.g_params, resumed.d_params, resumed.g_opt_state)),
  ):
    np.testing.assert_array_equal(a, b)


def test_sample_speech_writes_a_16khz_wav(speech_npz, trained, tmp_path, capsys):
  out = str(tmp_path / "hello.wav")
  assert (
    cli.main(["sample", "--workdir", trained[0], "--speech", "Hello there.", "--out", out]) == 0
  )
  audio = speech.read_wav(out)
  frames = round(len("hello there") * speech.frames_per_char(speech.load_speech(speech_npz)))
  assert len(audio) == speech.HOP * (frames - 1) and np.abs(audio).max() > 0
  code = cli.main(["sample", "--workdir", trained[0], "--speech", "hi #1", "--out", out])
  err = capsys.readouterr().err.strip().splitlines()
  assert code != 0 and "unknown characters '#1'" in err[-1]
  assert not any("Traceback" in line for line in err)


def test_the_report_caption_names_the_rows_its_picture_shows(trained):
  """Speech's condition (text features) is not an image, so the picture has rows of outputs
  and targets only; the report's caption said 'rows: condition, output, target'."""
  from gan_jax import report

  text = open(report.write_report(trained[0])).read()
  assert "Final outputs for conditions from the data (rows: output, target)" in text


def test_evaluate_scores_the_held_out_sentences_of_test_npz(speech_npz, trained, tmp_path):
  """A run on DIR/train.npz is scored on DIR/test.npz (make_speech.py's held-out sentences)
  when it is there, else on its own data."""
  from gan_jax import data, evaluate

  shutil.copy(speech_npz, tmp_path / "train.npz")
  config = tiny_config(str(tmp_path / "train.npz"))
  source = data.make_data_source(config)
  result = evaluate.evaluate_state(trained[1], source, config, num_samples=100)
  assert (result["eval_split"], result["num_samples"]) == ("train", 6)
  write_speech_npz(tmp_path / "test.npz", num=3)
  result = evaluate.evaluate_state(trained[1], source, config, num_samples=100)
  assert (result["eval_split"], result["num_samples"]) == ("test", 3)
  assert evaluate.split_file("data/captions_test.npz") == (
    "test",
    "train",
    "data/captions_train.npz",
  )


def test_evaluate_refuses_truncation_naming_the_flag(trained, capsys):
  assert cli.main(["evaluate", "--workdir", trained[0], "--truncation", "0.5"]) == 2
  assert capsys.readouterr().err.strip().splitlines() == [
    "gan-jax: error: --truncation needs a generator of a latent drawn from the prior; recipe "
    "'text_to_speech' maps a condition (an image, a text), which has none"
  ]


def test_griffin_lim_recovers_a_known_magnitude():
  """Spectral convergence ||S - S'|| / ||S|| of a chirp plus a tone: 0.081 after 100 iterations
  (tolerance 0.1), 0.62 with the random first phases alone."""
  t = np.arange(speech.SAMPLE_RATE // 2) / speech.SAMPLE_RATE
  signal = 0.5 * np.sin(2 * np.pi * (200 + 1500 * t) * t) + 0.3 * np.sin(2 * np.pi * 880 * t)
  magnitude = np.abs(speech.stft(signal))
  rebuilt = np.abs(speech.stft(speech.griffin_lim(magnitude, num_iters=100)))
  convergence = np.linalg.norm(magnitude - rebuilt) / np.linalg.norm(magnitude)
  assert convergence < 0.1, convergence
  random_phase = np.abs(speech.stft(speech.griffin_lim(magnitude, num_iters=0)))
  assert np.linalg.norm(magnitude - random_phase) / np.linalg.norm(magnitude) > 0.3


def test_stft_round_trip_and_log_mel_range():
  signal = np.random.default_rng(0).normal(size=speech.HOP * 20)
  np.testing.assert_allclose(speech.istft(speech.stft(signal)), signal, atol=1e-9)
  frames = speech.log_mel(signal)
  assert frames.shape == (21, speech.NUM_MELS) and -1 <= frames.min() and frames.max() <= 1


def test_bad_input_gets_one_line_errors(tmp_path):
  with pytest.raises(ValueError, match=r"text '  ' is empty; accepted: 1 to 48 characters"):
    speech.encode_text("  ")
  with pytest.raises(ValueError, match=r"text 'caf\u00e9 2' has unknown characters '2\u00e9'"):
    speech.encode_text("caf\u00e9 2")
  with pytest.raises(ValueError, match=r"voice 7 is unknown; accepted: 0 to 3"):
    text_to_speech.text_condition("hello", voice=7)
  path = str(tmp_path / "fast.wav")
  speech.write_wav(path, np.zeros(100), sample_rate=22050)
  with pytest.raises(ValueError, match=r"sample rate 22050 Hz; accepted: 16000 Hz"):
    speech.read_wav(path)
  with pytest.raises(ValueError) as info:
    speech.encode_text("")
  assert "\n" not in str(info.value)


def test_make_speech_splits_sentences_and_writes_16khz_frames(tmp_path):
  """experiments/make_speech.py with espeak-ng (.ci/run installs it)."""
  assert shutil.which("espeak-ng"), "espeak-ng is needed: apt-get install espeak-ng"
  spec = importlib.util.spec_from_file_location(
    "make_speech", os.path.join(ROOT, "experiments", "make_speech.py")
  )
  make_speech = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(make_speech)
  assert (
    make_speech.main(["--out", str(tmp_path), "--sentences", "3", "--test-sentences", "1"]) == 0
  )
  train_set = np.load(tmp_path / "train.npz")
  test_set = np.load(tmp_path / "test.npz")
  assert set(train_set["text"]).isdisjoint(test_set["text"])
  assert len(set(train_set["text"])) == 3 and sorted(set(test_set["voice"])) == [0, 1, 2, 3]
  assert train_set["x"].shape[1:] == (speech.FRAMES, speech.NUM_MELS)
  for row in range(len(train_set["x"])):
    length = train_set["length"][row]
    chars = train_set["chars"][row]
    assert chars[length - 1] != 0 and (chars[length:] == 0).all()
    assert train_set["x"][row, :length].astype(float).max() > -0.5  # speech where it says
  wav = subprocess.run(["espeak-ng", "--stdout", "hi"], check=True, capture_output=True).stdout
  with pytest.raises(ValueError, match="sample rate 22050 Hz; accepted: 16000 Hz"):
    speech.read_wav(wav)


def test_a_model_option_frame_generator_does_not_take_is_refused_in_one_line():
  config = tiny_config("unused.npz")
  config.model.generator.widht = 3
  with pytest.raises(ValueError, match=r"^bad config.model option for text_to_speech: .*'widht'"):
    text_to_speech.create_tts_state(config, (16, speech.NUM_MELS, 1))
