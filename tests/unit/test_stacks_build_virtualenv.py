"""Real builds of tiny Python 2.7 stacks: the virtualenv<20.22 that makes them, provisioned by the tool.

No Theano: one local wheel, installed offline. What is real: the helper venv the tool creates under
its cache and pip-installs virtualenv<20.22 into (from the package index, ~15 s, once per cache), and
that virtualenv creating the Python 2.7 environments. Covers: the first build provisions the helper,
later builds reuse it, a helper without its marker (interrupted) is rebuilt, two concurrent builds
provision it once, `virtualenv =` on a Python 3 stack, and the caller's VIRTUALENV_* kept out.
"""

import json
import os
import re
import subprocess
import sys

import pytest
from test_stacks_build import make_wheel

from theanogpu import stacks
from theanogpu.errors import UserError
from theanogpu.stacks import creators
from theanogpu.stacks.build import MARKER

CURRENT = "%d.%d" % sys.version_info[:2]
pytestmark = pytest.mark.slow


@pytest.fixture
def py27(tmp_path, monkeypatch):
    """A stacks.ini of tiny stacks (py27a, py27b: Python 2.7; py3venv: this Python with `virtualenv =`)
    pinned to a local wheel, in an empty cache."""
    try:
        stacks.find_interpreter("2.7")
    except UserError as exc:
        pytest.skip(str(exc))
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "tinypkg", "1.0", tag="py2.py3-none-any")
    (tmp_path / "tiny.txt").write_text("--no-index\n--find-links %s\ntinypkg==1.0\n" % wheels)
    ini = tmp_path / "stacks.ini"
    ini.write_text("[py27a]\npython = 2.7\nrequirements = tiny.txt\n"
                   "[py27b]\npython = 2.7\nrequirements = tiny.txt\n"
                   "[py3venv]\npython = %s\nvirtualenv = virtualenv<20.22\nrequirements = tiny.txt\n" % CURRENT)
    monkeypatch.setenv("THEANOGPU_STACKS", str(ini))
    monkeypatch.setenv("THEANOGPU_HOME", str(tmp_path / "home"))
    return tmp_path


def build(name):
    """(stack, progress messages, build log text) of a build of *name*."""
    stack = stacks.get_stack(name)
    messages = []
    result = stack.ensure(progress=messages.append)
    assert result.built
    return stack, messages, stack.build_log.read_text()


def in_stack(stack, code):
    return subprocess.run([str(stack.python), "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_helper_is_provisioned_once_reused_and_rebuilt_when_incomplete(py27, monkeypatch):
    # virtualenv reads VIRTUALENV_* as defaults (tox sets VIRTUALENV_PIP); leaked into the build, this
    # one would ask for a pip that does not exist.
    monkeypatch.setenv("VIRTUALENV_PIP", "0.1")
    first, messages, log = build("py27a")
    assert any("provisioning virtualenv<20.22" in m for m in messages), messages
    assert any(re.search(r"creating virtualenv with Python 2\.7\.\d+ \(virtualenv 20\.(\d+)\.", m) for m in messages)
    assert "-m virtualenv --python" in log and "Successfully installed tinypkg-1.0" in log
    assert in_stack(first, "import sys, tinypkg; print('%d.%d %s' % (sys.version_info[:2] + (tinypkg.__version__,)))") \
        == "2.7 1.0"
    marker = json.loads((first.venv / MARKER).read_text())
    assert marker["python"].startswith("2.7.") and marker["packages"]["tinypkg"] == "1.0"
    release = re.match(r"^virtualenv 20\.(\d+)\.\d+ \(virtualenv<20\.22\)$", marker["created_with"])
    assert release and int(release.group(1)) < 22, marker["created_with"]
    # What virtualenv<20.22 seeds on Python 2.7: the stack's bootstrap pip, the last pip for 2.7.
    assert marker["packages"]["pip"] == "20.3.4"
    assert first.ensure().built is False  # up to date

    second, messages, log = build("py27b")
    assert not any("provisioning" in m for m in messages), messages
    assert "reusing virtualenv<20.22 (virtualenv 20." in log

    helper = creators.helper_dir("virtualenv<20.22")
    (helper / creators.HELPER_MARKER).unlink()  # what an interrupted provisioning leaves
    third, messages, log = build("py3venv")
    assert any("provisioning virtualenv<20.22" in m for m in messages), messages
    assert (helper / creators.HELPER_MARKER).is_file()
    # `virtualenv =` is honoured on a Python that has venv too.
    assert json.loads((third.venv / MARKER).read_text())["created_with"].startswith("virtualenv 20.")
    assert "virtualenv = 20." in (third.venv / "pyvenv.cfg").read_text()


def test_concurrent_builds_provision_the_helper_once(py27):
    env = dict(os.environ)
    procs = [subprocess.Popen([sys.executable, "-m", "theanogpu", "stack", "create", name], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("py27a", "py27b")]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    logs = [stacks.get_stack(name).build_log.read_text() for name in ("py27a", "py27b")]
    # One build installed virtualenv into the helper (the other waited on its lock), one reused it.
    assert sum("-m pip install virtualenv<20.22" in log for log in logs) == 1, logs
    assert sum("reusing virtualenv<20.22" in log for log in logs) == 1, logs
