"""`compare` on a real Slurm cluster: the single-node one of scripts/slurm-local on localhost.

Each test runs the real command line against the real slurmctld/slurmd, with the stub script (this
interpreter as the stack: no Theano compile) except one that trains a tiny model on the real theano10
stack. Without a cluster these tests skip, saying how to start one (`scripts/slurm-local up`; .ci/run
starts it and sets THEANOGPU_REQUIRE_SLURM=1, which turns the skip into a failure).
"""

import csv
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLURM_LOCAL = ROOT / "scripts" / "slurm-local"
STUB = ROOT / "tests" / "fixtures" / "stub" / "train_stub.py"
POLL = "0.5"
# Two 1-CPU jobs at once on this 2-core node (a job to itself, the default, would run them one by one).
SHARED = "slurm:exclusive=no,cpus=1"


@pytest.fixture(scope="session")
def slurm_env():
    """The environment that reaches the local cluster (SLURM_CONF), or a skip that says how to start it."""
    proc = subprocess.run([str(SLURM_LOCAL), "status"], capture_output=True, text=True)
    conf = re.search(r"^SLURM_CONF=(.+)$", proc.stdout, re.M)
    if proc.returncode != 0 or shutil.which("sbatch") is None or conf is None:
        message = ("no local Slurm cluster is up: start one with `scripts/slurm-local up` (.ci/run does); "
                   "status: %s" % " / ".join(proc.stdout.split("\n")[:3]))
        if os.environ.get("THEANOGPU_REQUIRE_SLURM"):
            pytest.fail(message)
        pytest.skip(message)
    return dict(os.environ, SLURM_CONF=conf.group(1), THEANOGPU_SLURM_POLL=POLL)


def argv(tmp_path, *args, stack=None):
    return [sys.executable, "-m", "theanogpu", "compare", "--stack", stack or sys.executable, "--script", str(STUB),
            "--out", str(tmp_path / "out"), *args]


def compare(slurm_env, tmp_path, *args, env=None, stack=None, timeout=300):
    return subprocess.run(argv(tmp_path, *args, stack=stack), capture_output=True, text=True, timeout=timeout,
                          env=dict(slurm_env, **(env or {})))


def start(slurm_env, tmp_path, *args, env=None):
    return subprocess.Popen(argv(tmp_path, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(slurm_env, **(env or {})), start_new_session=True)


def runs(tmp_path):
    path = tmp_path / "out" / "results.json"
    try:
        return {run["variant"]: run for run in json.loads(path.read_text())["runs"]}
    except (OSError, ValueError):
        return {}


def wait_for(predicate, seconds=60.0, what="the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s" % what)


def slurm(slurm_env, *command):
    return subprocess.run(list(command), capture_output=True, text=True, env=slurm_env, timeout=60)


def job_states(slurm_env, ids):
    """{job id: state} from Slurm itself (squeue while it remembers, else the job completion file)."""
    out = slurm(slurm_env, "squeue", "-h", "-t", "all", "-j", ",".join(ids), "-O", "JobID:|,State:|").stdout
    states = dict(line.split("|")[:2] for line in out.splitlines() if "|" in line)
    missing = [job_id for job_id in ids if job_id not in states]
    if missing:
        out = slurm(slurm_env, "sacct", "-c", "-P", "-n", "-j", ",".join(missing), "-o", "JobID,State").stdout
        states.update(line.split("|")[:2] for line in out.splitlines() if "|" in line)
    return states


def summary(stderr):
    """The launcher's own cost line: 'slurm: 50 sbatch (median 5 ms), 50 polls every 0.5s: 50 squeue ...'."""
    line = next(line for line in stderr.splitlines() if re.match(r"slurm: \d+ sbatch", line))
    numbers = re.match(r"slurm: (\d+) sbatch \(median (\d+) ms\), (\d+) polls every [\d.]+s: (\d+) squeue "
                       r"\(median (\d+) ms\).*submitting took ([\d.]+) s", line)
    assert numbers, line
    sbatch, sbatch_ms, polls, squeue, squeue_ms, submit = numbers.groups()
    return {"sbatch": int(sbatch), "sbatch_ms": int(sbatch_ms), "polls": int(polls), "squeue": int(squeue),
            "squeue_ms": int(squeue_ms), "submit_seconds": float(submit), "line": line}


def test_a_rejected_submit_is_slurms_own_message_and_exit_2_before_anything_is_submitted(slurm_env, tmp_path):
    for target, message in (("slurm:cpus=64", "More processors requested than permitted"),
                            ("slurm:partition=nosuch", "invalid partition specified: nosuch")):
        proc = compare(slurm_env, tmp_path, "--on", target, "--epochs", "1")
        assert proc.returncode == 2, proc.stderr
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("theanogpu: error: --on=%s: Slurm rejects the job: " % target) and message in last
        assert "Traceback" not in proc.stderr
        assert runs(tmp_path) == {} and not list((tmp_path / "out").glob(".runs/*/slurm-*"))  # no job was made


def test_a_job_slurmctld_forgot_is_found_in_accounting(slurm_env, monkeypatch):
    """Without slurmdbd, plain sacct fails; the launcher then reads the job completion file (sacct -c)."""
    from theanogpu.run.slurm import Slurm
    from theanogpu.run.slurmstate import pick

    name = "tg-accounting-check-%d" % os.getpid()
    job_id = slurm(slurm_env, "sbatch", "--parsable", "--output=/dev/null", "--job-name=" + name, "--wrap",
                   "exit 4").stdout.strip()
    wait_for(lambda: job_states(slurm_env, [job_id]).get(job_id) == "FAILED", 60, "the job to fail")
    monkeypatch.setenv("SLURM_CONF", slurm_env["SLURM_CONF"])
    commands = Slurm()
    state = pick(commands.finished([job_id]), job_id, name)
    assert commands.accounting == "sacct -c" and commands.calls["sacct"] == 1  # one try of slurmdbd, then the file
    assert (state.state, state.exit_code, state.node) == ("FAILED", 4, "localhost")
    assert pick(commands.finished([job_id]), job_id, "tg-another-job") is None  # an id alone is never enough


@pytest.mark.slow
def test_the_default_matrix_as_three_jobs(slurm_env, tmp_path):
    proc = compare(slurm_env, tmp_path, "--launcher", "slurm", "--epochs", "3", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    rows = {row["name"]: row for row in report["rows"]}
    assert set(rows) == {"cpu", "gpu", "gpu-cnmem"}
    for row in rows.values():
        assert (row["status"], row["target"], row["node"], row["job_gpus"]) == ("ok", "slurm", "localhost", None)
    # The device lines come from inside the job: the stub prints Theano 0.8's GTX 1060 line for GPU variants.
    assert rows["gpu"]["device_used"] == "gpu" and rows["gpu"]["gpu_name"] == "GeForce GTX 1060 6GB"
    assert rows["gpu-cnmem"]["cnmem"]["fraction"] == pytest.approx(0.8) and rows["cpu"]["device_used"] == "cpu"
    assert rows["cpu"]["seconds_per_epoch"] == pytest.approx(0.6, rel=0.3)  # from the log's timestamps
    recorded = runs(tmp_path)
    ids = [run["job_id"] for run in recorded.values()]
    assert len(set(ids)) == 3 and all(run["job_state"] == "COMPLETED" for run in recorded.values())
    # Slurm agrees: three jobs, each completed, each its own.
    assert set(job_states(slurm_env, ids).values()) == {"COMPLETED"}
    log = (tmp_path / "out" / recorded["gpu"]["log"]).read_text().splitlines()
    assert log[0].startswith("[     0.000 m] theanogpu-run: {") and '"node": "localhost"' in log[1]
    assert re.match(r"\[ +\d+\.\d{3} e\] Using gpu device 0: GeForce GTX 1060", log[3])
    # Jobs to themselves (--exclusive, the default): one after the other on this node, never overlapping,
    # by Slurm's own clock (the job completion file).
    out = slurm(slurm_env, "sacct", "-c", "-P", "-n", "-j", ",".join(ids), "-o", "JobID,Start,End").stdout
    spans = sorted(tuple(line.split("|")[1:3]) for line in out.splitlines() if line.split("|")[0] in ids)
    assert len(spans) == 3 and all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:])), spans
    assert "slurm: 3 sbatch" in proc.stderr


@pytest.mark.slow
def test_one_comparison_spans_two_partitions_and_keeps_their_rows_apart(slurm_env, tmp_path):
    proc = compare(slurm_env, tmp_path, "--on", "slurm:partition=debug,exclusive=no,cpus=1",
                   "--on", "slurm:partition=batch,exclusive=no,cpus=1", "--variant", "cpu:device=cpu",
                   "--variant", "gpu:device=gpu", "--epochs", "2", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = [(row["name"], row["target"], row["node"], row["repeats"]) for row in
            csv.DictReader(proc.stdout.splitlines())]
    assert rows == [("cpu", "debug", "localhost", "1"), ("gpu", "debug", "localhost", "1"),
                    ("cpu", "batch", "localhost", "1"), ("gpu", "batch", "localhost", "1")]
    recorded = json.loads((tmp_path / "out" / "results.json").read_text())["runs"]
    assert len({run["log"] for run in recorded}) == 4
    # Slurm ran each in the partition its row names.
    ids = {run["job_id"]: run["target"] for run in recorded}
    out = slurm(slurm_env, "sacct", "-c", "-P", "-n", "-j", ",".join(ids), "-o", "JobID,Partition").stdout
    assert dict(line.split("|") for line in out.splitlines() if line.split("|")[0] in ids) == ids


@pytest.mark.slow
def test_failed_timed_out_and_cancelled_jobs_each_say_why(slurm_env, tmp_path):
    proc = start(slurm_env, tmp_path, "--on", SHARED, "--slurm-arg=--time=1", "--epochs", "1",
                 "--variant", "fine:device=cpu", "--variant", "crash:device=cpu,env.STUB_MODE=crash",
                 "--variant", "slow:device=cpu,env.STUB_MODE=hang", "--variant", "victim:device=cpu,env.STUB_MODE=hang")
    try:
        victim = wait_for(lambda: runs(tmp_path).get("victim", {}).get("status") == "running"
                          and runs(tmp_path)["victim"], 90, "the victim job to run")
        # Someone else cancels one job of the comparison.
        assert slurm(slurm_env, "scancel", victim["job_id"]).returncode == 0
        out, err = proc.communicate(timeout=240)  # Slurm enforces a 1-minute limit within about 90 s
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    recorded = runs(tmp_path)
    assert recorded["fine"]["status"] == "ok"
    crash = recorded["crash"]
    assert (crash["status"], crash["exit_code"], crash["job_state"]) == ("failed", 3, "FAILED")
    assert any("MemoryError" in line for line in crash["error"])
    slow = recorded["slow"]
    assert (slow["status"], slow["job_state"]) == ("timeout", "TIMEOUT")
    assert slow["reason"] == "Slurm's time limit ended the job on localhost (TIMEOUT)"
    victim = recorded["victim"]
    assert (victim["status"], victim["job_state"]) == ("cancelled", "CANCELLED")
    assert victim["reason"].startswith("cancelled outside this comparison")
    # The report says each: status and reason.
    assert "TIMEOUT" in out and "CANCELLED" in out and "FAILED" in out
    assert "Slurm's time limit ended the job on localhost (TIMEOUT)" in out.replace("\n   ", " ")
    assert "cancelled outside this comparison" in out.replace("\n   ", " ")


def test_a_job_that_can_never_start_ends_with_slurms_reason(slurm_env, tmp_path):
    failed = slurm(slurm_env, "sbatch", "--parsable", "--output=/dev/null", "--wrap", "false").stdout.strip()
    wait_for(lambda: job_states(slurm_env, [failed]).get(failed) == "FAILED", 60, "a failed job")
    started = time.monotonic()
    proc = compare(slurm_env, tmp_path, "--on", SHARED, "--slurm-arg=--dependency=afterok:%s" % failed,
                   "--variant", "cpu:device=cpu", "--epochs", "1")
    assert proc.returncode == 1, proc.stderr
    assert time.monotonic() - started < 60
    (run,) = runs(tmp_path).values()
    assert run["status"] == "failed"
    assert run["reason"].startswith("never started: Slurm keeps it pending for DependencyNeverSatisfied: a job it "
                                    "depends on ended in a way that can never satisfy the dependency")
    assert job_states(slurm_env, [run["job_id"]])[run["job_id"]] == "CANCELLED"  # not left pending forever
    assert "never started" in proc.stdout and "never started" in (tmp_path / "out" / run["log"]).read_text()


def test_ctrl_c_cancels_every_job_and_exits_130(slurm_env, tmp_path):
    pids = tmp_path / "pids"
    proc = start(slurm_env, tmp_path, "--on", SHARED, "--epochs", "1", "--variant", "a:device=cpu",
                 "--variant", "b:device=cpu", "--variant", "c:device=cpu",
                 env={"STUB_MODE": "hang", "STUB_PIDS": str(pids)})
    try:
        wait_for(lambda: sorted(run["status"] for run in runs(tmp_path).values()) == ["running", "running",
                                                                                      "submitted"],
                 60, "two jobs running and one queued")
        wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2, 30, "both scripts to start")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "slurm: cancelled 3 jobs" in err
    recorded = runs(tmp_path)
    assert [recorded[v]["status"] for v in "abc"] == ["interrupted"] * 3
    ids = [recorded[v]["job_id"] for v in "abc"]
    assert set(job_states(slurm_env, ids).values()) == {"CANCELLED"}
    for pid in pids.read_text().split():  # nothing of the scripts is left on the node
        wait_for(lambda pid=pid: subprocess.run(["pgrep", "-g", pid], capture_output=True).stdout == b"", 20,
                 "process group %s to end" % pid)


@pytest.mark.slow
def test_a_resume_reattaches_to_jobs_still_running_and_submits_nothing_twice(slurm_env, tmp_path):
    args = ("--on", SHARED, "--epochs", "8", "--variant", "a:device=cpu", "--variant", "b:device=cpu")
    first = start(slurm_env, tmp_path, *args)
    try:
        wait_for(lambda: [run["status"] for run in runs(tmp_path).values()] == ["running", "running"], 60,
                 "both jobs running")
    finally:
        first.kill()  # compare dies (a lost session); its jobs go on in Slurm
        first.communicate(timeout=30)
    before = {v: run["job_id"] for v, run in runs(tmp_path).items()}
    assert set(job_states(slurm_env, list(before.values())).values()) == {"RUNNING"}

    proc = compare(slurm_env, tmp_path, *args)
    assert proc.returncode == 0, proc.stderr
    for job_id in before.values():
        assert "re-attached to job %s (running when last seen)" % job_id in proc.stderr
    assert summary(proc.stderr)["sbatch"] == 0
    recorded = runs(tmp_path)
    assert {v: run["job_id"] for v, run in recorded.items()} == before
    assert all(run["status"] == "ok" and len(run["parsed"]["epochs"]) == 8 for run in recorded.values())
    assert set(job_states(slurm_env, list(before.values())).values()) == {"COMPLETED"}


@pytest.mark.slow
def test_fifty_runs_cost_one_squeue_per_poll(slurm_env, tmp_path):
    """Every Slurm call logged by a wrapper on PATH (each execs the real command): 50 sbatch, and per poll
    cycle one squeue for all jobs in flight, whatever their number."""
    calls = tmp_path / "calls.log"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    for name in ("sbatch", "squeue", "sacct", "scancel"):
        real = shutil.which(name, path=slurm_env["PATH"])
        wrapper = wrappers / name
        wrapper.write_text('#!/bin/sh\nprintf "%%s %%s\\n" "$(date +%%s.%%N)" "%s $*" >> %s\nexec %s "$@"\n'
                           % (name, calls, real))
        wrapper.chmod(0o755)
    env = {"PATH": "%s:%s" % (wrappers, slurm_env["PATH"]), "STUB_SCALE": "0.05"}
    started = time.monotonic()
    proc = compare(slurm_env, tmp_path, "--on", SHARED, "--variant", "tiny:device=cpu", "--repeat", "50",
                   "--epochs", "1", env=env, timeout=400)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / "out" / "results.json").read_text())["runs"]
    assert len(record) == 50 and {run["status"] for run in record} == {"ok"}
    assert len({run["job_id"] for run in record}) == 50
    lines = [line.split(" ", 2) for line in calls.read_text().splitlines()]
    by_name = {}
    for stamp, name, rest in lines:
        by_name.setdefault(name, []).append((float(stamp), rest))
    submits = [rest for _, rest in by_name["sbatch"] if "--test-only" not in rest]
    assert len(submits) == 50 and len(by_name["sbatch"]) == 51  # one --test-only for the one target
    assert "scancel" not in by_name and "sacct" not in by_name  # every job ended while squeue knew it
    squeues = by_name["squeue"]
    first_ids = re.search(r"-j (\S+)", squeues[0][1]).group(1).split(",")
    assert len(first_ids) == 50  # one call asks about every job in flight
    stats = summary(proc.stderr)
    assert stats["sbatch"] == 50 and stats["squeue"] == stats["polls"] == len(squeues)
    gaps = [b[0] - a[0] for a, b in zip(squeues, squeues[1:])]
    assert min(gaps) > float(POLL) * 0.8  # never two squeue in one poll cycle
    print("\nscale: 50 runs in %.1f s; %s; squeue gaps median %.2f s"
          % (elapsed, stats["line"], statistics.median(gaps)))


@pytest.mark.slow
def test_the_real_theano10_stack_on_the_cluster(slurm_env, tmp_path, stack_venv):
    stack_venv("theano10")  # built once (the slow stack tests share it)
    proc = subprocess.run([sys.executable, "-m", "theanogpu", "compare", "--stack", "theano10", "--epochs", "1",
                           "--samples", "64", "--on", SHARED, "--out", str(tmp_path / "out"), "--format", "json"],
                          capture_output=True, text=True, env=slurm_env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)["rows"]}
    assert rows["cpu"]["status"] == "ok" and rows["cpu"]["device_used"] == "cpu" and rows["cpu"]["epochs"] == 1
    for name in ("gpu", "gpu-cnmem"):
        # No GPU on this node: Theano 1.0 said so from inside the job, and the row says it fell back.
        assert rows[name]["fallback"] is True and rows[name]["device_used"] == "cpu"
        assert "pygpu" in rows[name]["fallback_reason"]
    assert {(row["target"], row["node"]) for row in rows.values()} == {("slurm", "localhost")}
    assert all(run["job_state"] == "COMPLETED" for run in runs(tmp_path).values())


@pytest.mark.slow
def test_until_stable_stops_a_cluster_job_from_its_progress_updates(slurm_env, tmp_path):
    """A tqdm loop of 200 epochs on the node: its redrawn bar reaches the comparison through the log's
    .updates file, the steady rate settles, the job is cancelled on purpose, and the row says so."""
    tqdm = ROOT / "tests" / "fixtures" / "scripts" / "tqdm_style.py"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script",
                           str(tqdm), "--out", str(tmp_path / "out"), "--on", SHARED, "--epochs", "200",
                           "--variant", "cpu:device=cpu", "--until-stable=5", "--format", "json"],
                          capture_output=True, text=True, env=slurm_env, timeout=300)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    (run,) = runs(tmp_path).values()
    assert run["status"] == "ok" and run["stopped_early"] == "stable" and run["job_state"] == "CANCELLED"
    assert elapsed < 80  # 200 epochs of this loop take about 120 s
    log = tmp_path / "out" / run["log"]
    assert log.read_text().splitlines()[-1].endswith('theanogpu-stopped: {"reason": "stable"}')
    (row,) = json.loads(proc.stdout)["rows"]
    assert row["seconds_per_epoch_source"] == "projected" and row["throughput"]["precision"] <= 0.05
