"""examples/cifar10_cnn.py run unchanged inside the real stacks (Keras 1.2.2 ... Keras 3).

Each run trains two short epochs and checks the three machine-readable lines against what really
happened: where the data came from, the device the backend actually used (a GPU request on this
GPU-less machine must come out as a CPU run), and the result after training.
"""

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

from theanogpu import stacks
from theanogpu.resources import examples_dir

pytestmark = pytest.mark.slow

SCRIPT = examples_dir() / "cifar10_cnn.py"
RUN_TIMEOUT = 900  # the first run in a stack compiles Theano's C code


def _batch_writer():
    # The unit tests write batches byte for byte as the official Python 2 files; reuse that writer.
    path = Path(__file__).resolve().parents[1] / "unit" / "test_example_data.py"
    spec = importlib.util.spec_from_file_location("example_data_batches", str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_batches


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cifar") / "cifar-10-batches-py"
    _batch_writer()(directory, per_batch=20, test=20)
    return directory


def machine_lines(stdout):
    found = {}
    for line in stdout.splitlines():
        if line.startswith("theanogpu-"):
            tag, payload = line.split(": ", 1)
            assert tag not in found, "%s printed twice" % tag
            found[tag[len("theanogpu-"):]] = json.loads(payload)
    return found


def run_example(stack, venv, tmp_path, args, backend, theano_flags=None, layout=None, requested=None):
    home = tmp_path / "home"
    (home / ".keras").mkdir(parents=True)
    if layout is not None:
        # What `compare` writes for Theano runs; each Keras reads its own key and ignores the other.
        keras_json = {"floatx": "float32", "epsilon": 1e-07, "backend": backend,
                      "image_data_format": layout,
                      "image_dim_ordering": "th" if layout == "channels_first" else "tf"}
        (home / ".keras" / "keras.json").write_text(json.dumps(keras_json))
    env = {k: v for k, v in os.environ.items()
           if k not in ("THEANO_FLAGS", "THEANORC", "PYTHONPATH", "KERAS_BACKEND", "KERAS_HOME",
                        "THEANOGPU_REQUESTED_DEVICE", "THEANO_GPU_IS_ALREADY_ACTIVE")}
    env.update(HOME=str(home), KERAS_BACKEND=backend, THEANORC=str(tmp_path / "no.theanorc"))
    if theano_flags is not None:
        # The stack's own compile directory, as `compare` uses it: later runs skip compiling.
        compiledir = stacks.get_stack(stack).compiledir()
        env["THEANO_FLAGS"] = "%s,base_compiledir=%s" % (theano_flags, compiledir)
    if requested is not None:
        env["THEANOGPU_REQUESTED_DEVICE"] = requested
    proc = subprocess.run([str(venv / "bin" / "python"), "-u", str(SCRIPT)] + args, capture_output=True,
                          text=True, env=env, cwd=str(tmp_path), timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, "exit %d\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-5000:])
    assert not (home / ".keras" / "datasets").exists(), "the example must never download anything"
    return proc, machine_lines(proc.stdout)


def check_training(proc, lines, epochs):
    result = lines["result"]
    assert result["epochs"] == epochs and len(result["epoch_seconds"]) == epochs
    assert 0.0 <= result["test_accuracy"] <= 1.0 and result["test_loss"] > 0
    assert "Epoch %d/%d" % (epochs, epochs) in proc.stdout


# Stack, Theano flags, the device that asks for, keras.json layout.
THEANO_CASES = [
    # Theano 0.8 old backend: no usable nvcc here, so device=gpu falls back to the CPU.
    ("theano08", "device=gpu,floatX=float32", "gpu", "channels_first"),
    # Keras 2.0.8 with no keras.json: its default channels_last layout on Theano.
    ("theano09", "device=cpu,floatX=float32", "cpu", None),
    # Theano 1.0 gpuarray: pygpu is not installed, so device=cuda falls back to the CPU.
    ("theano10", "device=cuda,floatX=float32", "gpu", "channels_first"),
]


@pytest.mark.parametrize("stack, flags, requested, layout", THEANO_CASES, ids=[c[0] for c in THEANO_CASES])
def test_example_trains_on_real_format_data_in_theano_stacks(stack_venv, tmp_path, cifar_dir,
                                                             stack, flags, requested, layout):
    venv = stack_venv(stack)
    proc, lines = run_example(stack, venv, tmp_path, ["--epochs", "2", "--samples", "40", "--data", str(cifar_dir)],
                              "theano", theano_flags=flags, layout=layout)
    assert lines["data"] == {"source": "cifar10", "path": str(cifar_dir), "label": "CIFAR-10",
                             "train": 40, "test": 8}
    device = lines["device"]
    assert (device["backend"], device["device"], device["requested"], device["name"]) == \
        ("theano", "cpu", requested, None)
    assert device["detail"]["config_device"] == flags.split(",")[0].split("=")[1]
    shape = "(40, 3, 32, 32)" if layout == "channels_first" else "(40, 32, 32, 3)"
    assert "x_train shape: %s" % shape in proc.stdout
    check_training(proc, lines, 2)
    # Only Theano 0.8 without BLAS lacks a CPU 'same' convolution; the script says when it pads itself.
    padding = lines["result"]["same_padding"]
    assert padding == "native" or stack == "theano08"
    assert ("ZeroPadding2D" in proc.stderr) == (padding == "explicit")


def test_example_runs_synthetic_on_keras3(stack_venv, tmp_path):
    venv = stack_venv("keras3-torch")
    proc, lines = run_example("keras3-torch", venv, tmp_path, ["--epochs", "2", "--samples", "64"], "torch",
                              requested="gpu")
    assert lines["data"]["source"] == "synthetic"
    assert lines["data"]["label"] == "SYNTHETIC data (CIFAR-10 not found locally)"
    assert (lines["data"]["train"], lines["data"]["test"]) == (64, 12)
    assert "SYNTHETIC" in proc.stderr
    device = lines["device"]
    assert (device["backend"], device["device"], device["requested"]) == ("torch", "cpu", "gpu")
    check_training(proc, lines, 2)
    assert lines["result"]["keras"].startswith("3.")
