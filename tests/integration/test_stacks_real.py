"""Real stacks: theano08, theano10 and the Keras 3 ones built with pip for real, reused, and rebuilt after a crash."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from theanogpu.resources import stacks_dir

pytestmark = pytest.mark.slow

PINS = {"theano08": {"python": "3.6.", "theano": "0.8.2", "keras": "1.2.2", "numpy": "1.16.6",
                     "scipy": "1.2.3", "h5py": "2.10.0"},
        "theano10": {"python": "3.8.", "theano": "1.0.5", "keras": "2.3.1", "numpy": "1.19.5",
                     "scipy": "1.5.4", "h5py": "2.10.0"}}

VERSIONS = """
import json, sys, numpy, scipy, h5py, theano
print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "theano": theano.__version__,
                  "numpy": numpy.__version__, "scipy": scipy.__version__, "h5py": h5py.__version__}))
"""


@pytest.mark.parametrize("name", ["theano08", "theano10"])
def test_built_stack_has_the_pins(stack_run, name):
    got = stack_run(name, VERSIONS)
    want = PINS[name]
    assert got["python"].startswith(want["python"])
    for package in ("theano", "numpy", "scipy", "h5py"):
        assert got[package] == want[package], package


@pytest.mark.parametrize("name", ["theano08", "theano10"])
def test_create_twice_reuses(stack_venv, cli, name):
    venv = stack_venv(name)
    started = time.monotonic()
    proc = cli("stack", "create", name)
    assert proc.returncode == 0, proc.stderr
    assert "%s: up to date: %s" % (name, venv) in proc.stderr
    assert time.monotonic() - started < 60
    marker = json.loads((venv / ".theanogpu-stack.json").read_text())
    assert marker["packages"]["keras"] == PINS[name]["keras"]
    listing = {row["name"]: row for row in json.loads(cli("stack", "list", "--format=json").stdout)}
    assert listing[name]["state"] == "built" and listing[name]["python"].startswith(PINS[name]["python"])


MODERN_PINS = {"keras3-jax": {"jax": "0.10.2", "jaxlib": "0.10.2"}, "keras3-tf": {"tensorflow": "2.21.0"}}
MODERN_VERSIONS = """
import importlib, json, sys
versions = {"python": "%d.%d.%d" % sys.version_info[:3]}
for name in sys.argv[1:]:
    versions[name] = importlib.import_module(name).__version__
print(json.dumps(versions))
"""


@pytest.mark.parametrize("name", sorted(MODERN_PINS))
def test_built_keras3_stack_has_the_pins(stack_venv, cli, tmp_path, name):
    """Import the framework (which imports Keras 3 for TensorFlow) with a HOME of its own."""
    venv = stack_venv(name)
    wanted = MODERN_PINS[name]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KERAS_HOME")}
    env.update(HOME=str(tmp_path), KERAS_BACKEND="jax" if name == "keras3-jax" else "tensorflow")
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", MODERN_VERSIONS, *wanted], capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.splitlines()[-1])
    assert got["python"].startswith("3.11.")
    assert {key: got[key] for key in wanted} == wanted
    marker = json.loads((venv / ".theanogpu-stack.json").read_text())
    assert marker["packages"]["keras"].startswith("3.")
    listing = {row["name"]: row for row in json.loads(cli("stack", "list", "--format=json").stdout)}
    assert listing[name]["state"] == "built"


def test_interrupted_build_is_detected_and_rebuilt(tmp_path, cli):
    """SIGKILL the whole build while pip installs the pins; the leftover is never used, and rebuilt."""
    ini = tmp_path / "stacks.ini"
    ini.write_text("[crashy]\npython = 3.6\npip = pip==21.3.1 wheel==0.37.1\nrequirements = %s\n"
                   % (stacks_dir() / "theano08.txt"))
    env = dict(os.environ, THEANOGPU_STACKS=str(ini), THEANOGPU_HOME=str(tmp_path / "home"))
    log = tmp_path / "home" / "stacks" / "crashy.build.log"
    proc = subprocess.Popen([sys.executable, "-m", "theanogpu", "stack", "create", "crashy"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and "Collecting numpy" in log.read_text():
            break
        time.sleep(0.2)
    if proc.poll() is not None:
        out, err = proc.communicate()
        if proc.returncode == 2 and b"not found" in err:
            pytest.skip(err.decode().strip())
        pytest.fail("the build ended before it could be interrupted: %s" % err.decode()[-2000:])
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()

    listing = {row["name"]: row for row in
               json.loads(cli("stack", "list", "--format=json", env=env).stdout)}
    assert listing["crashy"]["state"] == "broken" and "interrupted" in listing["crashy"]["detail"]
    path = cli("stack", "path", "crashy", env=env)
    assert path.returncode == 1 and "broken" in path.stderr

    again = cli("stack", "create", "crashy", env=env)
    assert again.returncode == 0, again.stderr
    assert "rebuilding (broken)" in again.stderr and "crashy: built in" in again.stderr
    venv = tmp_path / "home" / "stacks" / "crashy"
    check = subprocess.run([str(venv / "bin" / "python"), "-c", "import theano; print(theano.__version__)"],
                           capture_output=True, text=True,
                           env=dict(env, THEANO_FLAGS="base_compiledir=%s" % (tmp_path / "cd")))
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == "0.8.2"


def test_missing_interpreter_is_exit_2_one_line(tmp_path, cli):
    ini = tmp_path / "stacks.ini"
    ini.write_text("[ancient]\npython = 2.5\nrequirements = theano==0.8.2\n")
    env = dict(os.environ, THEANOGPU_STACKS=str(ini), THEANOGPU_HOME=str(tmp_path / "home"))
    proc = cli("stack", "create", "ancient", env=env)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Python 2.5" in proc.stderr and "pyenv install" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "home" / "stacks" / "ancient").exists()
