"""EDGE: the Slurm launcher: each run one Slurm job, watched with one squeue per poll for all of them.

``SlurmLauncher.execute`` submits every job it is handed (``sbatch --parsable``, the job script on
stdin), tells the comparison at once (``JobEvents.submitted``: the job id is in results.json before the
job ends), then polls. Each poll cycle costs the same whatever the number of jobs:

- one ``squeue`` for every job still in flight (``-j`` with all their ids);
- for jobs that squeue no longer knows (slurmctld forgets a job ``MinJobAge`` after it ends), one
  ``sacct`` (slurmdbd), else one ``sacct -c`` (the job completion file), else the job's own exit file;
- one ``scancel`` for every job to stop (Ctrl-C, ``--until-stable``, a pending reason that never resolves);
- no Slurm call to read the runs' output: each job's log is on the shared filesystem and is read from
  where the last poll left off, so the live display and ``--until-stable`` see the lines as locally.

Inside the job the worker (worker.py) runs the script as compare does here and writes ``exit.json``;
Slurm's final state says why a job ended when the script did not end by itself (slurmstate.py).
Everything is found through the job's own directory, unique per submission, and its job name, never
through the job id alone: ids restart when a cluster's state is wiped.
"""

import collections
import os
import secrets
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    Any,
    Callable,
    Counter,
    Deque,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from theanogpu.clock import utc_now
from theanogpu.errors import UserError
from theanogpu.logparse.timestamps import split_line
from theanogpu.run import jobfile, slurmstate
from theanogpu.run.launcher import Job, JobEvents, Launcher, Outcome
from theanogpu.run.logfile import RunLog, check_log_path, updates_path
from theanogpu.run.slurmstate import Ending, JobState
from theanogpu.run.targets import ClusterTarget, parse_on
from theanogpu.updates import read_point

POLL_SECONDS = 5.0
POLL_VARIABLE = "THEANOGPU_SLURM_POLL"  # seconds between polls (tests and big comparisons change it)
# How long a job may stay in flight after its worker wrote a non-ok exit record, waiting for Slurm's
# final word (OUT_OF_MEMORY and the like); and after a cancel of ours, waiting for Slurm to confirm it.
SETTLE_SECONDS = 30.0
# Polls in which neither squeue nor sacct knows a job (and it left no exit record) before it counts as lost.
LOST_POLLS = 3
COMMAND_TIMEOUT = 120.0
TAIL_LINES = 20
_TEST_SCRIPT = "#!/bin/bash\ntrue\n"


class Slurm:
    """Slurm's commands, each call counted and timed (the README's scale figures come from these)."""

    def __init__(self, timeout: float = COMMAND_TIMEOUT) -> None:
        self.timeout = timeout
        self.calls: Dict[str, int] = collections.Counter()
        self.seconds: Dict[str, List[float]] = collections.defaultdict(list)
        self.accounting: Optional[str] = None  # "sacct" or "sacct -c" once one answered; "none": neither

    def run(self, argv: Sequence[str], stdin: Optional[str] = None) -> subprocess.CompletedProcess:
        begin = time.monotonic()
        try:
            return self._execute(argv, stdin)
        except FileNotFoundError:
            raise UserError("--launcher slurm: %s not found on PATH; run compare where Slurm's commands work (a "
                            "login node, or after `module load slurm`)" % argv[0]) from None
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(list(argv), 124, "", "%s did not answer in %d s" % (argv[0],
                                                                                                  self.timeout))
        finally:
            name = argv[0] + (" -c" if argv[0] == "sacct" and "-c" in argv else "") + (
                " --test-only" if "--test-only" in argv else "")
            self.calls[name] += 1
            self.seconds[name].append(time.monotonic() - begin)

    def _execute(self, argv: Sequence[str], stdin: Optional[str]) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=self.timeout,
                              stdin=None if stdin is not None else subprocess.DEVNULL)

    def submit(self, argv: Sequence[str], script: str) -> Tuple[Optional[str], str]:
        """(job id, "") or (None, Slurm's message)."""
        proc = self.run(argv, stdin=script)
        job_id = slurmstate.parse_job_id(proc.stdout) if proc.returncode == 0 else None
        return job_id, "" if job_id else slurmstate.one_line(proc.stderr or proc.stdout)

    def squeue(self, ids: Sequence[str]) -> Tuple[Optional[Dict[str, JobState]], str]:
        """({job id: state} for the ids slurmctld still knows, "") or (None, why squeue failed)."""
        proc = self.run(["squeue", "-h", "-r", "-t", "all", "-j", ",".join(ids), "-O", slurmstate.SQUEUE_FORMAT])
        if proc.returncode == 0:
            return slurmstate.parse_squeue(proc.stdout), ""
        if "Invalid job id" in proc.stderr:  # none of them is known any more: an answer, not a failure
            return {}, ""
        return None, slurmstate.one_line(proc.stderr)

    def finished(self, ids: Sequence[str]) -> Dict[str, List[JobState]]:
        """What accounting remembers of jobs that slurmctld forgot: sacct (slurmdbd), else sacct -c (the job
        completion file); {} when neither is there."""
        joined = ",".join(ids)
        if self.accounting in (None, "sacct"):
            proc = self.run(["sacct", "-X", "-P", "-n", "-j", joined, "-o", ",".join(slurmstate.SACCT_FIELDS)])
            if proc.returncode == 0:
                self.accounting = "sacct"
                return slurmstate.parse_sacct(proc.stdout)
        if self.accounting in (None, "sacct -c"):
            proc = self.run(["sacct", "-c", "-P", "-n", "-j", joined, "-o",
                             ",".join(slurmstate.SACCT_COMPLETION_FIELDS)])
            if proc.returncode == 0:
                self.accounting = "sacct -c"
                return slurmstate.parse_sacct(proc.stdout, slurmstate.SACCT_COMPLETION_FIELDS)
        self.accounting = "none"
        return {}

    def cancel(self, ids: Sequence[str]) -> None:
        if ids:
            self.run(["scancel"] + list(ids))

    def summary(self, polls: int, poll_seconds: float) -> str:
        """One line: what watching the jobs cost."""
        def median_ms(name: str) -> str:
            times = self.seconds.get(name) or [0.0]
            return "%.0f ms" % (statistics.median(times) * 1000)

        parts = ["%d sbatch (median %s)" % (self.calls["sbatch"], median_ms("sbatch"))]
        parts.append("%d polls every %gs: %d squeue (median %s)" % (polls, poll_seconds, self.calls["squeue"],
                                                                     median_ms("squeue")))
        for name in ("sacct", "sacct -c", "scancel"):
            if self.calls[name]:
                parts.append("%d %s" % (self.calls[name], name))
        return ", ".join(parts)


class _Growing:
    """A file another machine appends to, read from where the last poll left off, whole lines only."""

    def __init__(self) -> None:
        self.offset = 0
        self.partial = b""

    def new_lines(self, path: Path) -> List[str]:
        try:
            with open(str(path), "rb") as handle:
                if os.fstat(handle.fileno()).st_size < self.offset:  # a new file (the worker replaced an earlier one)
                    self.offset, self.partial = 0, b""
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            return []
        self.offset += len(data)
        chunks = (self.partial + data).split(b"\n")
        self.partial = chunks.pop()
        return [chunk.decode("utf-8", errors="replace") for chunk in chunks]


@dataclass
class _Tracked:
    """One job in flight."""

    job: Job
    job_id: str
    name: str
    job_dir: Path
    rel_dir: str
    target: str
    submitted: str
    log: "_Growing" = field(default_factory=lambda: _Growing())
    updates: "_Growing" = field(default_factory=lambda: _Growing())
    started: bool = False
    started_at: float = 0.0
    node: Optional[str] = None
    state: Optional[JobState] = None
    unknown_polls: int = 0
    cancel_sent: Optional[float] = None  # when we asked Slurm to cancel it
    exit_seen: Optional[float] = None  # when its exit record appeared
    final_seen: Optional[float] = None  # when Slurm first said it ended
    tail: Deque[str] = field(default_factory=lambda: collections.deque(maxlen=TAIL_LINES))

    def facts(self, status: Optional[str] = None) -> Dict[str, Any]:
        facts: Dict[str, Any] = {"launcher": "slurm", "target": self.target, "job_id": self.job_id,
                                 "job_dir": self.rel_dir, "submitted": self.submitted}
        if self.node:
            facts["node"] = self.node
        if status:
            facts["status"] = status
        return facts


def poll_seconds(environ: Mapping[str, str]) -> float:
    value = environ.get(POLL_VARIABLE)
    if not value:
        return POLL_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0.05 <= seconds <= 3600:
        raise UserError("%s=%s: expected seconds between polls (0.05 to 3600)" % (POLL_VARIABLE, value))
    return seconds


class SlurmLauncher(Launcher):
    """Every job a Slurm job on its cluster target; all of them in flight at once, Slurm queueing them."""

    name = "slurm"

    def __init__(self, targets: Sequence[ClusterTarget], slurm_args: Sequence[str] = (), out: Optional[Path] = None,
                 note: Callable[[str], None] = lambda text: None, status: Callable[[str], None] = lambda text: None,
                 poll: Optional[float] = None, slurm: Optional[Slurm] = None, python: str = sys.executable) -> None:
        self.targets = list(targets) or [parse_on("slurm")]
        self.slurm_args = list(slurm_args)
        self.out = out
        self.note = note  # a permanent line for the user
        self.status = status  # a transient one
        self.poll = poll_seconds(os.environ) if poll is None else poll
        self.slurm = slurm or Slurm()
        self.python = python
        self.polls = 0
        self.submit_seconds = 0.0

    # -- before anything is submitted ------------------------------------------------------------
    def check(self, timeout: Optional[float] = None) -> None:
        """Slurm's commands are here and each target's job would be accepted (``sbatch --test-only``): else
        one line and exit 2, before any job is submitted."""
        if shutil.which("sbatch") is None:
            raise UserError("--launcher slurm: sbatch not found on PATH; run compare where Slurm's commands work "
                            "(a login node, or after `module load slurm`)")
        for target in self.targets:
            argv = slurmstate.sbatch_argv("theanogpu-check", self._options(target), timeout, test_only=True)
            proc = self.slurm.run(argv, stdin=_TEST_SCRIPT)
            if proc.returncode != 0:
                raise UserError("%s: Slurm rejects the job: %s" % (self._spelled(target),
                                                                   slurmstate.one_line(proc.stderr or proc.stdout)))
        self._check_shared()

    def _check_shared(self) -> None:
        """A word up front when --out or theanogpu itself is on a disk of this machine alone while the
        cluster has other nodes: their jobs would fail (each says so, from the node)."""
        proc = self.slurm.run(["sinfo", "-h", "-N", "-o", "%N"])
        here = {"localhost", socket.gethostname(), socket.gethostname().split(".")[0]}
        others = sorted(set(proc.stdout.split()) - here) if proc.returncode == 0 else []
        if not others:
            return
        for what, path in (("--out", self.out), ("theanogpu's Python", Path(self.python))):
            kind = filesystem_type(path) if path is not None else None
            if kind in LOCAL_FILESYSTEMS:
                self.note("slurm: note: %s (%s) is on a local %s filesystem of this machine; nodes such as %s "
                          "cannot see it: %s" % (what, path, kind, others[0], slurmstate.SHARED_FS))

    def sbatch_line(self, target: Optional[ClusterTarget], label: str, timeout: Optional[float] = None) -> str:
        """The sbatch command a run is submitted with (compare --dry-run shows it)."""
        argv = slurmstate.sbatch_argv(slurmstate.job_name("<token>", label), self._options(target or self.targets[0]),
                                      timeout)
        return " ".join(shlex.quote(arg) for arg in argv) + " < job script (exec %s -m theanogpu.run.worker " \
            "<run dir>/slurm-<token>/job.json)" % shlex.quote(self.python)

    def _spelled(self, target: ClusterTarget) -> str:
        where = "--on=slurm" + (":" + target.spec if target.spec else "")
        return where + ("" if not self.slurm_args else " with " + " ".join("--slurm-arg=" + a for a in self.slurm_args))

    def _options(self, target: ClusterTarget) -> List[str]:
        # The user's own --slurm-arg last: where sbatch takes the last of an option, theirs wins.
        return target.sbatch_options() + self.slurm_args

    # -- the launcher ----------------------------------------------------------------------------
    def execute(self, jobs: Iterable[Job], events: JobEvents) -> Iterator[Tuple[Job, Outcome]]:
        live: List[_Tracked] = []
        begin = time.monotonic()
        try:
            for job in jobs:
                if job.attach is not None:
                    live.append(self._attach(job))
                    continue
                submitted = self._submit(job, events, first=not live and not self.slurm.calls["sbatch"])
                if isinstance(submitted, Outcome):
                    yield job, submitted
                else:
                    live.append(submitted)
            self.submit_seconds = time.monotonic() - begin
            if live:
                self.note("slurm: %d job%s in flight (%s), polling every %gs" % (
                    len(live), "s" if len(live) != 1 else "", _id_range(live), self.poll))
            yield from self._watch(live, events)
        finally:
            # Only when this comparison ends early (an error; Ctrl-C cancels and waits): the jobs go on.
            if live:
                self.note("slurm: %d job%s of this comparison still in Slurm (%s): run the same command to "
                          "re-attach, or scancel them" % (len(live), "s" if len(live) != 1 else "", _id_range(live)))
            if self.polls:
                self.note("slurm: %s; submitting took %.1f s" % (self.slurm.summary(self.polls, self.poll),
                                                                self.submit_seconds))

    def _submit(self, job: Job, events: JobEvents, first: bool) -> Union[_Tracked, Outcome]:
        """The job in Slurm's queue (and on record), or the outcome of a rejected one."""
        target = job.where or self.targets[0]
        token = "%s-%s" % (time.strftime("%Y%m%dT%H%M%S"), secrets.token_hex(3))
        job_dir = job.run_dir / ("slurm-" + token)
        job_dir.mkdir(parents=True, exist_ok=True)
        # An earlier attempt's log would otherwise be read as this job's first lines until the job starts.
        check_log_path(job.log_path)
        if job.log_path.exists():
            job.log_path.unlink()
        jobfile.write_job(job_dir, self._job_record(job))
        name = slurmstate.job_name(token, job.label)
        argv = slurmstate.sbatch_argv(name, self._options(target), job.timeout)
        job_id, message = self.slurm.submit(argv, slurmstate.job_script(self.python, str(job_dir), job.label))
        if job_id is None:
            if first:  # nothing of this comparison is in Slurm yet: stop here, as for a bad option
                raise UserError("%s: Slurm rejects the job: %s" % (self._spelled(target), message))
            _log_without_output(job, "theanogpu: Slurm rejected the job: %s" % message)
            return Outcome("failed", None, 0.0, [message], reason="rejected at submit: %s" % message,
                           facts={"launcher": "slurm", "target": target.name})
        tracked = _Tracked(job, job_id, name, job_dir, self._relative(job_dir), target.name, utc_now())
        events.submitted(job, tracked.facts("submitted"))
        return tracked

    def _attach(self, job: Job) -> _Tracked:
        """A job an earlier comparison submitted: watched from where it is, its log read from the start."""
        entry = job.attach or {}
        rel_dir = str(entry.get("job_dir") or "")
        job_dir = (self.out / rel_dir) if self.out is not None and not os.path.isabs(rel_dir) else Path(rel_dir)
        token = job_dir.name[len("slurm-"):]
        target = str(entry.get("target") or (job.where.name if job.where else self.targets[0].name))
        tracked = _Tracked(job, str(entry.get("job_id")), slurmstate.job_name(token, job.label), job_dir, rel_dir,
                           target, str(entry.get("submitted") or ""))
        tracked.node = entry.get("node")
        return tracked

    def _job_record(self, job: Job) -> Dict[str, Any]:
        """job.json: what the worker needs to run the script on the node as compare runs it here."""
        here = os.environ
        needs = [job.argv[0], str(job.run_dir), str(job.log_path.parent)]
        needs += [arg for arg in job.argv[1:] if os.path.isabs(arg) and os.path.exists(arg)]
        return {"label": job.label, "argv": job.argv, "env": job.env, "log": str(job.log_path),
                "run_dir": str(job.run_dir), "timeout": job.timeout, "header": job.header, "cwd": os.getcwd(),
                # Set on purpose by the variant, the stack or the tool, so they win over the node's.
                "own_env": sorted(key for key, value in job.env.items() if here.get(key) != value),
                "needs": list(dict.fromkeys(needs))}

    def _relative(self, job_dir: Path) -> str:
        if self.out is not None:
            try:
                return str(job_dir.relative_to(self.out))
            except ValueError:
                pass
        return str(job_dir)

    # -- watching --------------------------------------------------------------------------------
    def _watch(self, live: List[_Tracked], events: JobEvents) -> Iterator[Tuple[Job, Outcome]]:
        squeue_trouble = ""
        while live:
            self.polls += 1
            self._cancel([t for t in live if t.job.stop.is_set() and t.cancel_sent is None], "asked to stop")
            states, trouble = self.slurm.squeue([t.job_id for t in live])
            if trouble and trouble != squeue_trouble:
                self.note("slurm: squeue failed (%s); still waiting for the jobs (Ctrl-C cancels them)" % trouble)
            squeue_trouble = trouble
            mine: Dict[str, Optional[JobState]] = {}
            if states is not None:
                for tracked in live:
                    state = states.get(tracked.job_id)
                    mine[tracked.job_id] = state if state is not None and state.name == tracked.name else None
                forgotten = [t for t in live if mine.get(t.job_id) is None]
                if forgotten:
                    remembered = self.slurm.finished([t.job_id for t in forgotten])
                    for tracked in forgotten:
                        mine[tracked.job_id] = slurmstate.pick(remembered, tracked.job_id, tracked.name)
            never = []
            for tracked in list(live):
                known = tracked.job_id in mine
                ended = self._decide(tracked, mine.get(tracked.job_id), known, events)
                if ended is None:
                    continue
                if ended.reason and ended.reason.startswith("never started") and tracked.cancel_sent is None:
                    never.append(tracked)
                live.remove(tracked)
                yield tracked.job, self._outcome(tracked, ended)
            self._cancel(never, "pending for a reason that never resolves")
            if live:
                self._show(live)
                self._sleep(live)

    def _decide(self, tracked: _Tracked, state: Optional[JobState], known: bool,
                events: JobEvents) -> Optional[Ending]:
        """The job's ending when it has ended, else None (and the comparison hears that it started)."""
        now = time.monotonic()
        record = jobfile.read_exit(tracked.job_dir)
        if state is not None:
            tracked.state = state
            tracked.node = state.node or tracked.node
        if (state is not None and state.running or record is not None) and not tracked.started:
            tracked.started, tracked.started_at = True, now
            if record is not None and record.get("node"):
                tracked.node = record["node"]
            events.started(tracked.job)
            events.submitted(tracked.job, tracked.facts("running"))
        if tracked.started:
            self._read_log(tracked, events)
        if record is not None and tracked.exit_seen is None:
            tracked.exit_seen = now
        cancelled = tracked.cancel_sent is not None
        if state is not None and not state.active:
            if tracked.final_seen is None:
                tracked.final_seen = now
            # A job that ran leaves an exit record; on a network filesystem it may show here a little after
            # Slurm's word, and without it the run's own status would be lost.
            if record is None and tracked.started and now - tracked.final_seen < SETTLE_SECONDS and \
                    state.exit_code not in (slurmstate.NO_JOB_DIR, slurmstate.NO_PYTHON):
                return None
            return slurmstate.ending(state, record, cancelled, tracked.rel_dir)
        if state is not None and state.never_starts:
            return slurmstate.never_started(state)
        if record is not None and tracked.exit_seen is not None and now - tracked.exit_seen > SETTLE_SECONDS:
            return slurmstate.ending(None, record, cancelled, tracked.rel_dir)
        if cancelled and tracked.cancel_sent is not None and now - tracked.cancel_sent > SETTLE_SECONDS:
            return Ending("interrupted", None, "cancelled; Slurm had not confirmed the end after %d s"
                          % SETTLE_SECONDS)
        if state is None and known:  # neither squeue nor accounting knows it
            tracked.unknown_polls += 1
            if record is not None or tracked.unknown_polls >= LOST_POLLS:
                return slurmstate.ending(None, record, cancelled, tracked.rel_dir)
        return None

    def _outcome(self, tracked: _Tracked, ended: Ending) -> Outcome:
        record = jobfile.read_exit(tracked.job_dir) or {}
        if tracked.started:
            self._read_log(tracked, None)
        if not tracked.job.log_path.exists():
            _log_without_output(tracked.job, "theanogpu: job %s ended %s without running the script%s" % (
                tracked.job_id, tracked.state.state if tracked.state else "unseen",
                ": " + ended.reason if ended.reason else ""))
        facts = tracked.facts()
        facts["node"] = record.get("node") or tracked.node
        facts["job_gpus"] = list(record.get("gpus") or [])
        # Slurm's final word only: a job given up on while Slurm still called it running has none.
        facts["job_state"] = tracked.state.state if tracked.state is not None and not tracked.state.active else None
        if record.get("started"):
            facts["started"] = record["started"]  # the job's own clock: when the script started
        tail = list(record.get("tail") or tracked.tail) or jobfile.output_tail(tracked.job_dir)
        wall = record.get("wall_seconds")
        if not isinstance(wall, (int, float)):
            wall = time.monotonic() - tracked.started_at if tracked.started else 0.0
        return Outcome(ended.status, ended.exit_code, float(wall), tail, reason=ended.reason, facts=facts)

    def _read_log(self, tracked: _Tracked, events: Optional[JobEvents]) -> None:
        """The lines the job added to its log (and its progress updates to their file) since the last poll,
        to the comparison (live display, --until-stable), with the times the worker wrote."""
        for raw in tracked.log.new_lines(tracked.job.log_path):
            parsed = split_line(raw)
            if parsed is None or parsed[1] == "m":
                continue
            t, stream, text = parsed
            tracked.tail.append(text)
            if events is not None:
                events.line(tracked.job, t, stream, text)
        for raw in tracked.updates.new_lines(updates_path(tracked.job.log_path)):
            point = read_point(raw)
            if point is not None and events is not None:
                events.point(tracked.job, point)

    def _cancel(self, tracked: List[_Tracked], why: str) -> None:
        """One scancel for all of them. A job stopped on purpose (--until-stable) first gets the reason in
        its directory: the worker's log then says it, as a local run's does."""
        if not tracked:
            return
        for one in tracked:
            if one.job.stop.reason:
                jobfile.write_stop(one.job_dir, one.job.stop.reason)
        self.slurm.cancel([t.job_id for t in tracked])
        now = time.monotonic()
        for one in tracked:
            one.cancel_sent = now
        self.note("slurm: cancelled %d job%s (%s): %s" % (len(tracked), "s" if len(tracked) != 1 else "",
                                                          _id_range(tracked), why))

    def _show(self, live: List[_Tracked]) -> None:
        counts: Counter[str] = collections.Counter()
        reasons: Counter[str] = collections.Counter()
        for tracked in live:
            state = tracked.state.state if tracked.state is not None else "SUBMITTED"
            counts[state] += 1
            if tracked.state is not None and tracked.state.state == "PENDING" and tracked.state.reason:
                reasons[tracked.state.reason] += 1
        text = ", ".join("%d %s" % (n, state.lower()) for state, n in sorted(counts.items()))
        if reasons:
            text += " (%s)" % ", ".join("%s: %d" % item for item in reasons.most_common(3))
        self.status("slurm: %s" % text)

    def _sleep(self, live: List[_Tracked]) -> None:
        """Until the next poll; a Ctrl-C (the harness's stop, shared by every job) cuts it short."""
        deadline = time.monotonic() + self.poll
        probe = live[0].job.stop
        while time.monotonic() < deadline:
            if probe.is_set() and live[0].cancel_sent is None:
                return
            time.sleep(min(0.1, max(deadline - time.monotonic(), 0)))


def _log_without_output(job: Job, line: str) -> None:
    """The log of a run whose script never ran (rejected, cancelled while queued, never started, its node
    could not see the files): it still says what the run was and why it has no output."""
    with RunLog(job.log_path) as log:
        for header in job.header:
            log.write(0.0, "m", header)
        log.write(0.0, "m", line)


# Filesystems that live on one machine: a path on one is not visible from the cluster's other nodes.
LOCAL_FILESYSTEMS = ("ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs", "f2fs", "vfat", "ramfs")


def filesystem_type(path: Path, mounts: str = "/proc/mounts") -> Optional[str]:
    """The type of the filesystem *path* is on (the longest mount point above it), or None."""
    try:
        lines = Path(mounts).read_text(encoding="utf-8", errors="replace").splitlines()
        target = os.path.realpath(str(path))
    except OSError:
        return None
    best, kind = "", None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fields[2]
    return kind


def _id_range(tracked: Sequence[_Tracked]) -> str:
    ids = [t.job_id for t in tracked if t.job_id]
    if len(ids) <= 3:
        return "job%s %s" % ("s" if len(ids) != 1 else "", " ".join(ids))
    return "jobs %s ... %s" % (ids[0], ids[-1])
