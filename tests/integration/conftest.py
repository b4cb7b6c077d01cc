"""Shared fixtures for the slow tests that use real stacks (Theano/Keras in pinned venvs).

Stacks are built for real in the shared cache (the same one `theanogpu stack create` uses, so a
developer's existing builds are reused), each at most once per session.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict

import pytest

BUILD_TIMEOUT = 1800
# Importing Theano the first time compiles C code (about a minute per stack).
RUN_TIMEOUT = 600


def theanogpu(*args: str, env: Dict[str, str] = None, timeout: float = BUILD_TIMEOUT):
    """Run the real command line; its CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "theanogpu", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture(scope="session")
def cli() -> Callable[..., subprocess.CompletedProcess]:
    """``cli("stack", "list", env=...)``: the real `python -m theanogpu ...` as a CompletedProcess."""
    return theanogpu


@pytest.fixture(scope="session")
def stack_venv() -> Callable[[str], Path]:
    """``stack_venv(name)``: the venv dir of stack *name*, built with `theanogpu stack create` once.

    A stack whose Python is not installed here is a skip (with the tool's own message), not a failure.
    """
    built: Dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            proc = theanogpu("stack", "create", name)
            if proc.returncode == 2 and "not found" in proc.stderr:
                pytest.skip(proc.stderr.strip())
            assert proc.returncode == 0, "stack create %s failed:\n%s" % (name, proc.stderr[-3000:])
            path = theanogpu("stack", "path", name, timeout=60)
            assert path.returncode == 0, path.stderr
            built[name] = Path(path.stdout.strip())
        return built[name]

    return get


@pytest.fixture(scope="session")
def stack_run(stack_venv, tmp_path_factory) -> Callable[..., dict]:
    """``stack_run(name, code, env={...})``: run *code* with the stack's python, return its last JSON line.

    The user's ~/.theanorc is kept out (THEANORC points at an empty file unless *env* sets it) and
    Theano compiles into a per-stack directory of this session; HOME is left alone.
    """
    root = tmp_path_factory.mktemp("stack-run")
    empty_rc = root / "empty.theanorc"
    empty_rc.write_text("# empty\n")

    def run(name: str, code: str, env: Dict[str, str] = None, compiledir: bool = True) -> dict:
        python = stack_venv(name) / "bin" / "python"
        full_env = {k: v for k, v in os.environ.items()
                    if k not in ("THEANO_FLAGS", "PYTHONPATH", "PYTHONHOME", "KERAS_BACKEND")}
        full_env["THEANORC"] = str(empty_rc)
        if compiledir:
            full_env["THEANO_FLAGS"] = "base_compiledir=%s" % (root / ("compiledir-" + name))
        full_env.update(env or {})
        proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=full_env,
                              timeout=RUN_TIMEOUT, cwd=str(root))
        assert proc.returncode == 0, "in %s:\n%s" % (name, proc.stderr[-3000:])
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        assert lines, "no JSON printed in %s:\n%s\n%s" % (name, proc.stdout, proc.stderr[-3000:])
        result = json.loads(lines[-1])
        result["_stderr"] = proc.stderr
        return result

    return run
