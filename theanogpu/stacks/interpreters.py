"""Find a Python interpreter of a given version: on PATH, under pyenv, or at an explicit path.

Every candidate is *run* to learn its real version: a name on PATH proves nothing (pyenv shims for
versions that are not activated are on PATH too, and fail when run).
"""

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Tuple

from theanogpu import childenv
from theanogpu.errors import UserError

Version = Tuple[int, int, int]

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")
# What to suggest to `pyenv install` when a version is missing (the last release of each line).
_LAST_PATCH = {"2.7": "2.7.18", "3.6": "3.6.15", "3.7": "3.7.17", "3.8": "3.8.20", "3.9": "3.9.20",
               "3.10": "3.10.16", "3.11": "3.11.11", "3.12": "3.12.8", "3.13": "3.13.1"}
_QUERY = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)"


def parse_version_request(text: str) -> Optional[Tuple[int, int, Optional[int]]]:
    """``"3.6"`` → (3, 6, None), ``"3.6.15"`` → (3, 6, 15); None when *text* is not a version."""
    match = _VERSION_RE.match(text.strip())
    if not match:
        return None
    major, minor, micro = match.groups()
    return int(major), int(minor), (int(micro) if micro is not None else None)


def looks_like_path(text: str) -> bool:
    return os.sep in text or "/" in text or text.startswith(("~", "."))


@functools.lru_cache(maxsize=None)
def interpreter_info(python: str) -> Optional[Tuple[Version, Path]]:
    """(version, sys.executable) of the interpreter at *python*, or None if it does not run."""
    try:
        proc = subprocess.run([python, "-c", _QUERY], capture_output=True, text=True, timeout=60,
                              env=childenv.for_interpreter())
    except (OSError, subprocess.SubprocessError):
        return None
    lines = proc.stdout.split("\n")
    if proc.returncode != 0 or len(lines) < 2:
        return None
    parsed = parse_version_request(lines[0])
    if parsed is None:
        return None
    major, minor, micro = parsed
    executable = Path(lines[1].strip() or python)
    return (major, minor, micro or 0), executable


def pyenv_roots() -> List[Path]:
    roots = []
    if os.environ.get("PYENV_ROOT"):
        roots.append(Path(os.environ["PYENV_ROOT"]))
    roots.append(Path.home() / ".pyenv")
    unique: List[Path] = []
    for root in roots:
        if root not in unique:
            unique.append(root)
    return unique


def _pyenv_candidates(major: int, minor: int, micro: Optional[int]) -> List[Path]:
    """pyenv installs of X.Y (highest patch first) or exactly X.Y.Z."""
    pattern = re.compile(r"^%d\.%d\.(\d+)$" % (major, minor))
    found = []
    for root in pyenv_roots():
        versions = root / "versions"
        if not versions.is_dir():
            continue
        for entry in versions.iterdir():
            match = pattern.match(entry.name)
            if match and (micro is None or int(match.group(1)) == micro):
                found.append((int(match.group(1)), entry / "bin" / "python"))
    found.sort(key=lambda item: item[0], reverse=True)
    return [path for _, path in found]


def install_hint(version: str) -> str:
    parsed = parse_version_request(version)
    line = "%d.%d" % parsed[:2] if parsed else version
    exact = version if parsed and parsed[2] is not None else _LAST_PATCH.get(line, line)
    return ("install it with `pyenv install %s` (or your system's packages, e.g. the deadsnakes PPA: "
            "apt install python%s python%s-venv)" % (exact, line, line))


def find_interpreter(version: str, purpose: str = "") -> Path:
    """The interpreter for *version* ("3.6", "3.6.15", or a path to a python), checked by running it.

    Order: ``pythonX.Y`` on PATH, then pyenv's ``versions/X.Y.*`` (highest patch). Raises UserError
    naming the version, where it looked, and how to get it.
    """
    purpose_text = " (%s)" % purpose if purpose else ""
    if looks_like_path(version):
        path = Path(os.path.expanduser(version))
        info = interpreter_info(str(path))
        if info is None:
            raise UserError("Python interpreter %s%s does not exist or does not run; point `python =` "
                            "at a working interpreter" % (path, purpose_text))
        return Path(info[1])
    parsed = parse_version_request(version)
    if parsed is None:
        raise UserError("Python version %r%s is neither X.Y, X.Y.Z nor a path to an interpreter"
                        % (version, purpose_text))
    major, minor, micro = parsed
    candidates: List[str] = []
    on_path = shutil.which("python%d.%d" % (major, minor))
    if on_path:
        candidates.append(on_path)
    candidates.extend(str(path) for path in _pyenv_candidates(major, minor, micro))
    current = "%d.%d.%d" % sys.version_info[:3]
    if current.startswith("%d.%d." % (major, minor)):
        candidates.append(sys.executable)
    for candidate in candidates:
        info = interpreter_info(candidate)
        if info is None:
            continue
        (got_major, got_minor, got_micro), executable = info
        if (got_major, got_minor) == (major, minor) and (micro is None or got_micro == micro):
            return executable
    roots = ", ".join(str(root / "versions" / ("%s*" % version)) for root in pyenv_roots())
    raise UserError("Python %s%s not found: no working python%d.%d on PATH and none under pyenv (%s); %s, "
                    "or set `python = /path/to/python%d.%d` for the stack in its stacks.ini"
                    % (version, purpose_text, major, minor, roots, install_hint(version), major, minor))
