"""Runs: from variants and stacks to planned runs, to processes, to timestamped logs and records.

Public interface (what the commands use):

* ``plan_runs(variants, targets, repeats, cpu_count)`` -> [PlannedRun]; ``wants_auto_blas(variants)``;
* ``Comparison(planned, script, script_args, out, launcher, progress, timeout, until_stable).run()``
  -> Summary (record, interrupted, failed);
* ``LocalLauncher``: the launcher that runs jobs here (``Launcher``/``Job``/``JobEvents`` define the
  seam for others); ``SlurmLauncher`` sends each job to a Slurm cluster target (``ClusterTarget``,
  ``parse_targets`` for ``--on``; ``LAUNCHERS`` the names ``--launcher`` takes);
* ``CompareProgress``: what a comparison shows on stderr;
* ``choose_out``/``prepare_out``: the output directory; ``prepare_run``/``shell_line``: one run's
  command and files (``--dry-run`` prints them).
"""

from theanogpu.run.comparison import Comparison, Summary, error_lines
from theanogpu.run.launcher import Job, JobEvents, Launcher, LocalLauncher, Outcome
from theanogpu.run.outdir import RUNS_ROOT, choose_out, prepare_out
from theanogpu.run.plan import PlannedRun, StackTarget, plan_runs, wants_auto_blas
from theanogpu.run.progress import CompareProgress
from theanogpu.run.runenv import RunCommand, prepare_run, shell_line
from theanogpu.run.slurm import SlurmLauncher
from theanogpu.run.targets import LAUNCHERS, ClusterTarget, parse_targets

__all__ = [
    "LAUNCHERS", "RUNS_ROOT", "ClusterTarget", "CompareProgress", "Comparison", "Job", "JobEvents", "Launcher",
    "LocalLauncher", "Outcome", "PlannedRun", "RunCommand", "SlurmLauncher", "StackTarget", "Summary", "choose_out",
    "error_lines", "parse_targets", "plan_runs", "prepare_out", "prepare_run", "shell_line", "wants_auto_blas",
]
