"""EDGE: the one live progress display (stack builds, doctor's probes, compare's runs) on stderr.

On a terminal one status line is redrawn in place (rich: a spinner, optionally the elapsed time, the
message) and permanent lines scroll above it; elsewhere (CI, a pipe, a file) each new message is one
plain line, so logs stay readable. A reader that goes away (``| head``, a closed terminal) only
silences the display: progress is never worth failing the work it reports on.
"""

import sys
import time
from typing import Any, Optional, TextIO


def elapsed(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour)."""
    minutes, seconds = divmod(int(seconds), 60)
    if minutes >= 60:
        return "%d:%02d:%02d" % (minutes // 60, minutes % 60, seconds)
    return "%d:%02d" % (minutes, seconds)


class _Line:
    def __init__(self, display: "StatusLine") -> None:
        self.display = display

    def __rich__(self) -> Any:
        from rich.text import Text  # rich loads only for a terminal

        text = Text()
        if self.display.show_elapsed:
            text.append("%s " % elapsed(time.monotonic() - self.display.started), style="dim")
        text.append(self.display.message)
        return text


class StatusLine:
    """Call it with one-line messages (it is a ``stacks.Progress``); ``print`` a permanent line.

    Use it as a context manager (or ``start``/``close``) around the work.
    """

    def __init__(self, stream: Optional[TextIO] = None, live: Optional[bool] = None,
                 show_elapsed: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.live = _isatty(self.stream) if live is None else live
        self.show_elapsed = show_elapsed
        self.started = time.monotonic()
        self.message = ""
        self.silent = False  # the reader went away
        self._last_plain = ""
        self._live: Any = None
        self._console: Any = None

    def __enter__(self) -> "StatusLine":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self.started = time.monotonic()
        if self.live and self._live is None and not self.silent:
            from rich.console import Console  # rich loads only for a terminal
            from rich.live import Live
            from rich.spinner import Spinner

            self._console = Console(file=self.stream, highlight=False, soft_wrap=True)
            self._live = Live(Spinner("dots", text=_Line(self)), console=self._console, refresh_per_second=4,
                              transient=True)
            self._guard(self._live.start)

    def close(self) -> None:
        if self._live is not None:
            live, self._live = self._live, None
            self._guard(live.stop)

    def __call__(self, message: str) -> None:
        """A transient status: redrawn in place on a terminal, one plain line per new message elsewhere."""
        self.message = message
        if self._live is None and message != self._last_plain:
            self._last_plain = message
            prefix = "[%s] " % elapsed(time.monotonic() - self.started) if self.show_elapsed else ""
            self._write(prefix + message + "\n")

    def print(self, text: str, style: Optional[str] = None) -> None:
        """A permanent line (above the live line on a terminal; *style* is a rich style there)."""
        if self._live is not None:
            self._guard(lambda: self._console.print(text, style=style, markup=False))
        else:
            self._write(text + "\n")

    def _write(self, text: str) -> None:
        if not self.silent:
            self._guard(lambda: (self.stream.write(text), self.stream.flush()))

    def _guard(self, action: Any) -> None:
        """Run a write; a reader that is gone (EPIPE, EIO, a closed stream) silences the display."""
        if self.silent:
            return
        try:
            action()
        except (OSError, ValueError):
            self.silent = True
            self._live = None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False
