"""Fixtures shared by the unit tests."""

import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty theanogpu cache ($THEANOGPU_HOME) and no user stacks file.

    (test_config_cli.py has a ``home`` of its own: a HOME directory for `config --write`.)
    """
    monkeypatch.setenv("THEANOGPU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("THEANOGPU_STACKS", raising=False)
    return tmp_path / "home"


# ------------------------------------------------------------------ the CLI as root and as a user
#
# Permission behaviour differs between root and an ordinary user (root may write a 0444 file, chown
# files, ignore a directory's mode), and both must hold. CI runs the tests as root; a test that
# needs an ordinary user runs the CLI as `nobody` through setpriv, or skips saying why it cannot.

import functools  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import sysconfig  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import theanogpu  # noqa: E402

NOBODY = 65534
# The theanogpu under test (not an installed copy), for the CLI processes the tests start.
SOURCE_ROOT = str(Path(theanogpu.__file__).resolve().parents[1])
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def cli_env(home, **extra):
    """An environment for a CLI process: HOME, no THEANORC, this source tree first on sys.path."""
    env = dict(os.environ, HOME=str(home), USERPROFILE=str(home), PYTHONDONTWRITEBYTECODE="1")
    env.pop("THEANORC", None)
    env["PYTHONPATH"] = os.pathsep.join([SOURCE_ROOT, sysconfig.get_paths()["purelib"]])
    env.update({key: str(value) for key, value in extra.items()})
    return env


@functools.lru_cache(maxsize=None)
def _as_nobody():
    """(argv prefix that runs a Python as nobody, None) or (None, why it cannot be done)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None, "no setpriv (util-linux) to run the CLI as an ordinary user"
    prefix = [setpriv, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--"]
    candidates = [sys.executable, os.path.realpath(sys.executable), getattr(sys, "_base_executable", ""),
                  shutil.which("python3") or "", "/usr/bin/python3"]
    env = cli_env(tempfile.gettempdir())
    for python in dict.fromkeys(c for c in candidates if c):
        probe = subprocess.run(prefix + [python, "-c", "import theanogpu.cli, docopt, platformdirs, rich"],
                               env=env, capture_output=True, cwd="/")
        if probe.returncode == 0:
            return prefix + [python], None
    return None, ("user nobody can run no Python with theanogpu's dependencies (the test interpreter %s or "
                  "the source %s is not readable to others)" % (sys.executable, SOURCE_ROOT))


@pytest.fixture(params=["self", "user"])
def who(request):
    """The CLI as the test's own user (root in CI), then as an ordinary user (nobody, when root)."""
    if request.param == "user" and not IS_ROOT:
        pytest.skip("the tests already run as an ordinary user: the 'self' case is that case")
    if request.param == "user":
        prefix, why = _as_nobody()
        if prefix is None:
            pytest.skip(why)
    return request.param


@pytest.fixture
def user_dir(who, tmp_path):
    """A directory the CLI's user owns (pytest's own temporary directories are root's, mode 0700)."""
    if who == "self":
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="theanogpu-user-"))
    os.chown(str(folder), NOBODY, NOBODY)
    try:
        yield folder
    finally:
        shutil.rmtree(str(folder), ignore_errors=True)


def give(path, who):
    """Make *path* (made by the test) belong to the CLI's user."""
    if who == "user":
        os.chown(str(path), NOBODY, NOBODY, follow_symlinks=False)


def run_cli(who, args, home, umask=None, timeout=60, memory_gb=2, **kwargs):
    """`python -m theanogpu ARGS` as *who* ("self" or "user"), with HOME=*home*; a CompletedProcess.

    The process gets *memory_gb* of address space: code that reads without end fails fast, never
    taking the machine's memory (and the other tests running on it) down with it.
    """
    python = [sys.executable] if who == "self" else _as_nobody()[0]
    env = kwargs.pop("env", None) or cli_env(home)

    def preexec():
        if umask is not None:
            os.umask(umask)
        size = memory_gb * 1024 ** 3
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return subprocess.run(python + ["-m", "theanogpu", *map(str, args)], env=env, cwd=str(home),
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec, **kwargs)


# Starts the CLI as `theanogpu` does, after telling the test (a byte on a pipe) that Python is up and
# theanogpu.cli is imported: Ctrl-C during the interpreter's own start-up is the interpreter's.
_BOOT = "\n".join([
    "import os, sys",
    "from theanogpu.cli import main",
    "ready = int(sys.argv.pop(1))",
    "os.write(ready, b'.')",
    "os.close(ready)",
    "sys.exit(main())",
])


def start_cli(args, **popen):
    """`theanogpu ARGS` as a Popen, returned once the interpreter is up and theanogpu.cli imported."""
    ready, ready_w = os.pipe()
    proc = subprocess.Popen([sys.executable, "-c", _BOOT, str(ready_w), *map(str, args)], pass_fds=(ready_w,),
                            **popen)
    os.close(ready_w)
    try:
        os.read(ready, 1)
    finally:
        os.close(ready)
    return proc
