"""EDGE: the in-job entry point, ``python -m theanogpu.run.worker JOB_DIR/job.json``, started by a Slurm job.

It runs the training script exactly as ``compare`` runs it locally: ``runner.run_process`` (its own
process group, stdout and stderr line by line), every line timestamped into the run's log by
``logfile.RunLog`` as it arrives (progress updates into the log's ``.updates`` file), and the
environment that ``runenv.prepare_run`` made (THEANO_FLAGS, THEANORC, the private HOME with its
keras.json) plus what the node itself gives the job (SLURM_*, the GPUs Slurm assigned).
Then it writes ``exit.json``: the status, exit code, last lines, the node and the GPUs the job saw,
from inside the job. The comparison (slurm.py) reads the log and its updates as they grow and the
exit record when the job ends.

Slurm ends a job with SIGTERM (scancel, the time limit, preemption): the script's process group is
stopped as Ctrl-C stops a local run, and the exit record says "interrupted"; Slurm's final state then
tells the comparison why.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from theanogpu import hostinfo
from theanogpu.clock import utc_now
from theanogpu.logparse.modern import RUN_TAG, stopped_line
from theanogpu.run import jobfile
from theanogpu.run.logfile import RunLog
from theanogpu.run.runner import Outcome, StopFlag, run_process
from theanogpu.run.slurmstate import SHARED_FS

JOB_TAG = "theanogpu-job:"
# What the node decides for the job, not the machine where compare runs: the scheduler's variables and
# the GPUs it assigned. Taken from the node unless the variant set one itself (device=cpu hides GPUs).
GPU_VARS = ("CUDA_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL", "ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES")


def _from_node(name: str) -> bool:
    return name.startswith(("SLURM_", "SLURMD_")) or name in GPU_VARS


def compose_env(job_env: Mapping[str, str], own: Sequence[str], node: Mapping[str, str]) -> Dict[str, str]:
    """The script's environment on the node: the run's (*job_env*, made where compare runs), less the
    submit machine's scheduler and GPU variables, plus the node's; *own* names the variables the variant or
    stack set on purpose, which win. A variant's ``gpuN`` means the N-th GPU of the job's allocation."""
    env = {key: value for key, value in job_env.items() if key in own or not _from_node(key)}
    env.update({key: value for key, value in node.items() if _from_node(key) and key not in own})
    allocated = [item for item in node.get("CUDA_VISIBLE_DEVICES", "").split(",") if item]
    wanted = env.get("CUDA_VISIBLE_DEVICES", "")
    if "CUDA_VISIBLE_DEVICES" in own and allocated and wanted:
        indexes = wanted.split(",")
        if all(index.isdigit() and int(index) < len(allocated) for index in indexes):
            env["CUDA_VISIBLE_DEVICES"] = ",".join(allocated[int(index)] for index in indexes)
    return env


def visible_gpus(rows: Sequence[Sequence[str]], cuda_visible: Optional[str]) -> List[str]:
    """Names of the GPUs this job can use: ``nvidia-smi`` rows (index, name, uuid) narrowed to
    CUDA_VISIBLE_DEVICES (indexes or UUIDs) when a node shows more GPUs than the job was given."""
    if cuda_visible is None:
        return [row[1] for row in rows]
    wanted = [item.strip() for item in cuda_visible.split(",") if item.strip()]
    if not wanted:
        return []
    chosen = [row[1] for row in rows if row[0] in wanted or row[2] in wanted]
    # Devices constrained by cgroups: nvidia-smi shows only the job's GPUs, numbered from 0.
    return chosen or [row[1] for row in rows][:len(wanted)]


def _nvidia_smi_rows(timeout: float = 20.0) -> List[List[str]]:
    try:
        proc = subprocess.run(["nvidia-smi", "--query-gpu=index,name,uuid", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return []
    if proc.returncode != 0:
        return []
    return [[part.strip() for part in line.split(",")] for line in proc.stdout.splitlines() if line.count(",") >= 2]


def node_facts(environ: Mapping[str, str]) -> Dict[str, Any]:
    """Where the job runs, as the job itself sees it."""
    return {"node": environ.get("SLURMD_NODENAME") or socket.gethostname(), "host": socket.gethostname(),
            "job_id": environ.get("SLURM_JOB_ID"),
            "gpus": visible_gpus(_nvidia_smi_rows(), environ.get("CUDA_VISIBLE_DEVICES")),
            "cuda_visible_devices": environ.get("CUDA_VISIBLE_DEVICES")}


def header_lines(header: Sequence[str], facts: Mapping[str, Any], path: Optional[str]) -> List[str]:
    """The run's header as compare made it, with the facts of this node: its nvcc (the submit machine's
    means nothing here) and a ``theanogpu-job:`` line (job id, node, GPUs)."""
    lines = []
    for line in header:
        if line.startswith(RUN_TAG):
            try:
                run = json.loads(line[len(RUN_TAG):])
            except ValueError:
                run = None
            if isinstance(run, dict) and "nvcc" in run:
                run["nvcc"] = hostinfo.nvcc_facts(path)
                line = RUN_TAG + " " + json.dumps(run, sort_keys=True)
        lines.append(line)
    return lines + [JOB_TAG + " " + json.dumps(dict(facts), sort_keys=True)]


def _exit_code(outcome: Outcome, status: str) -> int:
    """The job's own exit code, so that Slurm's accounting agrees (FAILED for a failed script)."""
    if status == "ok":
        return 0
    if status == "interrupted":
        return 128 + signal.SIGTERM
    if status == "timeout":
        return 124
    code = outcome.exit_code or 1
    return code if 0 < code < 256 else 128 + (-code if code < 0 else 1)


def run_job(path: Path) -> int:
    job_dir = path.parent
    stop = StopFlag()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set(jobfile.read_stop(job_dir)))
    facts = node_facts(os.environ)
    started = utc_now()
    begin = time.monotonic()
    record: Dict[str, Any] = {"started": started, "node": facts["node"], "gpus": facts["gpus"],
                              "job_id": facts["job_id"]}
    try:
        job = jobfile.read_job(path)
    except (OSError, ValueError) as exc:
        record.update(status="failed", exit_code=None, reason="the worker cannot read its job file: %s" % exc)
        jobfile.write_exit(job_dir, record)
        return 1
    missing = [need for need in job.get("needs", []) if not os.path.exists(need)]
    if missing:
        record.update(status="failed", exit_code=None, wall_seconds=0.0,
                      reason="node %s cannot see %s: %s" % (facts["node"], missing[0], SHARED_FS))
        jobfile.write_exit(job_dir, record)
        return 1
    env = compose_env(job["env"], job.get("own_env", []), os.environ)
    cwd = job.get("cwd")
    if cwd and not os.path.isdir(cwd):
        facts["cwd_missing"] = cwd  # said in the log's job line; the script runs in the run's directory
        cwd = job.get("run_dir")
    with RunLog(Path(job["log"])) as log:
        for line in header_lines(job.get("header", []), facts, env.get("PATH")):
            log.write(0.0, "m", line)
        outcome = run_process(job["argv"], env, log.write, cwd=cwd, timeout=job.get("timeout"), stop=stop,
                              on_chunk=log.chunk)
        if stop.reason:  # stopped on purpose (--until-stable): said in the log, as a local run's says it
            log.write(outcome.wall_seconds, "m", stopped_line(stop.reason))
    # A signal means Slurm is ending the job (scancel, time limit): it may reach the script before this
    # process notices, so the script's death by it is no failure of the script's own.
    status = "interrupted" if stop.is_set() else outcome.status
    record.update(status=status, exit_code=outcome.exit_code, tail=outcome.tail,
                  wall_seconds=round(outcome.wall_seconds, 3), job_seconds=round(time.monotonic() - begin, 3),
                  ended=utc_now())
    jobfile.write_exit(job_dir, record)
    return _exit_code(outcome, status)


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m theanogpu.run.worker JOB_DIR/job.json (started by a Slurm job)\n")
        return 2
    return run_job(Path(args[0]))


if __name__ == "__main__":
    raise SystemExit(main())
