"""PURE: Slurm's words, read and written: squeue/sacct output in, job states and endings out; the job
script and the sbatch command line that the Slurm launcher (slurm.py) submits.

Kept apart from the launcher so that every rule here is tested on recorded outputs, without a cluster:
which states are still moving, which pending reasons can never resolve, and what a run's status and
reason are for each way a job can end (the worker's own exit record first, Slurm's state for the why).
"""

import re
import shlex
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

# squeue: one line per job, fields ending in "|" (a format with widths would cut long names).
SQUEUE_FIELDS = ("JobID", "Name", "State", "Reason", "exit_code", "NodeList")
SQUEUE_FORMAT = ",".join("%s:|" % name for name in SQUEUE_FIELDS)
# sacct (slurmdbd) and sacct -c (the job completion file): -P, "|" between fields.
SACCT_FIELDS = ("JobID", "JobName", "State", "ExitCode", "NodeList", "Reason")
SACCT_COMPLETION_FIELDS = ("JobID", "JobName", "State", "ExitCode", "NodeList")

# States a job leaves by itself (it is queued, starting, running or cleaning up).
ACTIVE = ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_FED",
          "REQUEUE_HOLD", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD")
RUNNING = ("RUNNING", "COMPLETING", "SIGNALING", "STAGE_OUT")
# Pending reasons that never resolve by themselves: waiting would be forever, so the run ends with the
# reason in words. (Resources, Priority, QOSJobLimit, ReqNodeNotAvail ... are waits that do end.)
NEVER_STARTS = {
    "DependencyNeverSatisfied": "a job it depends on ended in a way that can never satisfy the dependency",
    "PartitionConfig": "the partition cannot run it as asked (more CPUs, nodes or memory than it has)",
    "PartitionTimeLimit": "its time limit is longer than the partition allows",
    "QOSTimeLimit": "its time limit is longer than its QOS allows",
    "AssociationTimeLimit": "its time limit is longer than its account allows",
    "BadConstraints": "no node has the features it asks for (constraint)",
    "InvalidAccount": "its account is not valid",
    "InvalidQOS": "its QOS is not valid",
}
# Exit codes of the job script itself (slurmstate.job_script), before the worker runs.
NO_JOB_DIR = 97
NO_PYTHON = 98
SHARED_FS = "the stack and --out must be on a filesystem the nodes share"


@dataclass(frozen=True)
class JobState:
    """One job as squeue or sacct last described it."""

    job_id: str
    name: str
    state: str  # PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY, NODE_FAIL ...
    reason: str = ""  # the pending reason, or why it ended (NonZeroExitCode, JobLaunchFailure); "" for none
    exit_code: Optional[int] = None
    signal: Optional[int] = None
    node: Optional[str] = None
    by: Optional[str] = None  # "CANCELLED by 1234": who cancelled it (a uid)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def running(self) -> bool:
        return self.state in RUNNING

    @property
    def never_starts(self) -> Optional[str]:
        """Why a pending job will never start, in words; None when it may."""
        return NEVER_STARTS.get(self.reason) if self.state == "PENDING" else None


def _node(text: str) -> Optional[str]:
    text = text.strip()
    return None if text in ("", "(null)", "None assigned") else text


def _reason(text: str) -> str:
    text = text.strip()
    return "" if text in ("None", "(null)") else text


def _wait_status(text: str) -> Tuple[Optional[int], Optional[int]]:
    """(exit code, signal) from squeue's raw wait status (``768``) or sacct's ``3:0``."""
    text = text.strip()
    if ":" in text:
        code, _, signal = text.partition(":")
        if code.isdigit() and signal.isdigit():
            return int(code), int(signal) or None
        return None, None
    if not text.isdigit():
        return None, None
    status = int(text)
    return status >> 8, (status & 0x7F) or None


def _state(text: str) -> Tuple[str, Optional[str]]:
    """``CANCELLED by 1234`` -> ("CANCELLED", "1234"); ``RUNNING`` -> ("RUNNING", None)."""
    state, _, by = text.strip().partition(" by ")
    return state.rstrip("+"), by.strip() or None


def parse_squeue(text: str) -> Dict[str, JobState]:
    """``squeue -h -O <SQUEUE_FORMAT>`` output -> {job id: state}."""
    found = {}
    for line in text.splitlines():
        fields = line.split("|")
        if len(fields) < len(SQUEUE_FIELDS) or not fields[0].strip():
            continue
        job_id, name, state, reason, status, nodes = (field.strip() for field in fields[:len(SQUEUE_FIELDS)])
        code, signal = _wait_status(status)
        found[job_id] = JobState(job_id, name, _state(state)[0], _reason(reason), code, signal, _node(nodes))
    return found


def parse_sacct(text: str, fields: Sequence[str] = SACCT_FIELDS) -> Dict[str, List[JobState]]:
    """``sacct -P -n -o <fields>`` output -> {job id: [states, oldest first]}.

    One id may have several lines: ids restart after a cluster's state is wiped, and the completion
    file keeps every job that ever ended. The caller picks its own by name.
    """
    found: Dict[str, List[JobState]] = {}
    for line in text.splitlines():
        values = dict(zip(fields, line.split("|")))
        job_id = values.get("JobID", "").strip()
        if not job_id or "." in job_id:  # job steps (123.batch) are not jobs
            continue
        state, by = _state(values.get("State", ""))
        code, signal = _wait_status(values.get("ExitCode", ""))
        found.setdefault(job_id, []).append(JobState(job_id, values.get("JobName", "").strip(), state,
                                                     _reason(values.get("Reason", "")), code, signal,
                                                     _node(values.get("NodeList", "")), by))
    return found


def pick(states: Mapping[str, List[JobState]], job_id: str, name: str) -> Optional[JobState]:
    """The latest state of job *job_id* that is ours (its *name*), or None."""
    mine = [state for state in states.get(job_id, []) if state.name == name]
    return mine[-1] if mine else None


# ------------------------------------------------------------------------------------- endings


@dataclass(frozen=True)
class Ending:
    """How a run ended: what results.json records."""

    status: str  # ok | failed | timeout | interrupted | cancelled
    exit_code: Optional[int]
    reason: Optional[str]


def ending(state: Optional[JobState], record: Optional[Mapping[str, Any]], cancelled_by_us: bool,
           job_dir: str) -> Ending:
    """The run's ending from the worker's exit *record* (exit.json: what the script did) and Slurm's final
    *state* (why the job ended when the script did not end by itself). Either may be missing: the job
    never started, or the worker never got to write."""
    if record is not None and record.get("status") in ("ok", "failed", "timeout"):
        status = str(record["status"])
        code = record.get("exit_code")
        reason = record.get("reason")
        # The script ended by itself; Slurm may still know why it failed (its memory limit killed it).
        if status == "failed" and state is not None and state.state in _WHY:
            reason = _why(state)
        return Ending(status, code, reason)
    code = record.get("exit_code") if record is not None else None
    if state is None:
        if record is not None:  # the worker was stopped (a signal) and Slurm has forgotten why
            return Ending("interrupted" if cancelled_by_us else "failed", code,
                          None if cancelled_by_us else "the job was stopped by a signal and Slurm no longer "
                          "knows why")
        return Ending("failed", None, "Slurm no longer knows this job and it left no exit record in %s "
                      "(was the cluster's state reset?)" % job_dir)
    where = " on %s" % state.node if state.node else ""
    if state.state == "TIMEOUT":
        return Ending("timeout", code, "Slurm's time limit ended the job%s (TIMEOUT)" % where)
    if state.state in ("CANCELLED", "PREEMPTED"):
        if cancelled_by_us:
            return Ending("interrupted", code, None)
        if state.state == "PREEMPTED":
            return Ending("cancelled", code, "preempted%s by a job of higher priority (PREEMPTED)" % where)
        by = " by uid %s" % state.by if state.by else ""
        return Ending("cancelled", code, "cancelled outside this comparison%s (scancel or an administrator)%s"
                      % (by, where))
    if state.state in _WHY:
        return Ending("failed", code, _why(state))
    if state.state == "FAILED" and state.exit_code == NO_JOB_DIR and record is None:
        return Ending("failed", NO_JOB_DIR, "node %s cannot see the job's directory %s: %s"
                      % (state.node or "?", job_dir, SHARED_FS))
    if state.state == "FAILED" and state.exit_code == NO_PYTHON and record is None:
        return Ending("failed", NO_PYTHON, "node %s cannot run theanogpu's Python: %s, theanogpu's too"
                      % (state.node or "?", SHARED_FS))
    if record is None:
        detail = "exit code %s" % state.exit_code if state.exit_code is not None else "no exit code"
        if state.signal:
            detail += ", signal %d" % state.signal
        return Ending("failed", state.exit_code, "the job ended %s%s (%s%s) before theanogpu's worker recorded "
                      "anything" % (state.state, where, detail, ", " + state.reason if state.reason else ""))
    return Ending("failed", code, "the job ended %s%s after a signal to the worker" % (state.state, where))


_WHY = {
    "OUT_OF_MEMORY": "out of memory: Slurm's memory limit (--mem) killed it%s (OUT_OF_MEMORY)",
    "NODE_FAIL": "node %s failed while it ran (NODE_FAIL)",
    "BOOT_FAIL": "node %s failed to boot for it (BOOT_FAIL)",
    "DEADLINE": "it could not finish before its deadline%s (DEADLINE)",
}


def _why(state: JobState) -> str:
    text = _WHY[state.state]
    if state.state in ("NODE_FAIL", "BOOT_FAIL"):
        return text % (state.node or "?")
    return text % (" on %s" % state.node if state.node else "")


def never_started(state: JobState) -> Ending:
    """A pending job whose reason can never resolve: it was cancelled, and this is why."""
    return Ending("failed", None, "never started: Slurm keeps it pending for %s: %s; cancelled"
                  % (state.reason, state.never_starts))


# --------------------------------------------------------------------------------- submitting

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+#-]")
NAME_PREFIX = "tg-"


def job_name(token: str, label: str) -> str:
    """``tg-<token>-<label>``: the token (unique per submission) tells this job from any other with the
    same id (ids restart when a cluster's state is wiped); the label is for people reading squeue."""
    return (NAME_PREFIX + token + "-" + _NAME_UNSAFE.sub("_", label))[:120]


def job_script(python: str, job_dir: str, label: str, worker: str = "theanogpu.run.worker",
               job_file: str = "job.json", output: str = "slurm.out") -> str:
    """The batch script: check that this node sees the job's directory and theanogpu's Python, then hand
    over to the worker. Slurm's own --output is /dev/null: a --output in a directory the node cannot see
    fails the job with no word at all, while this script exits with its own code (NO_JOB_DIR)."""
    q = shlex.quote
    return "\n".join([
        "#!/bin/bash",
        "# theanogpu compare, run %s: the worker runs the script as compare does locally." % _NAME_UNSAFE.sub(
            "_", label),
        "cd %s 2>/dev/null || exit %d" % (q(job_dir), NO_JOB_DIR),
        "exec >>%s 2>&1" % q(output),
        '[ -x %s ] || { echo "theanogpu: $(hostname) cannot run %s"; exit %d; }' % (q(python), q(python), NO_PYTHON),
        "exec %s -m %s %s" % (q(python), worker, q(job_dir.rstrip("/") + "/" + job_file)),
        "",
    ])


def asks_for_time(options: Sequence[str]) -> bool:
    """Whether sbatch *options* set a time limit already (then the tool adds none)."""
    for option in options:
        if option in ("-t", "--time") or option.startswith("--time="):
            return True
        if option.startswith("-t"):  # -t10
            return True
    return False


def sbatch_argv(name: str, options: Sequence[str], timeout: Optional[float] = None,
                test_only: bool = False) -> List[str]:
    """``sbatch --parsable ...`` for one job. With compare's --timeout and no time limit of the user's, Slurm
    gets one too (two minutes more: the worker's own timeout ends the run first, with its log)."""
    argv = ["sbatch", "--parsable", "--job-name=" + name, "--output=/dev/null"]
    if test_only:
        argv.append("--test-only")
    if timeout is not None and not asks_for_time(options):
        argv.append("--time=%d" % (int(timeout + 59) // 60 + 2))
    return argv + list(options)


def parse_job_id(stdout: str) -> Optional[str]:
    """``sbatch --parsable`` prints ``123`` or ``123;cluster``."""
    first = stdout.strip().splitlines()[0] if stdout.strip() else ""
    job_id = first.split(";")[0].strip()
    return job_id if job_id.isdigit() else None


def one_line(text: str) -> str:
    """Slurm's message on one line (sbatch may print several)."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip()) or "no message"
