"""Metric logs: `metrics.jsonl` (one JSON object per logged step) and TensorBoard event files."""

from __future__ import annotations

import json
import math
import os
import time

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter


class MetricWriter:
  """Appends scalar metrics to DIR/metrics.jsonl and DIR/tensorboard/ event files.

  Each jsonl line holds `step`, `wall_time` (seconds since the run started,
  including time before a resume) and the metrics.
  """

  def __init__(self, workdir: str, start_wall_time: float = 0.0):
    self.path = os.path.join(workdir, "metrics.jsonl")
    self._t0 = time.time() - start_wall_time
    self._jsonl = open(self.path, "a", buffering=1)
    self._tb = EventFileWriter(os.path.join(workdir, "tensorboard"))

  def elapsed(self) -> float:
    return time.time() - self._t0

  def write(self, step: int, metrics: dict[str, float]) -> dict:
    record = {"step": int(step), "wall_time": round(self.elapsed(), 3)}
    record.update({k: (float(v) if math.isfinite(float(v)) else str(float(v)))
                   for k, v in sorted(metrics.items())})
    try:
      self._jsonl.write(json.dumps(record) + "\n")
    except OSError as error:
      raise OSError(error.errno, error.strerror, self.path) from None
    values = [summary_pb2.Summary.Value(tag=k, simple_value=float(v))
              for k, v in sorted(metrics.items())]
    self._tb.add_event(event_pb2.Event(wall_time=time.time(), step=int(step),
                                       summary=summary_pb2.Summary(value=values)))
    return record

  def flush(self):
    self._jsonl.flush()
    self._tb.flush()

  def close(self):
    self._jsonl.close()
    self._tb.close()


def read_metrics(workdir: str) -> list[dict]:
  """The records of DIR/metrics.jsonl, in order.

  A last line cut short (a run killed while writing it) is left out.
  """
  path = os.path.join(workdir, "metrics.jsonl")
  with open(path) as f:
    lines = [line for line in f.read().split("\n") if line.strip()]
  records = []
  for number, line in enumerate(lines, 1):
    try:
      records.append(json.loads(line))
    except json.JSONDecodeError:
      if number < len(lines):
        raise ValueError(f"{path} line {number} is not a JSON record") from None
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
