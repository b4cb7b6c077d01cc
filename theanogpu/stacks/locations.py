"""Where theanogpu keeps what it builds and shares between runs: stacks, compile caches, an empty config."""

import os
from pathlib import Path

from theanogpu.fsutil import atomic_write_text


def cache_home() -> Path:
    """$THEANOGPU_HOME, else the user cache dir (e.g. ~/.cache/theanogpu)."""
    explicit = os.environ.get("THEANOGPU_HOME")
    if explicit:
        return Path(os.path.expanduser(explicit)).absolute()
    import platformdirs  # only needed here; keeps `theanogpu --help` light

    return Path(platformdirs.user_cache_dir("theanogpu"))


def stacks_home() -> Path:
    return cache_home() / "stacks"


def compiledir(tag: str) -> Path:
    """A Theano ``base_compiledir`` of one stack's own (by *tag*), so runs don't fight over ~/.theano."""
    path = cache_home() / "theano-compiledir" / tag
    path.mkdir(parents=True, exist_ok=True)
    return path


def empty_theanorc() -> Path:
    """A .theanorc with no settings: point THEANORC at it to keep the user's ~/.theanorc out of a run."""
    path = cache_home() / "empty.theanorc"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, "# Empty on purpose: keeps ~/.theanorc out of theanogpu's runs.\n")
    return path


def stack_python(env: Path) -> Path:
    """The interpreter of a venv directory (``bin/python``; ``Scripts/python.exe`` on Windows).

    A path to an interpreter file is returned unchanged, so callers can treat both kinds alike.
    """
    env = Path(env)
    if env.is_file():
        return env
    if os.name == "nt":
        return env / "Scripts" / "python.exe"
    return env / "bin" / "python"
