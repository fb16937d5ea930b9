"""Scores the text-to-speech GAN against the same acoustic model trained with L1 alone
(experiments/results/text_to_speech.{md,json}, spectrogram figure and WAV files).

    python experiments/make_speech.py --out ~/.cache/gan_jax/speech
    gan-jax train --config experiments/configs/text_to_speech_espeak.py --workdir runs/tts_gan
    gan-jax train --config experiments/configs/text_to_speech_espeak.py --workdir runs/tts_l1 \\
      --config.variant.adversarial_weight=0
    python experiments/text_to_speech.py --gan runs/tts_gan --baseline runs/tts_l1

On the held-out sentences (test.npz: sentences never spoken in train.npz, every voice),
with the utterances' own lengths in frames, over the speech frames (t < length):
  log-mel L1: mean |log mel_G - log mel_real| (natural log of the mel magnitude);
  MCD: 10 / ln 10 * sqrt(2 * sum_{k=1..12} (c_k - c'_k)^2) per frame, c_k the real cepstrum
    of the 40 natural-log mel magnitudes (`cepstrum_matrix`; not SPTK's mel-generalized
    cepstrum of a spectral envelope: comparable between these runs, not with published MCDs);
  GV ratio: the global variance (variance over an utterance's speech frames of each log-mel
    bin, averaged over bins and utterances) of the outputs over that of the real frames;
    an over-smoothed model is below 1;
  delta ratio: mean |frame t+1 - frame t| of the outputs over that of the real frames.
Means over utterances with their standard errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gan_jax import runs  # noqa: E402
from gan_jax.data import speech  # noqa: E402
from gan_jax.variants import text_to_speech, translation  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
NAME = "text_to_speech"
HELLO = "hello there"  # not a sentence of the data


def cepstrum_matrix(n: int) -> np.ndarray:
  """(n, n): c = C @ log_mel, c_k = (1 / n) sum_i log_mel_i cos(pi k (i + 1/2) / n), the real
  cepstrum of the log-mel spectrum extended evenly over the full circle."""
  k, i = np.arange(n)[:, None], np.arange(n)[None, :]
  return np.cos(np.pi * k * (2 * i + 1) / (2 * n)) / n


def generate(workdir: str, arrays: dict) -> tuple[np.ndarray, int]:
  """G's scaled frames (N, FRAMES, NUM_MELS) for the test conditions, and the run's step."""
  _, _, state = runs.load_run(workdir)
  outs = []
  for i in range(0, len(arrays["x"]), 50):
    cond = speech.condition_features(
      arrays["chars"][i : i + 50], arrays["position"][i : i + 50], arrays["voice"][i : i + 50]
    )
    outs.append(np.asarray(translation.translate(state, cond))[..., 0])
  return np.concatenate(outs), int(state.step)


def last_record(workdir: str) -> dict:
  """The run's training wall time (s) and its last logged L1 (scaled frames) from metrics.jsonl."""
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    record = json.loads(f.readlines()[-1])
  return {"wall_time_s": round(record["wall_time"]), "train_l1": record["g_reconstruction"]}


def scores(frames: np.ndarray, real: np.ndarray, lengths: np.ndarray) -> dict:
  """Per-utterance log-mel L1, MCD, GV and delta ratios; their means and standard errors."""
  dct = cepstrum_matrix(speech.NUM_MELS)[1:13]
  rows = {"log_mel_l1": [], "mcd_db": [], "gv_ratio": [], "delta_ratio": []}
  for out, ref, n in zip(speech.unscale(frames), speech.unscale(real), lengths):
    out, ref = out[:n], ref[:n]
    rows["log_mel_l1"].append(np.mean(np.abs(out - ref)))
    diff = (out - ref) @ dct.T
    rows["mcd_db"].append(np.mean(10 / np.log(10) * np.sqrt(2 * np.sum(diff**2, axis=1))))
    rows["gv_ratio"].append(np.mean(out.var(axis=0)) / np.mean(ref.var(axis=0)))
    rows["delta_ratio"].append(
      np.mean(np.abs(np.diff(out, axis=0))) / np.mean(np.abs(np.diff(ref, axis=0)))
    )
  return {
    k: {"mean": float(np.mean(v)), "se": float(np.std(v, ddof=1) / np.sqrt(len(v)))}
    for k, v in rows.items()
  }


def figure(path: str, panels: list, texts: list, lengths) -> None:
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, axes = plt.subplots(
    len(texts), len(panels), figsize=(3.2 * len(panels), 2.0 * len(texts)), squeeze=False
  )
  for r, (text, n) in enumerate(zip(texts, lengths)):
    for c, (title, frames) in enumerate(panels):
      axes[r, c].imshow(
        frames[r, :n].T, origin="lower", aspect="auto", vmin=-1, vmax=1, cmap="magma"
      )
      axes[r, c].set_xticks([])
      axes[r, c].set_yticks([])
      if r == 0:
        axes[r, c].set_title(title, fontsize=9)
      if c == 0:
        axes[r, c].set_ylabel(text, fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)


def reading(runs_: dict) -> str:
  """One paragraph comparing the two runs, from the numbers."""
  gan, l1 = runs_["gan"], runs_["l1"]
  m = lambda run, key: run[key]["mean"]
  sharper = m(gan, "gv_ratio") > m(l1, "gv_ratio")
  closer = m(gan, "log_mel_l1") < m(l1, "log_mel_l1")
  return (
    f"Reading: the GAN's frames are {'less' if sharper else 'more'} smoothed than the L1 "
    f"model's (GV ratio {m(gan, 'gv_ratio'):.3f} against {m(l1, 'gv_ratio'):.3f}, delta "
    f"ratio {m(gan, 'delta_ratio'):.3f} against {m(l1, 'delta_ratio'):.3f}), and "
    f"{'closer to' if closer else 'further from'} the held-out frames in log-mel L1 "
    f"({m(gan, 'log_mel_l1'):.3f} against {m(l1, 'log_mel_l1'):.3f}; MCD "
    f"{m(gan, 'mcd_db'):.2f} against {m(l1, 'mcd_db'):.2f} dB). The L1 optimum is the "
    f"conditional median of the frames, which averages away detail the uniform "
    f"alignment cannot place; the GAN gives up some of that distance for variance, as "
    f"the adversarial term is meant to. One seed per model: the "
    f"standard errors are over utterances, not over training runs."
  )


def page(result: dict) -> str:
  """The results page (markdown) of `result`."""
  runs_ = result["runs"]
  cell = lambda s: f"{s['mean']:.3f} ± {s['se']:.3f}"
  rows = [
    f"| {label} | {runs_[k]['step']} | {cell(runs_[k]['log_mel_l1'])} | "
    f"{cell(runs_[k]['mcd_db'])} | {cell(runs_[k]['gv_ratio'])} | "
    f"{cell(runs_[k]['delta_ratio'])} |"
    for k, label in (
      ("l1", "L1 only (variant.adversarial_weight=0)"),
      ("gan", "GAN: adversarial + 10 L1 (the shipped config)"),
    )
  ]
  test = result["test_set"]
  return "\n".join(
    [
      "# Text-to-speech GAN on espeak-ng speech",
      "",
      f"{result['date']}, {result['host']}. Written by `{result['command']}` from the runs "
      "below; the data and the runs:",
      "",
      "```bash",
      "python experiments/make_speech.py --out ~/.cache/gan_jax/speech",
      "gan-jax train --config experiments/configs/text_to_speech_espeak.py --workdir runs/tts_gan",
      "gan-jax train --config experiments/configs/text_to_speech_espeak.py --workdir runs/tts_l1 "
      "\\",
      "  --config.variant.adversarial_weight=0",
      "```",
      "",
      "The recipe `text_to_speech` (gan_jax/variants/text_to_speech.py) is an acoustic-model GAN "
      "after Yang et al. 2017: G maps text to log-mel frames and is trained with the L1 "
      "regression loss of an acoustic model beside a non-saturating adversarial loss from a "
      "PatchGAN D on spectrogram patches (a logit every 4 frames x 4 mel bins, each seeing "
      "26 x 26). The baseline is the same G trained with the L1 term alone.",
      "",
      "## Data and alignment",
      "",
      "Short sentences (2 to 4 words from a 62-word list, seed 0) spoken by four espeak-ng "
      "voices (en-us, en-gb, en-us+f3, en-gb-scotland+m3) at 170 words per minute, resampled "
      "from 22,050 to 16,000 Hz, trimmed of silence; 40 log-mel bins (1024-sample Hann window, "
      "hop 256 = 16 ms), 128 frames (2.05 s) per utterance. 800 training sentences (3,200 "
      f"utterances) and {test['sentences']} held-out sentences ({test['utterances']} "
      "utterances) that are never spoken in the training set.",
      "",
      "**Alignment is uniform and given, not learned:** the n characters of a text are spread "
      "evenly over the utterance's speech frames, and the number of frames is given: the "
      "utterance's own at training and in the scores below; at `gan-jax sample --speech` the "
      "text's length times the training set's mean frames per character. G sees, per frame, "
      "the character's one-hot, the voice's one-hot and the position inside the character, "
      "through 8 residual dilated 1-D convolutions (receptive field 61 frames). A character "
      "does not take a fixed share of an utterance's time in real speech, so part of the "
      "remaining error is alignment error that neither loss can remove.",
      "",
      "## Held-out scores",
      "",
      f"Means over the {test['utterances']} held-out utterances ± standard error, on the speech "
      "frames. log-mel L1: mean |log mel_G - log mel_real| (natural log of the mel "
      "magnitude). MCD: 10/ln 10 · sqrt(2 Σ_{k=1..12} (c_k − c'_k)²) per frame, c the real "
      "cepstrum of the 40 log-mel bins (not SPTK's mel-cepstrum: it compares these two runs, "
      "not published MCDs). GV ratio: the global variance of the log-mel bins over an "
      "utterance (Toda & Tokuda) of G's frames over that of the real frames; delta ratio: "
      "mean |frame t+1 − frame t| over the real one's. Below 1 is smoother than speech.",
      "",
      "| model | steps | log-mel L1 | MCD (dB) | GV ratio | delta ratio |",
      "| --- | --- | --- | --- | --- | --- |",
      *rows,
      "| real frames | | 0 | 0 | 1 | 1 |",
      "",
      "Training: batch 32, Adam 2e-4 (beta1 0.5) for both players, seed 0; "
      + "; ".join(
        f"{label} {runs_[k]['step']} steps in {runs_[k]['wall_time_s'] / 60:.0f} "
        f"minutes on this host (last logged training L1 on the scaled frames "
        f"{runs_[k]['train_l1']:.4f})"
        for k, label in (("l1", "L1 only"), ("gan", "GAN"))
      )
      + ". Both are short runs, the budget this shared host allowed; longer training, "
      "a learned duration model and a neural vocoder are what the recipe would need to "
      "sound natural.",
      "",
      reading(runs_),
      "",
      "![held-out spectrograms](text_to_speech.png)",
      "",
      f"*Three held-out utterances, real (espeak-ng) beside the two models' log-mels for the "
      f"same text, voice and length.* WAV files (Griffin-Lim, 60 iterations, 16 kHz) of "
      f"\"{result['wav_text']}\": [real frames]({result['wavs'][0]}), "
      f"[L1 only]({result['wavs'][1]}), [GAN]({result['wavs'][2]}); and the GAN's \"hello "
      f"there\" (voice en-us, length from the mean frames per character), as `gan-jax sample "
      f"--workdir runs/tts_gan --speech \"hello there\" --out x.wav` writes it: "
      f"[{result['wavs'][3]}]({result['wavs'][3]}). The real frames go through the same "
      f"40-bin mel and Griffin-Lim, so their WAV is the most this vocoder gives.",
      "",
    ]
  )


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--gan", default="runs/tts_gan")
  parser.add_argument("--baseline", default="runs/tts_l1")
  parser.add_argument("--test", default=os.path.expanduser("~/.cache/gan_jax/speech/test.npz"))
  parser.add_argument("--out", default=RESULTS)
  parser.add_argument("--host", default=None, help="default: this CPU (lscpu) and its cores")
  args = parser.parse_args(argv)
  if args.host is None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from recorded_runs import host

    args.host = host()
  os.makedirs(args.out, exist_ok=True)
  started = time.time()
  with np.load(args.test, allow_pickle=False) as f:
    arrays = {k: f[k] for k in f.files}
  real = arrays["x"].astype(np.float32)
  lengths = arrays["length"]
  runs_out = {}
  for name, workdir in (("l1", args.baseline), ("gan", args.gan)):
    frames, step = generate(workdir, arrays)
    runs_out[name] = {
      "workdir": workdir,
      "step": step,
      "frames": frames,
      "scores": scores(frames, real, lengths),
    }
  reference = scores(real, real, lengths)
  show = [0, 5, 10]  # voices 0, 1, 2 of three held-out sentences
  figure(
    os.path.join(args.out, f"{NAME}.png"),
    [
      ("real (espeak-ng)", real[show]),
      ("L1 only", runs_out["l1"]["frames"][show]),
      ("GAN (adv + 10 L1)", runs_out["gan"]["frames"][show]),
    ],
    [f"{arrays['text'][i]} ({speech.VOICES[arrays['voice'][i]]})" for i in show],
    [lengths[i] for i in show],
  )
  wavs = []
  row = show[0]
  for label, frames in (
    ("real", real[row]),
    ("l1", runs_out["l1"]["frames"][row]),
    ("gan", runs_out["gan"]["frames"][row]),
  ):
    path = os.path.join(args.out, f"{NAME}_{label}.wav")
    speech.write_wav(path, speech.frames_to_audio(frames[: lengths[row]]))
    wavs.append(os.path.basename(path))
  _, source, state = runs.load_run(args.gan)  # as gan-jax sample --speech "hello there"
  audio, _ = text_to_speech.speak(
    state, HELLO, frames_per_char=speech.frames_per_char(source.arrays)
  )
  speech.write_wav(os.path.join(args.out, f"{NAME}_gan_hello_there.wav"), audio)
  wavs.append(f"{NAME}_gan_hello_there.wav")
  result = {
    "date": time.strftime("%Y-%m-%d", time.gmtime()),
    "host": args.host,
    "command": "python experiments/text_to_speech.py " + " ".join(argv or sys.argv[1:]),
    "test_set": {
      "path": args.test,
      "utterances": int(len(real)),
      "sentences": int(len(set(arrays["text"]))),
    },
    "runs": {
      k: {"workdir": v["workdir"], "step": v["step"], **last_record(v["workdir"]), **v["scores"]}
      for k, v in runs_out.items()
    },
    "real": {k: reference[k] for k in ("gv_ratio", "delta_ratio")},
    "wav_text": str(arrays["text"][row]),
    "wavs": wavs,
    "seconds": round(time.time() - started, 1),
  }
  with open(os.path.join(args.out, f"{NAME}.json"), "w") as f:
    json.dump(result, f, indent=2)
  with open(os.path.join(args.out, f"{NAME}.md"), "w") as f:
    f.write(page(result))
  for k, v in result["runs"].items():
    print(
      k,
      v["step"],
      {m: round(v[m]["mean"], 4) for m in ("log_mel_l1", "mcd_db", "gv_ratio", "delta_ratio")},
    )
  print(f"wrote {os.path.join(args.out, NAME)}.json, .md, .png, {', '.join(wavs)}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
