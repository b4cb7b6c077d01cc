"""Read what theanogpu needs from a tox.ini: where an env lives, its set_env, which envs exist.

PURE: text and an environment mapping in, values out (no file system access). It understands the
parts of tox's INI format that decide an env's directory: ``[tox] work_dir``/``toxworkdir``,
``env_dir``/``envdir`` in ``[testenv:NAME]`` or ``[testenv]``, and the substitutions tox users
write there (``{toxinidir}``, ``{tox_root}``, ``{toxworkdir}``, ``{work_dir}``, ``{envname}``,
``{env_name}``, ``{homedir}``, ``{/}``, ``{:}``, ``{env:KEY}``, ``{env:KEY:default}`` and
``{[section]key}``). Anything else in a path raises ToxIniError naming it, so a guess never
points theanogpu at the wrong environment.
"""

import configparser
import os
import re
from pathlib import PurePath, PurePosixPath
from typing import Dict, List, Mapping, Optional, Tuple, Type

__all__ = ["ToxIniError", "ToxConfig", "STACK_ENV_SKIPPED"]

# set_env keys that are tox/pip/pyenv plumbing, or that theanogpu itself sets for every run (the
# Theano config and HOME): they are not carried into the stack's own environment.
STACK_ENV_SKIPPED = re.compile(r"^(THEANO_FLAGS|THEANORC|HOME|PATH|VIRTUAL_ENV|PYTHON\w*|PIP_\w*|"
                               r"VIRTUALENV_\w*|PYENV_\w*|TOX_\w*|_?TOX\w*)$")

_BRACED = re.compile(r"\{([^{}]*)\}")
_FACTOR_LINE = re.compile(r"^\s*([A-Za-z0-9_.!,-]+)\s*:\s+(.*)$")


class ToxIniError(ValueError):
    """A tox.ini that cannot be read, or a value that cannot be resolved (the message says which)."""


class ToxConfig:
    """One parsed tox.ini; *tox_root* is the directory holding it (tox's ``{toxinidir}``)."""

    def __init__(self, text: str, source: str, tox_root: PurePath,
                 path_type: Type[PurePath] = PurePosixPath) -> None:
        self.source = source
        self.tox_root = tox_root
        self._path = path_type
        self._parser = configparser.RawConfigParser(strict=False)
        try:
            self._parser.read_string(text, source=source)
        except configparser.Error as exc:
            raise ToxIniError("cannot read %s: %s" % (source, str(exc).splitlines()[0])) from None

    # ------------------------------------------------------------------------------- lookups

    def _raw(self, section: str, *keys: str) -> Optional[str]:
        if not self._parser.has_section(section):
            return None
        for key in keys:
            if self._parser.has_option(section, key):
                return self._parser.get(section, key)
        return None

    def _env_value(self, env_name: str, *keys: str) -> Optional[str]:
        """An env's own value for *keys*, else the [testenv] one (tox replaces, never merges)."""
        value = self._raw("testenv:" + env_name, *keys)
        return value if value is not None else self._raw("testenv", *keys)

    def env_names(self) -> List[str]:
        """The envs tox.ini names: its env_list (simple entries) and every [testenv:NAME] section."""
        names: List[str] = []
        listed = self._raw("tox", "env_list", "envlist") or ""
        # Split on commas outside braces: py{38,39}-theano{08,10} is one generative entry.
        for entry in re.findall(r"(?:[^\s,{]|\{[^}]*\})+", listed):
            for item in _expand(entry):
                if item not in names:
                    names.append(item)
        for section in self._parser.sections():
            if section.startswith("testenv:"):
                name = section[len("testenv:"):].strip()
                if name and name not in names:
                    names.append(name)
        return names

    # --------------------------------------------------------------------------- substitution

    def _substitute(self, value: str, env_name: str, environ: Mapping[str, str], what: str,
                    depth: int = 0) -> str:
        if depth > 10:
            raise ToxIniError("%s in %s: substitutions nest too deep (a loop?)" % (what, self.source))

        def replace(match: "re.Match[str]") -> str:
            body = match.group(1)
            plain = {
                "toxinidir": str(self.tox_root), "tox_root": str(self.tox_root),
                "envname": env_name, "env_name": env_name, "/": os.sep, ":": os.pathsep,
                "homedir": environ.get("HOME", "~"),
            }
            if body in plain:
                return plain[body]
            if body in ("toxworkdir", "work_dir"):
                return str(self.work_dir(environ))
            if body.startswith("env:"):
                key, sep, default = body[4:].partition(":")
                if key in environ:
                    return environ[key]
                if sep:
                    return default
                raise ToxIniError("%s in %s uses {env:%s}, and %s is not set" % (what, self.source, key, key))
            section = re.match(r"^\[([^\]]*)\](.+)$", body)
            if section:
                raw = self._raw(section.group(1) or "testenv:" + env_name, section.group(2).strip())
                if raw is None:
                    raise ToxIniError("%s in %s refers to {%s}, which is not set" % (what, self.source, body))
                return self._substitute(raw, env_name, environ, what, depth + 1)
            raise ToxIniError("%s in %s uses {%s}, which theanogpu cannot resolve" % (what, self.source, body))

        # Innermost braces first, so {env:A:{env:B:x}} resolves its default before its use.
        for _ in range(100):
            if not _BRACED.search(value):
                return value
            value = _BRACED.sub(replace, value, count=1)
        raise ToxIniError("%s in %s: too many substitutions (a loop?)" % (what, self.source))

    def _path_of(self, text: str) -> PurePath:
        path = self._path(os.path.expanduser(text.strip()))
        return path if path.is_absolute() else self.tox_root / path

    # -------------------------------------------------------------------------------- answers

    def work_dir(self, environ: Mapping[str, str]) -> PurePath:
        """tox's work dir: ``[tox] work_dir``/``toxworkdir``, default ``{toxinidir}/.tox``."""
        raw = self._raw("tox", "work_dir", "toxworkdir")
        if raw is None or not raw.strip():
            return self.tox_root / ".tox"
        # {toxworkdir} inside work_dir itself would loop; tox forbids it too.
        if re.search(r"\{(toxworkdir|work_dir)\}", raw):
            raise ToxIniError("[tox] work_dir in %s refers to itself" % self.source)
        return self._path_of(self._substitute(raw, "", environ, "[tox] work_dir"))

    def env_dir(self, env_name: str, environ: Mapping[str, str]) -> PurePath:
        """The directory of env *env_name*: its ``env_dir``/``envdir``, default ``{work_dir}/NAME``."""
        raw = self._env_value(env_name, "env_dir", "envdir")
        if raw is None or not raw.strip():
            return self.work_dir(environ) / env_name
        return self._path_of(self._substitute(raw, env_name, environ, "env_dir of %s" % env_name))

    def set_env(self, env_name: str, environ: Mapping[str, str]) -> Dict[str, str]:
        """The env's set_env as KEY → value; lines for other factors and unresolvable values left out."""
        raw = self._env_value(env_name, "set_env", "setenv") or ""
        factors = set(env_name.split("-"))
        result: Dict[str, str] = {}
        for line in raw.splitlines():
            line = line.strip()
            if not line or line.startswith("#") or line.startswith("file|"):
                continue
            conditional = _FACTOR_LINE.match(line)
            if conditional and "=" not in conditional.group(1):
                if not _factors_match(conditional.group(1), factors):
                    continue
                line = conditional.group(2)
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                continue
            try:
                result[key.strip()] = self._substitute(value.strip(), env_name, environ, "set_env")
            except ToxIniError:
                continue  # only set_env suffers; the env itself is still found
        return result

    def stack_env(self, env_name: str, environ: Mapping[str, str]) -> Tuple[Tuple[str, str], ...]:
        """The set_env items a run in this env should see (e.g. KERAS_BACKEND), plumbing left out."""
        return tuple((key, value) for key, value in self.set_env(env_name, environ).items()
                     if not STACK_ENV_SKIPPED.match(key))


def _expand(entry: str) -> List[str]:
    """tox's generative names: ``py{38,39}-x`` → ``py38-x``, ``py39-x``."""
    match = re.search(r"\{([^{}]*)\}", entry)
    if not match:
        return [entry]
    result: List[str] = []
    for choice in match.group(1).split(","):
        result.extend(_expand(entry[:match.start()] + choice.strip() + entry[match.end():]))
    return result


def _factors_match(condition: str, factors: "set[str]") -> bool:
    """tox's ``a,b:`` (any of) with ``a-b:`` (all of) and ``!a`` (not) for one set_env line."""
    for alternative in condition.split(","):
        wanted = [part for part in alternative.split("-") if part]
        if wanted and all((part[1:] not in factors) if part.startswith("!") else (part in factors)
                          for part in wanted):
            return True
    return False
