"""The probe (run for real with the host's and old interpreters) and the doctor command."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from theanogpu.errors import UserError
from theanogpu.resources import child_dir
from theanogpu.stacks import find_interpreter

PROBE = str(child_dir() / "probe.py")
NO_SMI = shutil.which("nvidia-smi") is None


def run_probe(python, env=None, *args):
    proc = subprocess.run([str(python), PROBE, *args], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout  # ONE JSON object, nothing else on stdout
    return json.loads(lines[0])


@pytest.fixture
def env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERAS_HOME", "PYTHONPATH")}
    env.update(HOME=str(tmp_path / "home"), THEANOGPU_HOME=str(tmp_path / "cache"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("THEANOGPU_STACKS", None)
    (tmp_path / "home").mkdir()
    return env


def test_probe_without_theano(env):
    data = run_probe(sys.executable, env)
    assert data["probe"] == 1
    assert data["python"]["version"] == "%d.%d.%d" % sys.version_info[:3]
    assert data["packages"]["theano"]["version"] is None
    assert data["theano"]["imported"] is False and data["theano"]["device_requested"] is None
    assert data["keras_backend"] == {"backend": "tensorflow", "source": "default"}
    assert (data["nvidia_smi"]["path"] is None) == NO_SMI


@pytest.mark.parametrize("version", ["2.7", "3.6"])
def test_probe_runs_on_old_pythons(env, version):
    try:
        python = find_interpreter(version)
    except UserError:
        pytest.skip("Python %s is not installed here" % version)
    data = run_probe(python, env)
    assert data["python"]["version"].startswith(version + ".")
    assert "No module named" in data["packages"]["theano"]["error"]


def test_probe_computes_the_keras_backend_without_keras(env, tmp_path):
    keras_dir = tmp_path / "home" / ".keras"
    keras_dir.mkdir()
    (keras_dir / "keras.json").write_text('{"backend": "theano", "floatx": "float32"}')
    assert run_probe(sys.executable, env)["keras_backend"] == {"backend": "theano",
                                                              "source": str(keras_dir / "keras.json")}
    env["KERAS_BACKEND"] = "cntk"
    assert run_probe(sys.executable, env)["keras_backend"] == {"backend": "cntk", "source": "KERAS_BACKEND"}


def fake_package(site, module, dist_info, init):
    """A package *module* in *site* whose ``__init__`` is *init*, with metadata dir *dist_info* (or none)."""
    (site / module).mkdir(parents=True)
    if dist_info:
        (site / dist_info).mkdir()
    (site / module / "__init__.py").write_text(init)


def test_probe_survives_a_theano_that_fails_to_import(env, tmp_path):
    """Whatever a broken install does at import (print, write to fd 2, raise), the probe reports it."""
    site = tmp_path / "site"
    fake_package(site, "theano", "Theano-0.9.0.dist-info",
                 "import os, sys\nprint('noise on stdout')\nos.write(2, b'ERROR (theano.sandbox.cuda): from C\\n')\n"
                 "raise AttributeError(\"module 'numpy' has no attribute 'bool'\")\n")
    env["PYTHONPATH"] = str(site)
    data = run_probe(sys.executable, env)
    theano = data["theano"]
    assert data["packages"]["theano"]["version"] == "0.9.0"
    assert theano["device_requested"] == "gpu"  # 0.9 → the old backend's device name
    assert theano["imported"] is False
    assert theano["error"] == "AttributeError: module 'numpy' has no attribute 'bool'"
    assert "ERROR (theano.sandbox.cuda): from C" in theano["stderr"]
    assert theano["stdout"] == ["noise on stdout"]


def doctor(env, *args):
    return subprocess.run([sys.executable, "-m", "theanogpu", "doctor", *args], capture_output=True,
                          text=True, env=env)


def test_doctor_unknown_stack_is_exit_2(env):
    proc = doctor(env, "--stack", "theano8")
    assert proc.returncode == 2 and "did you mean theano08?" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_doctor_not_built_stack(env):
    proc = doctor(env, "--stack", "theano09")
    assert proc.returncode == 1
    assert "stack theano09 is not built" in proc.stdout and "theanogpu stack create theano09" in proc.stdout


def test_doctor_with_nothing_built_probes_the_current_interpreter(env):
    proc = doctor(env)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # Theano is missing: that breaks use
    assert "current interpreter" in proc.stdout
    assert "Theano is not installed" in proc.stdout and "stack create theano10" in proc.stdout
    if NO_SMI:
        assert proc.stdout.startswith("*** No GPU: device=gpu will run on the CPU")


def test_doctor_json(env):
    proc = doctor(env, "--stack", sys.executable, "--format", "json")
    data = json.loads(proc.stdout)
    assert data["exit_status"] == proc.returncode == 1
    (entry,) = data["stacks"]
    assert entry["probe"]["python"]["executable"]
    codes = {finding["code"] for finding in entry["findings"]}
    assert "theano-missing" in codes and ("no-gpu" in codes) == NO_SMI


def test_doctor_bad_options(env):
    assert doctor(env, "--format", "xml").returncode == 2
    assert doctor(env, "--timeout", "-3").returncode == 2


def test_probe_computes_the_keras3_backend(env, tmp_path):
    """Keras 3 (never imported): KERAS_BACKEND, else keras.json in $KERAS_HOME or ~/.keras, else tensorflow."""
    site = tmp_path / "site"
    (site / "keras-3.15.1.dist-info").mkdir(parents=True)
    env["PYTHONPATH"] = str(site)
    data = run_probe(sys.executable, env)
    assert data["packages"]["keras"]["version"] == "3.15.1"
    assert data["keras_backend"]["backend"] == "tensorflow" and data["keras_backend"]["source"].startswith("default")
    assert not (tmp_path / "home" / ".keras").exists()  # nothing was imported, nothing written
    home_json = tmp_path / "home" / ".keras" / "keras.json"
    home_json.parent.mkdir()
    home_json.write_text('{"backend": "torch"}')
    assert run_probe(sys.executable, env)["keras_backend"] == {"backend": "torch", "source": str(home_json)}
    own = tmp_path / "kh"
    own.mkdir()
    (own / "keras.json").write_text('{"backend": "jax", "floatx": "float32"}')
    env["KERAS_HOME"] = str(own)
    assert run_probe(sys.executable, env)["keras_backend"] == {"backend": "jax", "source": str(own / "keras.json")}
    env["KERAS_BACKEND"] = "tensorflow"
    assert run_probe(sys.executable, env)["keras_backend"] == {"backend": "tensorflow", "source": "KERAS_BACKEND"}


def test_probe_without_modern_frameworks_reports_none(env):
    assert run_probe(sys.executable, env)["frameworks"] == {}


def test_probe_survives_a_framework_that_fails_to_import(env, tmp_path):
    """A broken torch (noise on both fds, then an exception) is one entry with the error, not a crash."""
    site = tmp_path / "site"
    fake_package(site, "torch", "torch-2.13.0.dist-info",
                 "import os\nprint('torch noise')\nos.write(2, b'libtorch_cpu.so: cannot open\\n')\n"
                 "raise OSError('libtorch_cpu.so: cannot open shared object file')\n")
    # A jax whose devices() fails with a bare assert (as JAX_PLATFORMS=cuda without a GPU does).
    fake_package(site, "jax", None, "__version__ = '0.10.2'\nclass config:\n    jax_platforms = 'cuda'\n"
                 "def devices():\n    assert False\ndef default_backend():\n    return devices()\n")
    env["PYTHONPATH"] = str(site)
    frameworks = run_probe(sys.executable, env)["frameworks"]
    torch = frameworks["torch"]
    assert torch["error"] == "OSError: libtorch_cpu.so: cannot open shared object file"
    assert torch["distribution_version"] == "2.13.0"
    assert "libtorch_cpu.so: cannot open" in torch["stderr"]
    jax = frameworks["jax"]
    assert jax["error"] is None and jax["version"] == "0.10.2" and jax["platforms"] == "cuda"
    assert jax["devices"] is None and jax["devices_error"].startswith("AssertionError: (no message) at ")
    assert "assert False" in jax["devices_error"]
    assert jax["gpu_client_options"] is None and "jaxlib" in jax["gpu_client_options_error"]
    assert "tensorflow" not in frameworks
