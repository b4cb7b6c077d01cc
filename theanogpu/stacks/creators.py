"""EDGE: making the empty environment a pinned stack is built in: venv, or virtualenv for Python 2.7.

Python 3.3+ has the venv module (``python -m venv DIR``). Python 2.7, the interpreter most Theano
0.8 users had, has none; virtualenv makes its environments, but only releases before 20.22 can (later
ones dropped Python 2.7 and 3.6). So the tool provisions that virtualenv itself: once, into a helper
venv of the host interpreter under the cache (``tools/virtualenv-HASH``), crash-safe and locked like a
stack (its own marker written last, its own lock), reused by every later build. Nothing is installed
by hand and the user's own virtualenv, if any, is neither used nor touched.
"""

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from theanogpu import childenv
from theanogpu.errors import WorkFailed
from theanogpu.fsutil import atomic_write_text, read_json_object
from theanogpu.stacks.locations import cache_home, stack_python
from theanogpu.stacks.specs import StackSpec
from theanogpu.stacks.steps import BuildLog, Progress, discard, locked, run_step

# The last virtualenv releases that still create Python 2.7 (and 3.6) environments.
DEFAULT_VIRTUALENV = "virtualenv<20.22"
# The venv module (and its ensurepip) came with Python 3.3 and 3.4; below that, virtualenv.
VENV_SINCE = (3, 4)
HELPER_MARKER = ".theanogpu-helper.json"


@dataclass(frozen=True)
class Helper:
    """A helper venv holding one virtualenv release, ready to run."""

    directory: Path
    version: str  # the release installed, e.g. 20.21.1

    @property
    def python(self) -> Path:
        return stack_python(self.directory)

    @property
    def app_data(self) -> Path:
        # virtualenv's cache of seed wheels, kept in the helper instead of ~/.local/share/virtualenv.
        return self.directory / "app-data"


def virtualenv_requirement(spec: StackSpec, version: Sequence[int]) -> Optional[str]:
    """The virtualenv that creates *spec*'s environment, or None when ``python -m venv`` does."""
    if spec.virtualenv:
        return spec.virtualenv
    return DEFAULT_VIRTUALENV if tuple(version[:2]) < VENV_SINCE else None


def create_env(spec: StackSpec, venv: Path, base: Path, version: Sequence[int], log: BuildLog,
               progress: Progress, prefix: str) -> str:
    """Create the empty environment *venv* from interpreter *base*; say what made it, for the marker."""
    label = "%d.%d.%d" % tuple(version[:3])
    requirement = virtualenv_requirement(spec, version)
    if requirement is None:
        run_step([str(base), "-m", "venv", str(venv)], log, "creating venv with Python %s" % label, progress,
                 prefix)
        return "venv"
    helper = ensure_helper(requirement, log, progress, prefix)
    # --no-download: the seed packages are the ones this virtualenv release ships for that Python
    # (pip 20.3.4 for 2.7), the same on every machine, offline too.
    run_step([str(helper.python), "-m", "virtualenv", "--python", str(base), "--no-download",
              "--no-periodic-update", "--app-data", str(helper.app_data), str(venv)], log,
             "creating virtualenv with Python %s (virtualenv %s)" % (label, helper.version), progress, prefix,
             env=childenv.for_virtualenv())
    return "virtualenv %s (%s)" % (helper.version, requirement)


def helper_dir(requirement: str) -> Path:
    """Where the helper for *requirement* lives: one per requirement, shared by every stack."""
    digest = hashlib.sha256(requirement.encode("utf-8")).hexdigest()[:12]
    return cache_home() / "tools" / ("virtualenv-" + digest)


def ensure_helper(requirement: str, log: BuildLog, progress: Progress, prefix: str) -> Helper:
    """The helper venv with *requirement* installed: reused when intact, else (re)built, under its lock."""
    directory = helper_dir(requirement)
    lock = directory.parent / (directory.name + ".lock")
    with locked(lock, progress, prefix + requirement):
        found = intact_helper(directory, requirement)
        if found is not None:
            log.write("reusing %s (virtualenv %s) from %s" % (requirement, found.version, directory))
            return found
        return _build_helper(directory, requirement, log, progress, prefix)


def _build_helper(directory: Path, requirement: str, log: BuildLog, progress: Progress, prefix: str) -> Helper:
    discard(directory)  # an interrupted earlier attempt, or one whose interpreter is gone
    run_step([sys.executable, "-m", "venv", str(directory)], log,
             "provisioning %s (once, into %s)" % (requirement, directory), progress, prefix)
    run_step([str(stack_python(directory)), "-m", "pip", "install", requirement], log,
             "installing %s into the helper" % requirement, progress, prefix)
    version = virtualenv_version(stack_python(directory))
    if version is None:
        raise WorkFailed("%s installed into %s but `python -m virtualenv --version` fails; see %s"
                           % (requirement, directory, log.path))
    marker = {"requirement": requirement, "virtualenv": version, "host_interpreter": sys.executable}
    # Written last, as a stack's marker: without it the helper is rebuilt, never used.
    atomic_write_text(directory / HELPER_MARKER, json.dumps(marker, indent=1, sort_keys=True) + "\n")
    return Helper(directory, version)


def intact_helper(directory: Path, requirement: str) -> Optional[Helper]:
    """The helper in *directory* if it was completed for *requirement* and its virtualenv still runs."""
    marker = read_json_object(directory / HELPER_MARKER)
    if marker is None or marker.get("requirement") != requirement:
        return None
    version = virtualenv_version(stack_python(directory))
    return Helper(directory, version) if version else None


def virtualenv_version(python: Path) -> Optional[str]:
    """``20.21.1`` from ``python -m virtualenv --version``, or None when that does not run."""
    try:
        proc = subprocess.run([str(python), "-m", "virtualenv", "--version"], capture_output=True, text=True,
                              timeout=120, env=childenv.for_virtualenv())
    except (OSError, subprocess.SubprocessError):
        return None
    words = proc.stdout.split()
    return words[1] if proc.returncode == 0 and len(words) > 1 and words[0] == "virtualenv" else None
