"""A comparison: its planned runs handed to a launcher, each outcome parsed and recorded as it ends.

``Comparison.run()`` is the loop that ``theanogpu compare`` runs: keep what an earlier comparison in
the same directory finished with the same identity (identity.py; anything else runs again, and the
user is told why), prepare each run's files and command, let the launcher run it, watch its lines
(live progress, ``--until-stable``, by the parser's own epoch rules), parse its log, and rewrite
results.json after every run, so that Ctrl-C (SIGINT) or SIGTERM at any moment keeps every finished
run.
"""

import contextlib
import json
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

from theanogpu import results, steady
from theanogpu.clock import utc_now
from theanogpu.errors import WorkFailed
from theanogpu.logparse import LogParser, keras, parse_path
from theanogpu.logparse.modern import RUN_TAG
from theanogpu.records import ResultsRecord, RunEntry
from theanogpu.run import identity, outdir
from theanogpu.run.launcher import Job, Launcher, Outcome, StopFlag
from theanogpu.run.logfile import DISK_FULL, check_log_path
from theanogpu.run.plan import PlannedRun, is_stable
from theanogpu.run.progress import CompareProgress
from theanogpu.run.runenv import RunCommand, prepare_run, shell_line
from theanogpu.updates import Point

RUNS_SUBDIR = ".runs"


@dataclass
class Summary:
    """How a comparison ended."""

    results_path: Path
    record: ResultsRecord
    interrupted: bool

    @property
    def failed(self) -> bool:
        return any(run["status"] in ("failed", "timeout", "cancelled") for run in self.record["runs"])


# --until-stable: the steady rate must rest on at least this much steady training.
MIN_STEADY_SECONDS = 10.0


class _Watch:
    """One run's output as it arrives: the live epoch display and the --until-stable decision.

    The lines go through the log parser as they come, so the epoch times shown live are the ones the
    final report gives (header to the epoch's closing line). With progress updates, --until-stable
    stops a run once its steady-state throughput is known within the asked precision (steady.py);
    for a script without a progress display, once its last three epochs agree (run/plan.is_stable).
    """

    def __init__(self, progress: CompareProgress, precision: Optional[float], stop: StopFlag,
                 requested_device: str, label: str = "") -> None:
        self.progress = progress
        self.label = label  # whose epochs these are (a cluster runs many jobs at once)
        self.precision = precision  # None: run to the end
        self.stop = stop
        self.parser = LogParser(requested_device=requested_device)
        self.blocks = steady.Blocks()
        self.last_point: Optional[Point] = None
        self.updates_within_epochs = False  # progress inside an epoch, not only each epoch's closing line
        self.stopped_stable = False

    def __call__(self, t: float, stream: str, text: str) -> None:
        self.parser.feed_event(t, stream, text)
        header = keras.epoch_header(text)
        if header is None:
            return
        durations = [seconds for seconds in self.parser.epoch_seconds_so_far() if seconds is not None]
        self.progress.epoch(header[0], header[1], durations[-1] if durations else None, label=self.label)
        if self.precision is not None and not self.updates_within_epochs and is_stable(durations):
            self._stop()

    def point(self, point: Point) -> None:
        if self.last_point is not None and self.last_point.epoch == point.epoch:
            self.updates_within_epochs = True
        self.last_point = point
        completed = self.blocks.add(point)
        if self.precision is None or self.stop.is_set() or not completed:
            return
        if steady.judged(self.blocks.estimate(), self.precision, MIN_STEADY_SECONDS) is not None:
            self._stop()

    def _stop(self) -> None:
        if not self.stop.is_set():
            self.stopped_stable = True
            self.stop.set("stable")


@dataclass
class _Running:
    planned: PlannedRun
    command: RunCommand
    watch: _Watch
    identity: Dict[str, Any]
    started: str = ""


class Comparison:
    """Every planned run of one comparison, into one output directory, through one launcher."""

    def __init__(self, planned: Sequence[PlannedRun], script: Path, script_args: Sequence[str], out: Path,
                 launcher: Launcher, progress: CompareProgress, timeout: Optional[float] = None,
                 until_stable: Optional[float] = None, machine: Optional[Mapping[str, Any]] = None) -> None:
        self.planned = list(planned)
        self.script = script
        self.script_args = list(script_args)
        self.machine = dict(machine or {})  # facts the runs' logs record (nvcc on PATH)
        self._script_sha256 = identity.file_sha256(script.read_bytes())
        self.out = out
        self.launcher = launcher
        self.progress = progress
        self.timeout = timeout
        self.until_stable = until_stable  # the precision --until-stable asks for (0.02: +-2 %), or None
        self.results_path = out / "results.json"
        self.stop = StopFlag()  # the harness's own stop: Ctrl-C, SIGTERM
        self.record: ResultsRecord = {}
        self._running: Dict[str, _Running] = {}
        self._again: List[str] = []
        self._attach: Dict[str, RunEntry] = {}  # label -> the entry of a job still in a scheduler's hands

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> Summary:
        self.out.mkdir(parents=True, exist_ok=True)
        with outdir.locked(self.out):
            try:
                return self._run()
            except OSError as exc:
                if exc.errno not in DISK_FULL:
                    raise
                raise WorkFailed("disk full: cannot write %s (%s free there); every finished run is kept in %s; free "
                                 "some space and run the same command to resume"
                                 % (exc.filename or self.out, _free(self.out), self.results_path)) from None

    def _run(self) -> Summary:
        self.record = results.load_or_new(self.results_path)
        todo = self._resume()
        for planned in todo:
            check_log_path(self.out / (planned.label + ".log"))
        # Written before any run, so that whatever happens next there is a valid record to report.
        results.save(self.results_path, self.record)
        interrupted = False
        with _signals_set(self.stop):
            self.progress.start(len(self.planned), len(self.planned) - len(todo), self.out)
            for line in self._again:
                self.progress.note(line)
            try:
                finished = self.launcher.execute(self._jobs(todo), self)
                try:
                    # Not stopped at the first interrupted run: a launcher running many jobs at once (a
                    # cluster) reports every job it cancelled; one that runs them in turn starts no other
                    # once the stop is set (_jobs hands out no more).
                    for job, outcome in finished:
                        entry = self._entry(job, outcome)
                        self._save(entry)
                        if entry["status"] == "interrupted":
                            interrupted = True
                finally:
                    close = getattr(finished, "close", None)  # a generator: let the launcher clean up
                    if close is not None:
                        close()
            finally:
                self.progress.close()
        if self.stop.is_set() and self._resume(quiet=True):
            interrupted = True
        return Summary(self.results_path, self.record, interrupted)

    def identity(self, planned: PlannedRun) -> Dict[str, Any]:
        return identity.run_identity(planned, str(self.script.resolve()), self._script_sha256, self.script_args)

    def _resume(self, quiet: bool = False) -> List[PlannedRun]:
        """The planned runs that must run (again), and (unless *quiet*) one line per run that runs again."""
        earlier = {results.run_key(entry): entry for entry in self.record.get("runs", [])}
        todo, again = [], []
        attach: Dict[str, RunEntry] = {}
        for planned in self.planned:
            before = earlier.get(planned.key)
            if before is not None and identity.reattach(before, self.identity(planned)):
                # Its job is still queued or running: watch that job, never submit the run twice.
                todo.append(planned)
                attach[planned.label] = before
                again.append("%s: re-attached to job %s (%s when last seen)"
                             % (planned.label, before.get("job_id"), before.get("status")))
                continue
            reason = identity.resume_reason(before, self.identity(planned))
            if reason is None:
                continue
            todo.append(planned)
            if reason:
                again.append("%s: runs again: %s" % (planned.label, reason))
        if not quiet:
            self._again = again
            self._attach = attach
        return todo

    def _jobs(self, todo: Sequence[PlannedRun]) -> Iterator[Job]:
        """Jobs for the launcher, made when it asks for the next one; skipped runs are recorded here."""
        for planned in todo:
            if self.stop.is_set():
                return
            if planned.skip:
                self.progress.run_skipped(planned.label, planned.skip)
                entry = self._base_entry(planned, self.identity(planned))
                entry.update({"status": "skipped", "exit_code": None, "wall_seconds": 0.0, "log": None,
                              "parsed": None, "skip_reason": planned.skip})
                self._save(entry)
                continue
            yield self._job(planned)

    def _job(self, planned: PlannedRun) -> Job:
        command = prepare_run(planned, self.script, self.script_args, self.out / RUNS_SUBDIR / planned.label)
        stop = StopFlag(parent=self.stop)
        run_identity = self.identity(planned)
        job = Job(planned.label, command.argv, command.env, self.out / (planned.label + ".log"), command.run_dir,
                  self.timeout, stop, header=[self._run_line(planned, run_identity)], where=planned.where,
                  attach=self._attach.get(planned.label))
        watch = _Watch(self.progress, self.until_stable, stop, planned.variant.requested_device, planned.label)
        self._running[job.label] = _Running(planned, command, watch, run_identity)
        return job

    def _run_line(self, planned: PlannedRun, run_identity: Mapping[str, Any]) -> str:
        """The log's first line, theanogpu's own: what the run asked for and what the machine had, so
        that `parse` and `report` of the log alone know it too."""
        facts = {"variant": planned.variant.name, "stack": planned.stack.name,
                 "requested": planned.variant.requested_device, "flags": planned.flags, "env": planned.env,
                 "identity": identity.identity_hash(run_identity)}
        facts.update(self.machine)
        return RUN_TAG + " " + json.dumps(facts, sort_keys=True)

    # -- JobEvents -------------------------------------------------------------------------------
    def started(self, job: Job) -> None:
        running = self._running[job.label]
        running.started = utc_now()
        self.progress.run_started(job.label, theano=running.planned.stack.theano is not None)

    def line(self, job: Job, t: float, stream: str, text: str) -> None:
        self._running[job.label].watch(t, stream, text)

    def point(self, job: Job, point: Point) -> None:
        self._running[job.label].watch.point(point)

    def submitted(self, job: Job, facts: Mapping[str, Any]) -> None:
        """A scheduler holds the job: on record now (status "submitted"/"running"), so a resume re-attaches."""
        running = self._running[job.label]
        entry = self._base_entry(running.planned, running.identity)
        entry.update(facts)  # type: ignore[typeddict-item]  # records.RunEntry's job fields, from the launcher
        entry["log"] = job.log_path.name
        self._save(entry)

    # -- records ---------------------------------------------------------------------------------
    def _entry(self, job: Job, outcome: Outcome) -> RunEntry:
        running = self._running.pop(job.label)
        planned, watch = running.planned, running.watch
        status = outcome.status
        if status == "interrupted" and watch.stopped_stable and not self.stop.is_set():
            status = "ok"
        log_name = job.log_path.name
        parsed = parse_path(str(job.log_path), requested_device=planned.variant.requested_device)
        parsed["source"] = log_name
        entry = self._base_entry(planned, running.identity)
        entry.update({
            "status": status, "exit_code": outcome.exit_code, "wall_seconds": round(outcome.wall_seconds, 3),
            "log": log_name, "parsed": parsed, "started": running.started, "command": shell_line(running.command),
        })
        # Where a launcher ran it (a cluster's job id, node, GPUs, final state); nothing for a local run.
        entry.update(outcome.facts)  # type: ignore[typeddict-item]
        if running.command.datasets.caches:
            entry["datasets"] = [source for source, _ in running.command.datasets.caches]
            changed = running.command.datasets.changes()
            if changed:
                entry["dataset_changes"] = changed
        if watch.stopped_stable:
            entry["stopped_early"] = "stable"
        if status in ("failed", "timeout", "cancelled"):
            entry["error"] = error_lines(outcome.tail, parsed.get("error") or parsed.get("last_exception"),
                                         parsed.get("user_frame"))
        if outcome.reason:  # the scheduler's word on why (TIMEOUT, OUT_OF_MEMORY ...) leads the error lines
            entry["reason"] = outcome.reason
            entry["error"] = [outcome.reason] + [line for line in entry.get("error", []) if line != outcome.reason]
        self.progress.run_finished(job.label, entry)
        return entry

    def _save(self, entry: RunEntry) -> None:
        results.replace_run(self.record, entry)
        results.save(self.results_path, self.record)

    @staticmethod
    def _base_entry(planned: PlannedRun, run_identity: Dict[str, Any]) -> RunEntry:
        entry: RunEntry = {"variant": planned.variant.name, "stack": planned.stack.name, "flags": planned.flags,
                "env": planned.env, "variant_keys": planned.variant.written(),
                "backend": planned.stack.keras_backend, "requested_device": planned.variant.requested_device,
                "repeat": planned.repeat, "notes": planned.notes, "identity": run_identity,
                "identity_hash": identity.identity_hash(run_identity)}
        if planned.where is not None:  # part of the run's key (results.run_key): the cluster target
            entry["target"] = planned.where.name
        return entry


USER_FRAME = "at "


def _free(path: Path) -> str:
    try:
        return "%.1f MB" % (shutil.disk_usage(str(path)).free / 1e6)
    except OSError:
        return "unknown space"


def error_lines(tail: List[str], headline: Optional[str], user_frame: Optional[str] = None) -> List[str]:
    """The last lines a failed run printed, led by its error line when the tail lost it (a stack
    dump after "Fatal Python error", a long traceback) and by the frame in the user's own code that
    the tail does not show (``at File "train.py", line 12, in <module>: ...``)."""
    lines = [line for line in tail if line.strip()][-8:]
    lead = []
    if headline and not any(headline in line for line in lines):
        lead.append(headline)
    if user_frame and not any(user_frame.split(": ", 1)[0] in line for line in lines):
        lead.append(USER_FRAME + user_frame)
    return lead + lines[-(6 - len(lead)):] if lead else lines


@contextlib.contextmanager
def _signals_set(stop: StopFlag) -> Iterator[None]:
    """While the comparison runs, SIGINT and SIGTERM set *stop* (the runner then ends the current run)."""
    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
