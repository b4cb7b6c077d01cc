"""From what the user wrote (``theano08``, ``~/venvs/old``, ``/usr/bin/python3.6``, ``tox:theano10``)
to a Stack, with one clear line (and exit status 2) for every way that can be wrong.
"""

import difflib
import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import List, Optional, Tuple

from theanogpu import fsutil
from theanogpu.errors import UserError
from theanogpu.stacks import inside, interpreters, steps, toxini
from theanogpu.stacks.kinds import ExistingEnv, PinnedStack, Stack, ToxEnv
from theanogpu.stacks.locations import stack_python
from theanogpu.stacks.specs import load_specs
from theanogpu.stacks.target import StackTarget, stack_backend, versions_tuple

TOX_PREFIX = "tox:"


def pinned_stacks() -> List[PinnedStack]:
    """Every stack the tool can build: the built-in ones, then the user's."""
    return [PinnedStack(spec) for spec in load_specs().values()]


def built_stacks() -> List[PinnedStack]:
    """Every pinned stack whose build is complete (built or outdated: still usable as it is)."""
    return [stack for stack in pinned_stacks() if stack.state().state in ("built", "outdated")]


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


def existing_env(text: str) -> ExistingEnv:
    """The environment or interpreter at path *text*, checked to run."""
    path = Path(os.path.expanduser(text)).absolute()
    return ExistingEnv(path, str(path), environment_python(path, text), given=text)


def tox_env_dir(env_name: str, directory: Optional[Path] = None) -> Tuple[Path, toxini.ToxConfig]:
    """Where tox keeps env *env_name* of the tox.ini in *directory* (default: the current one).

    Honours ``[tox] work_dir``/``toxworkdir`` and ``env_dir``/``envdir``; the directory may not
    exist yet. Raises UserError when there is no readable tox.ini.
    """
    root = (directory or Path.cwd()).absolute()
    ini = root / "tox.ini"
    try:
        text = fsutil.read_limited(ini).decode("utf-8")  # a FIFO or a device named tox.ini is refused
    except UnicodeDecodeError:
        raise UserError("stack tox:%s: %s is not UTF-8 text" % (env_name, ini)) from None
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


def tox_env(text: str) -> ToxEnv:
    """``tox:ENV``: env ENV of ./tox.ini, which tox must have created already."""
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
    return ToxEnv(env_dir, env_name, python, config.stack_env(env_name, os.environ), config.source)


def get_stack(name: str) -> Stack:
    """The stack a name, a path to an existing interpreter/venv, or ``tox:ENV`` stands for.

    Unknown names, missing or broken environments raise UserError (one line; exit 2), with a
    did-you-mean and the list of names for a name that is close to a known one.
    """
    if name.startswith(TOX_PREFIX):
        return tox_env(name)
    specs = load_specs()
    if name in specs:
        return PinnedStack(specs[name])
    if interpreters.looks_like_path(name) or Path(name).exists():
        return existing_env(name)
    close = difflib.get_close_matches(name, list(specs), n=1)
    hint = "did you mean %s? " % close[0] if close else ""
    raise UserError("unknown stack %r; %sknown stacks: %s (or give a path to a python or a venv, or tox:ENV for "
                    "an env of ./tox.ini)" % (name, hint, ", ".join(specs)))


def default_stack_names() -> List[str]:
    """Where to run when the user names no stack: this interpreter if it imports Theano, else theano10."""
    if importlib.util.find_spec("theano") is not None:
        return [sys.executable]
    return ["theano10"]


def resolve_targets(names: List[str], build_missing: bool, need_blas: bool = False,
                    progress: Optional[steps.Progress] = None) -> List[StackTarget]:
    """The stacks *names* stand for, each resolved once: built (when *build_missing*) and inspected.

    Every name is checked before anything is built, so a typo in the last one costs no build. BLAS is
    looked for only when a variant asks for ``blas.ldflags = auto`` and only in Theano stacks.
    """
    stacks = [get_stack(name) for name in names or default_stack_names()]
    targets = []
    for stack in stacks:
        python = stack.ensure(progress).python if build_missing else stack.python
        versions = stack.pinned_versions()
        blas: Tuple[Optional[str], str] = (None, "")
        if versions is None:
            versions, blas = inside.inspect(python, need_blas)
        theano, backend = stack_backend(versions, dict(stack.env))
        if not (need_blas and backend == "theano"):
            blas = (None, "")
        elif stack.pinned_versions() is not None and python.exists():
            blas = inside.find_blas(python)
        targets.append(StackTarget(stack.given, theano, backend, blas[0], blas[1], python, tuple(stack.env), stack,
                                   versions_tuple(versions)))
    return targets
