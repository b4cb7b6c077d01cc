"""EDGE: the output directory of a comparison: chosen, created and checked before anything runs."""

import contextlib
import datetime
import fcntl
import os
import shutil
from pathlib import Path
from typing import Iterator, Optional

from theanogpu.clock import utc_now
from theanogpu.errors import UserError

RUNS_ROOT = Path("theanogpu-runs")
# A comparison writes logs of a few MB; refuse to start with less than this free.
MIN_FREE_BYTES = 50 * 1024 * 1024


def choose_out(out: Optional[str], resume: bool) -> Path:
    """--out as given; with --resume the newest comparison under theanogpu-runs/; else a new one there."""
    if out:
        return Path(out)
    if resume:
        earlier = sorted(p for p in RUNS_ROOT.glob("*") if (p / "results.json").is_file())
        if not earlier:
            raise UserError("--resume: no earlier comparison under %s/; start one without --resume" % RUNS_ROOT)
        return earlier[-1]
    return RUNS_ROOT / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


def prepare_out(out: Path) -> Path:
    """Create *out* and prove that it takes files and has room, or say why not (exit 2)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".theanogpu-write-test"
        probe.write_bytes(b"x" * 4096)
        probe.unlink()
    except OSError as exc:
        raise UserError("--out=%s: cannot write there (%s); choose a writable directory"
                        % (out, exc.strerror or exc)) from None
    free = shutil.disk_usage(str(out)).free
    if free < MIN_FREE_BYTES:
        raise UserError("--out=%s: only %d MB free on that disk; free some space or choose another --out"
                        % (out, free // (1024 * 1024)))
    return out


LOCK_NAME = ".theanogpu.lock"


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold *out* for one comparison: a second `compare` on it gets one line naming the first (exit 2),
    instead of the two silently overwriting each other's results.json."""
    path = out / LOCK_NAME
    try:
        fd = os.open(str(path), os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                     0o644)
    except OSError as exc:
        raise UserError("--out=%s: cannot create its lock file %s (%s)" % (out, path, exc.strerror or exc)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
            raise UserError("--out=%s is in use by another theanogpu compare (%s); wait for it to end or choose "
                            "another --out" % (out, holder)) from None
        os.ftruncate(fd, 0)
        os.write(fd, ("pid %d, since %s" % (os.getpid(), utc_now())).encode("utf-8"))
        yield
    finally:
        os.close(fd)  # closing releases the lock
