"""EDGE: stdout and stderr whose reader may go away (``theanogpu compare ... | head -2``).

A closed pipe or terminal must only silence output: the work goes on (every run of a comparison
still runs, its logs and results.json are complete) and the exit status still tells whether it
succeeded. Writes that fail with EPIPE (or EIO: a terminal that was closed) redirect the stream to
/dev/null and are dropped from then on; nothing else about the stream changes.
"""

import contextlib
import errno
import os
import sys
from typing import Any, Callable, Iterator, TextIO

_GONE = (errno.EPIPE, errno.EIO)


class GuardedStream:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            self._guard(lambda: self._stream.write(text))
        return len(text)

    def flush(self) -> None:
        if not self.reader_gone:
            self._guard(self._stream.flush)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _guard(self, action: Callable[[], object]) -> None:
        try:
            action()
        except OSError as exc:
            if exc.errno not in _GONE:
                raise
            self._silence()

    def _silence(self) -> None:
        self.reader_gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())  # what is still buffered goes nowhere at exit
            os.close(devnull)
        except (OSError, ValueError):
            pass


@contextlib.contextmanager
def guarded_std_streams() -> Iterator[None]:
    """sys.stdout and sys.stderr guarded for the duration (the originals are put back after)."""
    saved = sys.stdout, sys.stderr
    sys.stdout = GuardedStream(saved[0])
    sys.stderr = GuardedStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
