"""EDGE: live progress of a comparison on stderr.

On a terminal one status line is redrawn in place (rich) with the run, epoch i/n, the last epoch's
time and an ETA; elsewhere (CI, a pipe) each event is one plain line, so logs stay readable.
"""

import time
from typing import IO, Optional

from rich.console import Console


def _seconds(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value >= 3600:
        return "%d:%02d:%02d" % (value // 3600, value % 3600 // 60, value % 60)
    if value >= 60:
        return "%d:%02d" % (value // 60, value % 60)
    return "%.1fs" % value


class CompareProgress:
    def __init__(self, stream: IO[str]) -> None:
        self.console = Console(file=stream, highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal
        self.status = None
        self.total = 0
        self.index = 0
        self.label = ""
        self.run_start = 0.0

    def message(self, text: str) -> None:
        """A one-off line (stack builds and the like)."""
        self._show(text)

    def start(self, total: int, already_done: int, out: object) -> None:
        self.total = total
        self.index = already_done
        if already_done:
            self.console.print("resuming in %s: %d of %d runs already finished" % (out, already_done, total),
                               markup=False)
        else:
            self.console.print("%d runs, output in %s" % (total, out), markup=False)
        if self.live:
            self.status = self.console.status("starting")
            self.status.start()

    def run_started(self, label: str, theano: bool = True) -> None:
        self.index += 1
        self.label = label
        self.run_start = time.monotonic()
        self._show("[%d/%d] %s: starting%s" % (self.index, self.total, label,
                                               " (first runs compile Theano's C code for a minute)" if theano else ""))

    def run_skipped(self, label: str, reason: str) -> None:
        self.index += 1
        self.console.print("[%d/%d] %s: skipped, %s" % (self.index, self.total, label, reason), markup=False)

    def epoch(self, number: int, of: int, last_seconds: Optional[float]) -> None:
        eta = None
        if last_seconds is not None:
            eta = last_seconds * (of - number + 1)
        self._show("[%d/%d] %s: epoch %d/%d, last epoch %s, ETA %s"
                   % (self.index, self.total, self.label, number, of, _seconds(last_seconds), _seconds(eta)))

    def run_finished(self, label: str, entry: dict) -> None:
        parsed = entry.get("parsed") or {}
        status = entry["status"]
        if parsed.get("fallback"):
            status = "FELL BACK TO CPU" + (": %s" % parsed["fallback_reason"] if parsed.get("fallback_reason")
                                           else "")
        line = "[%d/%d] %s: %s in %s" % (self.index, self.total, label, status, _seconds(entry["wall_seconds"]))
        if self.status is not None:
            self.status.update(line)
        style = "bold red" if parsed.get("fallback") or entry["status"] not in ("ok",) else None
        self.console.print(line, style=style, markup=False)

    def _show(self, text: str) -> None:
        if self.status is not None:
            self.status.update(text)
        else:
            self.console.print(text, markup=False)

    def close(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None
