"""How much sooner does `compare --until-stable` give the verdict, and is it the same verdict?

For each stack, runs the default matrix (cpu, gpu, gpu-cnmem) twice, interleaved: once in full
(``--epochs 5 --samples 4096``) and once with ``--until-stable`` (same arguments: it stops each run
as soon as its steady-state throughput is known within +-2 % at 95 %). Prints per stack the time to
the verdict divided by the time of the full comparison (target <= 0.25, moonshot 0.1), and per
variant the until-stable s/epoch against the full run's, with the full run's spread beside it (the
machine's own noise: a difference inside it is no difference).

    python benchmarks/time_to_verdict.py [--stack theano08 --stack theano10 --stack keras3-torch]
                                         [--epochs 5] [--samples 4096] [--pairs 1] [--out DIR]

Needs the stacks (built on first use). Synthetic data unless CIFAR-10 is in the Keras cache.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    rows = {row["name"]: row for row in json.loads(proc.stdout)["rows"]}
    return seconds, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", action="append", default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--pairs", type=int, default=1, help="full/until-stable pairs per stack, interleaved")
    parser.add_argument("--out", default=None, help="keep the comparisons here (default: a temp dir)")
    args = parser.parse_args()
    stacks = args.stack or ["theano08", "theano10", "keras3-torch"]
    root = Path(args.out or tempfile.mkdtemp(prefix="theanogpu-verdict-"))
    results = {}
    for pair in range(args.pairs):
        for stack in stacks:
            for stable in (False, True):
                out = root / ("%s-%s-%d" % (stack, "stable" if stable else "full", pair))
                seconds, rows = compare(stack, out, args.epochs, args.samples, stable)
                results.setdefault((stack, stable), []).append((seconds, rows))
                print("%-13s %-12s %6.1f s" % (stack, "until-stable" if stable else "full", seconds), flush=True)
    print()
    print("%-13s %-10s %9s %9s %7s %8s %8s" % ("stack", "variant", "full s/ep", "stable", "diff", "spread",
                                             "how"))
    for stack in stacks:
        full_seconds = sum(seconds for seconds, _ in results[(stack, False)])
        stable_seconds = sum(seconds for seconds, _ in results[(stack, True)])
        for name in results[(stack, False)][0][1]:
            full = [rows[name] for _, rows in results[(stack, False)]]
            fast = [rows[name] for _, rows in results[(stack, True)]]
            full_spe = _mean(row["seconds_per_epoch"] for row in full)
            fast_spe = _mean(row["seconds_per_epoch"] for row in fast)
            spread = _mean((row.get("spread") or {}).get("percent") for row in full)
            diff = (fast_spe / full_spe - 1) * 100 if full_spe and fast_spe else None
            how = fast[0].get("seconds_per_epoch_source") or "-"
            print("%-13s %-10s %9s %9s %7s %8s %8s" % (stack, name, _num(full_spe), _num(fast_spe),
                                                       "-" if diff is None else "%+.1f%%" % diff,
                                                       "-" if spread is None else "%.1f%%" % spread, how))
        print("%-13s time to verdict / full comparison: %.2f (%.0f s / %.0f s)"
              % (stack, stable_seconds / full_seconds, stable_seconds, full_seconds))
    print("\ncomparisons kept in %s" % root)


def _mean(values):
    found = [value for value in values if isinstance(value, (int, float))]
    return sum(found) / len(found) if found else None


def _num(value):
    return "-" if value is None else "%.2f" % value


if __name__ == "__main__":
    main()
