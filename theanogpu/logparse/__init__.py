"""Read what a training run printed: device really used, GPU, CNMeM, cuDNN, fallback, epoch times.

Public API (the core is pure: text in, a dict out; only ``parse_path`` opens a file)::

    parse_lines(lines, source=None, requested_device=None, flags=None) -> dict
    parse_text(text, ...) -> dict
    parse_stream(binary_file, source=None, ...) -> dict        # reads in chunks, constant memory
    parse_path(path, ...) -> dict                              # OSError if it cannot be read
    LogParser(source, requested_device, flags)                 # incremental: feed_*(), result()
    format_line(t, stream, text) / split_line(line)            # the timestamped log format

``requested_device`` (``gpu``, ``cpu``, or a Theano device such as ``cuda0``) or ``flags`` (the Theano
flags ``compare`` set, e.g. ``{"device": "gpu"}``) say what the run asked for when the log does not;
they decide ``fallback`` when the run ended on the CPU.

The parse object has the fields `theanogpu parse --format json` promises (``source``, ``backend``, ``device_requested``,
``device_used``, ``gpu_name``, ``cnmem``, ``cudnn``, ``fallback``, ``epochs``, ``warnings``) and these
extra ones:

- ``fallback_reason``: why the run is not where requested (set when ``fallback`` is true);
- ``error``: why the run could not start, when the log says so (forced device failed, Theano 1.0
  with ``device=gpu``); ``last_exception``: the last exception line after a traceback;
- ``keras_backend``: from ``Using X backend.``; ``samples``: ``Train on N samples, validate on M``;
- ``gpu_devices``: every GPU/context initialised (``[{"device", "context", "name"}]``);
- ``preallocated``: ``{"megabytes", "total_megabytes"}`` from gpuarray's ``Preallocating A/B Mb``;
  ``allocation_cache``: false after ``Disabling allocation cache``;
- ``timestamped``: the log carries timestamps (then epoch ``seconds`` are measured, to the ms);
  ``first_epoch_extra_seconds``: first epoch minus the median of the others (compilation);
  ``seconds_before_first_epoch``: start-up time until the first ``Epoch`` header (timestamped
  logs); ``log_seconds``: the last timestamp;
- ``device_info``, ``run_info``, ``data``, ``result_info``: the JSON of the ``theanogpu-device:``,
  ``theanogpu-run:``, ``theanogpu-data:`` and ``theanogpu-result:`` lines (modern.py);
  ``synthetic_data``: the data line says the data was synthetic (null: no data line);
- ``script_seconds``: the total training or loop time the script itself printed, in seconds (float,
  null if none): DeepLearningTutorials' ``The code for file mlp.py ran for 1.23m`` (its phases, e.g.
  pretraining and fine-tuning, add up) or ``The code run for 74 epochs, with 1.94 epochs/sec``,
  Theano's GPU test ``Looping 1000 times took 2.612 seconds``, ``Training took 20.9 minutes``... (see
  loops.py). It lets runs that print no epochs be compared; ``script_timing``: the text it came from.

Each epoch is ``{"epoch", "of", "seconds", "metrics"}`` plus ``printed_seconds`` (what the line
printed), ``seconds_per_step`` (Keras 2.1+ ``87us/step``), ``target`` (the N of ``N/N``, a bar's
total) and ``origin``: the form it came from, ``keras`` (progress bars and verbose=2 lines), or for
training loops that are not Keras (listed only when the log has no Keras epoch) ``dlt``
(DeepLearningTutorials), ``tqdm``, ``lightning`` (PyTorch Lightning's bars) or ``loop`` (lines a
hand-written loop prints). A loop epoch's ``seconds`` is the time its line printed; in a timestamped
log, when it printed none, the time since the previous epoch's line (for the first epoch, since the
script said its training starts, e.g. DeepLearningTutorials' ``... training``; else null).
"""

import gzip
import os
import statistics
from typing import Any, BinaryIO, Dict, Iterable, List, Mapping, Optional, Union

from theanogpu import fsutil, steady
from theanogpu.logparse.run import LogParser, requested_from_flags
from theanogpu.logparse.timestamps import format_line, split_line
from theanogpu.records import ParseResult
from theanogpu.updates import Point, read_point

UPDATES_SUFFIX = ".updates"  # run/logfile.py writes it next to a run's log
MAX_UPDATES = 2_000_000  # points kept of an updates file: a month of a run at a few a second

__all__ = ["CONTRACT_FIELDS", "LogParser", "format_line", "parse_lines", "parse_path", "parse_stream",
           "parse_text", "requested_from_flags", "split_line"]

CONTRACT_FIELDS = ("source", "backend", "device_requested", "device_used", "gpu_name", "cnmem", "cudnn",
                   "fallback", "epochs", "warnings")

Flags = Optional[Mapping[str, Any]]


def parse_lines(lines: Iterable[str], source: Optional[str] = None, requested_device: Optional[str] = None,
                flags: Flags = None) -> ParseResult:
    """Parse lines of text (each with or without its ``\\n``; ``\\r`` and ``\\b`` inside are handled).

    Read files with ``newline=""`` so that ``\\r`` reaches the parser.
    """
    parser = LogParser(source, requested_device, flags)
    parser.feed_lines(lines)
    return parser.result()


def parse_text(text: str, source: Optional[str] = None, requested_device: Optional[str] = None,
               flags: Flags = None) -> ParseResult:
    parser = LogParser(source, requested_device, flags)
    parser.feed_text(text)
    return parser.result()


def parse_stream(binary_file: BinaryIO, source: Optional[str] = None, requested_device: Optional[str] = None,
                 flags: Flags = None) -> ParseResult:
    """Parse a binary file object, read in chunks: memory stays flat whatever its size."""
    parser = LogParser(source, requested_device, flags)
    parser.feed_binary(binary_file)
    return parser.result()


def parse_path(path: Union[str, "os.PathLike[str]"], source: Optional[str] = None,
               requested_device: Optional[str] = None, flags: Flags = None) -> ParseResult:
    """Parse the log file at *path* (``.gz`` is decompressed on the fly).

    Raises OSError (FileNotFoundError, IsADirectoryError, PermissionError, fsutil.NotRegularFile...)
    when it cannot be read: only regular files are read (a FIFO would block, /dev/zero never
    ends); stream a pipe through ``parse_stream``. *source* defaults to the path as given.
    """
    path = os.fspath(path)
    parser = LogParser(path if source is None else source, requested_device, flags)
    with fsutil.open_regular(path) as binary:
        if not path.endswith(".gz"):
            parser.feed_binary(binary)
            return with_progress(parser.result(), path)
        _feed_gzip(parser, binary, path)
    return with_progress(parser.result(), path[:-3])


def _feed_gzip(parser: LogParser, binary: BinaryIO, path: str) -> None:
    import zlib  # rare: only for .gz logs

    with gzip.open(binary, "rb") as packed:
        reader = _GzipReader(packed)
        try:
            parser.feed_binary(reader)
        except zlib.error as exc:
            raise OSError(5, "corrupt gzip data (%s)" % exc, path) from None
    if reader.truncated:
        if not reader.size:
            raise OSError(5, "not a complete gzip file", path)
        parser.warn("the compressed log ends early (truncated .gz): parsed what was there")


def with_progress(result: ParseResult, log_path: str) -> ParseResult:
    """*result* with the ``progress`` of the log's updates file (``<log>.updates``, written by the
    harness as the script ran: update times that the log's lines cannot give), when there is one."""
    points = read_updates(log_path + UPDATES_SUFFIX)
    if points:
        result["progress"] = progress_summary(points, result)
        _time_bars_by_updates(result, points)
    return result


# Progress bars that print their elapsed time in whole seconds only ("[00:21<00:00"): their epochs
# are timed by the updates' own times instead when those say more.
_COARSE_ORIGINS = ("tqdm", "lightning")


def _time_bars_by_updates(result: ParseResult, points: List[Point]) -> None:
    spans: Dict[int, List[Point]] = {}
    for point in points:
        spans.setdefault(point.epoch, []).append(point)
    for epoch in result["epochs"]:
        mine = spans.get(epoch.get("epoch") or 0)
        if epoch.get("origin") not in _COARSE_ORIGINS or not mine or len(mine) < 2:
            continue
        first, last = mine[0], mine[-1]
        if first.done == 0:  # the bar drew 0/N as the epoch began: the span is the whole epoch
            epoch["seconds"] = round(last.t - first.t, 3)
        elif last.target and last.done > first.done:
            epoch["seconds"] = round((last.t - first.t) * last.target / (last.done - first.done), 3)


def read_updates(path: str, limit: int = MAX_UPDATES) -> List[Point]:
    """The points of an updates file (at most *limit*; an unreadable or odd file gives none)."""
    if not os.path.isfile(path):
        return []
    points: List[Point] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                point = read_point(line)
                if point is not None:
                    points.append(point)
                    if len(points) >= limit:
                        break
    except OSError:
        return []
    return points


def _epoch_overhead(points: List[Point], result: ParseResult) -> Optional[float]:
    """How much longer a whole epoch takes than its training at the pace of its updates: validation and
    the epoch's end, as the completed epochs show it (1.07: 7 % more). None without a completed epoch.
    The point that reaches the target is left out of the pace: Keras 1/2 draw it after the validation."""
    by_epoch: Dict[int, List[Point]] = {}
    for point in points:
        if not steady.closes_epoch(point):
            by_epoch.setdefault(point.epoch, []).append(point)
    ratios = []
    for epoch in result["epochs"]:
        mine, seconds = by_epoch.get(epoch.get("epoch") or 0), epoch.get("seconds")
        if not seconds or not mine or len(mine) < 2 or not mine[-1].target or mine[-1].done <= mine[0].done:
            continue
        span = (mine[-1].t - mine[0].t) * mine[-1].target / (mine[-1].done - mine[0].done)
        if span > 0:
            ratios.append(seconds / span)
    return statistics.median(ratios) if ratios else None


def progress_summary(points: List[Point], result: ParseResult) -> Dict[str, Any]:
    """What the updates say: how many, the steady-state rate with its interval, and s/epoch projected
    from it for a target-long epoch, with the epochs' validation and end (measured on completed epochs;
    without one, the training part only: an epoch's validation shows no updates)."""
    found = steady.estimate(points)
    targets = [p.target for p in points if p.target]
    target = targets[-1] if targets else None
    overhead = _epoch_overhead(points, result)
    summary: Dict[str, Any] = {"updates": len(points), "epochs_seen": len({p.epoch for p in points}),
                               "target": target, "estimate": None, "projected_seconds_per_epoch": None,
                               "epoch_overhead": round(overhead, 4) if overhead else None}
    if found is not None:
        summary["estimate"] = {"rate": round(found.rate, 4), "low": round(found.low, 4),
                               "high": round(found.high, 4), "precision": round(found.precision, 4),
                               "blocks": found.blocks, "updates": found.updates,
                               "steady_seconds": round(found.steady_seconds, 3),
                               "warmup_seconds": round(found.warmup_seconds, 3)}
        if target:
            summary["projected_seconds_per_epoch"] = round(found.seconds_per(target) * (overhead or 1.0), 3)
    return summary


class _GzipReader:
    """A gzip file whose early end (a run killed while compressing) reads as the end of the log."""

    def __init__(self, packed: "gzip.GzipFile") -> None:
        self._packed = packed
        self.size = 0
        self.truncated = False

    def read(self, size: int) -> bytes:
        try:
            data = self._packed.read1(size)  # read1: what was decompressed survives an early end
        except EOFError:
            self.truncated = True
            return b""
        self.size += len(data)
        return data
