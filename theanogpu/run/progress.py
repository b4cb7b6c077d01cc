"""EDGE: what a comparison shows while it runs: one line per run, epoch i/n, the last epoch's time
and an ETA, on the one progress display (display.StatusLine) on stderr.
"""

import time
from typing import Any, Mapping, Optional, TextIO

from theanogpu.display import StatusLine
from theanogpu.textsafe import visible


def _seconds(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value >= 3600:
        return "%d:%02d:%02d" % (value // 3600, value % 3600 // 60, value % 60)
    if value >= 60:
        return "%d:%02d" % (value // 60, value % 60)
    return "%.1fs" % value


class CompareProgress:
    def __init__(self, stream: TextIO, live: Optional[bool] = None) -> None:
        self.display = StatusLine(stream, live=live, show_elapsed=False)
        self.total = 0
        self.index = 0
        self.label = ""
        self.run_start = 0.0

    def message(self, text: str) -> None:
        """A transient status (stack builds and the like)."""
        self.display(text)

    def note(self, text: str) -> None:
        """A permanent line."""
        self.display.print(text)

    def start(self, total: int, already_done: int, out: object) -> None:
        self.total = total
        self.index = already_done
        if already_done:
            self.note("resuming in %s: %d of %d runs already finished" % (out, already_done, total))
        else:
            self.note("%d runs, output in %s" % (total, out))
        self.display.start()

    def run_started(self, label: str, theano: bool = True) -> None:
        self.index += 1
        self.label = label
        self.run_start = time.monotonic()
        self.display("[%d/%d] %s: starting%s" % (self.index, self.total, label,
                                                 " (first runs compile Theano's C code for a minute)" if theano
                                                 else ""))

    def run_skipped(self, label: str, reason: str) -> None:
        self.index += 1
        self.note("[%d/%d] %s: skipped, %s" % (self.index, self.total, label, reason))

    def epoch(self, number: int, of: int, last_seconds: Optional[float], label: str = "") -> None:
        """Run *label* (default: the one started last) began epoch *number* of *of*."""
        eta = None
        if last_seconds is not None:
            eta = last_seconds * (of - number + 1)
        self.display("[%d/%d] %s: epoch %d/%d, last epoch %s, ETA %s"
                     % (self.index, self.total, label or self.label, number, of, _seconds(last_seconds),
                        _seconds(eta)))

    def run_finished(self, label: str, entry: Mapping[str, Any]) -> None:
        parsed = entry.get("parsed") or {}
        status = entry["status"]
        if parsed.get("fallback"):
            # The reason is the log's own words: shown, never obeyed by the terminal.
            status = "FELL BACK TO CPU" + (": %s" % visible(parsed["fallback_reason"]) if parsed.get("fallback_reason")
                                           else "")
        line = "[%d/%d] %s: %s in %s" % (self.index, self.total, label, status, _seconds(entry["wall_seconds"]))
        self.display.message = line
        trouble = parsed.get("fallback") or entry["status"] not in ("ok",)
        self.display.print(line, style="bold red" if trouble else None)

    def close(self) -> None:
        self.display.close()
