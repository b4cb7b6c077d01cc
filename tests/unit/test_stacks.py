"""Stack specs, user stack files, interpreter discovery and stack states (no pip, no network)."""

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from theanogpu import stacks
from theanogpu.errors import UserError
from theanogpu.resources import stacks_dir
from theanogpu.stacks import creators
from theanogpu.stacks.build import MARKER
from theanogpu.stacks.interpreters import _pyenv_candidates, find_interpreter, parse_version_request

CURRENT = "%d.%d" % sys.version_info[:2]


def write_user_stacks(tmp_path, monkeypatch, text):
    path = tmp_path / "stacks.ini"
    path.write_text(text)
    monkeypatch.setenv("THEANOGPU_STACKS", str(path))
    return path


def test_builtin_stacks_are_the_contract(home):
    specs = stacks.load_specs()
    assert list(specs)[:3] == ["theano08", "theano09", "theano10"]
    t08, t09, t10 = specs["theano08"], specs["theano09"], specs["theano10"]
    assert (t08.python, t09.python, t10.python) == ("3.6", "3.6", "3.8")
    assert t08.pins() == {"theano": "==0.8.2", "keras": "==1.2.2", "numpy": "==1.16.6", "scipy": "==1.2.3",
                          "h5py": "<3"}
    assert t09.pins() == {"theano": "==0.9.0", "keras": "==2.0.8", "numpy": "==1.16.6", "scipy": "==1.2.3",
                          "h5py": "<3"}
    assert t10.pins() == {"theano": "==1.0.5", "keras": "==2.3.1", "numpy": "==1.19.5", "scipy": "==1.5.4",
                          "h5py": "==2.10"}
    # pip >= 22 does not run on Python 3.6: the 3.6 stacks must install 21.3.1 before anything else.
    assert "pip==21.3.1" in t08.pip and "pip==21.3.1" in t09.pip
    assert t08.key_packages() == "theano==0.8.2 keras==1.2.2 numpy==1.16.6"
    # The Python 2.7 twin of theano08: same pins, the last pip for 2.7, made by a virtualenv that can.
    py27 = specs["theano08-py27"]
    assert py27.python == "2.7" and py27.pins() == t08.pins()
    assert py27.pip == ("pip==20.3.4", "wheel==0.37.1") and py27.virtualenv == "virtualenv<20.22"
    assert not t08.virtualenv  # Python 3.6 has venv
    # The modern stacks name their framework too, not just keras.
    assert stacks.get_stack("keras3-jax").spec.key_packages() == "keras>=3 jax==0.10.2"
    assert stacks.get_stack("keras3-tf").spec.key_packages() == "keras>=3 tensorflow-cpu==2.21.0"


def test_requirement_files_are_plain_pip_requirements_for_tox():
    """tox reads them with `deps = -r templates/stacks/NAME.txt`: only comments and requirement lines."""
    import re

    for name in ("theano08", "theano09", "theano10", "theano08-py27"):
        text = (stacks_dir() / (name + ".txt")).read_text()
        for line in text.splitlines():
            if line.strip() and not line.startswith("#"):
                assert re.match(r"^[a-z0-9_.-]+(==|<|>=)[0-9.]+$", line), (name, line)


def test_spec_hash_follows_the_pins(home):
    spec = stacks.get_stack("theano08").spec
    assert spec.spec_hash() == stacks.get_stack("theano08").spec.spec_hash()
    changed = stacks.StackSpec(spec.name, spec.python, spec.requirements[:-1] + ("h5py==2.9",), spec.pip)
    assert changed.spec_hash() != spec.spec_hash()
    assert stacks.StackSpec(spec.name, "3.7", spec.requirements, spec.pip).spec_hash() != spec.spec_hash()
    other_creator = stacks.StackSpec(spec.name, spec.python, spec.requirements, spec.pip, virtualenv="virtualenv<21")
    assert other_creator.spec_hash() != spec.spec_hash()


def test_spec_hash_without_virtualenv_is_what_it_was_before_the_key(home):
    """Stacks built before `virtualenv =` existed must stay "built", not turn "outdated"."""
    spec = stacks.get_stack("theano10").spec
    before = json.dumps({"python": spec.python, "pip": list(spec.pip), "requirements": list(spec.requirements),
                         "env": [list(kv) for kv in spec.env]}, sort_keys=True)
    assert spec.spec_hash() == hashlib.sha256(before.encode("utf-8")).hexdigest()[:16]


@pytest.mark.parametrize("written, read", [
    ("virtualenv<20.22", "virtualenv<20.22"),
    ("virtualenv < 20.22", "virtualenv<20.22"),
    ("virtualenv==20.21.1", "virtualenv==20.21.1"),
    ("virtualenv>=20.0, <20.22", "virtualenv>=20.0,<20.22"),
    ("virtualenv", "virtualenv"),
])
def test_virtualenv_key(tmp_path, monkeypatch, home, written, read):
    write_user_stacks(tmp_path, monkeypatch, "[old]\npython = 2.7\nvirtualenv = %s\nrequirements = six\n" % written)
    assert stacks.load_specs()["old"].virtualenv == read


@pytest.mark.parametrize("version, key, creator", [
    ((2, 7, 18), "", "virtualenv<20.22"),  # no venv module: virtualenv whatever stacks.ini says
    ((2, 7, 18), "virtualenv==20.21.1", "virtualenv==20.21.1"),
    ((3, 3, 7), "", "virtualenv<20.22"),  # venv, but no ensurepip to put pip in it
    ((3, 6, 15), "", None),
    ((3, 11, 7), "virtualenv<20.22", "virtualenv<20.22"),  # asked for on a Python that has venv
])
def test_what_creates_the_environment(version, key, creator):
    spec = stacks.StackSpec("s", "%d.%d" % version[:2], ("six",), virtualenv=key)
    assert creators.virtualenv_requirement(spec, version) == creator


def test_user_stacks_inline_file_and_override(tmp_path, monkeypatch, home):
    (tmp_path / "mine.txt").write_text("# mine\ntheano==0.9.0  # pinned\n\nkeras==2.0.8\n")
    write_user_stacks(tmp_path, monkeypatch, """
[inline]
python = 3.7
requirements = theano==0.9.0 keras==2.0.8
    numpy==1.16.6
env = KERAS_BACKEND=theano

[fromfile]
python = /usr/bin/python3
requirements = mine.txt

[theano10]
python = 3.9
requirements = theano==1.0.4
""")
    specs = stacks.load_specs()
    assert specs["inline"].requirements == ("theano==0.9.0", "keras==2.0.8", "numpy==1.16.6")
    assert specs["inline"].env == (("KERAS_BACKEND", "theano"),)
    assert specs["fromfile"].requirements == ("theano==0.9.0", "keras==2.0.8")
    assert specs["theano10"].python == "3.9"  # a user stack may replace a built-in
    assert "theano08" in specs


@pytest.mark.parametrize("text, words", [
    ("[s]\nrequirements = theano\n", "missing `python =`"),
    ("[s]\npython = 3.6\n", "missing `requirements =`"),
    ("[s]\npython = three\nrequirements = x\n", "neither X.Y"),
    ("[s]\npython = 3.6\nrequirements = x\npython_version = 3\n", "unknown key"),
    ("[bad name]\npython = 3.6\nrequirements = x\n", "bad stack name"),
    ("[s]\npython = 3.6\nrequirements = missing.txt\n", "cannot read requirements file"),
    ("[s]\npython = 3.6\nrequirements = x\nenv = NOVALUE\n", "not KEY=VALUE"),
    ("[s]\npython = 2.7\nrequirements = x\nvirtualenv = pip<21\n", "not a virtualenv requirement"),
    ("[s]\npython = 2.7\nrequirements = x\nvirtualenv = virtualenv<<20\n", "not a virtualenv requirement"),
    ("[s]\npython = 2.7\nrequirements = x\nvirtualenv = virtualenv<20.22 pip\n", "not a virtualenv requirement"),
    ("python = 3.6\n", "cannot read stacks file"),
])
def test_bad_user_stacks_are_one_clear_line(tmp_path, monkeypatch, home, text, words):
    path = write_user_stacks(tmp_path, monkeypatch, text)
    with pytest.raises(UserError) as info:
        stacks.load_specs()
    assert words in str(info.value) and str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_stacks_file_named_by_env(tmp_path, monkeypatch, home):
    monkeypatch.setenv("THEANOGPU_STACKS", str(tmp_path / "nope.ini"))
    with pytest.raises(UserError, match="THEANOGPU_STACKS"):
        stacks.load_specs()


def test_unknown_stack_did_you_mean(home):
    with pytest.raises(UserError) as info:
        stacks.get_stack("theano8")
    message = str(info.value)
    assert "did you mean theano08?" in message and "theano09" in message and "theano10" in message


def test_path_stacks_are_external(tmp_path, home):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    stack = stacks.get_stack(str(venv))
    assert stack.external and stack.venv == venv
    assert stack.python == venv / "bin" / "python"
    assert stack.state().state == "external"
    interp = stacks.get_stack(sys.executable)
    assert interp.python == Path(sys.executable)
    with pytest.raises(UserError, match="not a virtual environment"):
        stacks.get_stack(str(tmp_path))
    with pytest.raises(UserError, match="no such interpreter"):
        stacks.get_stack(str(tmp_path / "missing" / "python"))
    with pytest.raises(UserError, match="never modifies"):
        stack.remove()


def test_cache_locations(home, monkeypatch):
    stack = stacks.get_stack("theano10")
    assert stack.venv == home / "stacks" / "theano10"
    assert stack.build_log == home / "stacks" / "theano10.build.log"
    assert stack.compiledir() == home / "theano-compiledir" / "theano10"
    rc = stacks.empty_theanorc()
    assert rc.read_text().startswith("#") and "=" not in rc.read_text()
    monkeypatch.delenv("THEANOGPU_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg"))
    assert stack.venv == home / "xdg" / "theanogpu" / "stacks" / "theano10"


def fake_build(stack, marker_hash=None, python=True):
    venv = stack.venv
    (venv / "bin").mkdir(parents=True)
    if python:
        (venv / "bin" / "python").symlink_to(sys.executable)
    if marker_hash is not None:
        (venv / MARKER).write_text(json.dumps({"spec_hash": marker_hash, "python": "3.6.15"}))
    return venv


def test_states(home):
    stack = stacks.get_stack("theano09")
    spec = stack.spec
    assert stack.state().state == "not built"
    venv = fake_build(stack)  # no marker: an interrupted build
    state = stack.state()
    assert state.state == "broken" and "interrupted" in state.detail and not state.usable
    (venv / MARKER).write_text(json.dumps({"spec_hash": "0" * 16}))
    assert stack.state().state == "outdated"
    (venv / MARKER).write_text(json.dumps({"spec_hash": spec.spec_hash()}))
    assert stack.state().state == "built" and stack.state().usable
    assert spec.name in [s.name for s in stacks.built_stacks()]
    (venv / "bin" / "python").unlink()
    assert stack.state().state == "broken"
    assert stack.remove() is True and not venv.exists()
    assert stack.remove() is False


@pytest.mark.parametrize("line, step", [
    ("Collecting theano==0.8.2", "collecting theano==0.8.2"),
    ("  Downloading numpy-1.16.6-cp36-cp36m-manylinux1_x86_64.whl (13.9 MB)",
     "downloading numpy-1.16.6-cp36-cp36m-manylinux1_x86_64.whl"),
    ("  Using cached scipy-1.2.3-cp36-cp36m-manylinux1_x86_64.whl (24.8 MB)",
     "using cached scipy-1.2.3-cp36-cp36m-manylinux1_x86_64.whl"),
    ("Building wheels for collected packages: theano, keras", "building theano, keras"),
    ("  Building wheel for theano (setup.py): started", "building theano"),
    ("    Running setup.py install for keras: started", "building keras"),
    ("Installing collected packages: numpy, six", "installing numpy, six"),
    ("Successfully installed numpy-1.16.6", "installed numpy-1.16.6"),
    ("  Requirement already satisfied: six in ./lib", None),
    ("     |████████████████████████████████| 13.9 MB 5.1 MB/s", None),
])
def test_pip_step(line, step):
    assert stacks.pip_step(line) == step


def test_version_requests():
    assert parse_version_request("3.6") == (3, 6, None)
    assert parse_version_request(" 3.6.15 ") == (3, 6, 15)
    assert parse_version_request("3") is None and parse_version_request("python3.6") is None


def test_find_current_interpreter_by_version_and_path():
    found = find_interpreter(CURRENT)
    assert found.exists()
    assert find_interpreter(sys.executable) == Path(sys.executable)


def test_missing_interpreter_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    with pytest.raises(UserError) as info:
        find_interpreter("2.5", "for stack old")
    message = str(info.value)
    assert "Python 2.5 (for stack old) not found" in message
    assert "pyenv install 2.5" in message and "python = /path/to/python2.5" in message
    assert "\n" not in message
    with pytest.raises(UserError, match="does not exist or does not run"):
        find_interpreter(str(tmp_path / "python9"))


def test_discovery_runs_the_candidate(tmp_path, monkeypatch):
    """A pyenv directory named 3.6.99 holding some other Python is not taken for 3.6.99."""
    bindir = tmp_path / "pyenv" / "versions" / "3.6.99" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python").symlink_to(sys.executable)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    with pytest.raises(UserError, match="3.6.99"):
        find_interpreter("3.6.99")
    real = tmp_path / "pyenv" / "versions" / ("%d.%d.%d" % sys.version_info[:3]) / "bin"
    real.mkdir(parents=True)
    (real / "python").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", os.defpath)
    # Found under pyenv, not by the fallback to the running interpreter.
    assert _pyenv_candidates(*sys.version_info[:3])[0] == real / "python"
    assert find_interpreter("%d.%d.%d" % sys.version_info[:3]).exists()
