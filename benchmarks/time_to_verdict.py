"""How much sooner does `compare --until-stable` give the verdict, and is it the same verdict?

For each stack, runs the default matrix (cpu, gpu, gpu-cnmem) twice, interleaved: once in full
(``--epochs 5 --samples 4096``) and once with ``--until-stable`` (same arguments: it stops each run
as soon as its steady-state throughput is known within +-2 % at 95 %). Prints per stack the time to
the verdict divided by the time of the full comparison (target <= 0.25, moonshot 0.1), and per
variant:

- the until-stable s/epoch against the full run's. A run stopped inside its first epoch never saw
  that epoch's validation, so its figure is the training part only (the report says so); it is then
  set against the full run's training part at its own steady rate (column "basis": train), else
  against the full run's s/epoch (basis: epoch). The full run's spread stands beside it: the machine's
  own noise, a difference inside it is no difference;
- the speedup vs the cpu row, both ways (the verdict itself; fallback rows' CPU-vs-CPU ratio too).

    python benchmarks/time_to_verdict.py [--stack theano08 --stack theano10 --stack keras3-torch]
                                         [--epochs 5] [--samples 4096] [--pairs 1] [--out DIR]
    python benchmarks/time_to_verdict.py --analyse DIR      # the table again, from a kept DIR

Needs the stacks (built on first use). Synthetic data unless CIFAR-10 is in the Keras cache.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from theanogpu.logparse import parse_path

ROOT = Path(__file__).resolve().parents[1]
TIMES = "times.json"  # {comparison dir name: seconds}, kept next to the comparisons


def compare(stack, out, epochs, samples, stable):
    argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", stack, "--epochs", str(epochs),
            "--samples", str(samples), "--out", str(out), "--format", "json"]
    if stable:
        argv.append("--until-stable")
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=str(ROOT))
    seconds = time.monotonic() - started
    if not proc.stdout.strip():
        sys.exit("compare printed no report:\n" + proc.stderr[-3000:])
    return seconds


def rows_of(out):
    """The report's rows of one comparison, with each run's progress summary beside them."""
    proc = subprocess.run([sys.executable, "-m", "theanogpu", "report", "--format", "json",
                           str(out / "results.json")], capture_output=True, text=True, cwd=str(ROOT))
    rows = {row["name"]: row for row in json.loads(proc.stdout)["rows"]}
    for run in json.loads((out / "results.json").read_text())["runs"]:
        # Read again from the log and its updates: what this theanogpu makes of them.
        rows[run["variant"]]["progress"] = parse_path(str(out / run["log"])).get("progress") or {}
    return rows


def training_seconds(row):
    """The training part of an epoch at the row's steady rate (no validation), or None."""
    progress = row.get("progress") or {}
    rate = (progress.get("estimate") or {}).get("rate")
    return progress["target"] / rate if rate and progress.get("target") else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", action="append", default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--pairs", type=int, default=1, help="full/until-stable pairs per stack, interleaved")
    parser.add_argument("--out", default=None, help="keep the comparisons here (default: a temp dir)")
    parser.add_argument("--analyse", default=None, metavar="DIR", help="only print the table of a kept --out")
    args = parser.parse_args()
    if args.analyse:
        root = Path(args.analyse)
        times = json.loads((root / TIMES).read_text())
        stacks = list(dict.fromkeys(name.rsplit("-", 2)[0] for name in times))
    else:
        stacks = args.stack or ["theano08", "theano10", "keras3-torch"]
        root = Path(args.out or tempfile.mkdtemp(prefix="theanogpu-verdict-"))
        root.mkdir(parents=True, exist_ok=True)
        times = {}
        for pair in range(args.pairs):
            for stack in stacks:
                for stable in (False, True):
                    name = "%s-%s-%d" % (stack, "stable" if stable else "full", pair)
                    times[name] = compare(stack, root / name, args.epochs, args.samples, stable)
                    (root / TIMES).write_text(json.dumps(times, indent=1) + "\n")
                    print("%-13s %-12s %6.1f s" % (stack, "until-stable" if stable else "full", times[name]),
                          flush=True)
    report(root, stacks, times)


def report(root, stacks, times):
    print()
    print("%-13s %-10s %9s %9s %9s %7s %6s %7s %13s" % ("stack", "variant", "full s/ep", "train s/ep", "stable",
                                                      "diff", "basis", "spread", "speedup f/s"))
    for stack in stacks:
        names = {stable: sorted(name for name in times if name.startswith(stack + "-" + stable))
                 for stable in ("full", "stable")}
        full_runs = [rows_of(root / name) for name in names["full"]]
        fast_runs = [rows_of(root / name) for name in names["stable"]]
        for variant in full_runs[0]:
            full = [rows[variant] for rows in full_runs]
            fast = [rows[variant] for rows in fast_runs]
            full_spe = _mean(row["seconds_per_epoch"] for row in full)
            full_train = _mean(training_seconds(row) for row in full)
            fast_spe = _mean(row["seconds_per_epoch"] for row in fast)
            whole = all((row.get("progress") or {}).get("epoch_overhead") for row in fast) or \
                fast[0].get("seconds_per_epoch_source") != "projected"
            against = full_spe if whole else full_train
            spread = _mean((row.get("spread") or {}).get("percent") for row in full)
            diff = (fast_spe / against - 1) * 100 if against and fast_spe else None
            speedups = "%s/%s" % (_num(_mean(row.get("measured_speedup") for row in full)),
                                  _num(_mean(row.get("measured_speedup") for row in fast)))
            print("%-13s %-10s %9s %9s %9s %7s %6s %7s %13s" % (
                stack, variant, _num(full_spe), _num(full_train), _num(fast_spe),
                "-" if diff is None else "%+.1f%%" % diff, "epoch" if whole else "train",
                "-" if spread is None else "%.1f%%" % spread, speedups))
        full_seconds = sum(times[name] for name in names["full"])
        stable_seconds = sum(times[name] for name in names["stable"])
        print("%-13s time to verdict / full comparison: %.2f (%.0f s / %.0f s)"
              % (stack, stable_seconds / full_seconds, stable_seconds, full_seconds))
    print("\ncomparisons kept in %s" % root)


def _mean(values):
    found = [value for value in values if isinstance(value, (int, float)) and not isinstance(value, bool)]
    return sum(found) / len(found) if found else None


def _num(value):
    return "-" if value is None else "%.2f" % value


if __name__ == "__main__":
    main()
