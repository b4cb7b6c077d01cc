"""Real stack builds of a tiny local stack (current Python, one local wheel, no network).

`python -m venv` and pip run for real; only the package is small. Covers: build, reuse ("up to
date"), an interrupted build (no marker) and changed pins rebuilt, a failing pip step reported with
its log, and two concurrent creates of one stack. Each build spends ~5 s in ensurepip, so the
module is marked slow like the real old stacks.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile

import pytest

from theanogpu import stacks
from theanogpu.errors import WorkFailed
from theanogpu.stacks.build import MARKER

CURRENT = "%d.%d" % sys.version_info[:2]
pytestmark = pytest.mark.slow


def make_wheel(directory, name, version, tag="py3-none-any"):
    """A minimal valid pure-Python wheel (tag py2.py3-none-any installs on Python 2.7 too)."""
    files = {
        "%s/__init__.py" % name: "__version__ = %r\n" % version,
        "%s-%s.dist-info/METADATA" % (name, version): "Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
                                                      % (name, version),
        "%s-%s.dist-info/WHEEL" % (name, version): "Wheel-Version: 1.0\nGenerator: test\n"
                                                   "Root-Is-Purelib: true\nTag: %s\n" % tag,
    }
    record = "%s-%s.dist-info/RECORD" % (name, version)
    lines = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        lines.append("%s,sha256=%s,%d" % (path, digest, len(text.encode())))
    files[record] = "\n".join(lines + [record + ",,"]) + "\n"
    wheel = directory / ("%s-%s-%s.whl" % (name, version, tag))
    with zipfile.ZipFile(str(wheel), "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A user stack `tiny` pinned to a local wheel, in an empty cache."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "tinypkg", "1.0")
    make_wheel(wheels, "tinypkg", "2.0")
    (tmp_path / "tiny.txt").write_text("--no-index\n--find-links %s\ntinypkg==1.0\n" % wheels)
    ini = tmp_path / "stacks.ini"
    ini.write_text("[tiny]\npython = %s\nrequirements = tiny.txt\n" % CURRENT)
    monkeypatch.setenv("THEANOGPU_STACKS", str(ini))
    monkeypatch.setenv("THEANOGPU_HOME", str(tmp_path / "home"))
    return tmp_path


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "theanogpu", *args], capture_output=True, text=True,
                          env=env or os.environ.copy())


def tiny_version(venv):
    python = stacks.stack_python(venv)
    return subprocess.run([str(python), "-c", "import tinypkg; print(tinypkg.__version__)"],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_build_reuse_interrupted_and_changed(tiny):
    stack = stacks.get_stack("tiny")
    spec = stack.spec
    messages = []
    result = stack.ensure(progress=messages.append)
    assert result.built and tiny_version(result.venv) == "1.0"
    assert any("creating venv" in m for m in messages) and any("tinypkg" in m for m in messages)
    marker = json.loads((result.venv / MARKER).read_text())
    assert marker["spec_hash"] == spec.spec_hash() and marker["packages"]["tinypkg"] == "1.0"
    assert stack.build_log.read_text().count("tinypkg") >= 1

    messages.clear()
    again = stack.ensure(progress=messages.append)
    assert not again.built and again.venv == result.venv and messages == ["tiny: up to date"]

    (result.venv / MARKER).unlink()  # what an interrupted build leaves: no marker
    assert stack.state().state == "broken"
    rebuilt = stack.ensure(progress=messages.append)
    assert rebuilt.built and any("rebuilding (broken)" in m for m in messages)

    (tiny / "tiny.txt").write_text((tiny / "tiny.txt").read_text().replace("1.0", "2.0"))
    changed = stacks.get_stack("tiny")
    assert changed.state().state == "outdated"
    assert changed.ensure().built and tiny_version(rebuilt.venv) == "2.0"


def test_failed_pip_step_names_the_log_and_leaves_no_usable_stack(tiny):
    (tiny / "tiny.txt").write_text((tiny / "tiny.txt").read_text().replace("tinypkg==1.0", "tinypkg==9.9"))
    stack = stacks.get_stack("tiny")
    with pytest.raises(WorkFailed) as info:
        stack.ensure()
    message = str(info.value)
    assert "installing the pinned packages failed" in message
    assert "tinypkg==9.9" in message  # the tail of pip's output
    assert str(stack.build_log) in message
    assert stack.state().state == "broken"
    proc = cli("stack", "path", "tiny")
    assert proc.returncode == 1 and "broken" in proc.stderr


def test_cli_create_twice_list_path_remove(tiny):
    first = cli("stack", "create", "tiny")
    assert first.returncode == 0, first.stderr
    assert "tiny: built in" in first.stderr
    second = cli("stack", "create", "tiny")
    assert second.returncode == 0 and "tiny: up to date" in second.stderr
    path = cli("stack", "path", "tiny")
    venv = stacks.get_stack("tiny").venv
    assert path.returncode == 0 and path.stdout == "%s\n" % venv
    listing = json.loads(cli("stack", "list", "--format", "json").stdout)
    tiny_row = [row for row in listing if row["name"] == "tiny"][0]
    assert tiny_row["state"] == "built" and tiny_row["python"].startswith(CURRENT + ".")
    removed = cli("stack", "remove", "tiny")
    assert removed.returncode == 0 and not venv.exists()
    assert cli("stack", "path", "tiny").returncode == 1


def test_concurrent_creates_build_once(tiny):
    procs = [subprocess.Popen([sys.executable, "-m", "theanogpu", "stack", "create", "tiny"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    stderr = [err for _, err in outputs]
    assert sum("tiny: built in" in err for err in stderr) == 1
    assert sum("tiny: up to date" in err for err in stderr) == 1

