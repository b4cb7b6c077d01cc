"""EDGE: what every build is made of: one logged subprocess step with live progress, a lock, a discard.

A pinned stack's build (build.py) and the helper environment that provisions virtualenv
(creators.py) are both sequences of these steps, written into one build log.
"""

import contextlib
import datetime
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Iterator, List, Mapping, Optional, Sequence

from theanogpu import childenv
from theanogpu.errors import WorkFailed

LOG_TAIL_LINES = 15

Progress = Callable[[str], None]

_PIP_STEPS = (
    (r"^Building wheels for collected packages: (.+)", "building %s"),
    (r"^Collecting (\S+)", "collecting %s"),
    (r"^Downloading (?:https?://\S*/)?(\S+)", "downloading %s"),
    (r"^Using cached (?:https?://\S*/)?(\S+)", "using cached %s"),
    (r"^Processing (\S+)", "using %s"),
    (r"^Building wheels? for (\S+)", "building %s"),
    (r"^Running setup\.py (?:install|bdist_wheel) for ([^\s:]+)", "building %s"),
    (r"^Installing build dependencies", "installing build dependencies"),
    (r"^Installing collected packages: (.+)", "installing %s"),
    (r"^Successfully installed (.+)", "installed %s"),
    (r"^Attempting uninstall: (\S+)", "replacing %s"),
)


def pip_step(line: str) -> Optional[str]:
    """The step a pip output line announces, in a few words (None for the noise in between)."""
    text = line.strip()
    for pattern, template in _PIP_STEPS:
        match = re.match(pattern, text)
        if match:
            step = template % match.groups() if match.groups() else template
            return step if len(step) <= 90 else step[:87] + "..."
    return None


class BuildLog:
    """The build log in the cache: every line of every step, timestamped, kept after failures."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle = open(path, "w", encoding="utf-8")  # closed in close()
        self._tail: List[str] = []

    def write(self, line: str) -> None:
        stamp = datetime.datetime.now().strftime("%H:%M:%S")
        self._handle.write("%s %s\n" % (stamp, line))
        self._handle.flush()
        self._tail = (self._tail + [line])[-LOG_TAIL_LINES:]

    def tail(self) -> List[str]:
        return [line for line in self._tail if line.strip()]

    def close(self) -> None:
        self._handle.close()


def run_step(argv: Sequence[str], log: BuildLog, step: str, progress: Progress, prefix: str,
             env: Optional[Mapping[str, str]] = None) -> None:
    """Run one step, every line into *log* and pip's milestones to *progress*; WorkFailed with the log's
    tail when it fails. *env* defaults to pip's (most steps are pip)."""
    log.write("$ " + " ".join(argv))
    progress("%s%s" % (prefix, step))
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=dict(env) if env is not None else childenv.for_pip(),
                            text=True, errors="replace", bufsize=1)
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            log.write(line)
            detail = pip_step(line)
            if detail:
                progress("%s%s: %s" % (prefix, step, detail))
        code = proc.wait()
    except BaseException:
        # Ctrl-C or an error here: don't leave pip running on a venv we will discard.
        proc.kill()
        proc.wait()
        raise
    if code != 0:
        tail = log.tail()
        raise WorkFailed("%s failed (exit %d)%s\n%s\nfull build log: %s" % (
            step, code, _hint_for(tail), "\n".join("  | " + line for line in tail), log.path))


def _hint_for(tail: Sequence[str]) -> str:
    text = "\n".join(tail)
    if "ensurepip" in text:
        return "; this Python lacks the venv module's pip (Debian/Ubuntu: apt install pythonX.Y-venv)"
    if "No matching distribution" in text or "Could not find a version" in text:
        return "; a pinned package is not available for this Python/platform from your package index"
    if "Temporary failure in name resolution" in text or "NewConnectionError" in text:
        return "; the package index could not be reached (network?)"
    return ""


@contextlib.contextmanager
def locked(path: Path, progress: Progress, what: str) -> Iterator[None]:
    """An exclusive lock on *path*: a second `stack create` of the same stack waits for the first."""
    import fcntl  # POSIX only, as the process-group runner is

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            progress("%s: waiting for another theanogpu building it (lock %s)" % (what, path))
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def runs(python: Path) -> bool:
    """Whether *python* starts at all (a venv whose base interpreter was removed does not)."""
    try:
        return subprocess.run([str(python), "-c", "import sys"], capture_output=True, timeout=60,
                              env=childenv.for_interpreter()).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def discard(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(str(path))
