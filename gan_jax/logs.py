"""Metric logs: `metrics.jsonl` (one JSON object per logged step), TensorBoard event files
(scalars, sample pictures, the config) and plain progress lines for batch jobs."""

from __future__ import annotations

import datetime
import importlib.util
import json
import math
import os
import struct
import sys
import time

TENSORBOARD_MISSING = (
  "TensorBoard event files are not written: the tensorboard package is not "
  "installed (pip install 'gan_jax[tensorboard]'); metrics.jsonl has every "
  "logged value"
)


def tensorboard_installed() -> bool:
  """Whether the `tensorboard` package (the `gan_jax[tensorboard]` extra) can be imported."""
  return importlib.util.find_spec("tensorboard") is not None


def png_size(png: bytes) -> tuple[int, int, int]:
  """(height, width, channels) of a PNG file's bytes, read from its header."""
  if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
    raise ValueError(f"not a PNG file (starts with {png[:8]!r}); accepted: PNG bytes")
  width, height = struct.unpack(">II", png[16:24])
  channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(png[25], 4)  # by the PNG color type
  return height, width, channels


class MetricWriter:
  """Appends scalar metrics to DIR/metrics.jsonl and DIR/tensorboard/ event files.

  Each jsonl line holds `step`, `wall_time` (seconds since the run started,
  including time before a resume) and the metrics. TensorBoard also gets
  pictures (`write_image`) and text (`write_text`). Without the tensorboard
  package (an extra) only metrics.jsonl is written and `tensorboard` is False.
  """

  def __init__(self, workdir: str, start_wall_time: float = 0.0):
    self.path = os.path.join(workdir, "metrics.jsonl")
    self._t0 = time.time() - start_wall_time
    self._jsonl = open(self.path, "a", buffering=1)
    self._tb = None
    if tensorboard_installed():
      from tensorboard.summary.writer.event_file_writer import EventFileWriter

      self._tb = EventFileWriter(os.path.join(workdir, "tensorboard"))

  @property
  def tensorboard(self) -> bool:
    """Whether TensorBoard event files are written."""
    return self._tb is not None

  def elapsed(self) -> float:
    return time.time() - self._t0

  def write(self, step: int, metrics: dict[str, float]) -> dict:
    record = {"step": int(step), "wall_time": round(self.elapsed(), 3)}
    record.update(
      {
        k: (float(v) if math.isfinite(float(v)) else str(float(v)))
        for k, v in sorted(metrics.items())
      }
    )
    try:
      self._jsonl.write(json.dumps(record) + "\n")
    except OSError as error:
      raise OSError(error.errno, error.strerror, self.path) from None
    if self._tb is not None:
      from tensorboard.compat.proto import summary_pb2

      self._add(
        step,
        [
          summary_pb2.Summary.Value(tag=k, simple_value=float(v))
          for k, v in sorted(metrics.items())
        ],
      )
    return record

  def write_image(self, step: int, tag: str, png: bytes) -> None:
    """Adds a PNG picture (e.g. the sample grid) to TensorBoard's Images tab."""
    if self._tb is None:
      return
    from tensorboard.compat.proto import summary_pb2

    height, width, channels = png_size(png)
    image = summary_pb2.Summary.Image(
      height=height, width=width, colorspace=channels, encoded_image_string=png
    )
    self._add(step, [summary_pb2.Summary.Value(tag=tag, image=image)])

  def write_text(self, step: int, tag: str, text: str) -> None:
    """Adds markdown text (e.g. the run's config) to TensorBoard's Text tab."""
    if self._tb is None:
      return
    from tensorboard.compat.proto import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorboard.plugins.text import metadata

    tensor = tensor_pb2.TensorProto(
      dtype=types_pb2.DT_STRING,
      string_val=[text.encode()],
      tensor_shape=tensor_shape_pb2.TensorShapeProto(),
    )
    self._add(
      step,
      [
        summary_pb2.Summary.Value(
          tag=tag, tensor=tensor, metadata=metadata.create_summary_metadata(tag, "")
        )
      ],
    )

  def mark_resumed(self, step: int) -> None:
    """Tells TensorBoard that the run restarts after `step` (its checkpoint): a SessionLog
    START event at step + 1, on which TensorBoard drops what the event files hold past
    `step` (records of the interrupted run that metrics.jsonl drops too,
    `truncate_metrics`), so a resumed step is not shown twice."""
    if self._tb is None:
      return
    from tensorboard.compat.proto import event_pb2

    self._tb.add_event(
      event_pb2.Event(
        wall_time=time.time(),
        step=int(step) + 1,
        session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START),
      )
    )

  def _add(self, step: int, values: list) -> None:
    from tensorboard.compat.proto import event_pb2, summary_pb2

    self._tb.add_event(
      event_pb2.Event(
        wall_time=time.time(), step=int(step), summary=summary_pb2.Summary(value=values)
      )
    )

  def flush(self):
    self._jsonl.flush()
    if self._tb is not None:
      self._tb.flush()

  def close(self):
    self._jsonl.close()
    if self._tb is not None:
      self._tb.close()


class ProgressLines:
  """Progress for batch jobs: one plain line per logged step, no carriage returns.

  Has the calls of the tqdm bar the training loop uses (`update`, `write`,
  `set_postfix`, `close`); `log(step, record)` prints
  `step 500/20000 (2.5%)  812.3 steps/s  ETA 0:00:24  d_loss 1.2345  g_loss 0.8765`,
  the rate over the steps since the line before. Lines go to stdout (default),
  beside the loop's warnings (which tqdm.write also prints there); stderr
  keeps errors alone. With `show=False` only `write` prints (warnings).
  """

  def __init__(self, total: int, initial: int = 0, stream=None, show: bool = True):
    self.total, self.n, self.show = total, initial, show
    self._stream = stream
    self._last_step, self._last_time = initial, time.perf_counter()

  def update(self, n: int = 1) -> None:
    self.n += n

  def set_postfix(self, **_) -> None:
    pass

  def write(self, text: str) -> None:
    stream = self._stream or sys.stdout
    print(text, file=stream, flush=True)

  def log(self, step: int, record: dict) -> None:
    if not self.show:
      return
    now = time.perf_counter()
    rate = (step - self._last_step) / max(now - self._last_time, 1e-9)
    self._last_step, self._last_time = step, now
    eta = datetime.timedelta(seconds=round((self.total - step) / rate)) if rate > 0 else "?"
    losses = "  ".join(
      f"{k} {record[k]:.4f}" if isinstance(record[k], float) else f"{k} {record[k]}"
      for k in loss_keys(record)
    )
    self.write(
      f"step {step}/{self.total} ({100 * step / self.total:.1f}%)  {rate:.1f} steps/s  "
      f"ETA {eta}  {losses}".rstrip()
    )

  def close(self) -> None:
    pass


def loss_keys(record: dict) -> list[str]:
  """The losses of a metrics record: d_loss and g_loss first, then other `*loss*` keys."""
  first = [k for k in ("d_loss", "g_loss") if k in record]
  return first + sorted(k for k in record if "loss" in k and k not in first)


def read_metrics(workdir: str) -> list[dict]:
  """The records of DIR/metrics.jsonl, in order.

  A last line cut short (a run killed while writing it) is left out.
  """
  return read_records(os.path.join(workdir, "metrics.jsonl"))


def read_records(path: str) -> list[dict]:
  """The records (JSON objects with an integer 'step'), one per line, of a log the training
  loop appends to (DIR/metrics.jsonl, DIR/eval_metrics.jsonl), in order. A last line cut
  short (a run killed while writing it) is left out; any other bad line is a one-line
  ValueError naming the file and the line."""
  if os.path.isdir(path):
    raise ValueError(
      f"{path} is a folder where a log of JSON records belongs; it is written by gan-jax "
      "train: restore it from a copy, or move it aside"
    )
  with open(path) as f:
    lines = [line for line in f.read().split("\n") if line.strip()]
  records = []
  for number, line in enumerate(lines, 1):
    try:
      record = json.loads(line)
    except json.JSONDecodeError:
      if number < len(lines):
        raise ValueError(f"{path} line {number} is not a JSON record") from None
      continue
    if not isinstance(record, dict) or not isinstance(record.get("step"), int):
      raise ValueError(
        f"{path} line {number} is not a record of gan-jax train (a JSON object with an "
        f"integer 'step'): {line[:60]}"
      )
    records.append(record)
  return records


def truncate_metrics(workdir: str, last_step: int) -> None:
  """Drops records after `last_step` (and a cut-off last line), so a resumed run does
  not log a step twice."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return
  kept = [r for r in read_metrics(workdir) if r["step"] <= last_step]
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in kept)
  os.replace(tmp, path)
