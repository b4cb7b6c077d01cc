"""EDGE: a run's log file: every output line of the script, timestamped, as it arrives.

The format is logparse/timestamps.py's (``[  12.345 o] text``); the file is written by whoever runs
the script (this process for local runs) and read back by the parser once the run ends. It is
created exclusively and never through a link: a symlink or FIFO planted at its name is refused, not
followed (a link would make the log overwrite its target; a FIFO would block the harness).
"""

import errno
import os
import stat
from pathlib import Path
from typing import Optional, TextIO

from theanogpu.errors import UserError
from theanogpu.logparse.timestamps import format_line

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def check_log_path(path: Path) -> None:
    """Refuse a log path that holds something other than a regular file (or nothing)."""
    try:
        info = os.lstat(str(path))
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else (
            "a FIFO" if stat.S_ISFIFO(info.st_mode) else "not a regular file")
        raise UserError("%s is %s where theanogpu writes a run's log; remove it or choose another --out"
                        % (path, kind))


class RunLog:
    """Append timestamped lines to a new log file; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Optional[TextIO] = None

    def __enter__(self) -> "RunLog":
        check_log_path(self.path)
        if self.path.exists():
            self.path.unlink()  # an earlier attempt's log of this run (a resume runs it again)
        fd = os.open(str(self.path), _CREATE, 0o666)
        # Line-buffered: `tail -f` follows a run as it prints, and a harness killed with SIGKILL
        # loses no complete line (a line is one write; the chattiest Keras prints ~300 a second).
        self._handle = os.fdopen(fd, "w", encoding="utf-8", errors="replace", buffering=1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            try:
                handle.close()
            except OSError as error:
                if error.errno not in DISK_FULL or exc[0] is not None:
                    raise

    def write(self, t: float, stream: str, text: str) -> None:
        assert self._handle is not None
        self._handle.write(format_line(t, stream, text))
        self._handle.write("\n")
