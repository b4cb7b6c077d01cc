"""The probe as an oracle inside the real Keras 3 stacks: the framework itself says what it made of the env.

Each variable a modern run may get (XLA_PYTHON_CLIENT_*, OMP_NUM_THREADS, CUDA_VISIBLE_DEVICES,
JAX_PLATFORMS, TF_*) is set for real and read back from what PyTorch, JAX or TensorFlow report.
"""

import json
import os
import subprocess

import pytest

from theanogpu.resources import child_dir

pytestmark = pytest.mark.slow

PROBE = str(child_dir() / "probe.py")
STACK_BACKENDS = {"keras3-torch": "torch", "keras3-jax": "jax", "keras3-tf": "tensorflow"}
# What a run must not inherit from this test process.
SCRUBBED = ("KERAS_BACKEND", "KERAS_HOME", "PYTHONPATH", "PYTHONHOME", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS",
            "JAX_PLATFORMS", "XLA_FLAGS", "TF_CPP_MIN_LOG_LEVEL")


@pytest.fixture
def probe_in(stack_venv, tmp_path):
    """``probe_in(stack, VAR=value, ...)``: the probe's JSON from *stack*, with a HOME of its own."""
    home = tmp_path / "home"
    home.mkdir()

    def run(stack, **env):
        full = {k: v for k, v in os.environ.items() if k not in SCRUBBED and not k.startswith("XLA_PYTHON")}
        full.update(HOME=str(home), KERAS_BACKEND=STACK_BACKENDS[stack])
        full.update(env)
        proc = subprocess.run([str(stack_venv(stack) / "bin" / "python"), PROBE], capture_output=True, text=True,
                              env=full, timeout=600, cwd=str(tmp_path))
        assert proc.returncode == 0, proc.stderr[-3000:]
        lines = proc.stdout.splitlines()
        assert len(lines) == 1, proc.stdout[-3000:]  # ONE JSON object, whatever the framework printed
        # Keras 3 writes ~/.keras/keras.json when imported (TensorFlow imports it): the probe must not.
        assert not (home / ".keras").exists(), "the probe let Keras write %s" % (home / ".keras")
        return json.loads(lines[0])

    return run


def test_jax_reports_the_gpu_client_options_it_derives(probe_in):
    data = probe_in("keras3-jax", XLA_PYTHON_CLIENT_MEM_FRACTION="0.7", XLA_PYTHON_CLIENT_PREALLOCATE="false")
    jax = data["frameworks"]["jax"]
    assert jax["error"] is None and jax["version"] == "0.10.2" and jax["jaxlib_version"] == "0.10.2"
    options = jax["gpu_client_options"]
    assert options["memory_fraction"] == 0.7 and options["preallocate"] is False, jax
    assert jax["gpu_client_options_from"]  # computed by JAX's own functions, named here
    assert jax["env"]["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.7"
    # No GPU plugin, no GPU: JAX runs on the CPU and says so.
    assert jax["cuda_plugin"] == [] and jax["devices"] == ["cpu"] and jax["default_backend"] == "cpu"
    assert set(data["frameworks"]) == {"jax"}
    assert data["keras_backend"] == {"backend": "jax", "source": "KERAS_BACKEND"}
    # Unset, JAX keeps its defaults: no fraction and no preallocate option passed at all.
    defaults = probe_in("keras3-jax")["frameworks"]["jax"]["gpu_client_options"]
    assert "memory_fraction" not in defaults and "preallocate" not in defaults


def test_jax_platforms_is_honoured_or_its_failure_reported(probe_in):
    cpu = probe_in("keras3-jax", JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_cpu_multi_thread_eigen=false")
    jax = cpu["frameworks"]["jax"]
    assert jax["platforms"] == "cpu" and jax["devices"] == ["cpu"]
    assert jax["env"]["XLA_FLAGS"] == "--xla_cpu_multi_thread_eigen=false"
    cuda = probe_in("keras3-jax", JAX_PLATFORMS="cuda")["frameworks"]["jax"]
    assert cuda["platforms"] == "cuda" and cuda["error"] is None
    assert cuda["devices"] is None and cuda["devices_error"]


def test_torch_reports_threads_and_hidden_gpus(probe_in):
    torch = probe_in("keras3-torch", OMP_NUM_THREADS="1")["frameworks"]["torch"]
    assert torch["error"] is None and torch["version"].startswith("2.13.0")
    assert torch["num_threads"] == 1 and torch["env"]["OMP_NUM_THREADS"] == "1"
    assert torch["cuda_build"] is None  # the CPU wheel
    hidden = probe_in("keras3-torch", CUDA_VISIBLE_DEVICES="")["frameworks"]["torch"]
    assert hidden["cuda_available"] is False and hidden["device_count"] == 0
    assert hidden["env"]["CUDA_VISIBLE_DEVICES"] == ""


def test_tensorflow_reports_its_build_and_stays_quiet(probe_in):
    data = probe_in("keras3-tf", TF_NUM_INTRAOP_THREADS="1", TF_FORCE_GPU_ALLOW_GROWTH="true")
    tf = data["frameworks"]["tensorflow"]
    assert tf["error"] is None and tf["version"] == "2.21.0" and tf["distribution"] == "tensorflow-cpu"
    assert tf["built_with_cuda"] is False and tf["gpus"] == 0
    assert isinstance(tf["intra_op_threads"], int) and isinstance(tf["inter_op_threads"], int)
    assert tf["env"]["TF_NUM_INTRAOP_THREADS"] == "1" and tf["env"]["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    assert tf["env"]["TF_CPP_MIN_LOG_LEVEL"] is None  # as the user set it, before the probe quieted TF
    assert set(data["frameworks"]) == {"tensorflow"}
