"""Print or write a .theanorc / THEANO_FLAGS for your Theano version.

Usage:
  theanogpu config [--theano=VER] [--device=DEV] [--floatx=TYPE] [--cnmem=AMOUNT] [--cudnn=MODE]
                   [--set=KEY=VALUE]... [--format=FMT] [--write[=PATH]] [--force] [--template=NAME]
                   [--backend=NAME] [--memory=POLICY] [--threads=N] [--python=PATH] [--stack=NAME]
  theanogpu config (-h | --help)

Options:
  --theano=VER       Theano release whose dialect to use: 0.8, 0.9 or 1.0 (0.8.2, theano10... work
                     too). Default: the Theano of --python or --stack; else the Theano installed
                     for this Python; else the one `python3` or `python` on PATH has (outside
                     theanogpu's own venv). With none found, the output is for 0.8 (said on
                     stderr), and --write refuses: which Theano reads the file decides its dialect.
  --python=PATH      The interpreter (or venv) whose Theano will read the config.
  --stack=NAME       The stack whose Theano will read the config (theano08, a venv path, tox:ENV).
  --device=DEV       cpu, gpu, gpuN, cuda or cudaN. gpu and cuda are the two GPU backends; each is
                     translated to what the release has (1.0: gpu -> cuda; 0.8: cuda -> gpu).
                     Default: gpu (from templates/gpu.theanorc).
  --floatx=TYPE      float32 (what GPUs compute), float64 or float16 (16/32/64 too). Default: float32.
  --cnmem=AMOUNT     GPU memory pool: 0 disables; 0 < x <= 1 is a fraction of GPU memory (Theano
                     clips it to 0.95); x > 1 is megabytes. lib.cnmem in 0.8/0.9, gpuarray.preallocate
                     in 1.0 (and in 0.9 with --device cuda).
  --cudnn=MODE       auto (use cuDNN if it works), on (fail without it) or off: dnn.enabled.
  --set=KEY=VALUE    Any other Theano flag, e.g. --set blas.ldflags=-lopenblas; one flag per --set,
                     repeatable, checked against the release's option table. Overrides the above.
  --template=NAME    Start from templates/NAME.theanorc: cpu, gpu, gpu-cnmem or cuda-preallocate
                     (translated to the release). Default: gpu.
  --format=FMT       theanorc (default): a .theanorc file; flags: THEANO_FLAGS=... for a POSIX
                     shell; env: export THEANO_FLAGS=...; json: {"flags": {...}, "theano": "0.8", ...}.
  --write[=PATH]     Merge into PATH, else the first file in $THEANORC, else ~/.theanorc: other
                     sections, keys and comments are kept, the old file is kept as
                     .theanorc.bak-<time>, and the file is replaced atomically. Prints the path.
                     Every value it changes is said on stderr, with the reason; for Theano 1.0
                     a stale lib.cnmem becomes gpuarray.preallocate (or goes).
  --force            Merge even into a file Theano could not read (duplicate keys, no [section]).
  --backend=NAME     theano (default), or a Keras 3 backend: torch, jax or tensorflow. For those
                     the same request (--device, --floatx, --cnmem/--memory, --threads) is printed
                     as the environment variables that framework reads (--format env, flags or
                     json); what it has no equivalent for is said on stderr. --set NAME=VALUE
                     then adds an environment variable.
  --memory=POLICY    GPU memory policy: an amount (as --cnmem), grow (allocate on demand) or off
                     (no pool). Theano: lib.cnmem / gpuarray.preallocate (-1 = off).
  --threads=N        CPU threads (N or all): OMP_NUM_THREADS, MKL_NUM_THREADS,
                     OPENBLAS_NUM_THREADS (and TF_NUM_INTRAOP_THREADS, XLA_FLAGS for one thread).
                     With Theano this needs --format env (threads are not a Theano flag).
  -h --help          Show this help.

Notes about what was translated (e.g. lib.cnmem -> gpuarray.preallocate for 1.0) go to stderr.

Examples:
  theanogpu config --cnmem 0.8                       # .theanorc for the installed Theano (or 0.8)
  theanogpu config --theano 1.0 --cnmem 0.8          # device = cuda, [gpuarray] preallocate = 0.8
  theanogpu config --device cpu --format flags       # THEANO_FLAGS=device=cpu,floatX=float32
  eval "$(theanogpu config --theano 0.9 --format env)"
  theanogpu config --theano 0.9 --device cuda --cnmem 2048 --cudnn on --format json
  theanogpu config --set blas.ldflags=-lopenblas --set 'gcc.cxxflags=-O3 -march=native' --format flags
  theanogpu config --cnmem 0.8 --write               # merge into ~/.theanorc (backup kept)
  theanogpu config --stack theano10 --cnmem 0.8 --write    # for the Theano 1.0 of that stack
  theanogpu config --template cpu --write ./theanorc-cpu
  theanogpu config --backend jax --cnmem 0.8         # XLA_PYTHON_CLIENT_MEM_FRACTION=0.8 ...
  theanogpu config --backend torch --device cpu --threads 2 --format flags
  theanogpu config --backend tensorflow --memory grow --format json
"""

import importlib.metadata
import json
import os
import re
import shlex
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from theanogpu import __version__, stacks
from theanogpu.backends import for_modern, theano_memory_policy, thread_env
from theanogpu.commands import options
from theanogpu.errors import UserError
from theanogpu.flags import (
    RELEASES,
    TheanoRequest,
    check_value,
    parse_cnmem,
    parse_cudnn,
    parse_device,
    parse_floatx,
    parse_theano_version,
    read_flags,
    release_dialect,
    render_theanorc,
    request_from_flags,
    shell_assignment,
    spell_request,
)
from theanogpu.flags.dialect import amount_notes, consistency_notes, format_number
from theanogpu.flags.validate import canonical_name
from theanogpu.frameworks import BACKENDS
from theanogpu.intent import ALL_THREADS, Memory, parse_memory, parse_precision, parse_threads
from theanogpu.resources import templates_dir
from theanogpu.textsafe import visible
from theanogpu.theanorc import choose_target, write_theanorc
from theanogpu.variants import Variant

FORMATS = ("theanorc", "flags", "env", "json")
TEMPLATES = ("cpu", "gpu", "gpu-cnmem", "cuda-preallocate")
DEFAULT_TEMPLATE = "gpu"
_SEVERAL_FLAGS = re.compile(r",\s*[A-Za-z_][A-Za-z0-9_.]*\s*=")


def normalize_argv(argv: List[str]) -> List[str]:
    """docopt cannot parse an optional option argument: turn ``--write=PATH`` into ``--write PATH``."""
    out: List[str] = []
    for arg in argv:
        if arg.startswith("--write="):
            out.extend(["--write", arg[len("--write="):]])
        else:
            out.append(arg)
    return out


def installed_theano() -> Optional[str]:
    """The version of the Theano distribution installed for this interpreter (nothing imported)."""
    for name in ("Theano", "theano"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _theano_on_path() -> Tuple[Optional[str], Optional[str]]:
    """(Theano version, interpreter) of the first `python3`/`python` on PATH that has Theano, leaving
    out theanogpu's own environment (a venv without Theano, after the README's install)."""
    seen = set()
    for name in ("python3", "python"):
        candidate = shutil.which(name)
        if candidate is None or candidate in seen:
            continue
        seen.add(candidate)
        facts = stacks.python_facts(Path(candidate))
        if not facts or os.path.realpath(str(facts.get("prefix"))) == os.path.realpath(sys.prefix):
            continue
        version = (facts.get("installed") or {}).get("theano")
        if version:
            return str(version), candidate
    return None, None


def _theano_of(args: Dict[str, Any]) -> Tuple[Optional[str], str]:
    """(installed Theano version or None, where that was looked up) for --python / --stack."""
    if args.get("--stack"):
        stack = stacks.get_stack(args["--stack"])
        pinned = stack.pinned_versions()
        if pinned is not None:
            return pinned.get("theano"), "stack %s" % stack.name
        return (stacks.python_facts(stack.python) or {}).get("installed", {}).get("theano"), "stack %s" % stack.name
    path = Path(os.path.expanduser(args["--python"]))
    python = stacks.environment_python(path.absolute(), args["--python"])
    facts = stacks.python_facts(python)
    return (facts or {}).get("installed", {}).get("theano"), str(python)


def resolve_version(args: Dict[str, Any], notes: List[str], writing: bool = False) -> str:
    """The Theano dialect to write: --theano, else that of the Theano that will read the config."""
    if args.get("--theano"):
        return parse_theano_version(args["--theano"])
    if args.get("--python") or args.get("--stack"):
        installed, where = _theano_of(args)
        if installed is None:
            raise UserError("%s has no Theano installed; install it there, or give --theano 0.8, 0.9 or 1.0"
                            % where)
    else:
        installed, where = installed_theano(), sys.executable
        if installed is None:
            installed, found = _theano_on_path()
            where = found or where
    if installed is None:
        if writing:
            raise UserError("--write: which Theano will read this file? None is installed for %s or for the "
                            "python3/python on PATH; give --theano 0.8, 0.9 or 1.0, --python PATH or --stack NAME"
                            % sys.executable)
        notes.append("no Theano installed for %s or on PATH; writing for Theano 0.8 (choose with --theano, "
                     "--python or --stack)" % sys.executable)
        return "0.8"
    dialect, note = release_dialect(installed)
    notes.append(note or "writing for Theano %s of %s (choose another with --theano, --python or --stack)"
                 % (installed, where))
    return dialect


def load_template(name: str) -> Dict[str, str]:
    """A template's flags (THEANO_FLAGS spelling)."""
    if name not in TEMPLATES:
        raise UserError("--template=%s: unknown template; choose one of %s" % (name, ", ".join(TEMPLATES)))
    text = (templates_dir() / (name + ".theanorc")).read_text(encoding="utf-8")
    return {canonical_name(key): value for key, value in read_flags(text).items()}


def parse_set(items: List[str], version: str) -> Dict[str, str]:
    """``--set KEY=VALUE`` items -> validated flags (later items win)."""
    result: Dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError("--set %s: write one flag as KEY=VALUE, e.g. --set blas.ldflags=-lopenblas"
                            % item)
        if key != key.strip():
            raise UserError("--set %s: no spaces around '=' (Theano would read the key %r)" % (item, key))
        if _SEVERAL_FLAGS.search(value):
            pieces = " ".join("--set " + piece.strip() for piece in item.split(","))
            raise UserError("--set %s: one flag per --set; this looks like several, write: %s"
                            % (item, pieces))
        result[key] = check_value(version, key, value, where="--set")
    return result


def memory_option(args: dict) -> Optional[Memory]:
    """``--memory`` or ``--cnmem`` (the same request; 0 is off) as a Memory, or None."""
    if args.get("--memory") is not None and args.get("--cnmem") is not None:
        raise UserError("--memory and --cnmem say the same thing; keep one")
    if args.get("--memory") is not None:
        return parse_memory(args["--memory"], "--memory")
    if args.get("--cnmem") is not None:
        amount = parse_cnmem(args["--cnmem"])
        return Memory("off") if amount == 0 else Memory("amount", amount)
    return None


def threads_option(args: dict) -> Optional[int]:
    if args.get("--threads") is None:
        return None
    threads = parse_threads(args["--threads"], "--threads")
    return threads if threads != ALL_THREADS else (os.cpu_count() or 1)


def reasons_for(args: Dict[str, Any], version: str, flags: Dict[str, str], template: str) -> Dict[str, str]:
    """Flag -> why it has its value, for the report of what `--write` changed in an existing file."""
    device = flags.get("device", "")
    reasons = {"device": "--device %s" % args["--device"] if args.get("--device")
               else "the %s template's device, as Theano %s spells it" % (template, version)}
    if args.get("--floatx"):
        reasons["floatX"] = "--floatx %s" % args["--floatx"]
    elif device.startswith("gpu"):
        reasons["floatX"] = "the %s GPU back-end computes in float32" % version
    else:
        reasons["floatX"] = "the %s template's floatX" % template
    amount = "--memory %s" % args["--memory"] if args.get("--memory") else "--cnmem %s" % args.get("--cnmem")
    if args.get("--memory") or args.get("--cnmem"):
        reasons["lib.cnmem"] = amount
        reasons["gpuarray.preallocate"] = amount + (" (Theano 1.0's name for lib.cnmem)" if version == "1.0" else "")
    if args.get("--cudnn"):
        reasons["dnn.enabled"] = "--cudnn %s" % args["--cudnn"]
    for item in args.get("--set") or []:
        reasons[canonical_name(item.split("=", 1)[0].strip())] = "--set"
    return reasons


def build(args: dict, notes: List[str], writing: bool = False) -> Tuple[str, Dict[str, str], List[str]]:
    """Options -> (release, flags, header lines for a .theanorc)."""
    template = args.get("--template") or DEFAULT_TEMPLATE
    base_flags = load_template(template)
    base, rest = request_from_flags(base_flags)
    memory = memory_option(args)
    cnmem = base.cnmem
    policy = memory if memory is not None and memory.policy != "amount" and args.get("--memory") else None
    if memory is not None:
        # --cnmem 0 is Theano's own "no CNMeM"; --memory grow/off are spelled per backend below.
        cnmem = memory.amount if memory.policy == "amount" else (None if policy else 0.0)
    intent = TheanoRequest(
        device=parse_device(args["--device"]) if args.get("--device") else base.device,
        floatx=parse_floatx(args["--floatx"]) if args.get("--floatx") else base.floatx,
        cnmem=cnmem,
        cudnn=parse_cudnn(args["--cudnn"]) if args.get("--cudnn") else base.cudnn,
    )
    # Every option is checked before asking which Theano reads the result: a typo is the first thing to hear.
    version = resolve_version(args, notes, writing)
    translation = spell_request(intent, version)
    notes.extend(translation.notes)
    flags = dict(translation.flags)
    if policy is not None:
        theano_memory_policy(policy, flags, notes)
    for key, value in rest.items():
        flags[key] = check_value(version, key, value, where="template " + template)
    for key, value in parse_set(args.get("--set") or [], version).items():
        if key in flags and flags[key] != value:
            notes.append("--set %s=%s replaces %s=%s" % (key, value, key, flags[key]))
        flags[key] = value
        if key in ("lib.cnmem", "gpuarray.preallocate"):
            notes.extend(amount_notes(key, value, version))
    notes.extend(consistency_notes(flags))
    command = ["theanogpu config --theano", version]
    if template != DEFAULT_TEMPLATE:
        command += ["--template", template]
    if args.get("--memory") is not None:
        intent = replace(intent, cnmem=None)
        command += ["--memory", args["--memory"]]
    stated: List[Tuple[str, Optional[str]]] = [
        ("--device", intent.device), ("--floatx", intent.floatx),
        ("--cnmem", None if intent.cnmem is None else format_number(intent.cnmem)), ("--cudnn", intent.cudnn)]
    for option, given in stated:
        if given is not None:
            command += [option, given]
    for item in args.get("--set") or []:
        command += ["--set", shlex.quote(item)]
    header = [
        "Generated by theanogpu %s for Theano %s (%s) with:" % (__version__, version, RELEASES[version]),
        "  " + " ".join(command),
        "Theano reads ~/.theanorc or the files in $THEANORC; THEANO_FLAGS overrides any key for one run.",
        "Keep values free of trailing comments, keep each key once per section, write a literal % as %%.",
    ]
    return version, flags, header


def render(fmt: str, version: str, flags: Dict[str, str], notes: List[str], header: List[str],
           env: Optional[Dict[str, str]] = None) -> str:
    env = env or {}
    if fmt == "theanorc":
        if env:
            notes.append("--threads is not a Theano flag: set %s in the environment (--format env prints "
                         "it)" % " ".join("%s=%s" % item for item in env.items()))
        return render_theanorc(flags, header)
    if fmt == "flags":
        return " ".join([shell_assignment(flags)] + _env_words(env)) + "\n"
    if fmt == "env":
        return "".join(line + "\n" for line in [shell_assignment(flags, export=True)] + _exports(env))
    document = {"flags": flags, "theano": version, "notes": notes}
    if env:
        document["env"] = env
    return json.dumps(document, indent=2) + "\n"


def _env_words(env: Dict[str, str]) -> List[str]:
    return ["%s=%s" % (key, shlex.quote(value)) for key, value in env.items()]


def _exports(env: Dict[str, str]) -> List[str]:
    return ["export " + word for word in _env_words(env)]


# ------------------------------------------------------------------------------- Keras 3 backends

MODERN_FORMATS = ("env", "flags", "json")


def run_modern(args: dict, backend: str) -> int:
    """``--backend torch|jax|tensorflow``: the environment that framework reads for the request."""
    fmt = args.get("--format") or "env"
    if fmt not in MODERN_FORMATS:
        raise UserError("--format=%s: a Keras 3 backend is configured by environment variables; choose one "
                        "of %s" % (fmt, ", ".join(MODERN_FORMATS)))
    for option in ("--write", "--theano", "--template", "--force", "--python", "--stack"):
        if args.get(option):
            raise UserError("%s only applies to Theano; drop it with --backend %s" % (option, backend))
    device = parse_device(args["--device"]) if args.get("--device") else "gpu"
    precision = parse_precision(args["--floatx"], "--floatx") if args.get("--floatx") else "float32"
    variant = Variant("config", {"device": device}, precision=precision, memory=memory_option(args),
                      threads=threads_option(args))
    translation = for_modern(backend, variant.flags, variant.intent())
    notes = list(translation.notes)
    if args.get("--cudnn"):
        notes.append("--cudnn %s: %s has no environment variable for it; it uses cuDNN whenever its CUDA "
                     "build finds it" % (args["--cudnn"], backend))
    env = dict(translation.env)
    for key, value in parse_env_set(args.get("--set") or []).items():
        env[key] = value
    if translation.floatx and translation.floatx != "float32":
        notes.append("floatx %s: Keras reads it from keras.json (\"floatx\") or keras.config.set_floatx(), "
                     "not from the environment" % translation.floatx)
    _print_notes(notes)
    if fmt == "json":
        sys.stdout.write(json.dumps({"backend": backend, "env": env, "floatx": translation.floatx,
                                     "notes": notes}, indent=2) + "\n")
    elif fmt == "flags":
        sys.stdout.write(" ".join(_env_words(env)) + "\n")
    else:
        sys.stdout.write("".join(line + "\n" for line in _exports(env)))
    return 0


def parse_env_set(items: List[str]) -> Dict[str, str]:
    """``--set NAME=VALUE`` with a Keras 3 backend: environment variables."""
    result: Dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UserError("--set %s: with a Keras 3 backend --set takes an environment variable, NAME=VALUE"
                            % item)
        result[key] = value
    return result


def run(args: dict) -> int:
    backend = (args.get("--backend") or "theano").lower()
    if backend not in BACKENDS:
        raise UserError("--backend=%s: choose one of %s" % (args["--backend"], ", ".join(BACKENDS)))
    if backend != "theano":
        return run_modern(args, backend)
    fmt = options.choice(args, "--format", FORMATS, "theanorc")
    path = args.get("=PATH")
    write = bool(args.get("--write"))
    if path is not None and not write:
        raise UserError("unexpected argument %r (to write a file: --write %s)" % (path, path))
    if write and args.get("--format") and fmt != "theanorc":
        raise UserError("--write writes a .theanorc; drop --format=%s (or print it without --write)" % fmt)
    if args.get("--force") and not write:
        raise UserError("--force only matters with --write")
    notes: List[str] = []
    version, flags, header = build(args, notes, writing=write)
    threads = threads_option(args)
    env = thread_env(threads) if threads is not None else {}
    if write:
        if env:
            notes.append("--threads is not a Theano flag and is not written; set %s in the environment"
                         % " ".join(_env_words(env)))
        target = choose_target(path, os.environ)
        notes.extend(target.notes)
        report = write_theanorc(target.path, flags, header, force=bool(args.get("--force")), version=version,
                                reasons=reasons_for(args, version, flags, args.get("--template") or DEFAULT_TEMPLATE))
        _print_notes(notes)
        for line in report.lines:
            sys.stderr.write("theanogpu: %s\n" % visible(line))
        sys.stdout.write("%s\n" % report.path)
        return 0
    text = render(fmt, version, flags, notes, header, env)
    _print_notes(notes)
    sys.stdout.write(text)
    return 0


def _print_notes(notes: List[str]) -> None:
    for note in notes:  # they may quote $THEANORC or a path: shown, never obeyed by the terminal
        sys.stderr.write("theanogpu: note: %s\n" % visible(note))
