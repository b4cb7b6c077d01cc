"""`compare --launcher slurm / --on / --slurm-arg` at the command line, without a cluster: bad input is one
line and exit 2, sbatch missing too, and --dry-run shows how each run would be submitted.
(With a cluster: tests/integration/test_slurm_cluster.py.)"""

import subprocess
import sys
from pathlib import Path

import pytest

STUB = Path(__file__).resolve().parents[1] / "fixtures" / "stub" / "train_stub.py"


def compare(tmp_path, *args, env=None):
    argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script", str(STUB),
            "--out", str(tmp_path / "out"), *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("args, fragment", [
    (["--launcher", "nosuch"], "--launcher=nosuch: choose one of local, slurm"),
    (["--on", "slurm:queue=k80"], "unknown key 'queue'"),
    (["--on", "k80"], "say where with slurm:KEY=VALUE"),
    (["--launcher", "local", "--on", "slurm:partition=k80"], "--on=slurm:partition=k80: only with --launcher slurm"),
    (["--slurm-arg=--account=lab"], "--slurm-arg=--account=lab: only with --launcher slurm"),
    (["--on", "slurm:partition=a,gres=gpu:1", "--on", "slurm:partition=a"], "tell them apart with name=..."),
])
def test_bad_slurm_options_are_one_line_and_exit_2(tmp_path, args, fragment):
    proc = compare(tmp_path, *args, "--dry-run")
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_no_sbatch_is_one_line_and_exit_2_before_anything_runs(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = compare(tmp_path, "--on", "slurm:partition=k80", "--epochs", "1", env={"PATH": str(empty),
                                                                                 "HOME": str(tmp_path)})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == ("theanogpu: error: --launcher slurm: sbatch not found on PATH; run "
                                                    "compare where Slurm's commands work (a login node, or after "
                                                    "`module load slurm`)")
    assert "Traceback" not in proc.stderr and not list((tmp_path / "out").glob("*.log"))


def test_dry_run_shows_the_sbatch_line_of_each_run(tmp_path):
    proc = compare(tmp_path, "--dry-run", "--variant", "gpu:device=gpu", "--timeout", "600",
                   "--on", "slurm:partition=v100,gres=gpu:1", "--on", "slurm:partition=k80,exclusive=no",
                   "--slurm-arg", "--account=lab")  # with a space too: docopt never sees --account as compare's
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("# submitted as: ")]
    assert len(lines) == 2
    assert "sbatch --parsable '--job-name=tg-<token>-gpu@" in lines[0]
    # --timeout 600 gives Slurm a limit too (12 minutes: the worker's own timeout ends the run first, logged).
    assert "+v100' --output=/dev/null --time=12 --exclusive --partition=v100 --gres=gpu:1 --account=lab < job " \
        "script (exec " in lines[0]
    assert "--partition=k80 --account=lab" in lines[1] and "--exclusive" not in lines[1]
    assert "# run gpu@" in proc.stdout and "+k80 -> " in proc.stdout
