"""Text-to-speech GAN (after Yang et al. 2017): an acoustic model text -> log-mel frames
trained with a regression loss beside an adversarial loss on spectrogram patches.

G (`models.speech.FrameGenerator`) maps per-frame text features (the character one-hot
under a uniform alignment, the voice one-hot and the position inside the character;
`gan_jax.data.speech`) to scaled log-mel frames (T, num_mels, 1). D is a PatchGAN on
the spectrogram as an image: one logit per time-frequency patch. The objective is
pix2pix's (`translation`):

  G loss = adversarial_weight * g_loss(D(G(c))) + reconstruction_weight * mean |G(c) - x|

with the regression term the acoustic model's own loss; D, the game's D loss on real
and generated spectrograms. adversarial_weight = 0 is the regression-only baseline
(D neither trained nor evaluated). The adversarial term counters the over-smoothing of
the regression loss (Yang et al.: the L1/L2 optimum is the conditional mean).

Data: config.data.source = 'speech' (experiments/make_speech.py). Audio comes back
through Griffin-Lim (`speak`). Config: recipe='text_to_speech', model.name the same,
model.generator (FrameGenerator options), model.discriminator (PatchGAN options),
variant.adversarial_weight, reconstruction_weight, reconstruction ('l1' or 'l2').
"""

from __future__ import annotations

import jax
import numpy as np

from gan_jax import recipes
from gan_jax.data import speech
from gan_jax.models.speech import FrameGenerator
from gan_jax.variants import translation

DEFAULTS = {
  "adversarial_weight": 1.0,
  "reconstruction_weight": 10.0,
  "reconstruction": "l1",
  "conditional": False,
}


def create_tts_state(config, data_shape, *, axis_name=None):
  """Step-0 state: G = FrameGenerator (frame features -> mel frames), D = PatchGAN on mels."""
  del axis_name  # no batch statistics
  game = translation.translation_game(config, **DEFAULTS)
  if game.conditional:
    raise ValueError(
      "variant.conditional=True is not accepted for text_to_speech: D sees "
      "spectrograms alone; accepted: False"
    )
  generator, discriminator = translation.make_players(
    config, "text_to_speech", FrameGenerator, num_mels=data_shape[1]
  )
  return translation.create_translation_state(
    config,
    generator=generator,
    discriminator=discriminator,
    image_shape=data_shape,
    cond_shape=(data_shape[0], speech.COND_FEATURES),
    game=game,
  )


def text_condition(
  text: str, voice: int = 0, frames: int | None = None, frames_per_char: float = 4.0
) -> tuple[np.ndarray, int]:
  """G's input for one text: (cond float32 (1, FRAMES, COND_FEATURES), number of speech frames).

  frames: the utterance's length in frames; None: len(text) * frames_per_char, at most FRAMES.
  One-line errors for a bad text, voice or length.
  """
  tokens = speech.encode_text(text)
  if not isinstance(voice, (int, np.integer)) or not 0 <= voice < len(speech.VOICES):
    raise ValueError(
      f"voice {voice!r} is unknown; accepted: 0 to {len(speech.VOICES) - 1} "
      f"({', '.join(speech.VOICES)})"
    )
  if frames is None:
    frames = int(np.clip(round(len(tokens) * frames_per_char), 1, speech.FRAMES))
  chars, position = speech.frame_characters(tokens, frames)
  cond = speech.condition_features(chars[None], position[None], np.array([voice]))
  return np.asarray(cond), frames


def speak(
  state,
  text: str,
  voice: int = 0,
  frames: int | None = None,
  frames_per_char: float = 4.0,
  num_iters: int = 60,
):
  """(audio float32 (n,) at 16 kHz, scaled log-mel frames (frames, NUM_MELS)) for `text`.

  G (sampling weights) makes the frames; Griffin-Lim makes the audio.
  """
  cond, frames = text_condition(text, voice, frames, frames_per_char)
  mels = np.asarray(jax.jit(translation.translate)(state, cond))[0, :frames, :, 0]
  return speech.frames_to_audio(mels, num_iters), mels


TEXT_TO_SPEECH = recipes.register_recipe(
  recipes.Recipe(
    "text_to_speech",
    create_state=create_tts_state,
    train_step=translation.translation_train_step,
    generate=translation.translate,
    options=translation.OPTIONS,
    condition="cond",
    paired=True,
  )
)
