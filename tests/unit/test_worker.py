"""The in-job worker (theanogpu.run.worker), run for real as a Slurm job runs it, minus Slurm: its log,
its exit record and exit code, a SIGTERM like scancel's, and a node that cannot see the files."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from theanogpu import hostinfo
from theanogpu.logparse.modern import RUN_TAG
from theanogpu.run import jobfile
from theanogpu.run.logfile import updates_path
from theanogpu.run.worker import JOB_TAG, compose_env, visible_gpus
from theanogpu.updates import read_point

STUB = Path(__file__).resolve().parents[1] / "fixtures" / "stub" / "train_stub.py"


def test_the_node_decides_the_gpus_unless_the_variant_did():
    job = {"PATH": "/usr/bin", "CUDA_VISIBLE_DEVICES": "0", "SLURM_JOB_ID": "1", "HOME": "/run/home"}
    node = {"CUDA_VISIBLE_DEVICES": "2,3", "SLURM_JOB_ID": "99", "SLURMD_NODENAME": "gpu07", "PATH": "/node/bin"}
    env = compose_env(job, [], node)
    # The submit machine's GPU choice and job id mean nothing on the node; its PATH and HOME are the run's.
    assert env == {"PATH": "/usr/bin", "HOME": "/run/home", "CUDA_VISIBLE_DEVICES": "2,3", "SLURM_JOB_ID": "99",
                   "SLURMD_NODENAME": "gpu07"}
    # device=cpu on torch hides every GPU: kept. gpu1 is the job's second GPU, not the node's GPU 1.
    assert compose_env({"CUDA_VISIBLE_DEVICES": ""}, ["CUDA_VISIBLE_DEVICES"], node)["CUDA_VISIBLE_DEVICES"] == ""
    assert compose_env({"CUDA_VISIBLE_DEVICES": "1"}, ["CUDA_VISIBLE_DEVICES"], node)["CUDA_VISIBLE_DEVICES"] == "3"
    # Beyond the allocation: left as asked (the run then reports that it saw no such GPU).
    assert compose_env({"CUDA_VISIBLE_DEVICES": "5"}, ["CUDA_VISIBLE_DEVICES"], node)["CUDA_VISIBLE_DEVICES"] == "5"
    assert "CUDA_VISIBLE_DEVICES" not in compose_env({"CUDA_VISIBLE_DEVICES": "0"}, [], {})


def test_the_gpus_a_job_saw():
    rows = [["0", "Tesla K80", "GPU-aaa"], ["1", "Tesla K80", "GPU-bbb"], ["2", "Tesla V100", "GPU-ccc"]]
    assert visible_gpus(rows, None) == ["Tesla K80", "Tesla K80", "Tesla V100"]
    assert visible_gpus(rows, "2") == ["Tesla V100"]
    assert visible_gpus(rows, "GPU-bbb") == ["Tesla K80"]
    assert visible_gpus(rows, "") == []
    # Constrained devices: nvidia-smi shows the job's one GPU as index 0 while Slurm said "1".
    assert visible_gpus([["0", "Tesla V100", "GPU-ccc"]], "1") == ["Tesla V100"]
    assert visible_gpus([], "0") == []


def write_job(tmp_path, env=None, needs=(), timeout=None, header=None):
    job_dir = tmp_path / "out" / ".runs" / "cpu@x" / "slurm-t"
    job_dir.mkdir(parents=True)
    log = tmp_path / "out" / "cpu@x.log"
    run_line = RUN_TAG + " " + json.dumps({"variant": "cpu", "nvcc": {"path": "/submit/host/nvcc"}})
    job = {"label": "cpu@x", "argv": [sys.executable, "-u", str(STUB), "--epochs", "2"],
           "env": dict(os.environ, THEANO_FLAGS="device=cpu", **(env or {})), "log": str(log),
           "run_dir": str(job_dir.parent), "timeout": timeout, "header": header or [run_line],
           "cwd": str(tmp_path), "own_env": ["THEANO_FLAGS"], "needs": [sys.executable, str(STUB), *needs]}
    return jobfile.write_job(job_dir, job), log


def worker(path, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "theanogpu.run.worker", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=str(path.parent), **kwargs)


def test_the_worker_logs_as_compare_does_and_records_the_exit(tmp_path):
    path, log = write_job(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600  # the whole environment: for its owner's eyes only
    proc = worker(path, env=dict(os.environ, SLURM_JOB_ID="77", SLURMD_NODENAME="node7", CUDA_VISIBLE_DEVICES=""))
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    lines = log.read_text().splitlines()
    assert lines[0].startswith("[     0.000 m] " + RUN_TAG)
    run = json.loads(lines[0].split(RUN_TAG, 1)[1])
    assert run["nvcc"] == hostinfo.nvcc_facts(os.environ.get("PATH"))  # the node's nvcc, not the submit host's
    job = json.loads(lines[1].split(JOB_TAG, 1)[1])
    assert job["node"] == "node7" and job["job_id"] == "77" and job["gpus"] == []
    assert any(line.endswith("o] Epoch 2/2") for line in lines)
    record = jobfile.read_exit(path.parent)
    assert record["status"] == "ok" and record["exit_code"] == 0 and record["node"] == "node7"
    assert record["wall_seconds"] > 2.0 and record["tail"][-1].startswith("512/512")


def test_a_failed_script_is_the_jobs_exit_code(tmp_path):
    path, _ = write_job(tmp_path, env={"STUB_MODE": "crash"})
    proc = worker(path)
    assert proc.wait(timeout=60) == 3
    record = jobfile.read_exit(path.parent)
    assert record["status"] == "failed" and record["exit_code"] == 3
    assert any("MemoryError" in line for line in record["tail"])


def test_sigterm_stops_the_script_and_says_interrupted(tmp_path):
    pids = tmp_path / "pids"
    path, log = write_job(tmp_path, env={"STUB_MODE": "hang", "STUB_PIDS": str(pids)})
    proc = worker(path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "Epoch 1/2" not in (log.read_text() if log.exists() else ""):
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)  # what scancel and Slurm's time limit send first
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert jobfile.read_exit(path.parent)["status"] == "interrupted"
    for pid in pids.read_text().split():
        assert subprocess.run(["pgrep", "-g", pid], capture_output=True).stdout == b""


def test_a_node_that_cannot_see_the_files_says_so(tmp_path):
    path, log = write_job(tmp_path, needs=["/shared/stacks/theano10/bin/python"])
    proc = worker(path)
    assert proc.wait(timeout=60) == 1
    record = jobfile.read_exit(path.parent)
    assert record["status"] == "failed"
    assert record["reason"].startswith("node ") and "cannot see /shared/stacks/theano10/bin/python" in record["reason"]
    assert "filesystem the nodes share" in record["reason"] and not log.exists()


TQDM = Path(__file__).resolve().parents[1] / "fixtures" / "scripts" / "tqdm_style.py"


def test_progress_updates_go_to_the_logs_updates_file_as_locally(tmp_path):
    path, log = write_job(tmp_path)
    job = jobfile.read_job(path)
    job["argv"] = [sys.executable, "-u", str(TQDM), "--epochs", "2"]
    job["needs"] = [sys.executable, str(TQDM)]
    jobfile.write_job(path.parent, job)
    assert worker(path).wait(timeout=60) == 0
    points = [read_point(line) for line in updates_path(log).read_text().splitlines()]
    # Two epochs of ten steps, redrawn with \r: dated as printed, each epoch's last step among them.
    assert [(p.done, p.epoch) for p in points if p.done == 10] == [(10, 1), (10, 2)]
    assert all(a.t <= b.t for a, b in zip(points, points[1:])) and len(points) >= 6


def test_a_job_the_comparison_stops_on_purpose_says_why_in_its_log(tmp_path):
    path, log = write_job(tmp_path, env={"STUB_MODE": "hang"})
    proc = worker(path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "Epoch 1/2" not in (log.read_text() if log.exists() else ""):
        time.sleep(0.1)
    jobfile.write_stop(path.parent, "stable")  # what the launcher writes before its scancel
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert log.read_text().splitlines()[-1].endswith('m] theanogpu-stopped: {"reason": "stable"}')
