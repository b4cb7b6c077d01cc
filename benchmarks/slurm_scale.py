"""What submitting and watching N runs on Slurm costs: `theanogpu compare` with N tiny runs (the stub script,
this interpreter as the stack) on the local single-node cluster of scripts/slurm-local.

Reports the wall time, the time to submit every job, the number of polls and the Slurm calls per poll
(the launcher's own cost line), and the size of results.json. Start the cluster first:

    scripts/slurm-local up && eval "$(scripts/slurm-local env)"
    python benchmarks/slurm_scale.py [--runs 200] [--poll 1]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUB = ROOT / "tests" / "fixtures" / "stub" / "train_stub.py"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between polls (THEANOGPU_SLURM_POLL)")
    args = parser.parse_args()
    if not os.environ.get("SLURM_CONF") and not Path("/etc/slurm/slurm.conf").exists():
        sys.exit('no cluster: scripts/slurm-local up && eval "$(scripts/slurm-local env)"')
    out = Path(tempfile.mkdtemp(prefix="slurm-scale-")) / "out"
    env = dict(os.environ, THEANOGPU_SLURM_POLL=str(args.poll), STUB_SCALE="0.05")
    argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script", str(STUB),
            "--out", str(out), "--epochs", "1", "--variant", "tiny:device=cpu", "--repeat", str(args.runs),
            "--on", "slurm:exclusive=no,cpus=1", "--format", "csv"]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(proc.stderr[-3000:])
    cost = next(line for line in proc.stderr.splitlines() if re.match(r"slurm: \d+ sbatch", line))
    print("%d runs in %.1f s (%.2f s a run on this 2-core node, two at a time)" % (args.runs, wall, wall / args.runs))
    print(cost)
    print("results.json: %.0f kB" % ((out / "results.json").stat().st_size / 1024))


if __name__ == "__main__":
    main()
