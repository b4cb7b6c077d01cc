"""Run one training process: its own process group, every output line timestamped as it arrives.

The runner knows nothing about Theano: it gets an argv and an environment, streams stdout and stderr
line by line to a callback with the monotonic time since start, enforces a timeout on the whole
process group, and stops the group when asked to (Ctrl-C / SIGTERM of the harness). That is the
whole job, so ``compare`` can test it with any script.
"""

import collections
import os
import selectors
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Optional, Sequence

# How long a process group gets between SIGTERM and SIGKILL: enough for Python to run finally
# blocks and flush, short enough that Ctrl-C feels immediate.
KILL_GRACE_SECONDS = 3.0
TAIL_LINES = 20
# After the script exits, how long a leftover child may keep the pipes open before it is killed.
ORPHAN_PIPE_SECONDS = 2.0
_READ_SIZE = 65536

LineSink = Callable[[float, str, str], None]
ChunkSink = Callable[[float, str, bytes], None]


@dataclass
class Outcome:
    """What happened to one process."""

    status: str  # ok | failed | timeout | interrupted; a cluster's job may also end cancelled
    exit_code: Optional[int]
    wall_seconds: float
    tail: List[str] = field(default_factory=list)
    # Why it ended so, when the status does not say it all (a scheduler's TIMEOUT, OUT_OF_MEMORY, ...).
    reason: Optional[str] = None
    # Facts a launcher records with the run (records.RunEntry's job fields: job id, node, GPUs); none locally.
    facts: Dict[str, Any] = field(default_factory=dict)


class StopFlag:
    """Set from a signal handler (or another thread) to stop the running process group.

    A flag with a *parent* is also set whenever the parent is: one run's flag follows the harness's.
    """

    def __init__(self, parent: Optional["StopFlag"] = None) -> None:
        self._event = threading.Event()
        self._parent = parent
        self.reason: Optional[str] = None  # why, when the stop is a decision rather than Ctrl-C

    def set(self, reason: Optional[str] = None) -> None:
        self.reason = self.reason or reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set() or (self._parent is not None and self._parent.is_set())


def kill_group(pgid: int, grace: float = KILL_GRACE_SECONDS, reap: Optional[Callable[[], object]] = None) -> None:
    """SIGTERM the whole group, then SIGKILL whatever is left after *grace* seconds.

    *reap* (e.g. ``Popen.poll``) collects the group leader once it exits: an unreaped zombie still
    counts as a member, and waiting on it would cost the whole grace period.
    """
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if reap is not None:
            reap()
        if not group_alive(pgid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _LineSplitter:
    """Bytes in, complete lines out; ``\r`` and ``\b`` stay inside the text for the parser.

    A Keras 1 progress bar redraws itself with ``\b``/``\r`` thousands of times before its
    ``\n``, so partial chunks are kept in a list and joined once, not re-concatenated per read.
    """

    def __init__(self) -> None:
        self._pending: List[bytes] = []

    def feed(self, data: bytes) -> List[bytes]:
        if b"\n" not in data:
            self._pending.append(data)
            return []
        lines = data.split(b"\n")
        if self._pending:
            lines[0] = b"".join(self._pending) + lines[0]
        last = lines.pop()
        self._pending = [last] if last else []
        return lines

    def flush(self) -> List[bytes]:
        rest = b"".join(self._pending)
        self._pending = []
        return [rest] if rest else []


def run_process(
    argv: Sequence[str],
    env: Dict[str, str],
    on_line: LineSink,
    *,
    cwd: Optional[str] = None,
    timeout: Optional[float] = None,
    stop: Optional[StopFlag] = None,
    on_chunk: Optional[ChunkSink] = None,
) -> Outcome:
    """Run *argv* in a new process group and stream its output to *on_line(t, stream, text)*.

    *stream* is ``"o"`` or ``"e"``. *on_chunk(t, stream, data)* also gets the raw bytes as they are
    read, before they make a line: progress redraws (``\r``, ``\b``) come with their own times then.
    The call returns when the process has exited and both pipes are drained, or after the group was
    killed for the timeout or the stop flag.
    """
    start = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    pgid = proc.pid
    tail: Deque[str] = collections.deque(maxlen=TAIL_LINES)
    splitters = {"o": _LineSplitter(), "e": _LineSplitter()}
    assert proc.stdout is not None and proc.stderr is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ, "o")
    selector.register(proc.stderr, selectors.EVENT_READ, "e")

    def emit(stream: str, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace")
        on_line(time.monotonic() - start, stream, text)
        tail.append(text)

    status = None
    completed = False
    exited_at = None
    next_poll = 0.0
    try:
        open_streams = 2
        while open_streams:
            if stop is not None and stop.is_set():
                status = "interrupted"
                break
            now = time.monotonic()
            if timeout is not None and now - start > timeout:
                status = "timeout"
                break
            if exited_at is not None and now - exited_at > ORPHAN_PIPE_SECONDS:
                # The script ended but something it started still holds the pipes open.
                break
            events = selector.select(timeout=0.1)
            if exited_at is None and (not events or now >= next_poll):
                # Not on every read: a waitpid per progress-bar redraw is a system call each, and
                # while output flows the script is almost always alive. A chatty orphan still gets
                # noticed within half a second.
                next_poll = now + 0.5
                if proc.poll() is not None:
                    exited_at = now
            for key, _ in events:
                data = os.read(key.fd, _READ_SIZE)
                stream = key.data
                if not data:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if on_chunk is not None:
                    on_chunk(time.monotonic() - start, stream, data)
                for line in splitters[stream].feed(data):
                    emit(stream, line)
        completed = status is None
    finally:
        if not completed:
            kill_group(pgid, reap=proc.poll)
        selector.close()
        exit_code = proc.wait()
        # Only now that the script is reaped (a zombie still counts as a group member): children it
        # left behind would skew the next run, so they go too.
        if group_alive(pgid):
            kill_group(pgid, grace=0.5)
        for stream in ("o", "e"):
            for line in splitters[stream].flush():
                emit(stream, line)
        proc.stdout.close()
        proc.stderr.close()
    if status is None:
        status = "ok" if exit_code == 0 else "failed"
    return Outcome(status=status, exit_code=exit_code, wall_seconds=time.monotonic() - start, tail=list(tail))
