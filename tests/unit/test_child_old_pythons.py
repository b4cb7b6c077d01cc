"""Child-side code run for real by bare Python 2.7 and 3.6 interpreters (no Theano, nothing installed).

test_lint.py compiles it with them; this runs it: the probe's one JSON object, blas.py, the child
test runner's stack reading (the stdlib ConfigParser on 2.7), its report lines and its timeout, which
Python 2 cannot take from subprocess. Each interpreter is skipped where it is not installed.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from theanogpu.errors import UserError
from theanogpu.stacks.interpreters import find_interpreter

ROOT = Path(__file__).resolve().parents[2]
CHILD = ROOT / "theanogpu" / "child"
RUNNER = ROOT / "tests" / "child" / "run_child_tests.py"
# The built-in stack each old interpreter belongs to.
STACK_OF = {"2.7": "theano08-py27", "3.6": "theano08"}


@pytest.fixture(params=sorted(STACK_OF))
def old_python(request):
    """(version, interpreter) of a bare old Python, skipped when it is not installed here."""
    try:
        return request.param, str(find_interpreter(request.param))
    except UserError as exc:
        pytest.skip(str(exc))


def run(argv, **kwargs):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "THEANO_FLAGS")}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, **kwargs)


def test_probe_prints_one_json_object_without_theano(old_python, tmp_path):
    version, python = old_python
    proc = run([python, str(CHILD / "probe.py")], cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    report = json.loads(lines[0])
    assert report["probe"] == 1 and report["python"]["version"].startswith(version + ".")
    # No Theano: its import error is reported (Python 2 and 3 word it differently), nothing crashes.
    assert report["packages"]["theano"]["version"] is None and "theano" in report["packages"]["theano"]["error"]
    assert report["theano"]["imported"] is False and report["theano"]["device_requested"] is None
    assert "numpy" in report["packages"]["numpy"]["error"] and report["packages"]["numpy"]["version"] is None


def test_blas_finder_prints_json(old_python):
    _, python = old_python
    proc = run([python, str(CHILD / "blas.py")])
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert set(found) == {"ldflags", "source"} and found["source"]


def test_child_runner_reads_its_stack_and_checks_the_interpreter(old_python, tmp_path):
    version, python = old_python
    proc = run([python, str(RUNNER), "--stack", STACK_OF[version], "--only", "python", "--workdir", str(tmp_path)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS python" in proc.stdout and "1 passed, 0 failed, 0 skipped" in proc.stdout
    # The other stack asks for the other Python: a failure that says which.
    other = [name for key, name in STACK_OF.items() if key != version][0]
    proc = run([python, str(RUNNER), "--stack", other, "--only", "python", "--workdir", str(tmp_path)])
    assert proc.returncode == 1
    assert "FAIL python" in proc.stdout and "but this is Python %s." % version in proc.stdout


def test_child_runner_stops_a_run_at_its_timeout(old_python, tmp_path):
    """Python 2's communicate() has no timeout: the runner's own timer must end the run."""
    version, python = old_python
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import run_child_tests as r\n"
            "runner = r.Runner(%r, r.read_stack(%r), sys.argv[2])\n"
            "try:\n"
            "    runner.run([sys.executable, '-c', 'import time; time.sleep(60)'], None, 1)\n"
            "except r.Failed as exc:\n"
            "    print('failed: %%s' %% exc)\n" % (STACK_OF[version], STACK_OF[version]))
    started = time.monotonic()
    proc = run([python, "-c", code, str(RUNNER.parent), str(tmp_path)])
    assert proc.returncode == 0, proc.stderr
    assert "did not finish within 1 s" in proc.stdout
    assert time.monotonic() - started < 30
