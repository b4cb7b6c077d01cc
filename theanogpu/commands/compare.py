"""Run a training script under each config variant, in each stack, and compare epoch times.

Usage:
  theanogpu compare [--matrix=FILE] [--variant=SPEC]... [--stack=NAME]... [--script=PATH]
                    [--epochs=N] [--samples=N] [--data=DIR] [--repeat=N] [--timeout=SECONDS]
                    [--out=DIR] [--baseline=NAME] [--format=FMT] [--dry-run] [--resume]
                    [--until-stable[=PCT]] [--arg=ARG]... [--launcher=NAME] [--on=TARGET]...
                    [--slurm-arg=ARG]...
  theanogpu compare (-h | --help)

Options:
  --matrix=FILE       INI file, one [section] per variant; keys are Theano flags or intent keys
                      (device, precision, memory, threads, env.NAME), translated per stack; or
                      a built-in matrix: default, cpu-gpu, cpu-tuning. (default: the cpu, gpu
                      and gpu-cnmem variants of templates/default.ini)
  --variant=SPEC      Add a variant: NAME:key=value,key=value (values quoted as in THEANO_FLAGS).
  --stack=NAME        Where to run: a built-in stack (theano08, theano09, theano10,
                      theano08-py27, keras3-torch, keras3-jax, keras3-tf), one of yours, a path
                      to a python or a venv, or tox:ENV. Repeatable. (default: the current
                      python if it imports Theano, else theano10, built first if needed)
  --script=PATH       Training script (default: the bundled examples/cifar10_cnn.py).
  --epochs=N          Epochs per run (passed to the script as --epochs N).
  --samples=N         Training samples per run (passed as --samples N).
  --data=DIR          CIFAR-10 python batches (passed as --data DIR); without it the example uses
                      ~/.keras/datasets/cifar-10-batches-py, else clearly labelled synthetic data.
  --arg=ARG           One more argument for the script (repeatable).
  --repeat=N          Run every variant N times, interleaved (default: 1).
  --timeout=SECONDS   Kill a run (its whole process group) after this long; recorded as timeout.
  --out=DIR           Output directory (default: theanogpu-runs/<timestamp>). Running again with
                      the same --out resumes: finished runs are kept and skipped.
  --resume            Resume the newest comparison under theanogpu-runs/ (when --out is not given).
  --until-stable[=PCT]  Stop a run as soon as its speed is known: once its steady-state
                      throughput (from the progress updates, warm-up left out) is known within
                      +-PCT % at 95 % confidence (default 2) after at least 10 s of steady
                      training; the report projects s/epoch from it and says so. A script with
                      no progress display stops once its last 3 epochs agree within 2 %.
  --baseline=NAME     Variant that speedups are relative to (default: the first CPU run).
  --format=FMT        Final report format: text, markdown, csv, json or html (default: text).
  --dry-run           Print each run's exact command, environment and config file; run nothing.
  --launcher=NAME     Where runs run: local (one after the other, here; the default) or slurm
                      (each run one Slurm job, all queued at once; --on implies it).
  --on=TARGET         A Slurm target: slurm:KEY=VALUE,... with keys partition, gres, gpus,
                      constraint, nodelist, exclude, cpus, mem, exclusive (yes, the default:
                      each job has its node to itself; no: shared, e.g. with gres=gpu:1) and
                      name (the rows' label; default the partition). Repeatable: every run goes
                      to every target. Plain slurm: the cluster's default partition.
  --slurm-arg=ARG     One more sbatch option for every job, e.g. --slurm-arg=--account=lab
                      --slurm-arg=--time=2:00:00 (repeatable).

Each run gets THEANO_FLAGS from its variant (re-spelled for the stack's Theano: device=gpu becomes
device=cuda and lib.cnmem becomes gpuarray.preallocate on Theano 1.0), THEANORC pointing at a
generated file and a private HOME with its own keras.json, so your ~/.theanorc, ~/.keras/keras.json
and ~/.theano (the compile cache) never reach a run. Your dataset caches do: ~/.keras/datasets (and
$KERAS_HOME/datasets), ~/scikit_learn_data, ~/tensorflow_datasets and ~/nltk_data appear in the
private HOME as links to your files, so keras.datasets.*.load_data() finds what you downloaded
before; anything a run downloads stays in its own directory, and a run that changes one of your
files is reported (results.json "dataset_changes").

Output goes to <out>/<variant>@<stack>[#repeat].log (timestamped as the script prints, so
`tail -f` follows it) and <out>/results.json, rewritten after every run. Running again with the
same --out keeps a finished run only if it would be the same run: same script (path and content),
arguments, translated flags and environment, interpreter and key package versions; anything else,
and every failed, timed-out or interrupted run, runs again (one line says why). Ctrl-C stops the
current run, keeps every finished one, prints the report and exits 130. A closed stdout or stderr
(`| head`) only silences output: every run still runs and the exit status still tells.

On Slurm (--launcher slurm / --on) every run is one job (sbatch), watched with one squeue per poll
for all of them; inside the job theanogpu runs the script as it does here (same environment, log
timestamped as it prints), so rows gain where they ran: target, node and the GPU the job saw. The
stack and --out must be on a filesystem the nodes share. Ctrl-C cancels every job of the comparison;
if compare itself dies, running it again with the same --out re-attaches to the jobs still queued
or running, never submitting a run twice.

Exit status: 0 every run finished; 1 a run failed, timed out or was cancelled; 2 bad usage or input
(a job Slurm rejects at submit included); 130 interrupted.

Examples:
  theanogpu compare --stack theano10 --epochs 2 --samples 512
  theanogpu compare --stack theano08 --stack theano10 --repeat 3 --until-stable
  theanogpu compare --matrix templates/cpu-gpu.ini --stack ~/venvs/old-keras --timeout 3600
  theanogpu compare --variant cpu64:device=cpu,floatX=float64 --variant cpu:device=cpu --dry-run
  theanogpu compare --matrix templates/cpu-gpu.ini --stack theano10 --stack keras3-torch
  theanogpu compare --matrix cpu-tuning --stack theano10      # which CPU setting is fastest here?
  theanogpu compare --out theanogpu-runs/paper-repro      # run again to resume after Ctrl-C
  theanogpu compare --stack theano10 --on slurm:partition=k80,gres=gpu:1 --on slurm:partition=v100,gres=gpu:1
  theanogpu compare --launcher slurm --slurm-arg=--account=lab --slurm-arg=--time=1:00:00
"""

import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from theanogpu import fsutil, hostinfo, resources, stacks
from theanogpu.commands import options
from theanogpu.errors import UserError
from theanogpu.report import FORMATS, model, read_inputs, render_for
from theanogpu.run import (
    LAUNCHERS,
    RUNS_ROOT,
    ClusterTarget,
    CompareProgress,
    Comparison,
    Launcher,
    LocalLauncher,
    PlannedRun,
    SlurmLauncher,
    choose_out,
    parse_targets,
    plan_runs,
    prepare_out,
    prepare_run,
    shell_line,
    wants_auto_blas,
)
from theanogpu.textsafe import visible
from theanogpu.variants import Variant, parse_matrix, select_variants

# Bounds that no real comparison comes near; past them a typo (an extra 0) would plan runs until the
# memory runs out, or hand a script a number it cannot use.
MAX_REPEAT = 1000
MAX_EPOCHS = 100_000
MAX_SAMPLES = 100_000_000


def normalize_argv(argv: List[str]) -> List[str]:
    """What docopt cannot read as given. ``--slurm-arg --time=10`` becomes ``--slurm-arg=--time=10``
    (docopt would read the sbatch option as one of compare's own); docopt has no optional option
    arguments, so ``--until-stable=PCT`` becomes the flag and its value (the usage's ``[=PCT]``)."""
    out: List[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--slurm-arg" and index + 1 < len(argv):
            out.append("--slurm-arg=" + argv[index + 1])
            index += 1
        elif arg.startswith("--until-stable="):
            out += ["--until-stable", arg[len("--until-stable="):]]
        else:
            out.append(arg)
        index += 1
    return out


def _read_matrix(path: Path) -> List[Variant]:
    """A matrix file's variants: a regular file of at most 10 MB (a FIFO or /dev/zero is refused)."""
    try:
        text = fsutil.read_limited(path).decode("utf-8")
    except OSError as exc:
        raise UserError("--matrix=%s: cannot read it (%s)" % (path, exc.strerror or exc)) from None
    except UnicodeDecodeError:
        raise UserError("--matrix=%s: cannot read it (not UTF-8 text)" % path) from None
    return parse_matrix(text, str(path))


def _load_variants(args: Dict[str, Any]) -> List[Variant]:
    matrix = None
    if args["--matrix"]:
        path = Path(args["--matrix"])
        builtin = resources.templates_dir() / (args["--matrix"] + ".ini")
        if not path.exists() and "/" not in args["--matrix"] and builtin.is_file():
            path = builtin  # a built-in matrix by name: cpu-tuning, cpu-gpu, default
        matrix = _read_matrix(path)
    elif not args["--variant"]:
        return _read_matrix(resources.templates_dir() / "default.ini")
    return select_variants(matrix, args["--variant"], [])


def _script_args(args: Dict[str, Any]) -> List[str]:
    """--epochs, --samples and --data as the script's arguments, then every --arg. (Without --data the
    example finds a cached CIFAR-10 in the run's private HOME: dataset caches are linked there.)"""
    extra = []
    for option, most in (("--epochs", MAX_EPOCHS), ("--samples", MAX_SAMPLES)):
        number = options.positive_int(args, option, most)
        if number is not None:
            extra += [option, str(number)]
    data = args["--data"]
    if data is not None:
        if not Path(data).is_dir():
            raise UserError("--data=%s: no such directory (it should hold CIFAR-10's data_batch_1..5 and "
                            "test_batch)" % data)
        extra += ["--data", str(Path(data).absolute())]
    return extra + list(args["--arg"])


DEFAULT_PRECISION = "2"


def _until_stable(args: Dict[str, Any]) -> Optional[float]:
    """The relative precision --until-stable asks for (0.02 for 2 %), or None without it."""
    if not args.get("--until-stable"):
        if args.get("=PCT") is not None:
            raise UserError("unexpected argument %r (the precision goes with the option: --until-stable=%s)"
                            % (args["=PCT"], args["=PCT"]))
        return None
    value = args.get("=PCT") or DEFAULT_PRECISION
    try:
        percent = float(value)
    except ValueError:
        percent = -1.0
    if not 0.1 <= percent <= 50:
        raise UserError("--until-stable=%s: give the precision in percent, from 0.1 to 50 (e.g. "
                        "--until-stable=2)" % value)
    return percent / 100.0


def _cluster_targets(args: Dict[str, Any]) -> Optional[List[ClusterTarget]]:
    """The --on targets when the runs go to Slurm; None when they run here."""
    launcher = options.choice(args, "--launcher", LAUNCHERS, "slurm" if args["--on"] else "local")
    if launcher == "local":
        for option in ("--on", "--slurm-arg"):
            if args[option]:
                raise UserError("%s=%s: only with --launcher slurm" % (option, args[option][0]))
        return None
    return parse_targets(list(args["--on"]))


def run(args: Dict[str, Any]) -> int:
    dry_run = args["--dry-run"]
    repeats = options.positive_int(args, "--repeat", MAX_REPEAT) or 1
    timeout = options.seconds(args, "--timeout")
    fmt = options.choice(args, "--format", FORMATS, "text")
    precision = _until_stable(args)
    where = _cluster_targets(args)
    variants = _load_variants(args)
    script = Path(args["--script"]) if args["--script"] else resources.examples_dir() / "cifar10_cnn.py"
    if not script.is_file():
        raise UserError("--script=%s: no such file" % script)
    script_args = _script_args(args)
    progress = CompareProgress(sys.stderr)
    out = None if dry_run else prepare_out(choose_out(args["--out"], args["--resume"]))
    targets = stacks.resolve_targets(list(args["--stack"]), not dry_run, wants_auto_blas(variants), progress.message)
    planned = plan_runs(variants, targets, repeats, os.cpu_count() or 1, where or ())
    slurm = SlurmLauncher(where, args["--slurm-arg"], out, progress.note, progress.message) if where else None
    if dry_run or out is None:
        return _dry_run(planned, script, script_args, Path(args["--out"] or RUNS_ROOT / "<timestamp>"), slurm,
                        timeout)
    machine = {}
    if any(target.theano for target in targets):
        # Theano 0.8/0.9 misreport a new nvcc as missing; its logs record which nvcc was really there.
        machine["nvcc"] = hostinfo.nvcc_facts(os.environ.get("PATH"))
    launcher: Launcher = LocalLauncher()
    if slurm is not None:
        slurm.check(timeout)  # every target's job accepted (sbatch --test-only), or exit 2 before any is submitted
        launcher = slurm
    comparison = Comparison(planned, script, script_args, out, launcher, progress, timeout,
                            precision, machine)
    summary = comparison.run()
    runs, _ = read_inputs([str(summary.results_path)])
    sys.stdout.write(render_for(model.build(runs, args["--baseline"]), fmt, sys.stdout))
    sys.stderr.write("results: %s\n" % summary.results_path)
    if summary.interrupted:
        sys.stderr.write("interrupted: finished runs are kept; run the same command with --out %s to resume\n"
                         % out)
        return 130
    return 1 if summary.failed else 0


def _dry_run(planned: List[PlannedRun], script: Path, script_args: List[str], out: Path,
             slurm: Optional[SlurmLauncher] = None, timeout: Optional[float] = None) -> int:
    """Show each run's exact command, environment and config; write the config files to a temp dir.

    Everything but the command lines is a shell comment, and stays one (textsafe.visible: a line
    break in a value cannot start an uncommented line), so the output can be piped to sh.
    """
    scratch = Path(tempfile.mkdtemp(prefix="theanogpu-dry-run-"))
    for planned_run in planned:
        if planned_run.skip:
            sys.stdout.write("# run %s: skipped, %s\n\n" % (visible(planned_run.label), visible(planned_run.skip)))
            continue
        command = prepare_run(planned_run, script, script_args, scratch / planned_run.label)
        sys.stdout.write("# run %s -> %s\n" % (visible(planned_run.label),
                                                visible(str(out / (planned_run.label + ".log")))))
        for note in planned_run.notes:
            sys.stdout.write("# note: %s\n" % visible(note))
        for key, value in sorted(command.changed.items()):
            sys.stdout.write("#   %s=%s\n" % (visible(key), visible(value)))
        for key in command.removed:
            sys.stdout.write("#   unset %s\n" % visible(key))
        if command.theanorc is not None:
            sys.stdout.write("# %s:\n" % visible(str(command.theanorc)))
            for line in command.theanorc.read_text(encoding="utf-8").rstrip("\n").split("\n"):
                sys.stdout.write("#   | %s\n" % visible(line))
        if slurm is not None:
            sys.stdout.write("# submitted as: %s\n" % visible(slurm.sbatch_line(planned_run.where, planned_run.label,
                                                                                timeout)))
        sys.stdout.write(shell_line(command) + "\n\n")
    sys.stdout.write("# dry run: nothing was run; the config files above are in %s\n" % visible(str(scratch)))
    return 0
