"""Speech for the text-to-speech GAN, synthesized here with Debian's espeak-ng.

Short sentences (2 to 4 words of a fixed word list, drawn with a fixed seed) are
spoken by each voice of `gan_jax.data.speech.VOICES` (espeak-ng at 22,050 Hz,
resampled to 16 kHz by the FFT), trimmed of leading and trailing silence, turned into
scaled log-mel frames and spread uniformly over their frames (see gan_jax/data/speech.py).
The sentences are split before synthesis: held-out sentences are never spoken in
train.npz. Utterances longer than speech.FRAMES frames (2.05 s) are dropped.

  python experiments/make_speech.py --out ~/.cache/gan_jax/speech      # train.npz, test.npz
  python experiments/make_speech.py --out DIR --sentences 20 --test-sentences 4

Needs espeak-ng (apt-get install espeak-ng); a one-line error says so when it is absent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gan_jax.data import speech  # noqa: E402

WORDS = (
  "red",
  "blue",
  "green",
  "big",
  "small",
  "old",
  "new",
  "cat",
  "dog",
  "bird",
  "fish",
  "house",
  "tree",
  "car",
  "boat",
  "sun",
  "moon",
  "star",
  "rain",
  "snow",
  "wind",
  "road",
  "the",
  "a",
  "my",
  "your",
  "this",
  "runs",
  "sees",
  "likes",
  "finds",
  "sings",
  "jumps",
  "reads",
  "opens",
  "we",
  "you",
  "they",
  "he",
  "she",
  "slowly",
  "quickly",
  "here",
  "there",
  "today",
  "now",
  "happy",
  "cold",
  "warm",
  "dark",
  "light",
  "water",
  "paper",
  "music",
  "window",
  "garden",
  "morning",
  "evening",
  "seven",
  "twelve",
  "one",
  "three",
)
ESPEAK_RATE = 22050
SPEED = 170  # words per minute
SILENCE = 0.01  # trim samples below this fraction of the clip's peak at both ends


def make_sentences(count: int, seed: int) -> list[str]:
  """`count` distinct sentences of 2 to 4 words, drawn with `seed`."""
  rng = np.random.default_rng(seed)
  sentences, seen = [], set()
  while len(sentences) < count:
    words = rng.choice(WORDS, size=int(rng.integers(2, 5)))
    sentence = " ".join(words)
    if sentence not in seen:
      seen.add(sentence)
      sentences.append(sentence)
  return sentences


def espeak(text: str, voice: str) -> np.ndarray:
  """float32 16 kHz audio of `text` spoken by espeak-ng's `voice`."""
  wav = subprocess.run(
    ["espeak-ng", "-v", voice, "-s", str(SPEED), "--stdout", text], check=True, capture_output=True
  ).stdout
  # espeak-ng's --stdout header leaves the length open: read the PCM after the 44-byte header
  audio = np.frombuffer(wav[44 : len(wav) - (len(wav) - 44) % 2], "<i2").astype(np.float32) / 32768
  return speech.resample(audio, ESPEAK_RATE, speech.SAMPLE_RATE)


def trim(audio: np.ndarray) -> np.ndarray:
  loud = np.nonzero(np.abs(audio) > SILENCE * np.max(np.abs(audio)))[0]
  return audio[loud[0] : loud[-1] + 1] if len(loud) else audio


def utterances(sentences: list[str]) -> dict[str, np.ndarray]:
  """The arrays of gan_jax.data.speech for each sentence in each voice (too long ones left out)."""
  rows = {k: [] for k in ("x", "chars", "position", "voice", "length", "num_chars", "text")}
  for sentence in sentences:
    tokens = speech.encode_text(sentence)
    for voice_id, voice in enumerate(speech.VOICES):
      audio = trim(espeak(sentence, voice))
      length = 1 + len(audio) // speech.HOP
      if length > speech.FRAMES:
        continue
      padded = np.zeros(speech.HOP * (speech.FRAMES - 1), np.float32)
      padded[: len(audio)] = audio
      chars, position = speech.frame_characters(tokens, length)
      rows["x"].append(speech.log_mel(padded).astype(np.float16))
      rows["chars"].append(chars)
      rows["position"].append(position.astype(np.float16))
      rows["voice"].append(voice_id)
      rows["length"].append(length)
      rows["num_chars"].append(len(tokens))
      rows["text"].append(sentence)
  out = {
    k: np.stack(v) if k in ("x", "chars", "position") else np.array(v) for k, v in rows.items()
  }
  for k in ("voice", "length", "num_chars"):
    out[k] = out[k].astype(np.int32)
  return out


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default=os.path.expanduser("~/.cache/gan_jax/speech"))
  parser.add_argument("--sentences", type=int, default=800, help="training sentences")
  parser.add_argument("--test-sentences", type=int, default=50, help="held-out sentences")
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)
  if shutil.which("espeak-ng") is None:
    print("espeak-ng is not installed; accepted: apt-get install espeak-ng", file=sys.stderr)
    return 2
  sentences = make_sentences(args.sentences + args.test_sentences, args.seed)
  os.makedirs(args.out, exist_ok=True)
  for name, part in (
    ("test", sentences[: args.test_sentences]),
    ("train", sentences[args.test_sentences :]),
  ):
    arrays = utterances(part)
    path = os.path.join(args.out, f"{name}.npz")
    np.savez_compressed(path, **arrays)
    print(f"wrote {len(arrays['x'])} utterances of {len(part)} sentences to {path}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
