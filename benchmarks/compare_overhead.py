"""How much wall time does `theanogpu compare` add over running the same script directly?

Runs a CPU-bound, very chatty training stand-in (benchmarks/workload_train.py) alternately (a) directly,
output to a file, and (b) through the full `theanogpu compare` command line (process group, timestamped
log, live parsing of epoch headers, parse and report at the end). Pairs are interleaved so machine noise
hits both alike; the figure is the ratio of the fastest runs of each side, measured in one run.

    python benchmarks/compare_overhead.py [--pairs 5] [--epochs 4] [--steps 400]
"""

import argparse
import contextlib
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOAD = HERE / "workload_train.py"


def timed(argv, **kwargs):
    start = time.perf_counter()
    subprocess.run(argv, check=True, **kwargs)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="math threads of the workload (default 1: like a GPU run, where one CPU core "
                             "feeds the GPU; with every core busy, any other process, the harness or not, "
                             "disturbs the BLAS threads' spinning and the figure measures that)")
    args = parser.parse_args()
    workload_args = ["--epochs", str(args.epochs), "--steps", str(args.steps)]
    threads = str(args.blas_threads)
    env = dict(os.environ, PYTHONUNBUFFERED="1", OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads,
               MKL_NUM_THREADS=threads)
    print("workload: %s, %s math thread(s)" % (" ".join(workload_args), threads))
    direct, harness = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for pair in range(args.pairs):
            with open(os.path.join(tmp, "direct.log"), "w") as log:
                direct.append(timed([sys.executable, "-u", str(WORKLOAD)] + workload_args, stdout=log,
                                    stderr=subprocess.STDOUT, env=env))
            out = os.path.join(tmp, "run%d" % pair)
            argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script",
                    str(WORKLOAD), "--variant", "cpu:device=cpu", "--out", out]
            for item in workload_args:
                argv += ["--arg=" + item]
            harness.append(timed(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
            print("pair %d: direct %.2f s, through compare %.2f s" % (pair + 1, direct[-1], harness[-1]))
        # The harness's own CPU time, measured in-process (its children are the workload), tells what
        # it costs independently of how noisy the machine's wall clock is.
        out = os.path.join(tmp, "inproc")
        # Imported first, so that what follows is the harness at work, not Python loading it.
        import theanogpu.commands.compare
        import theanogpu.commands.report  # noqa: F401
        from theanogpu.cli import main as theanogpu_main

        before_self = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        argv = ["compare", "--stack", sys.executable, "--script", str(WORKLOAD), "--variant", "cpu:device=cpu",
                "--out", out] + ["--arg=" + item for item in workload_args]
        saved = dict(os.environ)
        os.environ.update(env)  # the in-process run passes this environment on to the workload
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            theanogpu_main(argv)
        os.environ.clear()
        os.environ.update(saved)
        wall = time.perf_counter() - start
        after_self = resource.getrusage(resource.RUSAGE_SELF)
        own = (after_self.ru_utime - before_self.ru_utime) + (after_self.ru_stime - before_self.ru_stime)
        print("harness CPU time (in-process, one run, after imports): %.2f s over a %.1f s run = %.1f %% "
              "of its wall time" % (own, wall, 100 * own / wall))
        startup = min(timed([sys.executable, "-c", "import theanogpu.commands.compare, theanogpu.commands.report"],
                            env=env) for _ in range(5))
        print("fixed start-up (Python start + imports of compare and report): %.2f s" % startup)
    # Interference from other processes only ever adds time, so the fastest of each side is the
    # least disturbed measurement; the median is printed too, to show how noisy the machine was.
    for label, pick in (("fastest", min), ("median", statistics.median)):
        ratio = pick(harness) / pick(direct)
        print("%s: direct %.2f s, through compare %.2f s: ratio %.3f (overhead %+.1f %%)"
              % (label, pick(direct), pick(harness), ratio, (ratio - 1) * 100))


if __name__ == "__main__":
    main()
