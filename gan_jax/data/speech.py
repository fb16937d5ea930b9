"""Speech data for a text-to-speech GAN: log-mel frames, text spread over frames, Griffin-Lim.

Audio is mono float32 at 16 kHz. A frame is a log-mel spectrum of `NUM_MELS` bins
(Hann window of `N_FFT` samples, hop `HOP` samples: 16 ms), scaled from
[LOG_MIN, LOG_MAX] (natural log of the mel magnitude) to [-1, 1]. An utterance is
`FRAMES` frames (2.05 s), zero-padded after its `length` frames of speech.

Alignment is explicit and uniform: the n characters of a text are spread evenly
over the utterance's `length` frames (frame t < length reads character
floor(t n / length), with its position inside that character in [0, 1)); frames
after `length` read the silence token 0. The number of frames is given: at training
the utterance's own, at synthesis the text's length times the training set's mean
frames per character (or what the caller asks).

A speech .npz (written by experiments/make_speech.py) holds
  x: float16 (N, FRAMES, NUM_MELS) scaled log-mels, chars: int8 (N, FRAMES) frame
  characters, position: float16 (N, FRAMES), voice: int32 (N,), length: int32 (N,),
  num_chars: int32 (N,), text: str (N,);
a batch is {'x': float32 (B, FRAMES, NUM_MELS, 1), 'cond': float32 (B, FRAMES, COND_FEATURES)}:
the frame's character one-hot, the voice one-hot and the position inside the character.
"""

from __future__ import annotations

import io
import os
import wave

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data import files

SAMPLE_RATE = 16000
N_FFT = 1024
HOP = 256
NUM_MELS = 40
FRAMES = 128
MAX_CHARS = 48
LOG_MIN = float(np.log(1e-5))
LOG_MAX = 6.0
ALPHABET = "abcdefghijklmnopqrstuvwxyz '"  # token i + 1 is ALPHABET[i]; 0 is silence
VOCAB_SIZE = len(ALPHABET) + 1
VOICES = ("en-us", "en-gb", "en-us+f3", "en-gb-scotland+m3")  # espeak-ng voices, by voice id
COND_FEATURES = VOCAB_SIZE + len(VOICES) + 1


def encode_text(text: str) -> np.ndarray:
  """Text -> int32 (n,) character tokens (1..VOCAB_SIZE-1); one-line error for a bad text.

  Lower-cased; '.', ',', '!' and '?' are dropped and runs of spaces become one.
  """
  accepted = f"1 to {MAX_CHARS} characters of {ALPHABET!r} (and . , ! ?)"
  if not isinstance(text, str):
    raise ValueError(f"text {text!r} is not a string; accepted: {accepted}")
  cleaned = " ".join(text.lower().translate(str.maketrans("", "", ".,!?")).split())
  if not cleaned:
    raise ValueError(f"text {text!r} is empty; accepted: {accepted}")
  unknown = sorted({c for c in cleaned if c not in ALPHABET})
  if unknown:
    raise ValueError(
      f"text {text!r} has unknown characters {''.join(unknown)!r}; accepted: {accepted}"
    )
  if len(cleaned) > MAX_CHARS:
    raise ValueError(f"text {text!r} has {len(cleaned)} characters; accepted: {accepted}")
  return np.array([ALPHABET.index(c) + 1 for c in cleaned], np.int32)


def frame_characters(tokens: np.ndarray, length: int, frames: int = FRAMES):
  """The uniform alignment: (chars int8 (frames,), position float32 (frames,)).

  Frame t < length reads token floor(t n / length) at position t n / length - that;
  later frames read 0 (silence) at position 0.
  """
  n = len(tokens)
  if not 1 <= length <= frames:
    raise ValueError(f"length {length} frames is not in [1, {frames}]")
  t = np.arange(frames)
  where = t * n / length
  index = np.minimum(np.floor(where).astype(np.int64), n - 1)
  speech = t < length
  chars = np.where(speech, np.asarray(tokens)[index], 0).astype(np.int8)
  position = np.where(speech, where - index, 0.0).astype(np.float32)
  return chars, position


def condition_features(chars, position, voice) -> jax.Array:
  """G's input of chars (B, T) int, position (B, T), voice (B,) -> float32 (B, T, COND_FEATURES)."""
  chars = jax.nn.one_hot(jnp.asarray(chars, jnp.int32), VOCAB_SIZE)
  voices = jax.nn.one_hot(jnp.asarray(voice, jnp.int32), len(VOICES))
  voices = jnp.broadcast_to(voices[:, None, :], chars.shape[:2] + (len(VOICES),))
  position = jnp.asarray(position, jnp.float32)[..., None]
  return jnp.concatenate([chars, voices, position], axis=-1)


# ---- audio: STFT, mel, Griffin-Lim, WAV files ----


def hann(n: int = N_FFT) -> np.ndarray:
  return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float64)


def stft(signal: np.ndarray) -> np.ndarray:
  """Complex STFT (frames, N_FFT // 2 + 1) of float (n,), centred frames (reflect padding)."""
  padded = np.pad(np.asarray(signal, np.float64), N_FFT // 2, mode="reflect")
  count = 1 + (len(padded) - N_FFT) // HOP
  index = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
  return np.fft.rfft(padded[index] * hann(), axis=-1)


def istft(spectrum: np.ndarray) -> np.ndarray:
  """The inverse of `stft` by weighted overlap-add: (frames, bins) -> (HOP * (frames - 1),)."""
  frames = np.fft.irfft(spectrum, n=N_FFT, axis=-1) * hann()
  total = N_FFT + HOP * (len(frames) - 1)
  out, norm = np.zeros(total), np.zeros(total)
  for i, frame in enumerate(frames):
    out[i * HOP : i * HOP + N_FFT] += frame
    norm[i * HOP : i * HOP + N_FFT] += hann() ** 2
  out = out / np.maximum(norm, 1e-8)
  return out[N_FFT // 2 : N_FFT // 2 + HOP * (len(frames) - 1)]


def mel_filterbank() -> np.ndarray:
  """Triangular filters (NUM_MELS, N_FFT // 2 + 1) on the HTK mel scale, 0 to 8 kHz."""
  to_mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)
  to_hz = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)
  edges = to_hz(np.linspace(0.0, to_mel(SAMPLE_RATE / 2), NUM_MELS + 2))
  freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
  low, centre, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
  rising = (freqs - low) / (centre - low)
  falling = (high - freqs) / (high - centre)
  return np.maximum(0.0, np.minimum(rising, falling))


def log_mel(signal: np.ndarray) -> np.ndarray:
  """Scaled log-mel frames float32 (frames, NUM_MELS) in [-1, 1] of a 16 kHz signal."""
  mel = np.abs(stft(signal)) @ mel_filterbank().T
  log = np.clip(np.log(np.maximum(mel, 1e-5)), LOG_MIN, LOG_MAX)
  return (2.0 * (log - LOG_MIN) / (LOG_MAX - LOG_MIN) - 1.0).astype(np.float32)


def unscale(frames: np.ndarray) -> np.ndarray:
  """Scaled frames in [-1, 1] -> natural-log mel magnitudes."""
  return (np.asarray(frames, np.float64) + 1.0) / 2.0 * (LOG_MAX - LOG_MIN) + LOG_MIN


def griffin_lim(
  magnitude: np.ndarray, num_iters: int = 60, momentum: float = 0.99, seed: int = 0
) -> np.ndarray:
  """A signal whose STFT magnitude approaches `magnitude` (frames, N_FFT // 2 + 1).

  Griffin & Lim (1984) with the momentum of Perraudin et al. (2013); the first phases
  are drawn from `seed`.
  """
  rng = np.random.default_rng(seed)
  angles = np.exp(2j * np.pi * rng.random(magnitude.shape))
  previous = np.zeros_like(angles)
  for _ in range(num_iters):
    rebuilt = stft(istft(magnitude * angles))
    angles = rebuilt - (momentum / (1.0 + momentum)) * previous
    angles = angles / np.maximum(np.abs(angles), 1e-12)
    previous = rebuilt
  return istft(magnitude * angles).astype(np.float32)


def frames_to_audio(frames: np.ndarray, num_iters: int = 60) -> np.ndarray:
  """Scaled log-mel frames (T, NUM_MELS) -> float32 16 kHz audio (HOP * (T - 1),) by Griffin-Lim.

  The mel magnitudes go back to linear bins through the filterbank's pseudo-inverse
  (negative values set to 0).
  """
  mel = np.exp(unscale(frames))
  magnitude = np.maximum(mel @ np.linalg.pinv(mel_filterbank()).T, 0.0)
  audio = griffin_lim(magnitude, num_iters)
  return audio / max(1.0, float(np.max(np.abs(audio))) / 0.95)


def write_wav(path: str, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
  """Mono 16-bit PCM WAV of float audio in [-1, 1]."""
  pcm = (np.clip(np.asarray(audio), -1.0, 1.0) * 32767).astype("<i2")
  with wave.open(path, "wb") as out:
    out.setnchannels(1)
    out.setsampwidth(2)
    out.setframerate(sample_rate)
    out.writeframes(pcm.tobytes())


def read_wav(source, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
  """float32 (n,) audio of a mono 16-bit WAV (a path or bytes); one-line error for another rate."""
  name = source if isinstance(source, str) else "<bytes>"
  with wave.open(source if isinstance(source, str) else io.BytesIO(source), "rb") as wav:
    rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
    if rate != sample_rate:
      raise ValueError(
        f"WAV {name} has sample rate {rate} Hz; accepted: {sample_rate} Hz "
        f"(resample it, e.g. speech.resample)"
      )
    if channels != 1 or width != 2:
      raise ValueError(
        f"WAV {name} has {channels} channels of {8 * width} bits; accepted: mono 16-bit PCM"
      )
    data = wav.readframes(wav.getnframes())
  return np.frombuffer(data, "<i2").astype(np.float32) / 32768.0


def resample(audio: np.ndarray, rate: int, new_rate: int = SAMPLE_RATE) -> np.ndarray:
  """Band-limited resampling of a whole clip by the FFT (rfft, cut or pad, irfft)."""
  n = len(audio)
  new_n = int(round(n * new_rate / rate))
  spectrum = np.fft.rfft(audio)
  keep = min(len(spectrum), new_n // 2 + 1)
  out = np.zeros(new_n // 2 + 1, complex)
  out[:keep] = spectrum[:keep]
  return (np.fft.irfft(out, n=new_n) * new_n / n).astype(np.float32)


# ---- the dataset ----

ARRAYS = ("x", "chars", "position", "voice", "length", "num_chars")


def load_speech(path: str) -> dict[str, np.ndarray]:
  """The numeric arrays of a speech .npz; one-line errors for a missing or bad file."""
  if not path or not os.path.exists(path):
    raise FileNotFoundError(
      f"speech file {path!r} does not exist; write it with python experiments/make_speech.py"
    )
  out = files.read_npz_arrays(path, tuple(ARRAYS), "speech")
  if out["x"].ndim != 3 or out["x"].shape[1:] != (FRAMES, NUM_MELS):
    raise ValueError(
      f"speech file {path}: x has shape {out['x'].shape}; accepted: (N, {FRAMES}, {NUM_MELS})"
    )
  return out


def frames_per_char(arrays: dict) -> float:
  """The training set's mean number of frames per character (sets synthesis lengths)."""
  return float(np.sum(arrays["length"]) / np.sum(arrays["num_chars"]))


def sample_speech(arrays: dict, key: jax.Array, num: int) -> dict[str, jax.Array]:
  """Draws `num` utterances with replacement: {'x': (num, FRAMES, NUM_MELS, 1), 'cond'}."""
  index = jax.random.randint(key, (num,), 0, arrays["x"].shape[0])
  return {
    "x": arrays["x"][index].astype(jnp.float32)[..., None],
    "cond": condition_features(
      arrays["chars"][index], arrays["position"][index], arrays["voice"][index]
    ),
  }


def source_from_config(data):
  """The 'speech' data source of config.data (its path: a speech .npz)."""
  from gan_jax.data import DataSource

  if data.get("pipeline", "device") != "device":
    raise ValueError(
      "data source 'speech' is sampled on the device; use config.data.pipeline='device'"
    )
  arrays = load_speech(data.get("path", ""))
  return DataSource(
    data.get("name", "speech"), "image", (FRAMES, NUM_MELS, 1), arrays, sample_speech
  )
