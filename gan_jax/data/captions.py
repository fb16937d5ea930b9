"""Captioned Fashion-MNIST: images with word-token captions, for text-to-image GANs.

The vocabulary is fixed here (every word of the caption grammar that
`experiments/make_captions.py` writes captions with), so a trained run and
`gan-jax sample --text` tokenize alike. Token 0 pads; a caption is int32
(MAX_TOKENS,). The captions file is an .npz with
  x: uint8 (N, 28, 28, 1), label: int32 (N,), tokens: int32 (N, C, MAX_TOKENS),
C captions per image; a batch draws one of them per row:
{'x': float32 (B, 28, 28, 1), 'label': int32 (B,), 'tokens': int32 (B, MAX_TOKENS)}.
"""

from __future__ import annotations

import os

import jax
import numpy as np

from gan_jax.data import files

MAX_TOKENS = 16
# Per class, its words: the first is the one `class_captions` uses.
CLASS_WORDS = (
  ("t-shirt", "top", "tee"),
  ("trousers", "pants"),
  ("pullover", "sweater"),
  ("dress", "gown"),
  ("coat", "jacket"),
  ("sandal", "slipper"),
  ("shirt", "blouse"),
  ("sneaker", "trainer"),
  ("bag", "handbag"),
  ("boot", "bootie"),
)
# Per measured attribute, words for its low, middle and high third (within the class).
ATTRIBUTE_WORDS = {
  "brightness": (("dark", "dim", "black"), ("grey", "gray"), ("bright", "light", "pale")),
  "width": (("narrow", "slim", "skinny"), ("regular", "average"), ("wide", "broad", "baggy")),
  "ink": (("sparse", "airy", "thin"), ("medium", "moderate"), ("solid", "heavy", "dense")),
}
FUNCTION_WORDS = ("a", "the", "this", "is", "that", "and", "of", "picture", "looks")
PAD = 0


def _words() -> tuple[str, ...]:
  words = set(FUNCTION_WORDS)
  for names in CLASS_WORDS:
    words.update(names)
  for levels in ATTRIBUTE_WORDS.values():
    for level in levels:
      words.update(level)
  return tuple(sorted(words))


VOCABULARY = _words()  # token i + 1 is VOCABULARY[i]
VOCAB_SIZE = len(VOCABULARY) + 1  # with the padding token
TOKEN_OF = {word: i + 1 for i, word in enumerate(VOCABULARY)}


def split_words(text: str) -> list[str]:
  """Lower-case words of a caption; commas and full stops are dropped."""
  return text.lower().replace(",", " ").replace(".", " ").split()


def tokenize(text: str) -> np.ndarray:
  """A caption -> int32 (MAX_TOKENS,) token ids, 0-padded; one-line error for a bad caption."""
  if not isinstance(text, str) or not split_words(text):
    raise ValueError(
      f"caption {text!r} is empty; accepted: up to {MAX_TOKENS} words of the "
      f"vocabulary ({', '.join(VOCABULARY)})"
    )
  words = split_words(text)
  unknown = [w for w in words if w not in TOKEN_OF]
  if unknown:
    raise ValueError(
      f"caption {text!r} has unknown words {', '.join(map(repr, unknown))}; "
      f"accepted words: {', '.join(VOCABULARY)}"
    )
  if len(words) > MAX_TOKENS:
    raise ValueError(f"caption {text!r} has {len(words)} words; accepted: at most {MAX_TOKENS}")
  tokens = np.zeros((MAX_TOKENS,), np.int32)
  tokens[: len(words)] = [TOKEN_OF[w] for w in words]
  return tokens


def detokenize(tokens) -> str:
  """int (MAX_TOKENS,) token ids -> the caption's words joined by spaces."""
  return " ".join(VOCABULARY[int(t) - 1] for t in np.asarray(tokens) if int(t) != PAD)


def class_captions() -> np.ndarray:
  """int32 (num_classes, MAX_TOKENS): 'a CLASS' for each class (pictures of a class label)."""
  return np.stack([tokenize(f"a {names[0]}") for names in CLASS_WORDS])


def sample_captioned(arrays: dict, key: jax.Array, num: int) -> dict[str, jax.Array]:
  """Draws `num` rows with replacement and one of each row's captions."""
  from gan_jax.data import to_unit_range  # this module is imported by gan_jax.data

  row_key, caption_key = jax.random.split(key)
  index = jax.random.randint(row_key, (num,), 0, arrays["x"].shape[0])
  column = jax.random.randint(caption_key, (num,), 0, arrays["tokens"].shape[1])
  return {
    "x": to_unit_range(arrays["x"][index]),
    "label": arrays["label"][index],
    "tokens": arrays["tokens"][index, column],
  }


def load_captions(path: str) -> dict[str, np.ndarray]:
  """The arrays x, label, tokens of a captions .npz; one-line errors for a bad file."""
  if not path or not os.path.exists(path):
    raise FileNotFoundError(
      f"captions file {path!r} does not exist; write it with python experiments/make_captions.py"
    )
  arrays = files.read_npz_arrays(path, ("x", "label", "tokens"), "captions")
  out = {
    "x": arrays["x"],
    "label": arrays["label"].astype(np.int32),
    "tokens": arrays["tokens"].astype(np.int32),
  }
  if out["x"].ndim == 3:
    out["x"] = out["x"][..., None]
  n = len(out["x"])
  if out["label"].shape != (n,) or out["tokens"].ndim != 3 or len(out["tokens"]) != n:
    raise ValueError(
      f"captions file {path}: x {out['x'].shape}, label {out['label'].shape} and "
      f"tokens {out['tokens'].shape} must be (N, H, W, C), (N,), (N, C, L)"
    )
  if out["tokens"].max() >= VOCAB_SIZE or out["tokens"].min() < 0:
    raise ValueError(f"captions file {path} has token ids outside [0, {VOCAB_SIZE})")
  return out


def source_from_config(data):
  """The 'captions' data source of config.data (its path: a captions .npz)."""
  from gan_jax.data import DataSource

  if data.get("pipeline", "device") != "device":
    raise ValueError(
      "data source 'captions' is sampled on the device; use config.data.pipeline='device'"
    )
  arrays = load_captions(data.get("path", ""))
  return DataSource(
    data.get("name", "") or "fashion_mnist_captions",
    "image",
    tuple(arrays["x"].shape[1:]),
    arrays,
    sample_captioned,
    num_classes=len(CLASS_WORDS),
  )
