"""Run a training script under each config variant, in each stack, and compare epoch times.

Usage:
  theanogpu compare [--matrix=FILE] [--variant=SPEC]... [--stack=NAME]... [--script=PATH]
                    [--epochs=N] [--samples=N] [--data=DIR] [--repeat=N] [--timeout=SECONDS]
                    [--out=DIR] [--baseline=NAME] [--format=FMT] [--dry-run] [--resume]
                    [--until-stable] [--arg=ARG]...
  theanogpu compare (-h | --help)

Options:
  --matrix=FILE       INI file, one [section] per variant; keys are Theano flags or intent keys
                      (device, precision, memory, threads, env.NAME), translated per stack; or
                      a built-in matrix: default, cpu-gpu, cpu-tuning. (default: the cpu, gpu
                      and gpu-cnmem variants of templates/default.ini)
  --variant=SPEC      Add a variant: NAME:key=value,key=value (values quoted as in THEANO_FLAGS).
  --stack=NAME        Where to run: a built-in stack (theano08, theano09, theano10,
                      keras3-torch, keras3-jax, keras3-tf), one of yours, a path to a python
                      or a venv, or tox:ENV. Repeatable. (default: the current
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
  --until-stable      Stop a run once its last 3 epochs agree within 2 % (the first epoch, which
                      carries compilation, never counts); the report says so.
  --baseline=NAME     Variant that speedups are relative to (default: the first CPU run).
  --format=FMT        Final report format: text, markdown, csv, json or html (default: text).
  --dry-run           Print each run's exact command, environment and config file; run nothing.

Each run gets THEANO_FLAGS from its variant (re-spelled for the stack's Theano: device=gpu becomes
device=cuda and lib.cnmem becomes gpuarray.preallocate on Theano 1.0), THEANORC pointing at a
generated file and a private HOME with its own keras.json, so your ~/.theanorc and ~/.keras are
never read or touched. Output goes to <out>/<variant>@<stack>[#repeat].log (timestamped) and
<out>/results.json, rewritten after every run. Ctrl-C stops the current run, keeps every finished
one, prints the report and exits 130.

Exit status: 0 every run finished; 1 a run failed or timed out; 2 bad usage or input; 130 interrupted.

Examples:
  theanogpu compare --stack theano10 --epochs 2 --samples 512
  theanogpu compare --stack theano08 --stack theano10 --repeat 3 --until-stable
  theanogpu compare --matrix templates/cpu-gpu.ini --stack ~/venvs/old-keras --timeout 3600
  theanogpu compare --variant cpu64:device=cpu,floatX=float64 --variant cpu:device=cpu --dry-run
  theanogpu compare --matrix templates/cpu-gpu.ini --stack theano10 --stack keras3-torch
  theanogpu compare --matrix cpu-tuning --stack theano10      # which CPU setting is fastest here?
  theanogpu compare --out theanogpu-runs/paper-repro      # run again to resume after Ctrl-C
"""

import datetime
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, TextIO, Tuple

from theanogpu import resources, results, stacks
from theanogpu.errors import UserError
from theanogpu.flags import release_dialect
from theanogpu.logparse import keras, parse_path
from theanogpu.logparse.timestamps import format_line
from theanogpu.progress import CompareProgress
from theanogpu.runenv import prepare_run, shell_line
from theanogpu.runner import StopFlag, run_process
from theanogpu.runplan import (
    PlannedRun,
    StackTarget,
    epoch_durations,
    finished_keys,
    is_stable,
    plan_runs,
    wants_auto_blas,
)
from theanogpu.variants import parse_matrix, select_variants

RUNS_ROOT = Path("theanogpu-runs")
# A comparison writes logs of a few MB; refuse to start with less than this free.
MIN_FREE_BYTES = 50 * 1024 * 1024


def _positive_int(args: dict, option: str) -> Optional[int]:
    value = args.get(option)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise UserError("%s=%s: expected a whole number >= 1" % (option, value))
    return number


def _timeout(args: dict) -> Optional[float]:
    value = args.get("--timeout")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):  # also rejects nan
        raise UserError("--timeout=%s: expected a number of seconds > 0" % value)
    return seconds


def _load_variants(args: dict) -> list:
    matrix = None
    if args["--matrix"]:
        path = Path(args["--matrix"])
        builtin = resources.templates_dir() / (args["--matrix"] + ".ini")
        if not path.exists() and "/" not in args["--matrix"] and builtin.is_file():
            path = builtin  # a built-in matrix by name: cpu-tuning, cpu-gpu, default
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError("--matrix=%s: cannot read it (%s)" % (path, getattr(exc, "strerror", exc))) from None
        matrix = parse_matrix(text, str(path))
    default_path = resources.templates_dir() / "default.ini"
    default = parse_matrix(default_path.read_text(encoding="utf-8"), str(default_path))
    return select_variants(matrix, args["--variant"], default)


# The distributions that decide a stack's backend, read from their metadata directories by the probe's
# own reader (Python 2.7+, nothing imported: Theano would compile, TensorFlow takes seconds).
_BACKEND_DISTS = ("theano", "keras", "torch", "jax", "tensorflow", "tensorflow-cpu")
_INSPECT = ("import json, sys; sys.path.insert(0, sys.argv[1]); import probe; "
            "print(json.dumps(probe.installed_versions()))")


def _child_json(argv: List[str]) -> Optional[dict]:
    """The JSON object a child-side script prints last (on its own line), or None if it printed none."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120).stdout.strip()
        found = json.loads(out.splitlines()[-1]) if out else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _installed_in(python: Path) -> Dict[str, str]:
    """{distribution: version} of the packages that decide the backend, in another interpreter."""
    found = _child_json([str(python), "-c", _INSPECT, str(resources.child_dir())]) or {}
    return {name: found[name] for name in _BACKEND_DISTS if found.get(name)}


def stack_backend(installed: Dict[str, str], env: Dict[str, str]) -> Tuple[Optional[str], str]:
    """(Theano dialect or None, Keras backend) of a stack from its distributions and environment."""
    theano = release_dialect(installed["theano"])[0] if installed.get("theano") else None
    if env.get("KERAS_BACKEND"):
        return theano, env["KERAS_BACKEND"]
    keras = installed.get("keras", "")
    if theano is not None and not keras.startswith("3"):
        return theano, "theano"
    # Keras 3's own default is tensorflow; without it, the backend that is there.
    for backend, dists in (("tensorflow", ("tensorflow", "tensorflow-cpu")), ("jax", ("jax",)),
                           ("torch", ("torch",))):
        if any(installed.get(dist) for dist in dists):
            return theano, backend
    # Nothing known installed (a custom script, a stub): pass the Theano flags as written.
    return theano, "theano"


def _find_blas(python: Path) -> Tuple[Optional[str], str]:
    """(ldflags, where from) of the best BLAS library for Theano in another interpreter."""
    found = _child_json([str(python), str(resources.child_dir() / "blas.py")])
    if found is None:
        return None, "could not look for a BLAS library with %s" % python
    return found.get("ldflags"), str(found.get("source") or "")


def _resolve_stacks(names: List[str], dry_run: bool, say: Callable[[str], None], need_blas: bool = False) -> \
        List[tuple]:
    """[(StackTarget, StackSpec, python)] for the requested stacks, building built-ins as needed."""
    if not names:
        if importlib.util.find_spec("theano") is not None:
            names = [str(stacks.host_python())]
        else:
            names = ["theano10"]
    resolved = []
    for name in names:
        spec = stacks.get_stack(name)
        if spec.is_external:
            python = stacks.stack_python(spec.external)
            if not python.exists():
                raise UserError("stack %s: %s does not exist" % (name, python))
            installed = _installed_in(python)
        else:
            if dry_run:
                python = stacks.stack_python(stacks.venv_dir(spec))
            else:
                python = stacks.ensure_stack_result(spec, progress=say).python
            installed = {dist: pin.lstrip("=<>~! ") for dist, pin in spec.pins().items()}
        theano, backend = stack_backend(installed, dict(spec.env))
        blas: Tuple[Optional[str], str] = (None, "")
        if need_blas and backend == "theano" and python.exists():
            blas = _find_blas(python)
        target = StackTarget(spec.name if not spec.is_external else name, theano, backend, *blas)
        resolved.append((target, spec, python))
    return resolved


def _prepare_out(args: dict) -> Path:
    if args["--out"]:
        out = Path(args["--out"])
    elif args["--resume"]:
        earlier = sorted(p for p in RUNS_ROOT.glob("*") if (p / "results.json").is_file())
        if not earlier:
            raise UserError("--resume: no earlier comparison under %s/; start one without --resume" % RUNS_ROOT)
        out = earlier[-1]
    else:
        out = RUNS_ROOT / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".theanogpu-write-test"
        probe.write_bytes(b"x" * 4096)
        probe.unlink()
    except OSError as exc:
        raise UserError("--out=%s: cannot write there (%s); choose a writable directory"
                        % (out, exc.strerror or exc)) from None
    free = shutil.disk_usage(str(out)).free
    if free < MIN_FREE_BYTES:
        raise UserError("--out=%s: only %d MB free on that disk; free some space or choose another --out"
                        % (out, free // (1024 * 1024)))
    return out


def _script_args(args: dict, default_script: bool) -> List[str]:
    extra = []
    for option in ("--epochs", "--samples"):
        if args[option] is not None:
            extra += [option, str(_positive_int(args, option))]
    data = args["--data"]
    if data is None and default_script:
        # The run gets a private HOME, so hand the example the real Keras cache explicitly.
        cache = Path.home() / ".keras" / "datasets" / "cifar-10-batches-py"
        data = str(cache) if cache.is_dir() else None
    if data is not None:
        if not Path(data).is_dir():
            raise UserError("--data=%s: no such directory (it should hold CIFAR-10's data_batch_1..5 and "
                            "test_batch)" % data)
        extra += ["--data", str(Path(data).absolute())]
    return extra + list(args["--arg"])


class _Watch:
    """Per-run line sink: writes the timestamped log, feeds the progress display, decides stability."""

    def __init__(self, log: TextIO, progress: CompareProgress, until_stable: bool, stop: StopFlag) -> None:
        self.log = log
        self.progress = progress
        self.until_stable = until_stable
        self.stop = stop
        self.headers: List[float] = []
        self.stopped_stable = False

    def __call__(self, t: float, stream: str, text: str) -> None:
        self.log.write(format_line(t, stream, text))
        self.log.write("\n")
        # The parser's own header rule, so that the live view and the final report agree.
        header = keras.epoch_header(text)
        if header is None:
            return
        self.headers.append(t)
        durations = epoch_durations(self.headers)
        self.progress.epoch(header[0], header[1], durations[-1] if durations else None)
        if self.until_stable and is_stable(durations) and not self.stop.is_set():
            self.stopped_stable = True
            self.stop.set()


def run(args: dict) -> int:
    dry_run = args["--dry-run"]
    repeats = _positive_int(args, "--repeat") or 1
    timeout = _timeout(args)
    fmt = args["--format"] or "text"
    from theanogpu.report import FORMATS  # noqa: PLC0415

    if fmt not in FORMATS:
        raise UserError("--format=%s: choose one of %s" % (fmt, ", ".join(FORMATS)))
    variants = _load_variants(args)
    script = Path(args["--script"]) if args["--script"] else resources.examples_dir() / "cifar10_cnn.py"
    if not script.is_file():
        raise UserError("--script=%s: no such file" % script)
    script_args = _script_args(args, default_script=args["--script"] is None)
    progress = CompareProgress(sys.stderr)
    out = None if dry_run else _prepare_out(args)
    targets = _resolve_stacks(list(args["--stack"]), dry_run, progress.message, wants_auto_blas(variants))
    planned = plan_runs(variants, [target for target, _, _ in targets], repeats, os.cpu_count() or 1)
    by_stack = {target.name: (spec, python) for target, spec, python in targets}

    if dry_run:
        return _dry_run(planned, by_stack, script, script_args, Path(args["--out"] or RUNS_ROOT / "<timestamp>"))

    results_path = out / "results.json"
    record = results.load_or_new(results_path)
    done = finished_keys(record["runs"])
    stop = StopFlag()
    previous = _install_signal_handlers(stop)
    interrupted = False
    try:
        todo = [run_ for run_ in planned if run_.key not in done]
        progress.start(len(planned), len(planned) - len(todo), out)
        for planned_run in todo:
            if stop.is_set():
                break
            spec, python = by_stack[planned_run.stack.name]
            outcome = _run_one(planned_run, spec, python, script, script_args, out, timeout, stop, progress,
                               args["--until-stable"])
            results.replace_run(record, outcome)
            results.save(results_path, record)
            if outcome["status"] == "interrupted":
                interrupted = True
                break
    finally:
        _restore_signal_handlers(previous)
        progress.close()
    if interrupted or stop.is_set() and not _all_done(record, planned):
        interrupted = True
    from theanogpu.commands.report import render_results  # noqa: PLC0415

    sys.stdout.write(render_results([results_path], fmt, args["--baseline"]))
    sys.stderr.write("results: %s\n" % results_path)
    if interrupted:
        sys.stderr.write("interrupted: finished runs are kept; run the same command with --out %s to resume\n"
                         % out)
        return 130
    statuses = [r["status"] for r in record["runs"]]
    return 1 if any(s in ("failed", "timeout") for s in statuses) else 0


def _all_done(record: dict, planned: List[PlannedRun]) -> bool:
    done = finished_keys(record["runs"])
    return all(run_.key in done for run_ in planned)


def _base_entry(planned_run: PlannedRun) -> dict:
    return {"variant": planned_run.variant.name, "stack": planned_run.stack.name, "flags": planned_run.flags,
            "env": planned_run.env, "variant_keys": planned_run.variant.written(),
            "backend": planned_run.stack.keras_backend, "requested_device": planned_run.variant.requested_device,
            "repeat": planned_run.repeat, "notes": planned_run.notes}


def _skipped(planned_run: PlannedRun, progress: CompareProgress) -> dict:
    entry = _base_entry(planned_run)
    entry.update(status="skipped", exit_code=None, wall_seconds=0.0, log=None, parsed=None,
                 skip_reason=planned_run.skip)
    progress.run_skipped(planned_run.label, planned_run.skip or "")
    return entry


def _run_one(planned_run: PlannedRun, spec: stacks.StackSpec, python: Path, script: Path, script_args: List[str],
             out: Path, timeout: Optional[float], stop: StopFlag, progress: CompareProgress,
             until_stable: bool) -> dict:
    if planned_run.skip:
        return _skipped(planned_run, progress)
    run_dir = out / ".runs" / planned_run.label
    compiledir = stacks.compiledir(spec) if planned_run.stack.theano else None
    command = prepare_run(planned_run, python, script, script_args, run_dir, compiledir, dict(spec.env))
    log_name = planned_run.label + ".log"
    progress.run_started(planned_run.label, theano=planned_run.stack.theano is not None)
    # The run stops for the harness's own stop (Ctrl-C) or for --until-stable.
    run_stop = StopFlag(parent=stop)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(str(out / log_name), "w", encoding="utf-8", errors="replace") as log:
        watch = _Watch(log, progress, until_stable, run_stop)
        outcome = run_process(command.argv, command.env, watch, timeout=timeout, stop=run_stop)
    status = outcome.status
    if status == "interrupted" and watch.stopped_stable and not stop.is_set():
        status = "ok"
    parsed = parse_path(str(out / log_name), requested_device=planned_run.variant.requested_device)
    parsed["source"] = log_name
    entry = _base_entry(planned_run)
    entry.update({
        "status": status, "exit_code": outcome.exit_code, "wall_seconds": round(outcome.wall_seconds, 3),
        "log": log_name, "parsed": parsed, "started": started, "command": shell_line(command),
    })
    if watch.stopped_stable:
        entry["stopped_early"] = "stable"
    if status in ("failed", "timeout"):
        entry["error"] = error_lines(outcome.tail, parsed.get("error") or parsed.get("last_exception"))
    progress.run_finished(planned_run.label, entry)
    return entry


def error_lines(tail: List[str], headline: Optional[str]) -> List[str]:
    """The last lines a failed run printed, led by its error line when the tail lost it (a stack
    dump after "Fatal Python error", a long traceback)."""
    lines = [line for line in tail if line.strip()][-8:]
    if headline and not any(headline in line for line in lines):
        lines = [headline] + lines[-5:]
    return lines


def _install_signal_handlers(stop: StopFlag) -> Dict[int, object]:
    previous = {}

    def handler(signum, frame) -> None:  # noqa: ANN001
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handler)
    return previous


def _restore_signal_handlers(previous: Dict[int, object]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _dry_run(planned: List[PlannedRun], by_stack: dict, script: Path, script_args: List[str], out: Path) -> int:
    """Show each run's exact command, environment and config; write the config files to a temp dir."""
    import tempfile  # noqa: PLC0415

    scratch = Path(tempfile.mkdtemp(prefix="theanogpu-dry-run-"))
    for planned_run in planned:
        if planned_run.skip:
            sys.stdout.write("# run %s: skipped, %s\n\n" % (planned_run.label, planned_run.skip))
            continue
        spec, python = by_stack[planned_run.stack.name]
        compiledir = stacks.compiledir(spec) if planned_run.stack.theano else None
        command = prepare_run(planned_run, python, script, script_args, scratch / planned_run.label, compiledir,
                              dict(spec.env))
        sys.stdout.write("# run %s -> %s\n" % (planned_run.label, out / (planned_run.label + ".log")))
        for note in planned_run.notes:
            sys.stdout.write("# note: %s\n" % note)
        for key, value in sorted(command.changed.items()):
            sys.stdout.write("#   %s=%s\n" % (key, value))
        for key in command.removed:
            sys.stdout.write("#   unset %s\n" % key)
        if command.theanorc is not None:
            sys.stdout.write("# %s:\n" % command.theanorc)
            for line in command.theanorc.read_text(encoding="utf-8").splitlines():
                sys.stdout.write("#   | %s\n" % line)
        sys.stdout.write(shell_line(command) + "\n\n")
    sys.stdout.write("# dry run: nothing was run; the config files above are in %s\n" % scratch)
    return 0
