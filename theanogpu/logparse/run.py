"""Segments in, one parse object out: the streaming parser and the rules that combine observations.

``LogParser`` takes text in any pieces (``feed_text``, ``feed_binary`` or
``feed_event(t, stream, text)`` straight from the runner) and keeps only what the result needs:
memory does not grow with the log, only with what it reports (epochs, capped at ``MAX_EPOCHS``).

The rules, in one place (each documented where it is applied):
- device_used: the ``theanogpu-device`` line if any; else nothing if the run died at initialisation;
  else what a test script says it computed on; else gpu if a GPU was initialised; else cpu if the
  framework reported giving up on the GPU; else gpu if TensorFlow found one (and did not ignore or
  skip it); else cpu if Theano ran and never mentioned a GPU.
- fallback: true when a GPU was requested (by the caller, the log, or by default as TensorFlow and
  JAX do) and the run ended on the CPU, or on another GPU after an initialisation failure; false
  when it ran where requested or the log says there is no fallback; null when unknown.
- epochs: only completed epoch summaries (see keras.py) count, and only those that belong to an
  ``Epoch i/n`` header (or, in a log without headers, those that look like the others): download
  bars and ``evaluate()`` after the last epoch are not epochs. A log with no Keras epoch gets its
  training loop's epochs instead (loops.py, loop_epochs.py).
"""

import re
import statistics
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple, Union, cast

from theanogpu.devices import device_kind, requested_from_flags
from theanogpu.knowledge import misreported_nvcc
from theanogpu.logparse import keras, loops, modern, tensorflow, theano_gpuarray, theano_old
from theanogpu.logparse.lines import MAX_ENDLESS, MAX_SEGMENT, Splitter, clean, feed_binary, feed_lines
from theanogpu.logparse.loop_epochs import LoopEpochs, ScriptTiming
from theanogpu.logparse.obs import Observations
from theanogpu.logparse.theano_old import NVCC_NOT_FOUND
from theanogpu.logparse.timestamps import PREFIX
from theanogpu.records import Cnmem, Epoch, GpuDevice, ParseResult

MAX_EPOCHS = 20_000  # each kept epoch costs about 1 KB: a bound on memory for absurd logs
MAX_WARNINGS = 50
MAX_DEVICES = 64
MAX_TEXT = 300  # characters kept of a reason or message taken from the log

# Recognisers of rare lines, tried in order once the prefilter has seen one of their keywords.
_RECOGNISERS = (keras.observe, theano_old.observe, theano_gpuarray.observe, tensorflow.observe, modern.observe,
                loops.observe)
_PREFILTER = re.compile("|".join(sorted({re.escape(k) for m in (keras, theano_old, theano_gpuarray, tensorflow,
                                                                 modern, loops) for k in m.KEYWORDS}
                                        | {"Traceback", "Fatal Python error"}, key=len, reverse=True)))
_PROGRESS_START = frozenset(" -0123456789")
_WALL_CLOCK_START = frozenset("[0123456789")
# A date and time before the line's own text, then maybe a level: "2023-11-25T04:06:47.732831Z ",
# "2019-12-11 18:49:27.156050: ", "[2021-03-01 12:00:00,123] INFO - ", "22-12-06 08:40:17.728 - INFO: ".
_WALL_CLOCK = re.compile(r"\[?(?:\d\d){1,2}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?:?[ \t]+"
                         r"(?:-[ \t]+)?(?:\[?(?:INFO|WARNING|WARN|ERROR|DEBUG|CRITICAL)\]?:?[ \t]+(?:-[ \t]+)?)?")
_INTERMEDIATE = keras.INTERMEDIATE.match
_KERAS3_INTERMEDIATE = keras.KERAS3_INTERMEDIATE.match
_VALUE_CHARS = keras.VALUE_CHARS
# The line that ends a traceback: ``ValueError: x``, ``urllib.error.URLError: ...``, and a bare
# ``Exception: URL fetch failure ...`` (what Keras 1/2's get_file raises offline).
_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w]*\.)*(?:[A-Za-z_]\w*)?(?:Error|Exception|Exit|Interrupt|Warning)\b(?::.*)?$")
_FRAME = re.compile(r'^File "(?P<path>[^"]*)", line (?P<line>\d+)(?:, in (?P<function>.*))?$')
# Frames in these are the frameworks', not the user's script.
_LIBRARY_PARTS = ("site-packages", "dist-packages", "/lib/python", "\\lib\\", "<frozen", "<string>")
# A fallback's own traceback follows its message within this many segments (a blank line, a
# "NoneType: None"); a later one is another story and must not be glued to the reason.
_DETAIL_WINDOW = 3
_TIMESTAMP_TOLERANCE = 1.0  # Keras truncates (1.x/2.0) or rounds (2.1+) its seconds


def _short(text: Optional[str]) -> Optional[str]:
    if text is None:
        return None
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "..."


class _Epochs:
    """Which completed progress lines are epochs, and how long each took."""

    def __init__(self, warn: "Any") -> None:
        self.items: List[Dict[str, Any]] = []
        self.dropped = 0
        self._warn = warn
        self._header_seen = False
        self._open: Optional[Dict[str, Any]] = None  # the epoch whose header came last
        self._open_index: Optional[int] = None       # its entry in items, once completed
        self._last_end_t: Optional[float] = None
        self._last_end_seq = -2
        self._after_download = False
        self._pending: Optional[Dict[str, Any]] = None  # a bar with an unknown target, maybe the last
        self.first_header_t: Optional[float] = None

    def header(self, epoch: int, of: int, t: Optional[float]) -> None:
        self._commit_pending()
        if not self._header_seen:
            self._header_seen = True
            self.first_header_t = t
            # Lines before the first header were epochs only if the header says earlier epochs ran
            # (an excerpt that starts mid-training); a download bar before "Epoch 1/n" was not.
            keep = max(0, min(len(self.items), epoch - 1))
            self.items = self.items[len(self.items) - keep:] if keep else []
            for offset, item in enumerate(self.items):
                item["epoch"] = epoch - keep + offset
                item["of"] = of
        self._after_download = False
        self._open = {"epoch": epoch, "of": of, "t": t}
        self._open_index = None

    def download(self) -> None:
        self._after_download = True

    def end(self, data: Dict[str, Any], t: Optional[float], seq: int) -> None:
        if self._after_download:
            self._after_download = False
            return
        if data["target"] is None and data["style"] != "verbose2":
            # Unknown target: every update looks final; the last one before the next header is.
            self._pending = {"data": data, "t": t, "seq": seq}
            return
        self._record(data, t, seq)

    def _record(self, data: Dict[str, Any], t: Optional[float], seq: int) -> None:
        if self._open is not None:
            if self._open_index is None:
                self._open_index = self._add(self._open["epoch"], self._open["of"], data, self._open["t"], t)
                self._last_end_seq = seq
                return
            previous = self.items[self._open_index] if self._open_index < len(self.items) else None
            # Keras 3 redraws the finished bar (last batch, then with val_* metrics): the same
            # epoch, if it follows at once, or if the first was only the last batch's update and
            # callbacks printed in between. Anything later (evaluate, predict) is not an epoch.
            if previous is not None and previous["target"] == data["target"] and (
                    self._last_end_seq == seq - 1 or _completes(previous, data)):
                self.items[self._open_index] = self._make(previous["epoch"], previous["of"], data,
                                                          self._open["t"], t)
                self._last_end_seq = seq
            return
        # No header yet (headerless verbose output, or an excerpt): each summary is an epoch as
        # long as it has the same step count as the first one (evaluate() usually differs).
        if self.items and self.items[0]["target"] != data["target"]:
            return
        if self.items and self.items[-1]["target"] == data["target"] and data["style"] == "keras3" and (
                self._last_end_seq == seq - 1 or _completes(self.items[-1], data)):
            last = self.items[-1]
            self.items[-1] = self._make(last["epoch"], None, data, last["_start"], t)
            self._last_end_seq = seq
            return
        self._add(len(self.items) + 1, None, data, self._last_end_t, t)
        self._last_end_seq = seq

    def _add(self, epoch: int, of: Optional[int], data: Dict[str, Any], start: Optional[float],
             end: Optional[float]) -> Optional[int]:
        self._last_end_t = end
        if len(self.items) >= MAX_EPOCHS:
            self.dropped += 1
            return None
        self.items.append(self._make(epoch, of, data, start, end))
        return len(self.items) - 1

    def _make(self, epoch: int, of: Optional[int], data: Dict[str, Any], start: Optional[float],
              end: Optional[float]) -> Dict[str, Any]:
        self._last_end_t = end
        printed = data["seconds"]
        seconds = printed
        if start is not None and end is not None and end >= start:
            measured = end - start
            if printed is None or measured >= printed - _TIMESTAMP_TOLERANCE:
                seconds = round(measured, 3)
            else:
                self._warn("timestamps give some epochs less time than Keras printed: the child's stdout was "
                           "probably buffered (run Python with -u); Keras's seconds are used for those")
        return {"epoch": epoch, "of": of, "seconds": seconds, "metrics": data["metrics"],
                "printed_seconds": printed, "seconds_per_step": data["seconds_per_step"], "target": data["target"],
                "origin": "keras", "_start": start, "_provisional": _provisional(data)}

    def _commit_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        if self._open is not None and self._open_index is not None:
            return
        self._record(pending["data"], pending["t"], pending["seq"])

    def finish(self) -> List[Dict[str, Any]]:
        self._commit_pending()
        for item in self.items:
            item.pop("_start", None)
            item.pop("_provisional", None)
        return self.items


def _provisional(data: Dict[str, Any]) -> bool:
    """Whether a completed bar may be the last batch's update rather than the epoch's final line.

    The last batch is drawn before ``on_epoch_end`` with its ETA where the elapsed time goes: Keras 3
    prints ``1563/1563 ━━━ 0s 10ms/step`` (an ETA of 0s), tf.keras ``1563/1563 [===] - ETA: 0s``.
    Then the callbacks run (Keras 3 puts the progress bar last, so their messages come first) and
    the bar is drawn once more, finalised, with the elapsed time and the val_* metrics.
    """
    if data["style"] == "keras3":
        return data["seconds"] == 0
    return data["seconds"] is None and data.get("eta") is not None


def _completes(previous: Dict[str, Any], data: Dict[str, Any]) -> bool:
    """Whether *data* is the final line of the epoch whose provisional line was *previous*."""
    return bool(previous.get("_provisional")) and data["seconds"] is not None \
        and set(previous["metrics"]) <= set(data["metrics"])


class _Run:
    """Everything observed so far, and the rules that turn it into the parse object."""

    def __init__(self, requested: Optional[str]) -> None:
        self.requested_caller = requested
        self.requested_line: Optional[str] = None   # the theanogpu-device / -run lines
        self.requested_strong: Optional[str] = None  # the framework's own lines (Theano)
        self.requested_weak: Optional[str] = None    # shell lines, TensorFlow's default
        self.backend: Optional[str] = None
        self.keras_backend: Optional[str] = None
        self.gpus: List[Dict[str, Any]] = []
        self.gpu_seen: Optional[str] = None
        self.gpu_used = False
        self.gpu_found = False            # TensorFlow found a GPU it will use unless it says otherwise
        self._found_seq = -10             # where: its name may follow on the next line
        self.cpu_reasons: List[str] = []
        self.init_failures: List[Dict[str, Any]] = []
        self.failed_then_gpu = False
        self.no_fallback = False
        self.crash: Optional[str] = None
        self.cnmem: Optional[Dict[str, Any]] = None
        self.prealloc: Optional[Dict[str, Any]] = None
        self.allocation_cache: Optional[bool] = None
        self.cudnn: Optional[str] = None
        self.hints: List[str] = []
        self.used_by_script: Optional[str] = None
        self.samples: Optional[Dict[str, Any]] = None
        self.device_info: Optional[Dict[str, Any]] = None
        self.run_info: Optional[Dict[str, Any]] = None
        self.data: Optional[Dict[str, Any]] = None
        self.result_info: Optional[Dict[str, Any]] = None
        self.stopped_early: Optional[str] = None  # theanogpu stopped the run on purpose (--until-stable)
        self.last_exception: Optional[str] = None
        self.in_traceback = False
        self.want_detail = False       # the next non-empty line is an init failure's reason
        self.want_exception = False    # the next exception line explains a CPU fallback
        self.want_exception_seq = 0
        self.user_frame: Optional[str] = None  # the last frame of a traceback in the user's own code
        self._frame: Optional[str] = None  # a user frame whose code line comes next
        self.warnings: List[str] = []
        self._warned: Set[str] = set()
        self.epochs = _Epochs(self.warn)
        self.loops = LoopEpochs(MAX_EPOCHS)
        self.script_timing = ScriptTiming()
        self.header: Optional[Tuple[int, Optional[int]]] = None  # the last epoch header, Keras's or a loop's

    def warn(self, text: str) -> None:
        if text in self._warned or len(self.warnings) >= MAX_WARNINGS:
            return
        self._warned.add(text)
        self.warnings.append(text)

    def wants_any_line(self) -> bool:
        return self.want_detail or self.in_traceback or self.loops.table is not None

    def traceback_starts(self, seq: int) -> None:
        self.in_traceback = True
        if self.want_exception and seq - self.want_exception_seq > _DETAIL_WINDOW:
            self.want_exception = False

    def _traceback_line(self, stripped: str) -> None:
        """A frame line or a code line inside a traceback: keep the last frame of the user's own code."""
        frame = _FRAME.match(stripped)
        if frame is not None:
            path = frame.group("path")
            self._frame = None
            users = path.endswith(".py") or path.startswith("<ipython")  # a script or a notebook cell
            if users and not any(part in path for part in _LIBRARY_PARTS):
                self._frame = 'File "%s", line %s, in %s' % (path, frame.group("line"), frame.group("function"))
                self.user_frame = _short(self._frame)
            return
        if self._frame is not None:
            self.user_frame = _short("%s: %s" % (self._frame, stripped))
            self._frame = None

    def any_line(self, text: str, t: Optional[float] = None) -> None:
        """A line no recogniser claimed: maybe the reason an earlier line announced, or a table's row."""
        stripped = text.strip()
        if not stripped:
            return
        if self.loops.table is not None:
            self.loops.table_row(stripped, t)
        if self.want_detail:
            self.want_detail = False
            failure = self.init_failures[-1] if self.init_failures else None
            if failure is not None and failure["reason"] is None:
                failure["reason"] = _short(stripped)
        if self.in_traceback and text[:1] in (" ", "\t"):
            self._traceback_line(stripped)
        if self.in_traceback and text[:1] not in (" ", "\t") and _EXCEPTION.match(stripped):
            self.in_traceback = False
            self.last_exception = _short(stripped)
            if self.want_exception:
                self.want_exception = False
                if self.cpu_reasons:
                    self.cpu_reasons[0] = "%s (%s)" % (self.cpu_reasons[0], self.last_exception)

    def apply(self, observations: Observations, t: Optional[float], seq: int) -> None:
        for kind, data in observations:
            handler = getattr(self, "_on_" + kind, None)
            if handler is not None:
                handler(data, t, seq)

    # -- one handler per observation kind (obs.py lists them) --------------------------------------
    def _on_backend(self, data: dict, t: Optional[float], seq: int) -> None:
        name = data.get("name")
        if data.get("via") == "keras":
            self.keras_backend = self.keras_backend or name
        if self.backend is None:
            self.backend = name

    def _on_requested(self, data: dict, t: Optional[float], seq: int) -> None:
        device = data.get("device")
        if device not in ("gpu", "cpu"):
            return
        if data.get("weak"):
            self.requested_weak = self.requested_weak or device
        else:
            self.requested_strong = self.requested_strong or device

    def _on_gpu_used(self, data: dict, t: Optional[float], seq: int) -> None:
        self.gpu_used = True
        if self.init_failures and not self.no_fallback:
            self.failed_then_gpu = True
        key = (data.get("device"), data.get("context"), data.get("name"))
        if len(self.gpus) < MAX_DEVICES and all((g["device"], g["context"], g["name"]) != key for g in self.gpus):
            self.gpus.append({"device": data.get("device"), "context": data.get("context"), "name": data.get("name")})

    def _on_gpu_seen(self, data: dict, t: Optional[float], seq: int) -> None:
        self.gpu_seen = self.gpu_seen or data.get("name")

    def _on_gpu_found(self, data: dict, t: Optional[float], seq: int) -> None:
        self.gpu_found = True
        self._found_seq = seq
        self._on_gpu_seen(data, t, seq)

    def _on_gpu_name_line(self, data: dict, t: Optional[float], seq: int) -> None:
        # A bare "name: X" means a GPU only right under "Found device N with properties:".
        if 0 < seq - self._found_seq <= 2:
            self._on_gpu_seen(data, t, seq)

    def _on_cpu_fallback(self, data: dict, t: Optional[float], seq: int) -> None:
        reason = _short(data.get("reason"))
        if reason and reason not in self.cpu_reasons and len(self.cpu_reasons) < 10:
            self.cpu_reasons.append(reason)
            if data.get("detail_from_exception") and len(self.cpu_reasons) == 1:
                self.want_exception = True
                self.want_exception_seq = seq

    def _on_init_failed(self, data: dict, t: Optional[float], seq: int) -> None:
        if len(self.init_failures) < 10:
            self.init_failures.append({"device": data.get("device"), "reason": _short(data.get("reason"))})
            self.want_detail = data.get("reason") is None

    def _on_no_fallback(self, data: dict, t: Optional[float], seq: int) -> None:
        self.no_fallback = True

    def _on_crash(self, data: dict, t: Optional[float], seq: int) -> None:
        self.crash = self.crash or _short(data.get("reason"))

    def _on_cnmem(self, data: dict, t: Optional[float], seq: int) -> None:
        if self.cnmem is None:
            self.cnmem = {"enabled": data["enabled"], "fraction": data["fraction"], "megabytes": data["megabytes"]}
            if "preallocated_mb" in data:
                self.prealloc = {"megabytes": data["preallocated_mb"], "total_megabytes": data["total_mb"]}

    def _on_allocation_cache(self, data: dict, t: Optional[float], seq: int) -> None:
        self.allocation_cache = data.get("enabled")

    def _on_cudnn(self, data: dict, t: Optional[float], seq: int) -> None:
        if self.cudnn is None:
            self.cudnn = _short(data.get("value"))

    def _on_warning(self, data: dict, t: Optional[float], seq: int) -> None:
        self.warn(data["text"])

    def _on_reason_hint(self, data: dict, t: Optional[float], seq: int) -> None:
        reason = _short(data.get("reason"))
        if reason and reason not in self.hints and len(self.hints) < 10:
            self.hints.append(reason)

    def _on_used_by_script(self, data: dict, t: Optional[float], seq: int) -> None:
        self.used_by_script = data.get("device")

    def _on_samples(self, data: dict, t: Optional[float], seq: int) -> None:
        if self.samples is None:
            self.samples = dict(data)

    def _on_epoch_header(self, data: dict, t: Optional[float], seq: int) -> None:
        self.epochs.header(data["epoch"], data["of"], t)
        self.header = (data["epoch"], data["of"])

    def _on_table_header(self, data: dict, t: Optional[float], seq: int) -> None:
        self.loops.table_header(data["columns"])

    def _on_loop_header(self, data: dict, t: Optional[float], seq: int) -> None:
        self.header = (data["epoch"], data["of"])

    def _on_loop_start(self, data: dict, t: Optional[float], seq: int) -> None:
        self.loops.started_t = t

    def _on_loop_progress(self, data: dict, t: Optional[float], seq: int) -> None:
        self.loops.in_progress = (data["epoch"], data["of"])

    def _on_eval_summary(self, data: dict, t: Optional[float], seq: int) -> None:
        self.loops.summary(data["metrics"], t)

    def _on_loop_epoch(self, data: dict, t: Optional[float], seq: int) -> None:
        self.loops.epoch(data, t)

    def _on_loop_metrics(self, data: dict, t: Optional[float], seq: int) -> None:
        self.loops.metrics(data)

    def _on_bar_end(self, data: dict, t: Optional[float], seq: int) -> None:
        self.loops.bar(data, t, self.header)

    def _on_loop_took(self, data: dict, t: Optional[float], seq: int) -> None:
        self.loops.took(data["seconds"], t, self.header)

    def _on_script_time(self, data: dict, t: Optional[float], seq: int) -> None:
        self.script_timing.add(data)

    def _on_epoch_end(self, data: dict, t: Optional[float], seq: int) -> None:
        self.epochs.end(data, t, seq)

    def _on_download(self, data: dict, t: Optional[float], seq: int) -> None:
        self.epochs.download()

    def _on_device_line(self, data: dict, t: Optional[float], seq: int) -> None:
        self.device_info = data
        requested = device_kind(data.get("requested"))
        if requested:
            self.requested_line = requested
        backend = data.get("backend")
        if isinstance(backend, str) and backend:
            self.backend = backend.lower()
        name = data.get("name")
        if isinstance(name, str) and "name: " in name:  # TensorFlow 1.x's physical_device_desc
            name = name.split("name: ", 1)[1].split(",", 1)[0].strip()
        if isinstance(name, str) and name and device_kind(data.get("device")) == "gpu" \
                and all(g["name"] != name for g in self.gpus):
            self._on_gpu_used({"name": name, "device": str(data.get("device")), "context": None}, t, seq)
        if data.get("cudnn") is not None and self.cudnn is None:
            self.cudnn = _short(str(data["cudnn"]))

    def _on_run_line(self, data: dict, t: Optional[float], seq: int) -> None:
        self.run_info = data
        flags = data.get("flags")
        requested = device_kind(data.get("requested")) or requested_from_flags(
            flags if isinstance(flags, dict) else None)
        if requested and self.requested_line is None:
            self.requested_line = requested

    def _on_data(self, data: dict, t: Optional[float], seq: int) -> None:
        self.data = data

    def _on_stopped(self, data: dict, t: Optional[float], seq: int) -> None:
        reason = data.get("reason")
        self.stopped_early = reason if isinstance(reason, str) else None

    def _on_result_line(self, data: dict, t: Optional[float], seq: int) -> None:
        self.result_info = data

    def synthetic_data(self) -> Optional[bool]:
        data = self.data
        if not isinstance(data, dict):
            return None
        if isinstance(data.get("synthetic"), bool):
            return data["synthetic"]
        if isinstance(data.get("source"), str):
            return data["source"] == "synthetic"
        return None

    # -- the rules -----------------------------------------------------------------------------
    def requested(self) -> Optional[str]:
        return self.requested_caller or self.requested_line or self.requested_strong or self.requested_weak

    def device_used(self) -> Optional[str]:
        if self.device_info is not None:
            kind = device_kind(self.device_info.get("device"))
            if kind:
                return kind
        if self.crash or self.no_fallback:
            return None
        if self.used_by_script:
            if self.used_by_script == "cpu" and self.gpu_used:
                self.warn("a GPU was initialised, but the script reports it computed on the CPU "
                          "(with Theano's old backend: floatX must be float32)")
            return self.used_by_script
        if self.gpu_used:
            return "gpu"
        if self.cpu_reasons or self.init_failures:
            return "cpu"
        if self.gpu_found:
            return "gpu"  # TensorFlow uses the GPUs it found unless it says it ignores or skips them
        if self.backend == "theano":
            return "cpu"  # Theano prints a device line whenever it initialises a GPU
        return None

    def fallback(self, requested: Optional[str], used: Optional[str]) -> Optional[bool]:
        if self.crash or self.no_fallback:
            return False
        if used is None:
            return None
        if used == "cpu":
            if requested == "gpu":
                return True
            if requested == "cpu":
                return False
            return True if self.cpu_reasons else None
        if requested == "cpu":
            return False
        return self.failed_then_gpu

    def fallback_reason(self, used: Optional[str]) -> Optional[str]:
        failure = None
        if self.init_failures:
            first = self.init_failures[0]
            failure = "initialisation of device %s failed" % first["device"]
            if first["reason"]:
                failure += ": " + first["reason"]
        if used == "gpu":
            ran_on = self.gpus[-1]["device"] if self.gpus else "another GPU"
            return "%s; ran on %s instead" % (failure, ran_on) if failure else None
        if self.cpu_reasons:
            if self.cpu_reasons[0].startswith(NVCC_NOT_FOUND):
                return misreported_nvcc(self.run_info) or self.cpu_reasons[0]
            return self.cpu_reasons[0]
        if failure:
            return failure
        if self.device_info is not None:
            detail = self.device_info.get("detail")
            reason = self.device_info.get("reason") or (detail.get("error") if isinstance(detail, dict) else None)
            if reason:
                return _short(str(reason))
        if self.hints:
            return self.hints[0]
        if self.used_by_script == "cpu" and self.gpu_used:
            return "the GPU was initialised but the computation ran on the CPU"
        return "no GPU was initialised (the log has no GPU device line)"


class LogParser:
    """Feed a log in any pieces, then call ``result()`` once for the parse object."""

    def __init__(self, source: Optional[str] = None, requested_device: Optional[str] = None,
                 flags: Optional[Mapping[str, Any]] = None) -> None:
        self.source = source
        requested = device_kind(requested_device) if requested_device else None
        self._run = _Run(requested or requested_from_flags(flags))
        self._splitter = Splitter(self._segment)
        self._time: Union[float, str, None] = None  # a str until needed: most lines never need it
        self._timestamped = False
        self._seq = 0
        self._errors = 0
        self._closed = False

    # -- input ---------------------------------------------------------------------------------
    def feed_text(self, text: str) -> None:
        """Any piece of the log's text; pieces need not end at line breaks."""
        self._splitter.feed(text)

    def feed_binary(self, binary: "Any") -> int:
        """Read a binary file object to its end; returns the number of bytes read."""
        return feed_binary(self._splitter, binary)

    def feed_lines(self, lines: Iterable[str]) -> None:
        feed_lines(self._splitter, lines)

    def feed_event(self, t: Optional[float], stream: Optional[str], text: str) -> None:
        """One output line as the runner sees it (no timestamp prefix; ``\\r`` inside is kept)."""
        self._splitter.close()
        if t is not None:
            self._time = float(t)
            self._timestamped = True
        parts = text.split("\r") if "\r" in text else (text,)
        for index, part in enumerate(parts):
            self._segment(part[:MAX_SEGMENT], index == 0, prefixed=False)

    def warn(self, text: str) -> None:
        """Add a warning of the caller's own to the result (e.g. about how the log was read)."""
        self._run.warn(text)

    def epoch_seconds_so_far(self) -> List[Optional[float]]:
        """Seconds of the epochs completed so far, by the rules of the final result (a live view)."""
        return [item["seconds"] for item in self._run.epochs.items]

    # -- the hot path --------------------------------------------------------------------------
    def _now(self) -> Optional[float]:
        """The current line's time (seconds since the run started), or None in a plain log."""
        t = self._time
        if t.__class__ is str:
            try:
                t = float(t)
            except ValueError:
                t = None
            self._time = t
        return cast(Optional[float], t)

    def _segment(self, seg: str, new_line: bool, prefixed: bool = True) -> None:
        # Runs for every segment of the log: the common cases (blank, intermediate progress, a line
        # with no keyword) must return after as little work as possible.
        self._seq += 1
        try:
            if new_line and prefixed and seg[:1] == "[":
                if seg[13:15] == "] " and seg[11] == " " and seg[7] == "." and seg[8:11].isdigit():
                    # format_line's own fixed-width prefix: no regex, and no float() until needed
                    self._time = seg[1:11]
                    self._timestamped = True
                    seg = seg[15:]
                else:
                    match = PREFIX.match(seg)
                    if match is not None:
                        self._time = match.group(1)
                        self._timestamped = True
                        seg = seg[match.end():]
            if not seg:
                return
            first = seg[0]
            if (first in _PROGRESS_START and _INTERMEDIATE(seg) is not None) or (
                    first == "\x1b" and _KERAS3_INTERMEDIATE(seg) is not None):
                # not keras.glued(seg), inlined: this runs for nearly every segment of a big log.
                colon = seg.rfind(": ")
                if colon < 0 or not seg[colon + 2:].rstrip(" \b").strip(_VALUE_CHARS):
                    return
            if "\x00" in seg or "\x1b" in seg or "\b" in seg:
                seg = clean(seg)
                if not seg:
                    return
            if seg[0] in _PROGRESS_START:
                if seg.isspace():
                    return
                observations = keras.progress(seg)
                if observations is keras.PROGRESS:
                    observations = None  # an update with other text glued to it: look at that text
                if observations:
                    self._run.apply(observations, self._now(), self._seq)
                    return
            if seg[0] in _WALL_CLOCK_START:
                seg = self._without_wall_clock(seg)
                if not seg:
                    return
            if _PREFILTER.search(seg) is None:
                if self._run.wants_any_line():
                    self._run.any_line(seg, self._now())
                return
            self._rare(seg)
        except Exception as exc:  # one odd line must never stop a parse
            self._errors += 1
            if self._errors == 1:
                self._run.warn("parser error on one line, line ignored (%s: %s)" % (type(exc).__name__, exc))

    def _without_wall_clock(self, seg: str) -> str:
        """The line without a wall-clock stamp in front (docker logs -t, ``ts``, logging's asctime, TF's
        own); "" when what followed it was a progress line, handled here."""
        match = _WALL_CLOCK.match(seg)
        if match is None:
            return seg
        rest = seg[match.end():]
        if rest[:1] in _PROGRESS_START and not rest.isspace():
            observations = keras.progress(rest)
            if observations is keras.PROGRESS and not keras.glued(rest):
                return ""
            if observations and observations is not keras.PROGRESS:
                self._run.apply(observations, self._now(), self._seq)
                return ""
        return rest

    def _rare(self, seg: str) -> None:
        run = self._run
        text = seg.strip()
        if text.startswith("Traceback (most recent call last)"):
            run.traceback_starts(self._seq)
            return
        if text.startswith("Fatal Python error:"):
            # The interpreter aborted (e.g. C code calling Python from an OpenMP thread): no
            # traceback follows, only a stack dump, so this line is the whole error.
            run.last_exception = _short(text)
            return
        if run.wants_any_line():
            run.any_line(seg, self._now())
        for recognise in _RECOGNISERS:
            observations = recognise(text)
            if observations:
                run.apply(observations, self._now(), self._seq)
                return

    # -- output --------------------------------------------------------------------------------
    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._splitter.close()

    def result(self) -> ParseResult:
        """The parse object (records.ParseResult: the promised fields plus the extras listed in __init__.py)."""
        self.close()
        run = self._run
        # Keras's epochs when there are any; a loop's lines are then callbacks' prints or evaluation.
        epochs = _with_script_seconds(run.epochs.finish(), run.result_info) or run.loops.finish()
        if run.epochs.dropped or run.loops.dropped:
            run.warn("more than %d epochs: only the first %d are listed" % (MAX_EPOCHS, MAX_EPOCHS))
        if self._splitter.truncated:
            run.warn("%d line(s) longer than %d KiB: only their start was read"
                     % (self._splitter.truncated, 64))
        if self._splitter.endless:
            run.warn("a line ran on for over %d MiB without a line break (binary data, or a device such as "
                     "/dev/zero?): reading stopped there" % (MAX_ENDLESS // (1024 * 1024)))
        if any(value is None for e in epochs for value in e["metrics"].values()):
            run.warn("some metric values are nan or inf (shown as null)")
        requested = run.requested()
        used = run.device_used()
        fallback = run.fallback(requested, used)
        names = [g["name"] for g in run.gpus if g["name"]]
        gpu_name = names[0] if names else run.gpu_seen
        seconds = [e["seconds"] for e in epochs if e["seconds"] is not None]
        first_extra = None
        if len(seconds) >= 2 and epochs[0]["seconds"] is not None:
            first_extra = round(epochs[0]["seconds"] - statistics.median(seconds[1:]), 3)
        error = run.crash or (run.last_exception if run.no_fallback else None)
        script_seconds, script_timing = run.script_timing.result()
        return {
            "source": self.source,
            "backend": run.backend,
            "device_requested": requested,
            "device_used": used,
            "gpu_name": gpu_name,
            "cnmem": cast(Optional[Cnmem], run.cnmem),
            "cudnn": run.cudnn,
            "fallback": fallback,
            "epochs": cast(List[Epoch], epochs),
            "warnings": list(run.warnings),
            # extra fields (see __init__.py)
            "fallback_reason": run.fallback_reason(used) if fallback else None,
            "error": error,
            "last_exception": run.last_exception,
            "user_frame": run.user_frame,
            "stopped_early": run.stopped_early,
            "keras_backend": run.keras_backend,
            "gpu_devices": cast(List[GpuDevice], run.gpus),
            "preallocated": run.prealloc,
            "allocation_cache": run.allocation_cache,
            "samples": run.samples,
            "first_epoch_extra_seconds": first_extra,
            "script_seconds": script_seconds,
            "script_timing": _short(script_timing),
            "timestamped": self._timestamped,
            "seconds_before_first_epoch": run.epochs.first_header_t if self._timestamped else None,
            "log_seconds": self._now() if self._timestamped else None,
            "device_info": run.device_info,
            "run_info": run.run_info,
            "result_info": run.result_info,
            "data": run.data,
            "synthetic_data": run.synthetic_data(),
        }


def _with_script_seconds(epochs: List[Dict[str, Any]], result_info: Any) -> List[Dict[str, Any]]:
    """Fill in the script's own per-epoch timer (``theanogpu-result``'s ``epoch_seconds``) where the log
    gave only Keras's whole seconds: an epoch with no header after it to time it by, e.g. Keras 3,
    which prints no ``Epoch 1/1`` for a single epoch. Only when the counts agree."""
    timer = result_info.get("epoch_seconds") if isinstance(result_info, dict) else None
    if not isinstance(timer, list) or len(timer) != len(epochs):
        return epochs
    for epoch, measured in zip(epochs, timer):
        if isinstance(measured, (int, float)) and not isinstance(measured, bool) and measured >= 0 \
                and epoch["seconds"] == epoch["printed_seconds"]:
            epoch["seconds"] = round(float(measured), 3)
    return epochs
