"""The kinds of stack, as types: one the tool builds from pins, an existing environment it never
touches, and a tox env (an existing environment that tox made). Callers ask any of them the same
questions (where is its python, is it usable, make it usable) and never branch on the kind.
"""

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Tuple

from theanogpu.errors import UserError
from theanogpu.stacks import build, interpreters, locations, steps
from theanogpu.stacks.specs import StackSpec

Env = Tuple[Tuple[str, str], ...]


@dataclass
class StackState:
    """``state`` is one of: built, not built, broken, outdated, external."""

    state: str
    detail: str = ""
    venv: Optional[Path] = None
    marker: Dict[str, object] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        """Runs can use it as it is (an outdated build still works; it is only older than its pins)."""
        return self.state in ("built", "external", "outdated")

    def problem(self, name: str) -> str:
        """``stack theano08 is not built`` / ``... is broken (why)``, for a stack that is not usable."""
        if self.state == "not built":
            return "stack %s is not built" % name
        return "stack %s is broken (%s)" % (name, self.detail)


@dataclass
class EnsureResult:
    venv: Path  # the venv directory (or, for an external interpreter, that interpreter)
    python: Path
    built: bool  # False: it was up to date and reused
    seconds: float
    log: Optional[Path] = None


class Stack:
    """What every kind of stack answers. ``name`` is what rows and results.json call it."""

    external = False
    name: str
    given: str  # as the user wrote it (a relative path, ~/venvs/x): what compare's rows call it
    description: str
    source: str
    env: Env

    @property
    def venv(self) -> Path:
        """The environment's directory (or, for a bare interpreter given by path, that file)."""
        raise NotImplementedError

    @property
    def python(self) -> Path:
        return locations.stack_python(self.venv)

    def state(self) -> StackState:
        """Where it stands, from the file system only (fast: runs nothing)."""
        raise NotImplementedError

    def ensure(self, progress: Optional[steps.Progress] = None, force: bool = False) -> EnsureResult:
        """Make it usable (build it if the tool owns it) and return where its python is."""
        raise NotImplementedError

    def remove(self) -> bool:
        """Delete what the tool built for this stack; False if there was nothing to remove."""
        raise UserError("%s is an environment of yours; theanogpu never modifies or removes it" % self.name)

    def compiledir(self) -> Path:
        """Theano's compile cache for this stack's runs (kept apart from ~/.theano and other stacks)."""
        raise NotImplementedError

    def pinned_versions(self) -> Optional[Dict[str, str]]:
        """{distribution: version} known without running anything, or None: ask the interpreter."""
        return None


class PinnedStack(Stack):
    """A stack the tool builds from its spec, under the cache, and may rebuild or remove."""

    def __init__(self, spec: StackSpec) -> None:
        self.spec = spec
        self.name = self.given = spec.name
        self.description = spec.description
        self.source = spec.source
        self.env = spec.env

    @property
    def venv(self) -> Path:
        return locations.stacks_home() / self.name

    @property
    def build_log(self) -> Path:
        return locations.stacks_home() / (self.name + ".build.log")

    @property
    def _lock(self) -> Path:
        return locations.stacks_home() / (self.name + ".lock")

    def state(self) -> StackState:
        venv = self.venv
        if not venv.exists():
            return StackState("not built", "", venv)
        marker = build.read_marker(venv)
        if marker is None:
            return StackState("broken", "incomplete build (interrupted?); `stack create` rebuilds it", venv)
        if not locations.stack_python(venv).exists():
            return StackState("broken", "its interpreter is gone; `stack create` rebuilds it", venv, marker)
        if marker.get("spec_hash") != self.spec.spec_hash():
            return StackState("outdated", "pins changed since it was built; `stack create` rebuilds it",
                              venv, marker)
        return StackState("built", "", venv, marker)

    def ensure(self, progress: Optional[steps.Progress] = None, force: bool = False) -> EnsureResult:
        """Build the stack unless an intact build of this exact spec exists; say what was done."""
        say: steps.Progress = progress or (lambda message: None)
        started = time.monotonic()
        venv = self.venv
        with steps.locked(self._lock, say, self.name):
            state = self.state()
            if state.state == "built" and not force and steps.runs(self.python):
                say("%s: up to date" % self.name)
                return EnsureResult(venv, self.python, False, time.monotonic() - started)
            base = interpreters.find_interpreter(self.spec.python, "for stack %s" % self.name)
            version, _ = interpreters.interpreter_info(str(base)) or ((0, 0, 0), base)
            if state.state != "not built":
                say("%s: rebuilding (%s)" % (self.name, state.state if not force else "forced"))
            steps.discard(venv)
            build.build_venv(self.spec, venv, base, version, self.build_log, say)
            return EnsureResult(venv, self.python, True, time.monotonic() - started, self.build_log)

    def remove(self) -> bool:
        """Delete the built venv and its build log. False if there was nothing to remove."""
        with steps.locked(self._lock, lambda message: None, self.name):
            existed = self.venv.exists() or self.venv.is_symlink()
            steps.discard(self.venv)
            if self.build_log.exists():
                self.build_log.unlink()
        return existed

    def compiledir(self) -> Path:
        return locations.compiledir(self.name)

    def pinned_versions(self) -> Optional[Dict[str, str]]:
        return {dist: pin.lstrip("=<>~! ") for dist, pin in self.spec.pins().items()}


class ExistingEnv(Stack):
    """A venv, conda env or interpreter of the user's, used as it is and never modified."""

    external = True

    def __init__(self, path: Path, name: str, python: Path, env: Env = (),
                 description: str = "existing environment (used as is)", source: str = "command line",
                 given: Optional[str] = None) -> None:
        self.path = path
        self.name = name
        self.given = given if given is not None else name
        self._python = python
        self.env = env
        self.description = description
        self.source = source

    @property
    def venv(self) -> Path:
        return self.path

    @property
    def python(self) -> Path:
        return self._python

    def state(self) -> StackState:
        if self._python.exists():
            return StackState("external", "used as is", self.path)
        return StackState("broken", "%s is gone" % self._python, self.path)

    def ensure(self, progress: Optional[steps.Progress] = None, force: bool = False) -> EnsureResult:
        # Cached: resolving the stack already ran it once; the user's environment is not rebuilt here.
        if interpreters.interpreter_info(str(self._python)) is None:
            raise UserError("stack %s: %s does not run" % (self.name, self._python))
        return EnsureResult(self.path, self._python, False, 0.0)

    def compiledir(self) -> Path:
        return locations.compiledir("ext-" + hashlib.sha256(str(self.path).encode("utf-8")).hexdigest()[:12])


class ToxEnv(ExistingEnv):
    """Env ENV of a tox.ini (``tox:ENV``): an existing environment whose set_env reaches the runs."""

    def __init__(self, path: Path, env_name: str, python: Path, env: Env, tox_ini: str) -> None:
        super().__init__(path, "tox:" + env_name, python, env, "tox env %s of %s (used as is)" % (env_name, tox_ini),
                         tox_ini)
        self.env_name = env_name
