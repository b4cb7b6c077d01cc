"""doctor on the real theano08 and theano10 stacks: real versions, and the truth about the GPU.

The findings are checked against what Theano itself printed in the same probe, so a rule that
predicts a fallback (nvcc >= 11 with the old backend, pygpu missing) is held to reality.
"""

import json
import shutil

import pytest

pytestmark = pytest.mark.slow

NO_SMI = shutil.which("nvidia-smi") is None


@pytest.fixture(scope="module")
def report(stack_venv, cli):
    stack_venv("theano08")
    stack_venv("theano10")
    proc = cli("doctor", "--stack", "theano08", "--stack", "theano10", "--format", "json")
    data = json.loads(proc.stdout)
    assert data["exit_status"] == proc.returncode
    return {entry["stack"]: entry for entry in data["stacks"]}, proc.returncode


def codes(entry):
    return {finding["code"]: finding for finding in entry["findings"]}


@pytest.mark.parametrize("name, python, theano, keras, numpy, device", [
    ("theano08", "3.6.", "0.8.2", "1.2.2", "1.16.6", "gpu"),
    ("theano10", "3.8.", "1.0.5", "2.3.1", "1.19.5", "cuda"),
])
def test_real_versions_and_device(report, name, python, theano, keras, numpy, device):
    probe = report[0][name]["probe"]
    assert probe["python"]["version"].startswith(python)
    packages = probe["packages"]
    assert (packages["theano"]["version"], packages["keras"]["version"], packages["numpy"]["version"]) == (
        theano, keras, numpy)
    assert probe["theano"]["imported"] is True
    assert probe["theano"]["device_requested"] == device
    # After a fallback Theano still reports the device asked for (theano/sandbox/cuda/__init__.py).
    assert probe["theano"]["config"]["device"] == device
    assert probe["theano"]["config"]["floatX"] == "float32"


def test_no_gpu_is_said_truthfully(report):
    entries, status = report
    for name, entry in entries.items():
        probe, found = entry["probe"], codes(entry)
        assert ("no-gpu" in found) == (not probe["nvidia_smi"]["gpus"]), name
        if NO_SMI:
            assert probe["theano"]["gpu_activated"] is False
            assert found["no-gpu"]["message"].startswith("No GPU: device=%s will run on the CPU"
                                                         % probe["theano"]["device_requested"])
    if NO_SMI:
        assert status == 0  # the pinned stacks are sound; no GPU is a fact, not a failure


def test_predicted_fallbacks_match_what_theano_said(report):
    entries, _ = report
    t08 = entries["theano08"]
    said = "\n".join(t08["probe"]["theano"]["stderr"])
    release = t08["probe"]["nvcc"].get("release")
    if release and int(release.split(".")[0]) >= 11:
        assert "nvcc-version-unparseable" in codes(t08)
        assert "nvcc compiler not found on $PATH" in said
    t10 = entries["theano10"]
    if t10["probe"]["packages"]["pygpu"]["version"] is None:
        assert "pygpu-missing" in codes(t10)
        assert "pygpu was configured but could not be imported" in "\n".join(t10["probe"]["theano"]["stderr"])


def test_text_report(stack_venv, cli):
    stack_venv("theano08")
    proc = cli("doctor", "--stack", "theano08")
    assert "Theano    0.8.2" in proc.stdout and "Keras 1.2.2" in proc.stdout
    assert "NumPy     1.16.6" in proc.stdout
    if NO_SMI:
        assert proc.stdout.startswith("*** No GPU: device=gpu will run on the CPU")
        assert proc.returncode == 0


# ------------------------------------------------------------------- modern stacks (Keras 3)

MODERN = {"keras3-jax": ("jax", "0.10.2", "jaxlib without a CUDA plugin"),
          "keras3-tf": ("tensorflow", "2.21.0", "tensorflow-cpu 2.21.0, built without CUDA")}


@pytest.fixture(scope="module")
def modern_report(stack_venv, cli):
    for name in MODERN:
        stack_venv(name)
    proc = cli("doctor", "--stack", "keras3-jax", "--stack", "keras3-tf", "--format", "json")
    data = json.loads(proc.stdout)
    assert data["exit_status"] == proc.returncode
    return {entry["stack"]: entry for entry in data["stacks"]}, proc.returncode


@pytest.mark.parametrize("name", sorted(MODERN))
def test_modern_stack_versions_and_gpu_truth(modern_report, name):
    framework, version, why = MODERN[name]
    entries, status = modern_report
    entry = entries[name]
    probe, found = entry["probe"], codes(entry)
    assert probe["python"]["version"].startswith("3.11.")
    assert probe["packages"]["keras"]["version"].startswith("3.")
    assert probe["keras_backend"] == {"backend": framework, "source": "KERAS_BACKEND"}
    assert probe["frameworks"][framework]["version"] == version
    assert "theano-missing" not in found and framework + "-import" not in found
    # The CPU build is said for what it is, on any machine.
    assert why in found[framework + "-cpu-build"]["message"]
    if NO_SMI:
        assert found["no-gpu"]["message"].startswith("No GPU: device=gpu will run on the CPU")
        assert status == 0  # healthy stacks: no GPU is a fact, not a failure


def test_modern_text_report(stack_venv, cli):
    stack_venv("keras3-jax")
    proc = cli("doctor", "--stack", "keras3-jax")
    assert "Keras      3." in proc.stdout and "would use backend jax" in proc.stdout
    assert "JAX        0.10.2 (jaxlib 0.10.2), CUDA plugin none" in proc.stdout
    assert "no GPU visible: jaxlib without a CUDA plugin" in proc.stdout
    if NO_SMI:
        assert proc.stdout.startswith("*** No GPU: device=gpu will run on the CPU")
        assert "GPU variants will run on the CPU on this machine" in proc.stdout
        assert proc.returncode == 0, proc.stdout
