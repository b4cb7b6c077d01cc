"""Stack theano08-py27 for real: Python 2.7, built by `theanogpu stack create` with the virtualenv<20.22
it provisions itself, and the child-side code (probe, doctor, the example under compare) running in it.

The config oracle for this stack is in test_config_oracle.py; its tox env in test_tox_envs.py.
"""

import json
import re
import shutil

import pytest

pytestmark = pytest.mark.slow

NAME = "theano08-py27"
PINS = {"theano": "0.8.2", "keras": "1.2.2", "numpy": "1.16.6", "scipy": "1.2.3", "h5py": "2.10.0"}
NO_SMI = shutil.which("nvidia-smi") is None

VERSIONS = """
import json, sys, numpy, scipy, h5py, theano
print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "theano": theano.__version__,
                  "numpy": numpy.__version__, "scipy": scipy.__version__, "h5py": h5py.__version__}))
"""


def test_built_with_virtualenv_on_python_27_with_the_pins(stack_venv, stack_run, cli):
    venv = stack_venv(NAME)
    got = stack_run(NAME, VERSIONS)
    assert got["python"].startswith("2.7.")
    assert {key: got[key] for key in ("theano", "numpy", "scipy", "h5py")} == \
        {key: PINS[key] for key in ("theano", "numpy", "scipy", "h5py")}
    marker = json.loads((venv / ".theanogpu-stack.json").read_text())
    assert re.match(r"^virtualenv 20\.\d+\.\d+ \(virtualenv<20\.22\)$", marker["created_with"]), marker
    assert marker["packages"]["pip"] == "20.3.4" and marker["packages"]["keras"] == PINS["keras"]
    listing = {row["name"]: row for row in json.loads(cli("stack", "list", "--format=json").stdout)}
    assert listing[NAME]["state"] == "built" and listing[NAME]["python"].startswith("2.7.")
    again = cli("stack", "create", NAME)
    assert again.returncode == 0 and "%s: up to date: %s" % (NAME, venv) in again.stderr


def test_doctor_probes_it_under_python_27(stack_venv, cli):
    stack_venv(NAME)
    proc = cli("doctor", "--stack", NAME, "--format", "json")
    (entry,) = json.loads(proc.stdout)["stacks"]
    probe = entry["probe"]
    assert probe["python"]["version"].startswith("2.7.") and probe["python"]["prefix"] == str(stack_venv(NAME))
    assert {name: probe["packages"][name]["version"] for name in PINS} == PINS
    theano = probe["theano"]
    assert theano["imported"] is True and theano["device_requested"] == "gpu"
    assert (theano["config"]["device"], theano["config"]["floatX"]) == ("gpu", "float32")
    findings = {finding["code"] for finding in entry["findings"]}
    assert ("no-gpu" in findings) == (not probe["nvidia_smi"]["gpus"])
    if NO_SMI:
        assert proc.returncode == 0, proc.stdout  # a sound stack: no GPU is a fact, not a failure


def test_compare_runs_the_example_under_python_27(stack_venv, cli, tmp_path):
    """The default variants, one tiny epoch each; every row's device comes from inside the process."""
    stack_venv(NAME)
    out = tmp_path / "runs"
    proc = cli("compare", "--stack", NAME, "--epochs", "1", "--samples", "64", "--out", str(out))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    runs = {run["variant"]: run for run in json.loads((out / "results.json").read_text())["runs"]}
    assert set(runs) == {"cpu", "gpu", "gpu-cnmem"}
    for variant, run in runs.items():
        assert run["stack"] == NAME and run["status"] == "ok", run
        parsed = run["parsed"]
        assert len(parsed["epochs"]) == 1 and parsed["synthetic_data"] is True
        # The example's theanogpu-device line, from inside the 2.7 process.
        device = parsed["device_info"]
        assert (device["backend"], device["detail"]["theano"]) == ("theano", "0.8.2"), device
        assert device["requested"] == ("cpu" if variant == "cpu" else "gpu")
        if NO_SMI:
            assert device["device"] == parsed["device_used"] == "cpu"
            assert parsed["fallback"] is (variant != "cpu")
    assert runs["gpu-cnmem"]["parsed"]["device_info"]["detail"]["cnmem"] == 0.8
    log = (out / ("cpu@%s.log" % NAME)).read_text()
    assert "theanogpu-device: " in log and "Epoch 1/1" in log
    assert re.search(r"^cpu\s+cpu\s+1\s", proc.stdout, re.M), proc.stdout
