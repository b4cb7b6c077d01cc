"""EDGE: a run's log file: every output line of the script, timestamped, as it arrives.

The format is logparse/timestamps.py's (``[  12.345 o] text``); the file is written by whoever runs
the script (this process for local runs) and read back by the parser once the run ends.
"""

from pathlib import Path
from typing import Optional, TextIO

from theanogpu.logparse.timestamps import format_line


class RunLog:
    """Append timestamped lines to a new log file; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Optional[TextIO] = None

    def __enter__(self) -> "RunLog":
        # Line-buffered: `tail -f` follows a run as it prints, and a harness killed with SIGKILL
        # loses no complete line (a line is one write; the chattiest Keras prints ~300 a second).
        self._handle = open(str(self.path), "w", encoding="utf-8", errors="replace", buffering=1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def write(self, t: float, stream: str, text: str) -> None:
        assert self._handle is not None
        self._handle.write(format_line(t, stream, text))
        self._handle.write("\n")
