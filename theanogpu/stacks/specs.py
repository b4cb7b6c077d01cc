"""What a pinned stack is: an interpreter version plus pip requirements, from a stacks.ini.

``templates/stacks/stacks.ini`` holds the built-in stacks (tox reads the same requirement files);
users add their own in the same format (``user_stacks_file``).
"""

import configparser
import errno
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from theanogpu import fsutil
from theanogpu.errors import UserError
from theanogpu.frameworks import KEY_DISTRIBUTIONS
from theanogpu.resources import stacks_dir
from theanogpu.stacks import interpreters

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")  # \Z: "$" would let a trailing newline through
_REQ_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")
_KEYS = ("python", "requirements", "pip", "virtualenv", "env", "description")
# `virtualenv = virtualenv<20.22`: the name, then comma-separated PEP 440 specifiers (spaces allowed).
_SPECIFIER = r"(?:===?|~=|!=|<=|>=|<|>)\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?(?:\.\*)?"
_VIRTUALENV_RE = re.compile(r"^virtualenv(?:%s(?:,%s)*)?$" % (_SPECIFIER, _SPECIFIER), re.I)


@dataclass(frozen=True)
class StackSpec:
    """A stack the tool builds: an interpreter version plus pip requirements."""

    name: str
    python: str  # "3.6", "3.6.15", or a path to an interpreter
    requirements: Tuple[str, ...] = ()
    pip: Tuple[str, ...] = ()  # installed first, e.g. a pip that still runs on old Pythons
    # The virtualenv release that creates the environment instead of `python -m venv` ("": venv,
    # unless the interpreter has no venv module; see creators.py).
    virtualenv: str = ""
    env: Tuple[Tuple[str, str], ...] = ()  # set whenever the stack runs (KERAS_BACKEND for Keras 3)
    description: str = ""
    source: str = ""  # where the spec was defined, for messages

    def spec_hash(self) -> str:
        """Changes whenever a rebuild is needed (interpreter line, bootstrap, pins, env)."""
        fields: Dict[str, object] = {"python": self.python, "pip": list(self.pip),
                                     "requirements": list(self.requirements), "env": [list(kv) for kv in self.env]}
        if self.virtualenv:  # only when set: the stacks built before this key existed stay up to date
            fields["virtualenv"] = self.virtualenv
        payload = json.dumps(fields, sort_keys=True)
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
        return " ".join(name + pins[name] for name in KEY_DISTRIBUTIONS if name in pins)


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


def _requirements(raw: str, where: str, read_file: Callable[[str], str]) -> List[str]:
    tokens = _split_inline(raw)
    if len(tokens) == 2 and tokens[0] == "-r":
        tokens = [tokens[1]]
    if len(tokens) == 1 and (tokens[0].endswith(".txt") or tokens[0].startswith("-r")):
        filename = tokens[0][2:] if tokens[0].startswith("-r") else tokens[0]
        try:
            return requirement_lines(read_file(filename))
        except OSError as exc:
            raise UserError("%s: cannot read requirements file %s: %s"
                            % (where, filename, exc.strerror or exc)) from None
    return tokens


def _virtualenv(raw: str, where: str) -> str:
    """``virtualenv<20.22`` from ``virtualenv = virtualenv < 20.22``; "" when not set."""
    requirement = "".join(raw.split())
    if requirement and not _VIRTUALENV_RE.match(requirement):
        raise UserError("%s: virtualenv = %r is not a virtualenv requirement; write e.g. virtualenv<20.22 (the "
                        "last releases that create Python 2.7/3.6 environments) or virtualenv==20.21.1"
                        % (where, raw.strip()))
    return requirement


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
        if not NAME_RE.match(name):
            raise UserError("%s: bad stack name %r; use letters, digits, '.', '_' and '-'" % (where, name))
        section = parser[name]
        unknown = set(section) - set(_KEYS)
        if unknown:
            raise UserError("%s: unknown key(s) %s; valid keys: %s" % (where, ", ".join(sorted(unknown)),
                                                                   ", ".join(_KEYS)))
        python = section.get("python", "").strip()
        if not python:
            raise UserError("%s: missing `python =` (a version such as 3.6, or a path to an interpreter)"
                            % where)
        if not interpreters.looks_like_path(python) and interpreters.parse_version_request(python) is None:
            raise UserError("%s: python = %r is neither X.Y, X.Y.Z nor a path to an interpreter"
                            % (where, python))
        requirements = _requirements(section.get("requirements", "").strip(), where, read_file)
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
                                pip=tuple(_split_inline(section.get("pip", ""))),
                                virtualenv=_virtualenv(section.get("virtualenv", ""), where), env=tuple(env),
                                description=section.get("description", "").strip(), source=source)
    return specs


def _load_file(path: Path) -> Dict[str, StackSpec]:
    def read_file(name: str) -> str:
        target = Path(os.path.expanduser(name))
        if not target.is_absolute():
            target = path.parent / target
        return _read_text(target)

    try:
        text = _read_text(path)
    except OSError as exc:
        raise UserError("cannot read stacks file %s: %s" % (path, exc.strerror or exc)) from None
    return parse_stacks_ini(text, str(path), read_file)


def _read_text(path: Path) -> str:
    """A small text file the user names; OSError also for a FIFO or a device (refused, not waited on
    or read forever) and for text that is not UTF-8."""
    try:
        return fsutil.read_limited(path).decode("utf-8")
    except UnicodeDecodeError:
        raise OSError(errno.EILSEQ, "not UTF-8 text", str(path)) from None


def user_stacks_file() -> Optional[Path]:
    """$THEANOGPU_STACKS, else ``stacks.ini`` in the user config dir (None if that does not exist)."""
    explicit = os.environ.get("THEANOGPU_STACKS")
    if explicit:
        path = Path(os.path.expanduser(explicit))
        if not path.is_file():
            raise UserError("THEANOGPU_STACKS names %s, which is not a file; create it or unset the variable"
                            % path)
        return path
    import platformdirs  # only needed here; keeps `theanogpu --help` light

    path = Path(platformdirs.user_config_dir("theanogpu")) / "stacks.ini"
    return path if path.is_file() else None


def load_specs() -> Dict[str, StackSpec]:
    """Built-in stacks, then the user's (a user stack may replace a built-in of the same name)."""
    specs = dict(_load_file(stacks_dir() / "stacks.ini"))
    user = user_stacks_file()
    if user is not None:
        specs.update(_load_file(user))
    return specs
