"""Which CPU configuration trains the CIFAR-10 CNN fastest here, and how does Keras 3 compare?

Runs ``theanogpu compare --matrix cpu-tuning`` on a Theano stack and a Keras 3 stack in ONE
comparison (repeats interleaved, so machine noise spreads over every variant), then prints two
ratios of median seconds per epoch, both measured in that one run:

* the fastest Theano CPU variant vs Theano's default (``default``);
* Keras 3 on the other stack vs Theano's default, same model, same data, both on the CPU.

    python benchmarks/cpu_tuning.py [--theano theano10] [--modern keras3-torch] [--epochs 3]
                                    [--samples 2048] [--repeat 2] [--out DIR]

Needs the two stacks (built on first use). Synthetic data unless CIFAR-10 is in the Keras cache.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theano", default="theano10")
    parser.add_argument("--modern", default="keras3-torch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", default=None, help="keep the comparison here (default: a temp dir)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="theanogpu-cpu-tuning-"))
    argv = [sys.executable, "-m", "theanogpu", "compare", "--matrix", str(ROOT / "templates" / "cpu-tuning.ini"),
            "--stack", args.theano, "--stack", args.modern, "--epochs", str(args.epochs),
            "--samples", str(args.samples), "--repeat", str(args.repeat), "--out", str(out), "--format", "json"]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
    if not proc.stdout.strip():
        sys.exit("compare printed no report (exit %d); see %s" % (proc.returncode, out))
    report = json.loads(proc.stdout)
    text = subprocess.run([sys.executable, "-m", "theanogpu", "report", str(out / "results.json")],
                          stdout=subprocess.PIPE, text=True, cwd=str(ROOT)).stdout
    print(text)
    rows = {(row["name"], row["stack"]): row for row in report["rows"]}
    default = rows.get(("default", args.theano), {}).get("seconds_per_epoch")
    theano_rows = [row for row in report["rows"] if row["stack"] == args.theano and row["status"] == "ok"
                   and row.get("seconds_per_epoch")]
    if not default or not theano_rows:
        sys.exit("no finished default@%s run to compare with; see %s" % (args.theano, out))
    best = min(theano_rows, key=lambda row: row["seconds_per_epoch"])
    print("fastest %s CPU variant: %s at %.2f s/epoch vs default %.2f s/epoch: %.2fx faster"
          % (args.theano, best["name"], best["seconds_per_epoch"], default, default / best["seconds_per_epoch"]))
    modern = rows.get(("default", args.modern), {}).get("seconds_per_epoch")
    if modern:
        print("%s default CPU: %.2f s/epoch vs %s default %.2f s/epoch: ratio %.2f (%s)"
              % (args.modern, modern, args.theano, default, modern / default,
                 "Keras 3 faster" if modern < default else "Theano faster"))
        print("%s default CPU vs the fastest %s variant: ratio %.2f"
              % (args.modern, args.theano, modern / best["seconds_per_epoch"]))
    print("comparison kept in %s (%d epochs x %d samples, %d repeats)" % (out, args.epochs, args.samples,
                                                                            args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
