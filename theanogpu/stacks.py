"""Stacks: pinned virtual environments of old software (Theano/Keras/NumPy), built once and reused.

A stack spec comes from ``templates/stacks/stacks.ini`` (built-in; tox reads the same requirement
files) or from the user's ``stacks.ini``. A stack can also be a path to an existing interpreter or
virtual environment, or ``tox:ENV`` (env ENV of ./tox.ini), which is used as it is and never modified.

Building is crash-safe: the venv is created in place under the cache, and a marker file holding the
spec's hash is written LAST, so an interrupted build (no marker) is detected and rebuilt, never
used; a changed spec (other hash) is rebuilt too. A file lock keeps two builds of one stack apart.
"""

import configparser
import contextlib
import datetime
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from theanogpu import interpreters, toxini
from theanogpu.errors import UserError, WorkFailed
from theanogpu.fsutil import atomic_write_text
from theanogpu.interpreters import find_interpreter, looks_like_path
from theanogpu.resources import stacks_dir

__all__ = [
    "StackSpec", "StackState", "EnsureResult", "find_interpreter", "load_specs",
    "get_stack", "stack_state", "ensure_stack", "ensure_stack_result", "stack_python", "remove_stack",
    "venv_dir", "build_log_path", "cache_home", "stacks_home", "compiledir", "empty_theanorc",
    "pip_step", "Progress", "built_specs", "host_python", "user_stacks_file", "parse_stacks_ini",
    "environment_python", "tox_env_dir", "TOX_PREFIX",
]

MARKER = ".theanogpu-stack.json"
REQUIREMENTS_COPY = ".theanogpu-requirements.txt"
KEY_PACKAGES = ("theano", "keras", "numpy", "torch", "jax", "tensorflow", "tensorflow-cpu")
LOG_TAIL_LINES = 15
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_REQ_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")

Progress = Callable[[str], None]


# ----------------------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class StackSpec:
    """What a stack is: an interpreter version plus pip requirements (or an existing environment)."""

    name: str
    python: str  # "3.6", "3.6.15", or a path to an interpreter
    requirements: Tuple[str, ...] = ()
    pip: Tuple[str, ...] = ()  # installed first, e.g. a pip that still runs on old Pythons
    env: Tuple[Tuple[str, str], ...] = ()  # set whenever the stack runs (KERAS_BACKEND for Keras 3)
    description: str = ""
    source: str = ""  # where the spec was defined, for messages
    external: Optional[Path] = None  # an existing venv dir or interpreter, used as-is

    @property
    def is_external(self) -> bool:
        return self.external is not None

    def spec_hash(self) -> str:
        """Changes whenever a rebuild is needed (interpreter line, bootstrap, pins, env)."""
        payload = json.dumps({"python": self.python, "pip": list(self.pip),
                              "requirements": list(self.requirements), "env": [list(kv) for kv in self.env]},
                             sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def pins(self) -> Dict[str, str]:
        """Requirement name (lower case) → its version specifier, e.g. {"theano": "==0.8.2"}."""
        result: Dict[str, str] = {}
        for line in self.requirements:
            if line.startswith("-"):
                continue
            match = _REQ_NAME_RE.match(line.split(";")[0])
            if match:
                result[match.group(1).lower().replace("_", "-")] = match.group(2).strip()
        return result

    def key_packages(self) -> str:
        """``theano==0.8.2 keras==1.2.2 numpy==1.16.6`` for listings."""
        pins = self.pins()
        return " ".join(name + pins[name] for name in KEY_PACKAGES if name in pins)


def requirement_lines(text: str) -> List[str]:
    """Lines of a requirements file without comments and blanks (``-r``-style options are kept)."""
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            lines.append(line)
    return lines


def _split_inline(value: str) -> List[str]:
    return [token for token in value.split() if token]


def parse_stacks_ini(text: str, source: str, read_file: Callable[[str], str]) -> Dict[str, StackSpec]:
    """Parse a stacks.ini (pure but for *read_file*, which returns a requirements file's text).

    ``requirements`` is a file name (relative names are resolved by *read_file*) when it is a single
    token ending in ``.txt`` or starting with ``-r``; otherwise it is inline pins, whitespace
    separated.
    """
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        parser.read_string(text, source=source)
    except configparser.Error as exc:
        raise UserError("cannot read stacks file %s: %s" % (source, str(exc).splitlines()[0])) from None
    specs: Dict[str, StackSpec] = {}
    for name in parser.sections():
        where = "%s [%s]" % (source, name)
        if not _NAME_RE.match(name):
            raise UserError("%s: bad stack name %r; use letters, digits, '.', '_' and '-'" % (where, name))
        section = parser[name]
        unknown = set(section) - {"python", "requirements", "pip", "env", "description"}
        if unknown:
            raise UserError("%s: unknown key(s) %s; valid keys: python, requirements, pip, env, description"
                            % (where, ", ".join(sorted(unknown))))
        python = section.get("python", "").strip()
        if not python:
            raise UserError("%s: missing `python =` (a version such as 3.6, or a path to an interpreter)"
                            % where)
        if not looks_like_path(python) and interpreters.parse_version_request(python) is None:
            raise UserError("%s: python = %r is neither X.Y, X.Y.Z nor a path to an interpreter"
                            % (where, python))
        raw_reqs = section.get("requirements", "").strip()
        tokens = _split_inline(raw_reqs)
        if len(tokens) == 2 and tokens[0] == "-r":
            tokens = [tokens[1]]
        if len(tokens) == 1 and (tokens[0].endswith(".txt") or tokens[0].startswith("-r")):
            filename = tokens[0][2:] if tokens[0].startswith("-r") else tokens[0]
            try:
                requirements = requirement_lines(read_file(filename))
            except OSError as exc:
                raise UserError("%s: cannot read requirements file %s: %s"
                                % (where, filename, exc.strerror or exc)) from None
        else:
            requirements = tokens
        if not requirements:
            raise UserError("%s: missing `requirements =` (pins such as theano==0.9.0, or a .txt file)"
                            % where)
        env = []
        for item in _split_inline(section.get("env", "")):
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise UserError("%s: env item %r is not KEY=VALUE" % (where, item))
            env.append((key, value))
        specs[name] = StackSpec(name=name, python=python, requirements=tuple(requirements),
                                pip=tuple(_split_inline(section.get("pip", ""))), env=tuple(env),
                                description=section.get("description", "").strip(), source=source)
    return specs


def _load_file(path: Path) -> Dict[str, StackSpec]:
    def read_file(name: str) -> str:
        target = Path(os.path.expanduser(name))
        if not target.is_absolute():
            target = path.parent / target
        return target.read_text(encoding="utf-8")

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError("cannot read stacks file %s: %s" % (path, exc.strerror or exc)) from None
    return parse_stacks_ini(text, str(path), read_file)


def user_stacks_file() -> Optional[Path]:
    """$THEANOGPU_STACKS, else ``stacks.ini`` in the user config dir (None if that does not exist)."""
    explicit = os.environ.get("THEANOGPU_STACKS")
    if explicit:
        path = Path(os.path.expanduser(explicit))
        if not path.is_file():
            raise UserError("THEANOGPU_STACKS names %s, which is not a file; create it or unset the variable"
                            % path)
        return path
    import platformdirs  # noqa: PLC0415 (only needed here)

    path = Path(platformdirs.user_config_dir("theanogpu")) / "stacks.ini"
    return path if path.is_file() else None


def load_specs() -> Dict[str, StackSpec]:
    """Built-in stacks, then the user's (a user stack may replace a built-in of the same name)."""
    specs = dict(_load_file(stacks_dir() / "stacks.ini"))
    user = user_stacks_file()
    if user is not None:
        specs.update(_load_file(user))
    return specs


TOX_PREFIX = "tox:"


def _pyvenv_home(env: Path) -> Optional[str]:
    """The base interpreter's directory a venv was made from (``home =`` in pyvenv.cfg), if any."""
    try:
        text = (env / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r"^\s*home\s*=\s*(.+?)\s*$", text, re.M)
    return match.group(1) if match else None


def environment_python(path: Path, label: str) -> Path:
    """The interpreter of an existing environment (venv dir) or interpreter file, proven by running it.

    Raises UserError (one line: what is wrong and what to do) for a path that does not exist, a
    directory that is no environment, a broken venv (interpreter missing, or its base Python gone)
    and a file that is not a Python interpreter.
    """
    if path.is_dir():
        python = stack_python(path)
        is_venv = (path / "pyvenv.cfg").is_file()
        if not python.exists():
            if is_venv or python.is_symlink():
                home = _pyvenv_home(path)
                reason = ("its interpreter %s is missing" % python.relative_to(path) if not python.is_symlink()
                          else "%s points to %s, which is gone" % (python.relative_to(path), os.readlink(python)))
                raise UserError("stack %s: %s is a broken virtual environment: %s%s; recreate it (python -m venv "
                                "--clear %s) or give another stack" % (label, path, reason,
                                                                     " (base Python was in %s)" % home if home else "",
                                                                     path))
            raise UserError("stack %s: %s is a directory but not a virtual environment (no %s); give a venv "
                            "directory or a python interpreter" % (label, path, python.relative_to(path)))
        if interpreters.interpreter_info(str(python)) is None:
            home = _pyvenv_home(path)
            raise UserError("stack %s: %s is a broken environment: %s does not run%s; recreate it or give another "
                            "stack" % (label, path, python,
                                       " (is its base Python in %s gone?)" % home if home else ""))
        return python
    if path.is_file():
        if interpreters.interpreter_info(str(path)) is None:
            raise UserError("stack %s: %s is not a Python interpreter (it does not run as one); give a python "
                            "executable or a venv directory" % (label, path))
        return path
    raise UserError("stack %s: no such interpreter or environment: %s" % (label, path))


def _external_spec(text: str) -> StackSpec:
    path = Path(os.path.expanduser(text)).absolute()
    python = environment_python(path, text)
    return StackSpec(name=str(path), python=str(python), description="existing environment (used as is)",
                     source="command line", external=path)


def tox_env_dir(env_name: str, directory: Optional[Path] = None) -> Tuple[Path, "toxini.ToxConfig"]:
    """Where tox keeps env *env_name* of the tox.ini in *directory* (default: the current one).

    Honours ``[tox] work_dir``/``toxworkdir`` and ``env_dir``/``envdir``; the directory may not
    exist yet. Raises UserError when there is no readable tox.ini.
    """
    root = (directory or Path.cwd()).absolute()
    ini = root / "tox.ini"
    try:
        text = ini.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("stack tox:%s: no tox.ini in %s; run theanogpu in the directory that holds tox.ini, or "
                        "give the env's directory as the stack (e.g. --stack path/to/.tox/%s)"
                        % (env_name, root, env_name)) from None
    except OSError as exc:
        raise UserError("stack tox:%s: cannot read %s: %s" % (env_name, ini, exc.strerror or exc)) from None
    try:
        config = toxini.ToxConfig(text, str(ini), root, type(root))
        return Path(config.env_dir(env_name, os.environ)), config
    except toxini.ToxIniError as exc:
        raise UserError("stack tox:%s: %s; give the env's directory as the stack instead" % (env_name, exc)) from None


def _tox_spec(text: str) -> StackSpec:
    env_name = text[len(TOX_PREFIX):].strip()
    if not env_name or "/" in env_name or os.sep in env_name:
        raise UserError("stack %r: write tox:ENV with the name of an env of ./tox.ini, e.g. tox:theano08" % text)
    env_dir, config = tox_env_dir(env_name)
    if not env_dir.exists():
        names = config.env_names()
        if env_name not in names:
            raise UserError("stack %s: %s defines no env %s and there is no %s; envs there: %s"
                            % (text, config.source, env_name, env_dir, ", ".join(names) or "none"))
        raise UserError("stack %s: the tox env has not been created (no %s); run `tox -e %s` first"
                        % (text, env_dir, env_name))
    python = environment_python(env_dir, text)
    return StackSpec(name=text, python=str(python), env=config.stack_env(env_name, os.environ),
                     description="tox env %s of %s (used as is)" % (env_name, config.source),
                     source=config.source, external=env_dir)


def get_stack(name: str) -> StackSpec:
    """The spec for a stack name, an existing interpreter/venv given by path, or ``tox:ENV``.

    ``tox:ENV`` is env ENV of the tox.ini in the current directory, used as it is. Unknown names,
    missing or broken environments raise UserError (one line; exit 2), with a did-you-mean and the
    list of names for a name that is close to a known one.
    """
    if name.startswith(TOX_PREFIX):
        return _tox_spec(name)
    specs = load_specs()
    if name in specs:
        return specs[name]
    if looks_like_path(name) or Path(name).exists():
        return _external_spec(name)
    close = difflib.get_close_matches(name, list(specs), n=1)
    hint = "did you mean %s? " % close[0] if close else ""
    raise UserError("unknown stack %r; %sknown stacks: %s (or give a path to a python or a venv, or tox:ENV for "
                    "an env of ./tox.ini)" % (name, hint, ", ".join(specs)))


# ------------------------------------------------------------------------------------- locations


def cache_home() -> Path:
    """$THEANOGPU_HOME, else the user cache dir (e.g. ~/.cache/theanogpu)."""
    explicit = os.environ.get("THEANOGPU_HOME")
    if explicit:
        return Path(os.path.expanduser(explicit)).absolute()
    import platformdirs  # noqa: PLC0415

    return Path(platformdirs.user_cache_dir("theanogpu"))


def stacks_home() -> Path:
    return cache_home() / "stacks"


def venv_dir(spec: StackSpec) -> Path:
    if spec.external is not None:
        return spec.external
    return stacks_home() / spec.name


def build_log_path(spec: StackSpec) -> Path:
    return stacks_home() / (spec.name + ".build.log")


def stack_python(env: Path) -> Path:
    """The interpreter of a venv directory (``bin/python``; ``Scripts/python.exe`` on Windows).

    A path to an interpreter file is returned unchanged, so callers can treat both kinds alike.
    """
    env = Path(env)
    if env.is_file():
        return env
    if os.name == "nt":
        return env / "Scripts" / "python.exe"
    return env / "bin" / "python"


def compiledir(spec: StackSpec) -> Path:
    """A Theano ``base_compiledir`` of the stack's own, so runs don't fight over ~/.theano."""
    if spec.external is not None:
        tag = "ext-" + hashlib.sha256(str(spec.external).encode("utf-8")).hexdigest()[:12]
    else:
        tag = spec.name
    path = cache_home() / "theano-compiledir" / tag
    path.mkdir(parents=True, exist_ok=True)
    return path


def empty_theanorc() -> Path:
    """A .theanorc with no settings: point THEANORC at it to keep the user's ~/.theanorc out of a run."""
    path = cache_home() / "empty.theanorc"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, "# Empty on purpose: keeps ~/.theanorc out of theanogpu's runs.\n")
    return path


# ----------------------------------------------------------------------------------------- state


@dataclass
class StackState:
    """``state`` is one of: built, not built, broken, outdated, external."""

    state: str
    detail: str = ""
    venv: Optional[Path] = None
    marker: Dict[str, object] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return self.state in ("built", "external")


def _read_marker(venv: Path) -> Optional[Dict[str, object]]:
    try:
        data = json.loads((venv / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def stack_state(spec: StackSpec) -> StackState:
    """Where a stack stands, from the file system only (fast: runs nothing)."""
    venv = venv_dir(spec)
    if spec.external is not None:
        python = stack_python(venv)
        if python.exists():
            return StackState("external", "used as is", venv)
        return StackState("broken", "%s is gone" % python, venv)
    if not venv.exists():
        return StackState("not built", "", venv)
    marker = _read_marker(venv)
    if marker is None:
        return StackState("broken", "incomplete build (interrupted?); `stack create` rebuilds it", venv)
    if not stack_python(venv).exists():
        return StackState("broken", "its interpreter is gone; `stack create` rebuilds it", venv, marker)
    if marker.get("spec_hash") != spec.spec_hash():
        return StackState("outdated", "pins changed since it was built; `stack create` rebuilds it",
                          venv, marker)
    return StackState("built", "", venv, marker)


# -------------------------------------------------------------------------------------- building


def pip_step(line: str) -> Optional[str]:
    """The step a pip output line announces, in a few words (None for the noise in between)."""
    text = line.strip()
    rules = (
        (r"^Building wheels for collected packages: (.+)", "building %s"),
        (r"^Collecting (\S+)", "collecting %s"),
        (r"^Downloading (?:https?://\S*/)?(\S+)", "downloading %s"),
        (r"^Using cached (?:https?://\S*/)?(\S+)", "using cached %s"),
        (r"^Processing (\S+)", "using %s"),
        (r"^Building wheels? for (\S+)", "building %s"),
        (r"^Running setup\.py (?:install|bdist_wheel) for ([^\s:]+)", "building %s"),
        (r"^Installing build dependencies", "installing build dependencies"),
        (r"^Installing collected packages: (.+)", "installing %s"),
        (r"^Successfully installed (.+)", "installed %s"),
        (r"^Attempting uninstall: (\S+)", "replacing %s"),
    )
    for pattern, template in rules:
        match = re.match(pattern, text)
        if match:
            step = template % match.groups() if match.groups() else template
            return step if len(step) <= 90 else step[:87] + "..."
    return None


def _build_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PIP_USER", "VIRTUAL_ENV",
                        "PIP_REQUIRE_VIRTUALENV", "PYTHONNOUSERSITE")}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PIP_PROGRESS_BAR="off",
               PYTHONUNBUFFERED="1")
    return env


class _BuildLog:
    """The build log in the cache: every line of every step, timestamped, kept after failures."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self._tail: List[str] = []

    def write(self, line: str) -> None:
        stamp = datetime.datetime.now().strftime("%H:%M:%S")
        self._handle.write("%s %s\n" % (stamp, line))
        self._handle.flush()
        self._tail = (self._tail + [line])[-LOG_TAIL_LINES:]

    def tail(self) -> List[str]:
        return [line for line in self._tail if line.strip()]

    def close(self) -> None:
        self._handle.close()


def _run_step(argv: Sequence[str], log: _BuildLog, step: str, progress: Progress, prefix: str) -> None:
    log.write("$ " + " ".join(argv))
    progress("%s%s" % (prefix, step))
    proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=_build_env(), text=True, errors="replace",
                            bufsize=1)
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            log.write(line)
            detail = pip_step(line)
            if detail:
                progress("%s%s: %s" % (prefix, step, detail))
        code = proc.wait()
    except BaseException:
        # Ctrl-C or an error here: don't leave pip running on a venv we will discard.
        proc.kill()
        proc.wait()
        raise
    if code != 0:
        tail = log.tail()
        raise WorkFailed("%s failed (exit %d)%s\n%s\nfull build log: %s" % (
            step, code, _hint_for(tail), "\n".join("  | " + line for line in tail), log.path))


def _hint_for(tail: Sequence[str]) -> str:
    text = "\n".join(tail)
    if "ensurepip" in text:
        return "; this Python lacks the venv module's pip (Debian/Ubuntu: apt install pythonX.Y-venv)"
    if "No matching distribution" in text or "Could not find a version" in text:
        return "; a pinned package is not available for this Python/platform from your package index"
    if "Temporary failure in name resolution" in text or "NewConnectionError" in text:
        return "; the package index could not be reached (network?)"
    return ""


@contextlib.contextmanager
def _locked(path: Path, progress: Progress, what: str) -> Iterator[None]:
    """An exclusive lock on *path*: a second `stack create` of the same stack waits for the first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            import fcntl  # noqa: PLC0415 (POSIX)
        except ImportError:  # pragma: no cover (Windows)
            import msvcrt  # noqa: PLC0415

            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    progress("%s: waiting for another theanogpu building it" % what)
                    time.sleep(1)
            try:
                yield
            finally:
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            return
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            progress("%s: waiting for another theanogpu building it (lock %s)" % (what, path))
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _runs(python: Path) -> bool:
    try:
        return subprocess.run([str(python), "-c", "import sys"], capture_output=True, timeout=60,
                              env=_build_env()).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _freeze(python: Path) -> Dict[str, str]:
    proc = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                          env=_build_env(), timeout=120)
    packages = {}
    for line in proc.stdout.splitlines():
        name, sep, version = line.partition("==")
        if sep:
            packages[name.lower().replace("_", "-")] = version.strip()
    return packages


@dataclass
class EnsureResult:
    venv: Path  # the venv directory (or, for an external interpreter, that interpreter)
    python: Path
    built: bool  # False: it was up to date and reused
    seconds: float
    log: Optional[Path] = None


def _discard(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(str(path))


def ensure_stack_result(spec: StackSpec, progress: Optional[Progress] = None,
                        force: bool = False) -> EnsureResult:
    """Build the stack unless an intact build of this exact spec exists; return what was done."""
    say: Progress = progress or (lambda message: None)
    started = time.monotonic()
    if spec.external is not None:
        python = stack_python(spec.external)
        if not _runs(python):
            raise UserError("stack %s: %s does not run" % (spec.name, python))
        return EnsureResult(spec.external, python, False, 0.0)
    venv = venv_dir(spec)
    with _locked(stacks_home() / (spec.name + ".lock"), say, spec.name):
        state = stack_state(spec)
        if state.state == "built" and not force and _runs(stack_python(venv)):
            say("%s: up to date" % spec.name)
            return EnsureResult(venv, stack_python(venv), False, time.monotonic() - started)
        base = find_interpreter(spec.python, "for stack %s" % spec.name)
        version, _ = interpreters.interpreter_info(str(base)) or ((0, 0, 0), base)
        if version < (3, 3, 0):
            raise UserError("stack %s: Python %d.%d has no venv module; create an environment yourself "
                            "(virtualenv -p %s DIR && DIR/bin/pip install ...) and pass DIR as the stack"
                            % ((spec.name,) + version[:2] + (base,)))
        if state.state != "not built":
            say("%s: rebuilding (%s)" % (spec.name, state.state if not force else "forced"))
        _discard(venv)
        log = _BuildLog(build_log_path(spec))
        prefix = spec.name + ": "
        try:
            log.write("stack %s from %s, spec %s, base interpreter %s (%d.%d.%d)"
                      % ((spec.name, spec.source, spec.spec_hash(), base) + version))
            _run_step([str(base), "-m", "venv", str(venv)], log, "creating venv with Python %d.%d.%d"
                      % version, say, prefix)
            python = stack_python(venv)
            if spec.pip:
                _run_step([str(python), "-m", "pip", "install", "--upgrade", *spec.pip], log,
                          "installing %s" % " ".join(spec.pip), say, prefix)
            atomic_write_text(venv / REQUIREMENTS_COPY, "\n".join(spec.requirements) + "\n")
            _run_step([str(python), "-m", "pip", "install", "-r", str(venv / REQUIREMENTS_COPY)], log,
                      "installing the pinned packages", say, prefix)
            packages = _freeze(python)
            marker = {"spec_hash": spec.spec_hash(), "name": spec.name, "python": "%d.%d.%d" % version,
                      "base_interpreter": str(base), "packages": packages,
                      "built": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "requirements": list(spec.requirements), "pip": list(spec.pip)}
            # Written last: its presence is what says "this build completed".
            atomic_write_text(venv / MARKER, json.dumps(marker, indent=1, sort_keys=True) + "\n")
            log.write("done in %.0f s" % (time.monotonic() - started))
        finally:
            log.close()
        return EnsureResult(venv, python, True, time.monotonic() - started, log.path)


def ensure_stack(spec: StackSpec, progress: Optional[Progress] = None, force: bool = False) -> Path:
    """The venv directory of a usable build of *spec*, building it first if needed."""
    return ensure_stack_result(spec, progress, force).venv


def remove_stack(spec: StackSpec) -> bool:
    """Delete a built stack (venv and build log). False if there was nothing to remove."""
    if spec.external is not None:
        raise UserError("%s is an environment of yours; theanogpu never modifies or removes it" % spec.name)
    venv = venv_dir(spec)
    with _locked(stacks_home() / (spec.name + ".lock"), lambda message: None, spec.name):
        existed = venv.exists() or venv.is_symlink()
        _discard(venv)
        log = build_log_path(spec)
        if log.exists():
            log.unlink()
    return existed


def built_specs() -> List[StackSpec]:
    """Every stack whose build is complete (state built or outdated: still usable as it is)."""
    return [spec for spec in load_specs().values() if stack_state(spec).state in ("built", "outdated")]


def host_python() -> Path:
    return Path(sys.executable)
