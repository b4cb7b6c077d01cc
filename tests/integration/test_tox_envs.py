"""The project's tox.ini for real: from a fresh copy of the tree and a fresh venv with only `pip install tox`.

`tox -l` lists the stack and host envs; `tox -e theano08`, `-e theano10` and `-e theano08-py27`
build the pinned stacks (tox provisions the older tox/virtualenv pair that can still make Python 3.6
and 2.7 envs; pyenv provides the interpreters) and pass the child-side tests inside them, with the
env's own python (2.7 for theano08-py27). Then the tox envs are used as
theanogpu stacks: `--stack tox:ENV` in doctor and compare, and the env's plain path in compare.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from theanogpu import stacks

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TOX_TIMEOUT = 1800
# What must not leak from this test run into tox and the stacks.
SCRUBBED = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "THEANO_FLAGS", "THEANORC", "KERAS_BACKEND",
            "PYENV_VERSION")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in SCRUBBED and not k.startswith(("TOX_", "PYTEST_"))}
    env.update(extra)
    return env


def copy_tree(dest: Path) -> Path:
    """The files a fresh clone would have (tracked and not ignored), so local .tox/.venv stay out."""
    proc = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=str(ROOT),
                          capture_output=True)
    if proc.returncode != 0:
        pytest.skip("not a git checkout: %s" % proc.stderr.decode(errors="replace").strip())
    for name in proc.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(str(ROOT / name), str(target))
    return dest


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """(copy of the tree, the tox executable of a fresh venv that has nothing but tox)."""
    base = tmp_path_factory.mktemp("tox-fresh")
    tree = copy_tree(base / "tree")
    venv = base / "toxvenv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "tox"],
                         capture_output=True, text=True, env=clean_env(), timeout=900)
    if pip.returncode != 0:
        pytest.skip("cannot install tox from the package index: %s" % pip.stderr.strip()[-500:])
    return tree, venv / "bin" / "tox"


def tox(checkout, *args, timeout=TOX_TIMEOUT):
    tree, executable = checkout
    return subprocess.run([str(executable), *args], cwd=str(tree), capture_output=True, text=True,
                          env=clean_env(), timeout=timeout, stdin=subprocess.DEVNULL)


def theanogpu(tree, *args, timeout=TOX_TIMEOUT):
    return subprocess.run([sys.executable, "-m", "theanogpu", *args], cwd=str(tree), capture_output=True,
                          text=True, env=clean_env(), timeout=timeout, stdin=subprocess.DEVNULL)


def test_tox_lists_stack_and_host_envs(checkout):
    proc = tox(checkout, "-l", timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = proc.stdout.split()
    for name in ("theano08", "theano09", "theano10", "theano08-py27", "keras3-torch", "py38", "py311", "slow"):
        assert name in listed, proc.stdout


def shared_compiledir(env_name):
    """--compiledir for the child tests of theano08-py27: its built-in stack's compile cache.

    One tiny epoch of the example compiles Theano's C code for minutes on two cores; test_py27_stack.py
    compiled the same model (same Python, Theano and NumPy) into that cache already, so the env reuses it.
    """
    if env_name != "theano08-py27":
        return []
    return ["--", "--compiledir", str(stacks.get_stack(env_name).compiledir())]


@pytest.mark.parametrize("env_name, python", [("theano08", "3.6"), ("theano10", "3.8"), ("theano08-py27", "2.7")])
def test_stack_env_passes_its_child_tests(checkout, env_name, python):
    proc = tox(checkout, "-e", env_name, *shared_compiledir(env_name))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert "0 failed" in output and "PASS probe" in output, output[-6000:]
    assert "PASS config" in output and "PASS pins" in output and "PASS example" in output
    assert "Python %s." % python in output
    env_dir = checkout[0] / ".tox" / env_name
    assert (env_dir / "bin" / "python").exists()


@pytest.mark.parametrize("env_name, python", [("theano08", "3.6"), ("theano08-py27", "2.7")])
def test_tox_env_is_a_stack_for_doctor(checkout, env_name, python):
    tree = checkout[0]
    if not (tree / ".tox" / env_name).is_dir():
        pytest.skip("tox -e %s did not run" % env_name)
    path = theanogpu(tree, "stack", "path", "tox:" + env_name, timeout=120)
    assert path.returncode == 0 and path.stdout.strip() == str(tree / ".tox" / env_name), path.stderr
    proc = theanogpu(tree, "doctor", "--stack", "tox:" + env_name, "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    (entry,) = json.loads(proc.stdout)["stacks"]
    assert entry["stack"] == "tox:" + env_name
    assert entry["probe"]["packages"]["theano"]["version"] == "0.8.2"
    assert entry["probe"]["python"]["prefix"] == str(tree / ".tox" / env_name)
    assert entry["probe"]["python"]["version"].startswith(python + ".")


def test_compare_runs_in_the_tox_env_and_in_its_plain_path(checkout, tmp_path):
    tree = checkout[0]
    env_dir = tree / ".tox" / "theano10"
    if not env_dir.is_dir():
        pytest.skip("tox -e theano10 did not run")
    out = tmp_path / "runs"
    proc = theanogpu(tree, "compare", "--stack", "tox:theano10", "--stack", str(env_dir), "--variant",
                     "cpu:device=cpu,floatX=float32", "--epochs", "1", "--samples", "256", "--out", str(out),
                     "--format", "json")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    results = json.loads((out / "results.json").read_text())
    runs = {run["stack"]: run for run in results["runs"]}
    assert set(runs) == {"tox:theano10", str(env_dir)}, runs.keys()
    assert all(run["status"] == "ok" for run in runs.values()), runs
    assert "tox:theano10" in proc.stdout
