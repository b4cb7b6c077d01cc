"""EDGE: building a pinned stack's environment: pip steps with live progress, a build log, a marker.

Building is crash-safe: the environment is created in place under the cache, and a marker file
holding the spec's hash is written LAST, so an interrupted build (no marker) is detected and rebuilt,
never used; a changed spec (other hash) is rebuilt too. A file lock (steps.locked, taken by the
caller) keeps two builds of one stack apart. How the empty environment comes to exist (venv, or
virtualenv for Python 2.7) is creators.py's business.
"""

import json
import subprocess
import time
from pathlib import Path
from typing import Dict, Optional, Sequence

from theanogpu import childenv
from theanogpu.clock import utc_now
from theanogpu.fsutil import atomic_write_text, read_json_object
from theanogpu.stacks import creators
from theanogpu.stacks.locations import stack_python
from theanogpu.stacks.specs import StackSpec
from theanogpu.stacks.steps import BuildLog, Progress, run_step

MARKER = ".theanogpu-stack.json"
REQUIREMENTS_COPY = ".theanogpu-requirements.txt"


def _freeze(python: Path) -> Dict[str, str]:
    proc = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                          env=childenv.for_pip(), timeout=120)
    packages = {}
    for line in proc.stdout.splitlines():
        name, sep, version = line.partition("==")
        if sep:
            packages[name.lower().replace("_", "-")] = version.strip()
    return packages


def read_marker(venv: Path) -> Optional[Dict[str, object]]:
    return read_json_object(venv / MARKER)


def build_venv(spec: StackSpec, venv: Path, base: Path, version: Sequence[int], log_path: Path,
               progress: Progress) -> None:
    """Create *venv* from interpreter *base* and install *spec* into it; the marker comes last."""
    started = time.monotonic()
    log = BuildLog(log_path)
    prefix = spec.name + ": "
    try:
        log.write("stack %s from %s, spec %s, base interpreter %s (%d.%d.%d)"
                  % (spec.name, spec.source, spec.spec_hash(), base, version[0], version[1], version[2]))
        creator = creators.create_env(spec, venv, base, version, log, progress, prefix)
        python = stack_python(venv)
        if spec.pip:
            run_step([str(python), "-m", "pip", "install", "--upgrade", *spec.pip], log,
                     "installing %s" % " ".join(spec.pip), progress, prefix)
        atomic_write_text(venv / REQUIREMENTS_COPY, "\n".join(spec.requirements) + "\n")
        run_step([str(python), "-m", "pip", "install", "-r", str(venv / REQUIREMENTS_COPY)], log,
                 "installing the pinned packages", progress, prefix)
        marker = {"spec_hash": spec.spec_hash(), "name": spec.name, "python": "%d.%d.%d" % tuple(version[:3]),
                  "base_interpreter": str(base), "packages": _freeze(python), "built": utc_now(),
                  "requirements": list(spec.requirements), "pip": list(spec.pip), "created_with": creator}
        # Written last: its presence is what says "this build completed".
        atomic_write_text(venv / MARKER, json.dumps(marker, indent=1, sort_keys=True) + "\n")
        log.write("done in %.0f s" % (time.monotonic() - started))
    finally:
        log.close()
