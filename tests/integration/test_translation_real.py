"""Intent -> backend translation, checked by the frameworks themselves inside the real stacks.

Each case builds the exact environment `compare` gives a run (plan_run + prepare_run, the same
code path) and runs the probe in the stack with it; the probe reports what torch, JAX, TensorFlow
and Theano themselves read: JAX computes its GPU client options from the environment with its own
code (no GPU needed), torch reports its thread count, TensorFlow its visible GPUs, Theano its config.
"""

import dataclasses
import json
import subprocess

import pytest

from theanogpu import stacks
from theanogpu.resources import child_dir
from theanogpu.run import prepare_run
from theanogpu.run.plan import StackTarget, plan_run
from theanogpu.variants import parse_variant_spec

pytestmark = pytest.mark.slow

STACKS = {
    "keras3-torch": StackTarget("keras3-torch", None, "torch"),
    "keras3-jax": StackTarget("keras3-jax", None, "jax"),
    "keras3-tf": StackTarget("keras3-tf", None, "tensorflow"),
    "theano10": StackTarget("theano10", "1.0", "theano"),
}


@pytest.fixture
def probe_with(stack_venv, tmp_path):
    """``probe_with(stack, spec)``: the probe's JSON from inside *stack*, run as compare would run *spec*."""

    def run(stack: str, spec: str) -> dict:
        # The stack's venv used as it is: runs get its own compile directory, as compare's would.
        existing = stacks.get_stack(str(stack_venv(stack)))
        target = dataclasses.replace(STACKS[stack], python=existing.python, stack=existing)
        planned = plan_run(parse_variant_spec(spec), target, cpu_count=2)
        command = prepare_run(planned, child_dir() / "probe.py", ["--device=none"], tmp_path / "run")
        proc = subprocess.run(command.argv, env=command.env, capture_output=True, text=True, timeout=600,
                              cwd=str(tmp_path))
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    return run


def framework(report: dict, name: str) -> dict:
    found = report["frameworks"][name]
    assert found["error"] is None, found
    return found


def test_torch_cpu_hides_the_gpu_and_takes_the_thread_count(probe_with):
    torch = framework(probe_with("keras3-torch", "c:device=cpu,threads=1"), "torch")
    assert torch["cuda_available"] is False and torch["env"]["CUDA_VISIBLE_DEVICES"] == ""
    assert torch["num_threads"] == 1
    grow = framework(probe_with("keras3-torch", "g:device=gpu,memory=grow"), "torch")
    assert grow["env"]["PYTORCH_CUDA_ALLOC_CONF"] == "expandable_segments:True"
    assert grow["env"]["CUDA_VISIBLE_DEVICES"] is None  # a GPU variant hides nothing


@pytest.mark.parametrize("memory, expected", [
    ("0.7", {"memory_fraction": 0.7, "preallocate": True}),
    ("grow", {"preallocate": False}),
    ("off", {"preallocate": False, "allocator": "platform"}),
])
def test_jax_reads_the_memory_policy_it_was_given(probe_with, memory, expected):
    jax = framework(probe_with("keras3-jax", "g:device=gpu,memory=%s" % memory), "jax")
    options = jax["gpu_client_options"]
    assert {key: options.get(key) for key in expected} == expected, jax["gpu_client_options_from"]


def test_jax_cpu_variant_runs_on_the_cpu_platform_only(probe_with):
    jax = framework(probe_with("keras3-jax", "c:device=cpu,precision=float32"), "jax")
    assert jax["platforms"] == "cpu" and jax["devices"] == ["cpu"]


def test_tensorflow_cpu_variant_sees_no_gpu_and_gets_its_threads(probe_with):
    tf = framework(probe_with("keras3-tf", "c:device=cpu,threads=2"), "tensorflow")
    assert tf["gpus"] == 0 and tf["env"]["CUDA_VISIBLE_DEVICES"] == ""
    assert tf["env"]["TF_NUM_INTRAOP_THREADS"] == "2"
    grow = framework(probe_with("keras3-tf", "g:device=gpu,memory=grow"), "tensorflow")
    assert grow["env"]["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


def test_theano_reads_intent_keys_as_flags(probe_with):
    report = probe_with("theano10", "m:device=cpu,precision=float64,threads=2")
    config = report["theano"]["config"]
    assert report["theano"]["imported"], report["theano"]
    assert config["device"] == "cpu" and config["floatX"] == "float64"


def test_the_keras_backend_of_each_stack_is_what_keras_would_pick(probe_with):
    for stack, backend in (("keras3-torch", "torch"), ("keras3-jax", "jax"), ("keras3-tf", "tensorflow")):
        report = probe_with(stack, "c:device=cpu")
        picked = report["keras_backend"]
        assert (picked.get("backend") if isinstance(picked, dict) else picked) == backend, picked


def test_cpu_tuning_links_the_blas_found_inside_the_stack(cli, stack_venv, tmp_path):
    stack_venv("theano10")
    proc = cli("compare", "--matrix", "cpu-tuning", "--stack", "theano10", "--stack", "keras3-torch", "--epochs", "1",
               "--dry-run")
    assert proc.returncode == 0, proc.stderr
    runs = proc.stdout.split("# run ")
    blas = next(run for run in runs if run.startswith("blas@theano10"))
    # NumPy's wheel ships an OpenBLAS in every Theano stack here; a system one would be -lopenblas.
    assert "blas.ldflags = auto -> " in blas and ("-l:libopenblas" in blas or "-lopenblas" in blas)
    assert any(run.startswith("openmp@keras3-torch: skipped, runs only on theano stacks") for run in runs)
    threads = next(run for run in runs if run.startswith("threads-1@keras3-torch"))
    assert "OMP_NUM_THREADS=1" in threads and "CUDA_VISIBLE_DEVICES=" in threads
