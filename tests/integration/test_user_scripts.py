"""Users' own scripts through `theanogpu compare`, in real stacks: their datasets, their styles, their crashes.

The scripts (tests/fixtures/scripts/) are written the way users write them: a Keras 1 script with its
own data, a Keras 2 script that loads a cached dataset with keras.datasets, Theano's own GPU test
loop, and a script whose dataset is not cached and must be downloaded (it cannot be: it crashes).
"""

import gzip
import hashlib
import json
import math
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from theanogpu import hostinfo, stacks

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "scripts"
RUN_TIMEOUT = 1200


def compare(tmp_path, stack, script, *args, env=None):
    """The real command line; (CompletedProcess, results.json record)."""
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", stack, "--script", str(SCRIPTS / script),
            "--out", str(out), *args]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT)
    record = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else None
    return proc, record


def runs_by_variant(record):
    return {run["variant"]: run for run in record["runs"]}


def test_a_keras1_script_with_its_own_data_on_theano08(tmp_path, stack_venv):
    stack_venv("theano08")
    proc, record = compare(tmp_path, "theano08", "keras1_own_data.py", "--epochs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = runs_by_variant(record)
    cpu = runs["cpu"]["parsed"]
    assert [e["epoch"] for e in cpu["epochs"]] == [1, 2] and all(e["seconds"] > 0 for e in cpu["epochs"])
    assert cpu["device_used"] == "cpu" and cpu["fallback"] is False
    new_nvcc = stacks_nvcc()
    for name in ("gpu", "gpu-cnmem"):
        parsed = runs[name]["parsed"]
        assert parsed["device_used"] == "cpu" and parsed["fallback"] is True
        if new_nvcc:  # e.g. CUDA 13's: Theano 0.8 misreports it as missing; the report says why
            assert "cannot parse" in parsed["fallback_reason"], parsed["fallback_reason"]
            assert "theanogpu doctor --stack theano08" in parsed["fallback_reason"]
    # A fallback's ratio is no GPU speedup: the table leaves it out, the note says CPU vs CPU.
    assert "CPU vs CPU" in " ".join(proc.stdout.split())


def stacks_nvcc():
    """The nvcc on PATH when it is CUDA >= 11's (None otherwise)."""
    facts = hostinfo.nvcc_facts(os.environ.get("PATH"))
    return facts if facts and facts.get("release") and int(facts["release"].split(".")[0]) >= 11 else None


def write_idx(path, magic, count, shape, modulo):
    """An MNIST-format (idx) file as Keras reads it: a header, then *count* items of *shape* bytes."""
    header = struct.pack(">II", magic, count) + b"".join(struct.pack(">I", size) for size in shape)
    body = bytes(i % modulo for i in range(count * math.prod(shape)))
    with gzip.open(str(path), "wb") as handle:
        handle.write(header + body)


@pytest.fixture
def user_home(tmp_path):
    """A user's HOME: a cached fashion_mnist (small stand-in, in Keras's layout), a keras.json and a
    .theanorc that must not reach the runs, and the real theanogpu cache (stacks are not rebuilt)."""
    home = tmp_path / "user"
    cache = home / ".keras" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    write_idx(cache / "train-labels-idx1-ubyte.gz", 2049, 256, (), 10)  # ten classes
    write_idx(cache / "train-images-idx3-ubyte.gz", 2051, 256, (28, 28), 256)
    write_idx(cache / "t10k-labels-idx1-ubyte.gz", 2049, 64, (), 10)
    write_idx(cache / "t10k-images-idx3-ubyte.gz", 2051, 64, (28, 28), 256)
    # The user's own Keras and Theano config: a run that read them would use TensorFlow / a GPU device.
    (home / ".keras" / "keras.json").write_text(json.dumps({"backend": "tensorflow", "floatx": "float16"}))
    (home / ".theanorc").write_text("[global]\ndevice = cuda0\nfloatX = float16\n")
    env = dict(os.environ, HOME=str(home), THEANOGPU_HOME=str(stacks.cache_home()),
               NETWORK_GUARD_MARK=str(tmp_path / "network-was-used"))
    env.pop("KERAS_HOME", None)
    return home, env


def digest(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_a_keras2_script_loads_the_users_cached_dataset_and_nothing_else_of_theirs(tmp_path, stack_venv,
                                                                                    user_home):
    stack_venv("theano10")
    home, env = user_home
    before = digest(home / ".keras" / "datasets")
    proc, record = compare(tmp_path, "theano10", "keras2_cached_dataset.py", "--variant", "cpu:device=cpu",
                           "--epochs", "1", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not (tmp_path / "network-was-used").exists(), "the script tried the network"
    (run,) = record["runs"]
    log = (tmp_path / "out" / run["log"]).read_text()
    assert "Loaded fashion_mnist: 256 training images" in log
    assert "Using Theano backend." in log  # not the user's keras.json (TensorFlow)
    assert run["parsed"]["device_used"] == "cpu" and len(run["parsed"]["epochs"]) == 1
    assert run["datasets"] == [str(home / ".keras" / "datasets")] and "dataset_changes" not in run
    assert digest(home / ".keras" / "datasets") == before  # the user's cache is as it was
    private = tmp_path / "out" / ".runs" / "cpu@theano10" / "home"
    assert json.loads((private / ".keras" / "keras.json").read_text())["backend"] == "theano"
    assert not (private / ".theanorc").exists() and not (private / ".theano").exists()


def test_a_script_whose_download_fails_shows_the_final_exception_and_the_users_frame(tmp_path, stack_venv):
    stack_venv("theano10")
    proc, record = compare(tmp_path, "theano10", "keras2_download_crash.py", "--variant", "cpu:device=cpu")
    assert proc.returncode == 1, proc.stderr[-3000:]
    (run,) = record["runs"]
    assert run["status"] == "failed"
    error = run["error"]
    assert any(line.startswith("Exception: URL fetch failure on https://") for line in error), error
    frames = [line for line in error if "keras2_download_crash.py" in line]
    assert frames and "in load" in " ".join(frames), error
    assert "URL fetch failure" in proc.stdout and "~" not in proc.stdout.split("!!")[-1]


def test_theanos_own_gpu_test_loop_gets_rows_that_say_where_it_ran(tmp_path, stack_venv):
    stack_venv("theano10")
    proc, record = compare(tmp_path, "theano10", "theano_gpu_test.py", "--variant", "cpu:device=cpu",
                           "--variant", "gpu:device=gpu")
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = runs_by_variant(record)
    for name in ("cpu", "gpu"):
        log = (tmp_path / "out" / runs[name]["log"]).read_text()
        assert "Used the cpu" in log  # what the script says of itself ...
        assert runs[name]["parsed"]["device_used"] == "cpu"  # ... is what the row says
    assert runs["gpu"]["parsed"]["fallback"] is True and runs["cpu"]["parsed"]["fallback"] is False
