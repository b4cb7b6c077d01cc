"""The comparison loop (run/comparison.py) with a fake launcher: resume, interrupt, stop early, skip.

A fake launcher stands in for the process runner here only: it writes scripted output lines to
each job's log and reports an outcome, so the loop's own rules (what is recorded, when results.json
is written, what a resume runs again) are tested in milliseconds. The real runner has its own tests
(test_runner.py) and compare runs real processes end to end in test_compare_cli.py.
"""

import io
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from theanogpu.run import CompareProgress, Comparison, Launcher, Outcome, plan_runs
from theanogpu.run.logfile import RunLog
from theanogpu.run.plan import StackTarget
from theanogpu.variants import parse_variant_spec

STACK = StackTarget("fake", None, "theano", python=Path(sys.executable))
KERAS_EPOCHS = [(0.1, "o", "Train on 64 samples"), (0.2, "o", "Epoch 1/2"),
                (2.2, "o", "64/64 [==============================] - 2s - loss: 1.0"), (2.3, "o", "Epoch 2/2"),
                (3.3, "o", "64/64 [==============================] - 1s - loss: 0.9")]


class FakeLauncher(Launcher):
    """Runs nothing: each job "prints" its scripted lines, then ends as the script says.

    ``script[label]`` is (lines, status, exit_code); status "sigint" interrupts the comparison the way
    Ctrl-C does (a real SIGINT to this process) in the middle of the job.
    """

    name = "fake"

    def __init__(self, script):
        self.script = script
        self.launched = []

    def execute(self, jobs, events):
        for job in jobs:
            self.launched.append(job.label)
            events.started(job)
            lines, status, code = self.script.get(job.label, (KERAS_EPOCHS, "ok", 0))
            with RunLog(job.log_path) as log:
                for t, stream, text in lines:
                    log.write(t, stream, text)
                    events.line(job, t, stream, text)
                    if job.stop.is_set():  # --until-stable (or Ctrl-C) stops the job between lines
                        status, code = "interrupted", -15
                        break
                if status == "sigint":
                    os.kill(os.getpid(), signal.SIGINT)
                    assert job.stop.is_set()
                    status, code = "interrupted", -2
            yield job, Outcome(status, code, lines[-1][0] if lines else 0.0, [text for _, _, text in lines])


def comparison(tmp_path, launcher, specs=("cpu:device=cpu", "gpu:device=gpu", "big:device=gpu,lib.cnmem=0.8"),
               until_stable=None, repeats=1):
    variants = [parse_variant_spec(spec) for spec in specs]
    planned = plan_runs(variants, [STACK], repeats)
    script = tmp_path / "train.py"
    if not script.exists():
        script.write_text("print('never run')\n")
    return Comparison(planned, script, ["--epochs", "2"], tmp_path / "out", launcher,
                      CompareProgress(io.StringIO(), live=False), until_stable=until_stable)


def recorded(tmp_path):
    return json.loads((tmp_path / "out" / "results.json").read_text())["runs"]


def test_every_run_is_parsed_and_recorded(tmp_path):
    summary = comparison(tmp_path, FakeLauncher({})).run()
    assert not summary.interrupted and not summary.failed
    runs = recorded(tmp_path)
    assert [(r["variant"], r["status"]) for r in runs] == [("cpu", "ok"), ("gpu", "ok"), ("big", "ok")]
    # Epoch times from the timestamps of the headers, parsed from the log the launcher wrote.
    assert [e["seconds"] for e in runs[0]["parsed"]["epochs"]] == [2.0, 1.0]
    assert runs[1]["flags"] == {"device": "gpu"} and runs[2]["command"].startswith("env ")
    assert (tmp_path / "out" / "gpu@fake.log").read_text().startswith("[     0.100 o] Train on 64 samples")


def test_ctrl_c_keeps_finished_runs_and_resume_runs_only_the_rest(tmp_path):
    callers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    first = FakeLauncher({"gpu@fake": (KERAS_EPOCHS[:3], "sigint", None)})
    summary = comparison(tmp_path, first).run()
    assert summary.interrupted
    assert first.launched == ["cpu@fake", "gpu@fake"]  # nothing started after Ctrl-C
    assert [(r["variant"], r["status"]) for r in recorded(tmp_path)] == [("cpu", "ok"), ("gpu", "interrupted")]
    # The handlers are the caller's again: a SIGINT now is the caller's business, not a stop.
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == callers

    cpu_entry = recorded(tmp_path)[0]
    second = FakeLauncher({})
    summary = comparison(tmp_path, second).run()
    assert second.launched == ["gpu@fake", "big@fake"] and not summary.interrupted
    runs = recorded(tmp_path)
    assert [(r["variant"], r["status"]) for r in runs] == [("cpu", "ok"), ("gpu", "ok"), ("big", "ok")]
    assert runs[0] == cpu_entry  # a finished run is kept as it was, not run again


def test_failed_and_timed_out_runs_are_recorded_with_their_last_lines(tmp_path):
    crash = [(0.1, "e", "Traceback (most recent call last):"), (0.2, "e", "MemoryError: out of memory")]
    launcher = FakeLauncher({"gpu@fake": (crash, "failed", 3), "big@fake": (KERAS_EPOCHS[:2], "timeout", -9)})
    summary = comparison(tmp_path, launcher).run()
    assert summary.failed and not summary.interrupted
    runs = {r["variant"]: r for r in recorded(tmp_path)}
    assert runs["gpu"]["status"] == "failed" and runs["gpu"]["exit_code"] == 3
    assert runs["gpu"]["error"][-1] == "MemoryError: out of memory"
    assert runs["big"]["status"] == "timeout"


def test_until_stable_stops_a_run_once_its_epochs_agree(tmp_path):
    steady = [(0.0, "o", "Epoch 1/50"), (4.0, "o", "64/64 [==============================] - 4s - loss: 1.0")]
    for epoch in range(2, 51):
        start = epoch * 1.0 + 3.0
        steady += [(start, "o", "Epoch %d/50" % epoch),
                   (start + 0.9, "o", "64/64 [==============================] - 0s - loss: 0.5")]
    launcher = FakeLauncher({"cpu@fake": (steady, "ok", 0)})
    comparison(tmp_path, launcher, specs=("cpu:device=cpu",), until_stable=0.02).run()
    (run,) = recorded(tmp_path)
    assert run["status"] == "ok" and run["stopped_early"] == "stable"
    assert 4 <= len(run["parsed"]["epochs"]) < 10  # stopped after three steady epochs, not after 50


def test_skipped_variants_are_recorded_without_launching(tmp_path):
    launcher = FakeLauncher({})
    comparison(tmp_path, launcher, specs=("cpu:device=cpu", "tf:device=gpu,backends=tensorflow")).run()
    assert launcher.launched == ["cpu@fake"]
    runs = {r["variant"]: r for r in recorded(tmp_path)}
    assert runs["tf"]["status"] == "skipped" and "tensorflow" in runs["tf"]["skip_reason"]


def test_sigterm_is_an_interrupt_too(tmp_path):
    class Terminating(FakeLauncher):
        def execute(self, jobs, events):
            for job, outcome in super().execute(jobs, events):
                if job.label == "cpu@fake":
                    os.kill(os.getpid(), signal.SIGTERM)
                yield job, outcome

    summary = comparison(tmp_path, Terminating({})).run()
    assert summary.interrupted
    assert [r["variant"] for r in recorded(tmp_path)] == ["cpu"]


@pytest.mark.parametrize("repeats", [2])
def test_repeats_interleave_and_resume_by_repeat(tmp_path, repeats):
    launcher = FakeLauncher({"gpu@fake#2": (KERAS_EPOCHS[:1], "sigint", None)})
    comparison(tmp_path, launcher, specs=("cpu:device=cpu", "gpu:device=gpu"), repeats=repeats).run()
    assert launcher.launched == ["cpu@fake#1", "gpu@fake#1", "cpu@fake#2", "gpu@fake#2"]
    again = FakeLauncher({})
    comparison(tmp_path, again, specs=("cpu:device=cpu", "gpu:device=gpu"), repeats=repeats).run()
    assert again.launched == ["gpu@fake#2"]


def test_resume_keeps_only_runs_whose_identity_is_unchanged(tmp_path):
    comparison(tmp_path, FakeLauncher({"big@fake": (KERAS_EPOCHS, "failed", 1)})).run()
    first = {r["variant"]: r for r in recorded(tmp_path)}
    assert first["cpu"]["identity"]["script_sha256"] and len(first["cpu"]["identity_hash"]) == 16

    # Same script, same variants: only the failed run runs again, and the user is told why.
    again = FakeLauncher({})
    run = comparison(tmp_path, again)
    run.run()
    assert again.launched == ["big@fake"]
    assert run._again == ["big@fake: runs again: it failed earlier"]

    # The script is edited: every run is another run now.
    (tmp_path / "train.py").write_text("print('edited')\n")
    edited = FakeLauncher({})
    run = comparison(tmp_path, edited)
    run.run()
    assert edited.launched == ["cpu@fake", "gpu@fake", "big@fake"]
    assert all(line.endswith("runs again: its script was edited") for line in run._again)

    # A variant's flags change: that run alone.
    changed = FakeLauncher({})
    run = comparison(tmp_path, changed, specs=("cpu:device=cpu,floatX=float64", "gpu:device=gpu",
                                              "big:device=gpu,lib.cnmem=0.8"))
    run.run()
    assert changed.launched == ["cpu@fake"]
    assert run._again[0].startswith("cpu@fake: runs again: the variant's Theano flags changed") and len(run._again) == 1


def test_an_entry_without_identity_is_not_trusted(tmp_path):
    comparison(tmp_path, FakeLauncher({}), specs=("cpu:device=cpu",)).run()
    path = tmp_path / "out" / "results.json"
    record = json.loads(path.read_text())
    del record["runs"][0]["identity"]
    path.write_text(json.dumps(record))
    launcher = FakeLauncher({})
    run = comparison(tmp_path, launcher, specs=("cpu:device=cpu",))
    run.run()
    assert launcher.launched == ["cpu@fake"] and "no recorded identity" in run._again[0]


def test_identity_changes_name_package_versions():
    from theanogpu.run.identity import changes

    old = {"versions": {"theano": "0.8.2", "keras": "1.2.2"}, "args": ["--epochs", "2"]}
    new = {"versions": {"theano": "0.9.0", "keras": "1.2.2"}, "args": ["--epochs", "3"]}
    assert changes(old, new) == ["the script's arguments changed",
                                 "the stack's packages changed (theano 0.8.2 -> 0.9.0)"]
    assert changes(old, dict(old)) == []


# -- a launcher that hands jobs to a scheduler (a cluster): on record before they end, re-attached after


class SchedulingLauncher(Launcher):
    """Stands in for a scheduler: every job is "submitted" (JobEvents.submitted, with a job id) before any
    runs, then they run. ``lost_after`` ends the comparison's process the way a dropped SSH session would,
    with jobs still queued. A job handed out with ``attach`` is watched, never submitted again."""

    name = "scheduler"

    def __init__(self, lost_after=None, first_id=100):
        self.lost_after = lost_after
        self.next_id = first_id
        self.submitted, self.attached, self.finished = [], [], []

    def execute(self, jobs, events):
        queue = []
        for job in jobs:
            if job.attach is not None:
                self.attached.append((job.label, job.attach["job_id"]))
            else:
                self.submitted.append(job.label)
                events.submitted(job, {"status": "submitted", "launcher": "scheduler", "job_id": str(self.next_id),
                                       "job_dir": ".runs/%s/job-%d" % (job.label, self.next_id)})
                self.next_id += 1
            queue.append(job)
        for job in queue:
            if self.lost_after is not None and len(self.finished) == self.lost_after:
                raise ConnectionError("the session is gone")
            events.started(job)
            with RunLog(job.log_path) as log:
                for t, stream, text in KERAS_EPOCHS:
                    log.write(t, stream, text)
                    events.line(job, t, stream, text)
            self.finished.append(job.label)
            yield job, Outcome("ok", 0, 3.3, [], facts={"node": "gpu07", "job_gpus": ["Tesla V100"]})


def test_a_submitted_job_is_on_record_before_it_ends_and_a_resume_reattaches_to_it(tmp_path):
    first = SchedulingLauncher(lost_after=1)
    with pytest.raises(ConnectionError):
        comparison(tmp_path, first).run()
    runs = {r["variant"]: r for r in recorded(tmp_path)}
    assert runs["cpu"]["status"] == "ok" and runs["cpu"]["node"] == "gpu07"
    assert [(runs[v]["status"], runs[v]["job_id"]) for v in ("gpu", "big")] == [("submitted", "101"),
                                                                              ("submitted", "102")]

    second = SchedulingLauncher(first_id=500)
    run = comparison(tmp_path, second)
    summary = run.run()
    # Never submitted twice: the queued jobs are watched under their old ids, the finished one is kept.
    assert second.submitted == [] and second.attached == [("gpu@fake", "101"), ("big@fake", "102")]
    assert run._again == ["gpu@fake: re-attached to job 101 (submitted when last seen)",
                          "big@fake: re-attached to job 102 (submitted when last seen)"]
    assert not summary.interrupted and [r["status"] for r in recorded(tmp_path)] == ["ok", "ok", "ok"]
    assert recorded(tmp_path)[1]["job_gpus"] == ["Tesla V100"]


def test_a_job_in_flight_for_another_configuration_is_not_reattached(tmp_path):
    with pytest.raises(ConnectionError):
        comparison(tmp_path, SchedulingLauncher(lost_after=0), specs=("cpu:device=cpu",)).run()
    (tmp_path / "train.py").write_text("print('edited')\n")
    again = SchedulingLauncher(first_id=7)
    run = comparison(tmp_path, again, specs=("cpu:device=cpu",))
    run.run()
    assert again.submitted == ["cpu@fake"] and again.attached == []
    assert run._again == ["cpu@fake: runs again: its earlier job 100 was another run (its script was edited); that "
                          "job is left to the scheduler"]


def test_an_interrupt_records_every_job_a_parallel_launcher_reports(tmp_path):
    class Parallel(SchedulingLauncher):
        """All jobs at once: Ctrl-C during the first one, every job then reported interrupted."""

        def execute(self, jobs, events):
            queue = list(jobs)
            os.kill(os.getpid(), signal.SIGINT)
            for job in queue:
                assert job.stop.is_set()
                with RunLog(job.log_path) as log:  # a launcher leaves a log for every job it reports
                    log.write(0.0, "m", "cancelled before it started")
                yield job, Outcome("interrupted", -15, 1.0, [])

    summary = comparison(tmp_path, Parallel()).run()
    assert summary.interrupted
    assert [r["status"] for r in recorded(tmp_path)] == ["interrupted"] * 3


def test_cluster_targets_are_part_of_labels_keys_and_identities_but_local_runs_are_unchanged(tmp_path):
    from theanogpu.run.identity import run_identity
    from theanogpu.run.targets import parse_targets

    variant = parse_variant_spec("cpu:device=cpu")
    local = plan_runs([variant], [STACK], 1)
    cluster = plan_runs([variant], [STACK], 2, where=parse_targets(["slurm:partition=k80", "slurm:partition=v100"]))
    assert [run.label for run in local] == ["cpu@fake"]
    assert [run.label for run in cluster] == ["cpu@fake+k80#1", "cpu@fake+v100#1", "cpu@fake+k80#2", "cpu@fake+v100#2"]
    assert len({run.key for run in cluster}) == 4 and local[0].key == ("cpu", "fake", 1, None)
    assert "where" not in run_identity(local[0], "s.py", "0", [])  # a local run's identity hash stays what it was
    assert run_identity(cluster[0], "s.py", "0", [])["where"] == "slurm:partition=k80"
    # threads = all is counted where compare runs: said on a cluster's run, where the node may differ.
    tuned = parse_variant_spec("t:device=cpu,threads=all")
    assert not any("the machine that runs compare" in note for note in plan_runs([tuned], [STACK], 1, 2)[0].notes)
    (on_node,) = plan_runs([tuned], [STACK], 1, cpu_count=2, where=parse_targets(["slurm"]))
    assert on_node.notes[-1].startswith("threads = all is 2 here, the CPUs of the machine that runs compare")
