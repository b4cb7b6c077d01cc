"""The launcher seam: how a comparison's runs get executed, and where.

A ``Comparison`` (comparison.py) prepares each run as a ``Job`` (its command, environment and log
path) and hands the jobs to a ``Launcher``, which runs them (one after the other, or all at once on
a cluster: its choice), tells the comparison what happens through ``JobEvents``, and yields each
job with its ``Outcome`` as it ends. The comparison never knows how a job ran; a launcher never
knows what a variant or a report is.

``LocalLauncher`` runs jobs one at a time on this machine, each in its own process group, writing
the timestamped log as lines arrive (runner.py). ``SlurmLauncher`` (slurm.py) sends each job to a
Slurm cluster. Tests of the comparison loop use a fake launcher.

A launcher that hands jobs to a scheduler tells the comparison as soon as a job is in the scheduler's
hands (``JobEvents.submitted``), so that the job is on record before it ends: a comparison that dies
meanwhile leaves its job ids behind, and the next one re-attaches to those jobs (``Job.attach``)
instead of submitting the runs twice. The local launcher never does either.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Protocol, Tuple

from theanogpu.logparse.modern import stopped_line
from theanogpu.run.logfile import RunLog
from theanogpu.run.runner import Outcome, StopFlag, run_process
from theanogpu.run.targets import ClusterTarget
from theanogpu.updates import Point

__all__ = ["Job", "JobEvents", "Launcher", "LocalLauncher", "Outcome", "StopFlag"]


@dataclass
class Job:
    """One run, ready to launch."""

    label: str  # variant@stack[#repeat]: names the log and the run's directory
    argv: List[str]
    env: Dict[str, str]  # the complete environment of the script
    log_path: Path  # where the timestamped log goes
    run_dir: Path  # the run's own files (its theanorc, its private HOME)
    timeout: Optional[float] = None  # seconds; then the job is killed and its status is timeout
    # Set to stop this job early: by the harness (Ctrl-C) or by the comparison (--until-stable).
    stop: StopFlag = field(default_factory=StopFlag)
    # theanogpu's own lines, logged first (stream "m"): what the run asked for, what the machine had.
    header: List[str] = field(default_factory=list)
    where: Optional[ClusterTarget] = None  # the cluster target (--on) it goes to; None: this machine
    # A job an earlier comparison already submitted (its results.json entry: job_id, job_dir ...): watch
    # it, never submit the run again.
    attach: Optional[Mapping[str, Any]] = None


class JobEvents(Protocol):
    """What a launcher tells the comparison while a job runs."""

    def started(self, job: Job) -> None:
        """The job's script has started (or is about to)."""

    def line(self, job: Job, t: float, stream: str, text: str) -> None:
        """The script printed *text* on *stream* (o/e) *t* seconds after it started (already logged)."""

    def point(self, job: Job, point: Point) -> None:
        """The script's progress display showed an update (already in the updates file)."""

    def submitted(self, job: Job, facts: Mapping[str, Any]) -> None:
        """The job is in a scheduler's hands and has not ended: record *facts* (records.RunEntry's job fields,
        with ``status`` "submitted" or "running") now, so that a later comparison can re-attach to it.
        Called again when they change (the job started on a node)."""


class Launcher:
    """Runs jobs and yields each one with its outcome as it ends."""

    name = "launcher"

    def execute(self, jobs: Iterable[Job], events: JobEvents) -> Iterator[Tuple[Job, Outcome]]:
        """Run *jobs* (pulled lazily: the comparison may stop handing them out) and yield each as it ends."""
        raise NotImplementedError


class LocalLauncher(Launcher):
    """One job at a time on this machine, in its own process group (``runner.run_process``)."""

    name = "local"

    def execute(self, jobs: Iterable[Job], events: JobEvents) -> Iterator[Tuple[Job, Outcome]]:
        for job in jobs:
            events.started(job)
            with RunLog(job.log_path, lambda point, job=job: events.point(job, point)) as log:  # type: ignore[misc]
                for line in job.header:
                    log.write(0.0, "m", line)

                def on_line(t: float, stream: str, text: str, job: Job = job, log: RunLog = log) -> None:
                    log.write(t, stream, text)
                    events.line(job, t, stream, text)

                outcome = run_process(job.argv, job.env, on_line, timeout=job.timeout, stop=job.stop,
                                      on_chunk=log.chunk)
                if job.stop.reason:
                    # Said in the log itself, so that a report of the log alone knows it too.
                    log.write(outcome.wall_seconds, "m", stopped_line(job.stop.reason))
            yield job, outcome
