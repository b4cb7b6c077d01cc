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
  ``synthetic_data``: the data line says the data was synthetic (null: no data line).

Each epoch is ``{"epoch", "of", "seconds", "metrics"}`` plus ``printed_seconds`` (what Keras
printed), ``seconds_per_step`` (Keras 2.1+ ``87us/step``) and ``target`` (the N of ``N/N``).
"""

import gzip
import os
from typing import Any, BinaryIO, Iterable, Mapping, Optional, Union

from theanogpu import fsutil
from theanogpu.logparse.run import LogParser, requested_from_flags
from theanogpu.logparse.timestamps import format_line, split_line
from theanogpu.records import ParseResult

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
            return parser.result()
        _feed_gzip(parser, binary, path)
    return parser.result()


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
