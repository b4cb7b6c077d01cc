"""tox.ini's stack envs and the built-in stacks share their pins; `--stack tox:ENV` and broken stacks.

The project's tox.ini is read with configparser (as tox reads it), never run here: running tox for
real is tests/integration/test_tox_envs.py (slow).
"""

import configparser
import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

import theanogpu
from theanogpu import cli, stacks
from theanogpu.errors import UserError
from theanogpu.resources import stacks_dir
from theanogpu.stacks import toxini
from theanogpu.stacks.specs import requirement_lines

ROOT = Path(__file__).resolve().parents[2]
STACK_ENVS = ("theano08", "theano09", "theano10", "theano08-py27", "keras3-torch", "keras3-jax", "keras3-tf")
HOST_ENVS = ("py38", "py39", "py310", "py311", "py312", "slow")


def load_child(name):
    spec = importlib.util.spec_from_file_location("child_" + name, str(ROOT / "tests" / "child" / (name + ".py")))
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "tests" / "child"))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "tests" / "child"))
    return module


def read_ini(path):
    parser = configparser.RawConfigParser()
    parser.read(str(path))
    return parser


def tox_deps_lines(root, section):
    """The requirement lines tox installs for [testenv:NAME]: its `deps = -r FILE`, FILE read as pip does."""
    deps = section["deps"].split()
    assert deps[0] == "-r" and len(deps) == 2, "stack envs must install exactly one pin file: %s" % deps
    return requirement_lines((root / deps[1]).read_text())


# ----------------------------------------------------------------------- one source of pins


@pytest.mark.parametrize("name", STACK_ENVS)
def test_tox_env_installs_the_builtin_stack_pins(home, name):
    tox = read_ini(ROOT / "tox.ini")
    section = tox["testenv:" + name]
    spec = stacks.get_stack(name).spec
    builtin_ini = read_ini(stacks_dir() / "stacks.ini")
    # The same file, not merely the same lines: deps names the file stacks.ini names.
    assert section["deps"].strip() == "-r templates/stacks/" + builtin_ini[name]["requirements"].strip()
    assert tuple(tox_deps_lines(ROOT, section)) == spec.requirements
    assert section["base_python"].strip() == "python" + spec.python
    assert section.get("skip_install", "").strip() == "true"
    assert "tests/child/run_child_tests.py --stack {envname}" in section["commands"] or \
        section["commands"].strip() == "{[stack]commands}"
    config = toxini.ToxConfig((ROOT / "tox.ini").read_text(), "tox.ini", PurePosixPath(str(ROOT)))
    set_env = config.set_env(name, {})
    # The pip that seeds the env is the stack's bootstrap pip (pip >= 22 does not run on 3.6).
    bootstrap = dict(item.split("==") for item in spec.pip)
    assert set_env.get("VIRTUALENV_PIP") == bootstrap.get("pip")
    assert set_env.get("VIRTUALENV_WHEEL") == bootstrap.get("wheel")
    # pyenv shims run only activated versions: the env activates exactly the stack's Python.
    assert set_env["PYENV_VERSION"] == spec.python
    assert config.stack_env(name, {}) == spec.env
    # Python 2.7 has no -I (isolated mode came with 3.4): pip must be run without it there.
    install = section.get("install_command", tox["testenv"]["install_command"]).strip()
    if install == "{[stack]install_command}":
        install = tox["stack"]["install_command"].strip()
    assert install.startswith("python -I -m pip install") != spec.python.startswith("2.")


def test_stack_envs_run_the_child_tests():
    stack = read_ini(ROOT / "tox.ini")["stack"]
    assert "python {toxinidir}/tests/child/run_child_tests.py --stack {envname}" in stack["commands"]


def test_tox_lists_stack_and_host_envs():
    tox = read_ini(ROOT / "tox.ini")
    listed = [item for item in re.split(r"[\s,]+", tox["tox"]["env_list"]) if item]
    for name in STACK_ENVS + HOST_ENVS:
        assert name in listed, "`tox -l` must list %s" % name
    # New tox/virtualenv cannot create Python 3.6 envs: tox provisions a pair that can.
    requires = tox["tox"]["requires"]
    assert "tox>=4,<4.5" in requires and "virtualenv<20.22" in requires


def test_every_builtin_stack_has_a_tox_env(home):
    tox = read_ini(ROOT / "tox.ini")
    for name in stacks.load_specs():
        assert tox.has_section("testenv:" + name), "built-in stack %s has no tox env" % name


def test_changing_a_pin_in_one_place_changes_both(tmp_path):
    """Copy the real files, change one pin in the pin file: the built-in stack and tox both see it."""
    shutil.copytree(str(stacks_dir()), str(tmp_path / "templates" / "stacks"))
    shutil.copy(str(ROOT / "tox.ini"), str(tmp_path / "tox.ini"))
    pin_file = tmp_path / "templates" / "stacks" / "theano08.txt"
    pin_file.write_text(pin_file.read_text().replace("numpy==1.16.6", "numpy==1.16.5"))

    builtin_ini = tmp_path / "templates" / "stacks" / "stacks.ini"
    specs = stacks.parse_stacks_ini(builtin_ini.read_text(), str(builtin_ini),
                                    lambda name: (builtin_ini.parent / name).read_text())
    tox_lines = tox_deps_lines(tmp_path, read_ini(tmp_path / "tox.ini")["testenv:theano08"])
    assert specs["theano08"].pins()["numpy"] == "==1.16.5"
    assert "numpy==1.16.5" in tox_lines and "numpy==1.16.6" not in tox_lines
    assert tuple(tox_lines) == specs["theano08"].requirements


def test_child_runner_reads_the_same_stack_spec(home):
    child = load_child("run_child_tests")
    for name in STACK_ENVS:
        spec = stacks.get_stack(name).spec
        seen = child.read_stack(name)
        assert tuple(seen["requirements"]) == spec.requirements
        assert seen["python"] == spec.python
        assert tuple(sorted(seen["env"].items())) == tuple(sorted(spec.env))
    assert child.theano_dialect(child.read_stack("theano08")) == "0.8"
    assert child.theano_dialect(child.read_stack("theano09")) == "0.9"
    assert child.theano_dialect(child.read_stack("theano10")) == "1.0"
    assert child.theano_dialect(child.read_stack("theano08-py27")) == "0.8"
    assert child.theano_dialect(child.read_stack("keras3-torch")) is None
    assert child.theano_dialect(child.read_stack("keras3-jax")) is None
    assert child.theano_dialect(child.read_stack("keras3-tf")) is None


def test_child_runner_version_checks():
    child = load_child("run_child_tests")
    assert child.parse_requirement("h5py<3") == ("h5py", [("<", "3")])
    assert child.parse_requirement("Keras >= 3, != 3.1") == ("keras", [(">=", "3"), ("!=", "3.1")])
    assert child.satisfies("2.13.0+cpu", [("==", "2.13.0")])  # a local build label is the same release
    assert child.satisfies("2.10.0", [("==", "2.10")])
    assert child.satisfies("2.10.0", [("<", "3")])
    assert not child.satisfies("3.0.0", [("<", "3")])
    assert not child.satisfies("1.16.5", [("==", "1.16.6")])
    assert child.satisfies("3.4.1", [(">=", "3"), ("!=", "3.1")])


# ------------------------------------------------ the config oracle texts match the real tool


@pytest.mark.parametrize("dialect", ["0.8", "0.9", "1.0"])
def test_child_oracle_texts_are_what_the_tool_prints(dialect, tmp_path, monkeypatch, capsys):
    """The child side feeds these texts to the real Theano; the host tool must print exactly them."""
    expected = load_child("expected_config")
    case = expected.CASES[dialect]
    monkeypatch.delenv("THEANORC", raising=False)
    monkeypatch.delenv("THEANO_FLAGS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))

    def tool(*extra):
        assert cli.main(case["argv"] + list(extra)) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    # Only the tool's own version in the header comment may differ (it is not a Theano setting).
    theanorc = case["theanorc"].replace("theanogpu %s " % expected.HEADER_VERSION,
                                        "theanogpu %s " % theanogpu.__version__)
    assert tool() == theanorc
    assert tool("--format", "flags") == case["flags"]
    # And what the child side asserts Theano reads is what was requested.
    memory = "lib.cnmem" if dialect != "1.0" else "gpuarray.preallocate"
    assert case["reads"] == {"device": "gpu" if dialect != "1.0" else "cuda", "floatX": "float32", memory: 0.8}


# ----------------------------------------------------------------------------- tox:ENV stacks


def make_venv(path, python=sys.executable):
    (path / "bin").mkdir(parents=True)
    (path / "pyvenv.cfg").write_text("home = %s\n" % Path(python).parent)
    (path / "bin" / "python").symlink_to(python)
    return path


TOX_INI = """
[tox]
env_list = py311, theano08
[testenv]
set_env =
    py311: ONLY_PY311 = yes
    THEANO_FLAGS = device=cpu
[testenv:theano08]
set_env =
    KERAS_BACKEND = theano
    PYENV_VERSION = 3.6
    VIRTUALENV_PIP = 21.3.1
    THEANO_FLAGS = device=cpu
    OMP_NUM_THREADS = {env:THREADS_FOR_TEST:2}
[testenv:custom]
env_dir = {toxinidir}/envs/{envname}-{env:FLAVOUR_FOR_TEST:plain}
"""


@pytest.fixture
def project(tmp_path, monkeypatch, home):
    root = tmp_path / "project"
    root.mkdir()
    (root / "tox.ini").write_text(TOX_INI)
    monkeypatch.chdir(root)
    monkeypatch.delenv("THREADS_FOR_TEST", raising=False)
    monkeypatch.delenv("FLAVOUR_FOR_TEST", raising=False)
    return root


def test_tox_stack_is_the_env_dir_of_the_tox_ini_here(project):
    venv = make_venv(project / ".tox" / "theano08")
    stack = stacks.get_stack("tox:theano08")
    assert stack.name == "tox:theano08" and stack.external
    assert stack.venv == venv
    assert stack.python == venv / "bin" / "python"
    assert stack.state().state == "external"
    # set_env reaches the runs, but not tox/pip/pyenv plumbing nor what theanogpu sets itself.
    assert dict(stack.env) == {"KERAS_BACKEND": "theano", "OMP_NUM_THREADS": "2"}
    with pytest.raises(UserError, match="never modifies"):
        stack.remove()


def test_tox_work_dir_and_env_dir_are_honoured(project, monkeypatch):
    (project / "tox.ini").write_text(TOX_INI.replace("[tox]\n", "[tox]\ntoxworkdir = {toxinidir}/build/tox\n"))
    venv = make_venv(project / "build" / "tox" / "theano08")
    assert stacks.get_stack("tox:theano08").venv == venv
    custom = make_venv(project / "envs" / "custom-plain")
    assert stacks.get_stack("tox:custom").venv == custom
    monkeypatch.setenv("FLAVOUR_FOR_TEST", "gpu")
    assert stacks.tox_env_dir("custom")[0] == project / "envs" / "custom-gpu"


def test_tox_env_not_created_says_run_tox_first(project):
    with pytest.raises(UserError) as info:
        stacks.get_stack("tox:theano08")
    message = str(info.value)
    assert "run `tox -e theano08` first" in message and str(project / ".tox" / "theano08") in message
    assert "\n" not in message
    with pytest.raises(UserError, match="defines no env nope.*py311, theano08"):
        stacks.get_stack("tox:nope")
    with pytest.raises(UserError, match="tox:ENV"):
        stacks.get_stack("tox:")


def test_tox_stack_without_tox_ini(tmp_path, monkeypatch, home):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="no tox.ini in"):
        stacks.get_stack("tox:theano08")


def test_tox_env_that_is_broken(project):
    env = project / ".tox" / "theano08"
    (env / "bin").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /gone/bin\n")
    with pytest.raises(UserError, match="broken virtual environment.*missing.*/gone/bin"):
        stacks.get_stack("tox:theano08")


def test_tox_ini_substitutions():
    config = toxini.ToxConfig("[tox]\nwork_dir = {env:WD:{homedir}/w}\n[testenv]\nenvdir = {toxworkdir}/x-{envname}\n"
                              "[testenv:b]\nenv_dir = {[testenv:a]base}/b\n[testenv:a]\nbase = /abs\n",
                              "t.ini", PurePosixPath("/r"))
    assert config.work_dir({"HOME": "/h"}) == PurePosixPath("/h/w")
    assert config.work_dir({"WD": "rel"}) == PurePosixPath("/r/rel")
    assert config.env_dir("a", {"HOME": "/h"}) == PurePosixPath("/h/w/x-a")
    assert config.env_dir("b", {}) == PurePosixPath("/abs/b")
    bad = toxini.ToxConfig("[testenv:z]\nenv_dir = {posargs}/z\n", "t.ini", PurePosixPath("/r"))
    with pytest.raises(toxini.ToxIniError, match=r"\{posargs\}"):
        bad.env_dir("z", {})
    with pytest.raises(toxini.ToxIniError, match="cannot read"):
        toxini.ToxConfig("no section header\n", "t.ini", PurePosixPath("/r"))


def test_tox_set_env_factors():
    config = toxini.ToxConfig("[testenv]\nset_env =\n  py311: A = 1\n  !py311: B = 2\n  py38-slow: C = 3\n"
                              "  py38,py39: D = 4\n  E=5\n  file|.env\n", "t.ini", PurePosixPath("/r"))
    assert config.set_env("py311", {}) == {"A": "1", "E": "5"}
    assert config.set_env("py38-slow", {}) == {"B": "2", "C": "3", "D": "4", "E": "5"}
    assert config.set_env("py39", {}) == {"B": "2", "D": "4", "E": "5"}


# --------------------------------------------------------------- --stack that is not usable


def script(path, body):
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_stack_paths_that_are_not_usable(tmp_path, home):
    cases = {
        "does not exist": (tmp_path / "missing", "no such interpreter or environment"),
        "not a python (text)": (tmp_path / "notes.txt", "is not a Python interpreter"),
        "not a python (program)": (script(tmp_path / "tool", "echo hello"), "is not a Python interpreter"),
        "plain directory": (tmp_path / "plain", "not a virtual environment"),
        "venv, interpreter gone": (tmp_path / "gone", "broken virtual environment.*points to"),
        "venv, interpreter fails": (tmp_path / "fails", "broken environment.*does not run"),
    }
    (tmp_path / "notes.txt").write_text("not a program\n")
    (tmp_path / "plain").mkdir()
    make_venv(tmp_path / "gone", python=str(tmp_path / "deleted-python"))
    fails = tmp_path / "fails"
    (fails / "bin").mkdir(parents=True)
    (fails / "pyvenv.cfg").write_text("home = /usr/bin\n")
    script(fails / "bin" / "python", "exit 1")
    for what, (path, pattern) in cases.items():
        with pytest.raises(UserError, match=pattern):
            stacks.get_stack(str(path))
            pytest.fail("%s was accepted as a stack" % what)


@pytest.mark.parametrize("command, stack", [
    (["doctor", "--stack"], "tox:theano08"), (["doctor", "--stack"], "tox:nope"),
    (["doctor", "--stack"], "notes.txt"), (["doctor", "--stack"], "gone"), (["doctor", "--stack"], "missing"),
    (["stack", "path"], "tox:theano08"), (["stack", "path"], "gone")])
def test_cli_bad_stacks_exit_2_with_one_line(tmp_path, home, command, stack):
    (tmp_path / "notes.txt").write_text("not a program\n")
    make_venv(tmp_path / "gone", python=str(tmp_path / "deleted-python"))
    (tmp_path / "tox.ini").write_text(TOX_INI)
    env = dict(os.environ)
    if not stack.startswith("tox:"):
        stack = str(tmp_path / stack)
    proc = subprocess.run([sys.executable, "-m", "theanogpu", *command, stack], capture_output=True, text=True,
                          env=env, cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 2, (stack, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, (stack, proc.stderr)
    assert lines[0].startswith("theanogpu: error: stack ")


def test_tox_stack_through_the_cli(tmp_path, home):
    (tmp_path / "tox.ini").write_text(TOX_INI)
    venv = make_venv(tmp_path / ".tox" / "theano08")
    proc = subprocess.run([sys.executable, "-m", "theanogpu", "stack", "path", "tox:theano08"], capture_output=True,
                          text=True, cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(venv)


def test_tox_env_names_expand_generative_lists():
    config = toxini.ToxConfig("[tox]\nenv_list = py{38,39}-theano{08,10}, lint\n  slow\n[testenv:extra]\n",
                              "t.ini", PurePosixPath("/r"))
    assert config.env_names() == ["py38-theano08", "py38-theano10", "py39-theano08", "py39-theano10", "lint",
                                  "slow", "extra"]
