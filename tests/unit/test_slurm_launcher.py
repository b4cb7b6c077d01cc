"""The Slurm launcher's own logic, in milliseconds: 200 jobs through a simulated cluster.

``SimulatedCluster`` stands in for Slurm's commands only (it answers in Slurm 22.05's own output
formats, parsed by the launcher's real code) and for the worker on the node (it writes each job's log
and exit record). The launcher under test is the real one: submitting, one squeue per poll, accounting
for jobs slurmctld forgot, cancelling, and the outcome of every job. The real cluster's tests are in
tests/integration/test_slurm_cluster.py.
"""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from theanogpu.errors import UserError
from theanogpu.run import jobfile
from theanogpu.run.jobfile import write_exit
from theanogpu.run.launcher import Job
from theanogpu.run.logfile import RunLog
from theanogpu.run.runner import StopFlag
from theanogpu.run.slurm import Slurm, SlurmLauncher, filesystem_type
from theanogpu.run.targets import parse_on


class SimulatedCluster(Slurm):
    """Each squeue is one step of time: PENDING, then RUNNING (the script prints), then COMPLETED (the
    worker's exit record is there); a job whose label says so is forgotten by slurmctld as it ends
    ("purge": only the job completion file knows it), pends forever ("never") or vanishes with nothing left
    behind ("lost")."""

    def __init__(self):
        super().__init__()
        self.jobs = {}
        self.steps = 0

    def _execute(self, argv, stdin):
        command = argv[0]
        if command == "sbatch":
            if "--test-only" in argv:
                return subprocess.CompletedProcess(argv, 0, "", "sbatch: Job 1 to start at now")
            name = next(arg.split("=", 1)[1] for arg in argv if arg.startswith("--job-name="))
            if "reject" in name:
                return subprocess.CompletedProcess(argv, 1, "", "sbatch: error: QOSMaxSubmitJobPerUserLimit\n"
                                                   "sbatch: error: Batch job submission failed: Job violates "
                                                   "accounting/QOS policy\n")
            job_dir = shlex.split(re.search(r"^cd (.+) 2>/dev/null", stdin, re.M).group(1))[0]
            job_id = str(len(self.jobs) + 1)
            self.jobs[job_id] = {"name": name, "dir": Path(job_dir), "state": "PENDING", "age": 0}
            return subprocess.CompletedProcess(argv, 0, job_id + "\n", "")
        if command == "squeue":
            self._step()
            ids = argv[argv.index("-j") + 1].split(",")
            lines = ["%s|%s|%s|%s|%s|%s|" % (i, job["name"], job["state"], job.get("reason", "None"),
                                               job.get("status", 0), "node%s" % i if job["state"] != "PENDING" else "")
                     for i, job in self.jobs.items() if i in ids and not job.get("forgotten")]
            return subprocess.CompletedProcess(argv, 0, "\n".join(lines) + "\n", "")
        if command == "sacct" and "-c" not in argv:
            return subprocess.CompletedProcess(argv, 1, "", "Slurm accounting storage is disabled\n")
        if command == "sacct":
            ids = argv[argv.index("-j") + 1].split(",")
            lines = ["%s|%s|%s|0:0|node%s" % (i, job["name"], job["state"], i) for i, job in self.jobs.items()
                     if i in ids and job.get("forgotten") and "lost" not in job["name"]]
            return subprocess.CompletedProcess(argv, 0, "\n".join(lines) + "\n", "")
        if command == "scancel":
            for job_id in argv[1:]:
                job = self.jobs[job_id]
                if job["state"] == "RUNNING":  # the worker, stopped by the SIGTERM, writes its exit record
                    write_exit(job["dir"], {"status": "interrupted", "exit_code": -15, "wall_seconds": 1.0,
                                            "node": "node" + job_id, "gpus": [], "tail": []})
                job["state"] = "CANCELLED"
            return subprocess.CompletedProcess(argv, 0, "", "")
        if command == "sinfo":
            return subprocess.CompletedProcess(argv, 0, "localhost\n", "")
        raise AssertionError(argv)

    def _step(self):
        self.steps += 1
        for job_id, job in self.jobs.items():
            job["age"] += 1
            if job["state"] == "PENDING" and "never" in job["name"]:
                job["reason"] = "PartitionConfig"
            elif job["state"] == "PENDING":
                job["state"] = "RUNNING"
                log = Path(json.loads((job["dir"] / "job.json").read_text())["log"])
                with RunLog(log) as out:
                    out.write(0.0, "m", "theanogpu-run: {}")
                    out.write(0.5, "o", "Epoch 1/1")
                    # Keras's redrawn bar, as the worker reads it: dated updates into the log's .updates file.
                    for t, done in ((0.8, 16), (1.1, 32), (1.4, 48)):
                        out.chunk(t, "o", b"%d/64 [=====>........] - ETA: 1s - loss: 1.0\r" % done)
                    out.chunk(1.5, "o", b"64/64 [==============================] - 1s - loss: 1.0\n")
                    out.write(1.5, "o", "64/64 [==============================] - 1s - loss: 1.0")
            elif job["state"] == "RUNNING":
                job["state"] = "COMPLETED"
                # Ended and already purged from slurmctld's memory by the next poll (MinJobAge, a long poll).
                job["forgotten"] = any(word in job["name"] for word in ("purge", "lost"))
                if "lost" not in job["name"]:
                    write_exit(job["dir"], {"status": "ok", "exit_code": 0, "wall_seconds": 1.5,
                                            "node": "node" + job_id, "gpus": ["Tesla V100-SXM2-16GB"], "tail": [],
                                            "started": "2026-12-01T12:00:00Z"})


class Recorder:
    """The comparison's side of JobEvents: what the launcher told it."""

    def __init__(self):
        self.begun, self.lines, self.records, self.points = [], [], [], []

    def started(self, job):
        self.begun.append(job.label)

    def line(self, job, t, stream, text):
        self.lines.append((job.label, t, stream, text))

    def submitted(self, job, facts):
        self.records.append((job.label, dict(facts)))

    def point(self, job, point):
        self.points.append((job.label, point))


def jobs(tmp_path, labels, harness):
    target = parse_on("slurm:partition=debug,exclusive=no")
    for label in labels:
        run_dir = tmp_path / "out" / ".runs" / label
        run_dir.mkdir(parents=True, exist_ok=True)
        yield Job(label, [sys.executable, "-u", "train.py"], {"PATH": "/usr/bin"}, tmp_path / "out" / (label + ".log"),
                  run_dir, stop=StopFlag(parent=harness), header=["theanogpu-run: {}"], where=target)


def launcher(tmp_path, cluster):
    notes = []
    return SlurmLauncher([parse_on("slurm:partition=debug,exclusive=no")], ["--account=lab"], tmp_path / "out",
                         note=notes.append, poll=0.0, slurm=cluster), notes


def test_two_hundred_jobs_cost_one_squeue_per_poll(tmp_path):
    cluster = SimulatedCluster()
    slurm, notes = launcher(tmp_path, cluster)
    labels = ["run%03d%s" % (i, "-purge" if i % 2 else "") for i in range(199)] + ["stuck-never"]
    recorder = Recorder()
    finished = list(slurm.execute(jobs(tmp_path, labels, StopFlag()), recorder))
    assert len(finished) == 200 and cluster.calls["sbatch"] == 200
    # One squeue per poll for every job in flight; the purged ones cost one sacct -c per poll (one failed
    # plain sacct found that there is no slurmdbd, once); one scancel for the job that can never start.
    assert cluster.calls["squeue"] == slurm.polls == cluster.steps <= 5
    assert cluster.calls["sacct"] == 1 and cluster.calls["sacct -c"] <= slurm.polls and cluster.calls["scancel"] == 1
    outcomes = {job.label: outcome for job, outcome in finished}
    stuck = outcomes.pop("stuck-never")
    assert stuck.status == "failed" and stuck.reason.startswith("never started: Slurm keeps it pending for "
                                                                "PartitionConfig")
    assert {outcome.status for outcome in outcomes.values()} == {"ok"}
    assert {outcome.facts["job_state"] for outcome in outcomes.values()} == {"COMPLETED"}
    first = outcomes["run000"]
    assert first.facts["node"] == "node1" and first.facts["job_gpus"] == ["Tesla V100-SXM2-16GB"]
    assert first.facts["job_dir"].startswith(".runs/run000/slurm-") and first.wall_seconds == 1.5
    # Every job on record at submit (then again when it ran), its lines delivered live from its log.
    assert [facts["status"] for label, facts in recorder.records if label == "run000"] == ["submitted", "running"]
    assert ("run000", 0.5, "o", "Epoch 1/1") in recorder.lines and len(recorder.begun) == 199
    # ... and its progress updates from their file, with the times the worker gave them (--until-stable).
    assert [(p.t, p.done) for label, p in recorder.points if label == "run000"][:3] == [(0.8, 16), (1.1, 32),
                                                                                        (1.4, 48)]
    assert "stuck-never" not in recorder.begun
    # The job that never ran still has a log saying why.
    assert "never started" in (tmp_path / "out" / "stuck-never.log").read_text()
    assert any(note.startswith("slurm: 200 sbatch") for note in notes)


def test_a_job_nobody_remembers_is_lost_with_a_reason(tmp_path):
    cluster = SimulatedCluster()
    slurm, _ = launcher(tmp_path, cluster)
    ((job, outcome),) = list(slurm.execute(jobs(tmp_path, ["x-lost"], StopFlag()), Recorder()))
    assert outcome.status == "failed" and "Slurm no longer knows this job" in outcome.reason


def test_the_harness_stop_cancels_every_job_in_one_call(tmp_path):
    cluster = SimulatedCluster()
    slurm, notes = launcher(tmp_path, cluster)
    harness = StopFlag()
    harness.set()  # Ctrl-C before the first poll
    finished = [outcome for _, outcome in slurm.execute(jobs(tmp_path, ["a", "b", "c"], harness), Recorder())]
    assert [outcome.status for outcome in finished] == ["interrupted"] * 3
    assert cluster.calls["scancel"] == 1 and "slurm: cancelled 3 jobs (jobs 1 2 3): asked to stop" in notes
    assert {outcome.facts["job_state"] for outcome in finished} == {"CANCELLED"}


def test_the_filesystem_of_a_path(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/vda / ext4 rw 0 0\nnfs:/home /home nfs4 rw 0 0\nnone /home/a\\040b tmpfs rw 0 0\n")
    assert filesystem_type(Path("/home/x/out"), str(mounts)) == "nfs4"
    assert filesystem_type(Path("/home/a b/out"), str(mounts)) == "tmpfs"
    assert filesystem_type(Path("/opt"), str(mounts)) == "ext4"
    assert filesystem_type(Path("/opt"), str(tmp_path / "none")) is None


def test_a_job_rejected_after_others_were_submitted_is_a_failed_run_the_first_is_exit_2(tmp_path):
    cluster = SimulatedCluster()
    slurm, _ = launcher(tmp_path, cluster)
    outcomes = {job.label: outcome for job, outcome in slurm.execute(jobs(tmp_path, ["a", "b-reject"], StopFlag()),
                                                                      Recorder())}
    assert outcomes["a"].status == "ok" and outcomes["b-reject"].status == "failed"
    assert outcomes["b-reject"].reason == ("rejected at submit: sbatch: error: QOSMaxSubmitJobPerUserLimit; sbatch: "
                                           "error: Batch job submission failed: Job violates accounting/QOS policy")
    assert "Slurm rejected the job" in (tmp_path / "out" / "b-reject.log").read_text()
    slurm, _ = launcher(tmp_path / "first", SimulatedCluster())
    with pytest.raises(UserError, match="^--on=slurm:partition=debug,exclusive=no with --slurm-arg=--account=lab: "
                                        "Slurm rejects the job: sbatch: error: QOSMax"):
        list(slurm.execute(jobs(tmp_path / "first", ["a-reject", "b"], StopFlag()), Recorder()))


def test_a_job_stopped_on_purpose_is_told_why_before_it_is_cancelled(tmp_path):
    cluster = SimulatedCluster()
    slurm, notes = launcher(tmp_path, cluster)
    stop_when = {"a": True, "b": False}

    class Watching(Recorder):
        def line(self, job, t, stream, text):  # the comparison's --until-stable decides on a line
            if stop_when[job.label]:
                job.stop.set("stable")

    finished = {job.label: outcome for job, outcome in slurm.execute(jobs(tmp_path, ["a", "b"], StopFlag()),
                                                                     Watching())}
    stopped, ran = finished["a"], finished["b"]
    assert stopped.status == "interrupted" and ran.status == "ok"
    # The reason went to the job's directory before the one scancel: the worker's log says it.
    assert jobfile.read_stop(tmp_path / "out" / stopped.facts["job_dir"]) == "stable"
    assert jobfile.read_stop(tmp_path / "out" / ran.facts["job_dir"]) is None
    assert cluster.calls["scancel"] == 1 and "slurm: cancelled 1 job (job 1): asked to stop" in notes
