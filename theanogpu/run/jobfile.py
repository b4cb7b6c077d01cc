"""EDGE: the two files a cluster job and the comparison share, in the job's own directory.

``job.json`` (written at submit, read by the worker on the node): everything the worker needs to run
the script exactly as ``compare`` runs it locally: argv, the complete environment, the log path, the
timeout, theanogpu's header lines, the paths the node must see. ``exit.json`` (written by the worker
when the script has ended, read by the launcher): what happened, from inside the job. ``stop.json``
(written by the launcher just before it cancels a job on purpose): why, for the log's last line. Both are written
atomically: a reader on another machine sees the whole file or none.

The job's directory is unique per submission (``slurm-<token>``): job ids restart when a cluster's
state is wiped, so nothing is ever found by job id alone.
"""

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

from theanogpu.fsutil import atomic_write_text, read_json_object

JOB_FILE = "job.json"
EXIT_FILE = "exit.json"
STOP_FILE = "stop.json"  # why the comparison cancels the job, when it is a decision (--until-stable)
OUTPUT_FILE = "slurm.out"  # the batch script's and the worker's own output (not the run's: that is the log)
FORMAT = 1


def write_job(job_dir: Path, job: Dict[str, Any]) -> Path:
    path = job_dir / JOB_FILE
    # Yours alone (0600): it holds your whole environment, tokens and all, on a filesystem others share.
    atomic_write_text(path, json.dumps(dict(job, format=FORMAT), indent=1, sort_keys=True) + "\n", mode=0o600)
    return path


def read_job(path: Path) -> Dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("%s: not a job file of this theanogpu (format %r)" % (path, FORMAT))
    return data


def write_exit(job_dir: Path, record: Dict[str, Any]) -> None:
    atomic_write_text(job_dir / EXIT_FILE, json.dumps(record, indent=1, sort_keys=True) + "\n")


def read_exit(job_dir: Path) -> Optional[Dict[str, Any]]:
    """The worker's exit record, or None while there is none (or it cannot be read yet)."""
    return read_json_object(job_dir / EXIT_FILE)


def write_stop(job_dir: Path, reason: str) -> None:
    atomic_write_text(job_dir / STOP_FILE, json.dumps({"reason": reason}) + "\n")


def read_stop(job_dir: Path) -> Optional[str]:
    """The reason the comparison stopped the job on purpose, or None (Ctrl-C, scancel, the time limit)."""
    reason = (read_json_object(job_dir / STOP_FILE) or {}).get("reason")
    return reason if isinstance(reason, str) else None


def output_tail(job_dir: Path, lines: int = 8) -> List[str]:
    """The last lines of the job's own output (the batch script's and the worker's messages)."""
    try:
        text = (job_dir / OUTPUT_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]
