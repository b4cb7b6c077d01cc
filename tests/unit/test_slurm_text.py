"""Slurm's words without a cluster: --on targets, squeue/sacct output recorded from Slurm 22.05, the
ending of a run for every way a job ends, and the batch script (run by bash, as Slurm runs it)."""

import subprocess
import sys

import pytest

from theanogpu.errors import UserError
from theanogpu.run import slurmstate
from theanogpu.run.slurmstate import JobState, ending
from theanogpu.run.targets import parse_on, parse_targets

# --------------------------------------------------------------------------------------- targets


def test_a_target_names_its_hardware_and_is_exclusive_by_default():
    target = parse_on("slurm:partition=k80,gres=gpu:1")
    assert target.name == "k80" and target.spec == "partition=k80,gres=gpu:1"
    assert target.sbatch_options() == ["--exclusive", "--partition=k80", "--gres=gpu:1"]
    shared = parse_on("slurm:partition=v100,gres=gpu:1,exclusive=no,name=v100-shared")
    assert shared.name == "v100-shared" and shared.sbatch_options() == ["--partition=v100", "--gres=gpu:1"]
    assert parse_on("slurm").name == "slurm" and parse_on("slurm").sbatch_options() == ["--exclusive"]


def test_values_keep_their_commas_and_colons():
    target = parse_on("slurm:nodelist=gpu[01-03],gpu07,constraint=v100&nvlink,cpus=8,mem=32G")
    assert target.options == ("--nodelist=gpu[01-03],gpu07", "--constraint=v100&nvlink", "--cpus-per-task=8",
                              "--mem=32G")
    assert target.name == "slurm"


@pytest.mark.parametrize("spec, fragment", [
    ("k80", "say where with slurm:"),
    ("ssh:host=x", "say where with slurm:"),
    ("slurm:partition", "is not KEY=VALUE"),
    ("slurm:queue=k80", "unknown key 'queue'"),
    ("slurm:account=lab", "--slurm-arg"),
    ("slurm:partition=a,partition=b", "partition given twice"),
    ("slurm:exclusive=maybe", "say yes or no"),
    ("slurm:name=a/b", "name 'a/b'"),
])
def test_a_bad_target_is_one_clear_error(spec, fragment):
    with pytest.raises(UserError) as error:
        parse_on(spec)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_two_targets_of_one_name_are_refused():
    assert [t.name for t in parse_targets(["slurm:partition=k80", "slurm:partition=v100"])] == ["k80", "v100"]
    with pytest.raises(UserError, match="name=..."):
        parse_targets(["slurm:partition=v100,gres=gpu:1", "slurm:partition=v100,gres=gpu:2"])
    assert [t.name for t in parse_targets([])] == ["slurm"]


# ---------------------------------------------------------------------------- squeue and sacct

# `squeue -h -r -t all -j 1,2,3,4 -O JobID:|,Name:|,State:|,Reason:|,exit_code:|,NodeList:|` (Slurm 22.05.8)
SQUEUE = """\
1|tg-abc-cpu@x|FAILED|NonZeroExitCode|768|localhost|
3|sbatch|PENDING|DependencyNeverSatisfied|0||
2|tg-def|COMPLETING|None|15|localhost|
4|sbatch|RUNNING|None|0|localhost|
"""
# `sacct -c -P -n -j 1,2,3 -o JobID,JobName,State,ExitCode,NodeList`: job 1 twice (ids restarted)
SACCT_COMPLETION = """\
1|tg-old-run|COMPLETED|0:0|localhost
1|tg-abc-cpu@x|FAILED|3:0|localhost
2|tg-def|CANCELLED|0:0|localhost
3|sbatch|CANCELLED|0:0|(null)
"""
# `sacct -X -P -n -o JobID,JobName,State,ExitCode,NodeList,Reason` with slurmdbd
SACCT = """\
41|tg-a-gpu@t10+v100|CANCELLED by 1234|0:15|gpu07|None
42|tg-b-cpu@t10+v100|OUT_OF_MEMORY|0:125|gpu08|OutOfMemory
43|tg-c-cpu@t10+k80|TIMEOUT|0:0|gpu01|TimeLimit
43.batch|batch|CANCELLED|0:15|gpu01|
44|tg-d-cpu@t10+k80|NODE_FAIL|0:0|gpu02|NodeDown
"""


def test_squeue_states_exit_codes_and_reasons():
    states = slurmstate.parse_squeue(SQUEUE)
    assert set(states) == {"1", "2", "3", "4"}
    failed, completing, pending, running = states["1"], states["2"], states["3"], states["4"]
    assert (failed.state, failed.exit_code, failed.signal, failed.reason) == ("FAILED", 3, None, "NonZeroExitCode")
    assert (completing.state, completing.signal, completing.active) == ("COMPLETING", 15, True)
    assert pending.node is None and pending.never_starts and "depends on" in pending.never_starts
    assert running.running and running.reason == "" and running.node == "localhost"
    assert not failed.active and failed.name == "tg-abc-cpu@x"


def test_sacct_keeps_every_job_of_an_id_and_the_launcher_picks_its_own_by_name():
    remembered = slurmstate.parse_sacct(SACCT_COMPLETION, slurmstate.SACCT_COMPLETION_FIELDS)
    assert len(remembered["1"]) == 2
    mine = slurmstate.pick(remembered, "1", "tg-abc-cpu@x")
    assert mine.state == "FAILED" and mine.exit_code == 3
    assert slurmstate.pick(remembered, "1", "tg-someone-else") is None
    assert slurmstate.pick(remembered, "3", "sbatch").node is None


def test_sacct_with_accounting_says_who_cancelled_and_skips_steps():
    jobs = {job_id: states[-1] for job_id, states in slurmstate.parse_sacct(SACCT).items()}
    assert set(jobs) == {"41", "42", "43", "44"}
    assert (jobs["41"].state, jobs["41"].by, jobs["41"].signal) == ("CANCELLED", "1234", 15)
    assert jobs["42"].state == "OUT_OF_MEMORY" and jobs["44"].node == "gpu02"


def test_pending_reasons_that_resolve_are_waits():
    for reason in ("Resources", "Priority", "QOSJobLimit", "ReqNodeNotAvail", "BeginTime", "JobHeldUser"):
        assert JobState("1", "n", "PENDING", reason).never_starts is None
    for reason in ("PartitionConfig", "DependencyNeverSatisfied", "BadConstraints", "InvalidAccount"):
        assert JobState("1", "n", "PENDING", reason).never_starts
    assert JobState("1", "n", "RUNNING", "PartitionConfig").never_starts is None


# ------------------------------------------------------------------------------------- endings

OK_RECORD = {"status": "ok", "exit_code": 0, "node": "gpu07"}
FAILED_RECORD = {"status": "failed", "exit_code": 3}
SIGNALLED_RECORD = {"status": "interrupted", "exit_code": -15}


def state(name, **kwargs):
    return JobState("7", "tg-x", name, **kwargs)


@pytest.mark.parametrize("slurm, record, ours, expected", [
    # The worker's word on the script stands; Slurm's state says why when the script did not end by itself.
    (state("COMPLETED"), OK_RECORD, False, ("ok", 0, None)),
    (None, OK_RECORD, False, ("ok", 0, None)),
    (state("FAILED", exit_code=3), FAILED_RECORD, False, ("failed", 3, None)),
    (state("TIMEOUT", node="gpu01"), SIGNALLED_RECORD, False, ("timeout", -15, "time limit ended the job on gpu01")),
    (state("TIMEOUT"), None, False, ("timeout", None, "TIMEOUT")),
    (state("OUT_OF_MEMORY", node="gpu08"), {"status": "failed", "exit_code": -9}, False,
     ("failed", -9, "out of memory: Slurm's memory limit (--mem) killed it on gpu08")),
    (state("NODE_FAIL", node="gpu02"), None, False, ("failed", None, "node gpu02 failed while it ran (NODE_FAIL)")),
    (state("CANCELLED", by="1234"), SIGNALLED_RECORD, False, ("cancelled", -15, "cancelled outside this "
                                                                               "comparison by uid 1234")),
    (state("CANCELLED"), SIGNALLED_RECORD, True, ("interrupted", -15, None)),
    (state("CANCELLED"), None, True, ("interrupted", None, None)),
    (state("PREEMPTED"), SIGNALLED_RECORD, False, ("cancelled", -15, "preempted")),
    (state("FAILED", exit_code=slurmstate.NO_JOB_DIR, node="gpu03"), None, False,
     ("failed", 97, "node gpu03 cannot see the job's directory .runs/x/slurm-t: the stack and --out must be on a "
                    "filesystem the nodes share")),
    (state("FAILED", exit_code=1, reason="JobLaunchFailure"), None, False,
     ("failed", 1, "before theanogpu's worker recorded anything")),
    (None, None, False, ("failed", None, "Slurm no longer knows this job and it left no exit record")),
])
def test_each_way_a_job_ends_has_its_status_and_reason(slurm, record, ours, expected):
    ended = ending(slurm, record, ours, ".runs/x/slurm-t")
    status, code, reason = expected
    assert (ended.status, ended.exit_code) == (status, code)
    if reason is None:
        assert ended.reason is None
    else:
        assert reason in ended.reason


def test_a_pending_job_that_never_starts_says_why():
    ended = slurmstate.never_started(state("PENDING", reason="PartitionConfig"))
    assert ended.status == "failed"
    assert ended.reason.startswith("never started: Slurm keeps it pending for PartitionConfig: the partition")


# ---------------------------------------------------------------------------------- submitting


def test_sbatch_line_adds_a_time_limit_only_when_the_user_gave_none():
    argv = slurmstate.sbatch_argv("tg-t-cpu", ["--exclusive", "--partition=k80"], timeout=3600)
    assert argv[:4] == ["sbatch", "--parsable", "--job-name=tg-t-cpu", "--output=/dev/null"]
    assert "--time=62" in argv and argv[-2:] == ["--exclusive", "--partition=k80"]
    for theirs in (["--time=10"], ["-t", "10"], ["-t10"], ["--time", "5"]):
        assert not any(arg.startswith("--time=6") for arg in slurmstate.sbatch_argv("n", theirs, timeout=3600))
    assert not any(arg.startswith("--time") for arg in slurmstate.sbatch_argv("n", [], timeout=None))
    assert "--test-only" in slurmstate.sbatch_argv("n", [], test_only=True)


def test_job_names_carry_the_token_and_a_safe_label():
    name = slurmstate.job_name("20261201T1200-ab12cd", "gpu cnmem@/opt/venv+k80#2")
    assert name == "tg-20261201T1200-ab12cd-gpu_cnmem@_opt_venv+k80#2"
    assert len(slurmstate.job_name("t", "x" * 500)) == 120
    assert slurmstate.parse_job_id("1234\n") == "1234" and slurmstate.parse_job_id("55;cluster2") == "55"
    assert slurmstate.parse_job_id("") is None


def _run_script(tmp_path, python, job_dir):
    script = tmp_path / "job.sh"
    script.write_text(slurmstate.job_script(str(python), str(job_dir), "cpu@x", worker="json.tool",
                                            job_file="job.json"))
    return subprocess.run(["bash", str(script)], capture_output=True, text=True, cwd=str(tmp_path))


def test_the_job_script_checks_what_the_node_sees_then_hands_over(tmp_path):
    job_dir = tmp_path / "job dir"
    # A directory the node cannot see: the script's own exit code, which the launcher turns into words.
    assert _run_script(tmp_path, sys.executable, job_dir).returncode == slurmstate.NO_JOB_DIR
    job_dir.mkdir()
    proc = _run_script(tmp_path, tmp_path / "no-python", job_dir)
    assert proc.returncode == slurmstate.NO_PYTHON
    assert "cannot run" in (job_dir / "slurm.out").read_text()
    # Everything there: the script execs `python -m <worker> <job dir>/job.json` (json.tool stands in
    # for the worker module here), its output in slurm.out, in the job's directory.
    (job_dir / "job.json").write_text('{"a": 1}')
    proc = _run_script(tmp_path, sys.executable, job_dir)
    assert proc.returncode == 0, (job_dir / "slurm.out").read_text()
    assert '"a": 1' in (job_dir / "slurm.out").read_text()


def test_the_job_script_is_what_slurm_gets_on_stdin():
    text = slurmstate.job_script("/opt/py bin/python", "/shared/out/.runs/cpu@x/slurm-t", "cpu@x")
    assert text.startswith("#!/bin/bash\n")
    assert "exec '/opt/py bin/python' -m theanogpu.run.worker /shared/out/.runs/cpu@x/slurm-t/job.json" in text
    assert "cd /shared/out/.runs/cpu@x/slurm-t 2>/dev/null || exit 97\nexec >>slurm.out 2>&1\n" in text
