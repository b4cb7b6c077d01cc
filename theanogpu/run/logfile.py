"""EDGE: a run's log file: every output line of the script, timestamped, as it arrives; and next
to it, ``<log>.updates``: the script's progress updates, each dated when it was printed.

The log's format is logparse/timestamps.py's (``[  12.345 o] text``), so `cut -c16-` gives the
script's output back as it was. Progress redraws happen inside a line (``\r``, ``\b``) and would
all share its one time there, so their times go to the updates file instead (updates.Tracker, one
``t done target epoch`` line each, a few per second). Both files are written by whoever runs the
script (this process for local runs) and read back by the parser once the run ends. They are
created exclusively and never through a link: a symlink or FIFO planted at a name is refused, not
followed (a link would make the log overwrite its target; a FIFO would block the harness).
"""

import codecs
import errno
import os
import stat
from pathlib import Path
from typing import Any, Callable, Dict, Optional, TextIO

from theanogpu import fsutil
from theanogpu.errors import UserError
from theanogpu.logparse import UPDATES_SUFFIX  # the parser reads what this writes
from theanogpu.logparse.timestamps import format_line
from theanogpu.updates import Point, Tracker, format_point

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


def updates_path(log: Path) -> Path:
    return log.with_name(log.name + UPDATES_SUFFIX)


def _create(path: Path) -> TextIO:
    check_log_path(path)
    if path.exists():
        path.unlink()  # an earlier attempt's file of this run (a resume runs it again)
    fd = fsutil.create_exclusive(path)
    # Line-buffered: `tail -f` follows a run as it prints, and a harness killed with SIGKILL
    # loses no complete line (a line is one write; the chattiest Keras prints ~300 a second).
    return os.fdopen(fd, "w", encoding="utf-8", errors="replace", buffering=1)


class RunLog:
    """Append timestamped lines to a new log file (and updates to its sidecar); a context manager.

    *on_point* hears of every update kept (the comparison's --until-stable watches them).
    """

    def __init__(self, path: Path, on_point: Optional[Callable[[Point], None]] = None) -> None:
        self.path = path
        self._on_point = on_point
        self._handle: Optional[TextIO] = None
        self._updates: Optional[TextIO] = None
        self._tracker = Tracker(self._point)
        self._decoders: Dict[str, Any] = {}

    def __enter__(self) -> "RunLog":
        check_log_path(updates_path(self.path))
        self._handle = _create(self.path)
        self._updates = _create(updates_path(self.path))
        return self

    def __exit__(self, *exc: object) -> None:
        self._tracker.close()
        for name in ("_handle", "_updates"):
            handle = getattr(self, name)
            if handle is None:
                continue
            setattr(self, name, None)
            try:
                handle.close()
            except OSError as error:
                if error.errno not in DISK_FULL or exc[0] is not None:
                    raise

    def chunk(self, t: float, stream: str, data: bytes) -> None:
        """Raw output as it was read (a UTF-8 character may be split between two reads)."""
        decoder = self._decoders.get(stream)
        if decoder is None:
            decoder = self._decoders[stream] = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tracker.feed(t, stream, decoder.decode(data))

    def _point(self, point: Point) -> None:
        if self._updates is not None:
            self._updates.write(format_point(point) + "\n")
        if self._on_point is not None:
            self._on_point(point)

    def write(self, t: float, stream: str, text: str) -> None:
        assert self._handle is not None
        self._handle.write(format_line(t, stream, text))
        self._handle.write("\n")
