"""PURE: variants from a matrix INI file or ``--variant`` specs.

A matrix file has one section per variant. Its keys are

* Theano flag names (``device``, ``floatX``, ``lib.cnmem``...) in any release's dialect:
  ``compare`` re-spells them for each stack's Theano release, so one matrix serves 0.8, 0.9 and 1.0;
* intent keys that every backend understands (``precision``, ``memory``, ``threads``; see
  intent.py), translated per stack by backends.py, so the same matrix runs on Keras 3 stacks too;
* ``env.NAME``: an environment variable set as written for the run;
* ``backends``: the backends (theano, torch, jax, tensorflow) whose stacks run this variant; the
  others skip it (e.g. ``openmp = True`` only means something to Theano).
"""

import configparser
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from theanogpu.devices import device_kind
from theanogpu.errors import UserError
from theanogpu.flags import canonical_name, floatx_name, parse_theano_flags
from theanogpu.flags.quoting import has_unquoted_comment
from theanogpu.frameworks import BACKENDS
from theanogpu.intent import (
    BACKENDS_KEY,
    ENV_PREFIX,
    INTENT_KEYS,
    Intent,
    Memory,
    memory_from_theano,
    parse_memory,
    parse_precision,
    parse_threads,
    split_device,
)

# \Z, not $: "$" also matches before a trailing newline, and a name ends up in a log file's name.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\Z")
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# A line break in a value would end the line of a generated .theanorc or of `--dry-run`'s output.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Variant:
    name: str
    flags: Dict[str, str]  # Theano flags (device included), as written
    precision: Optional[str] = None
    memory: Optional[Memory] = None
    threads: Optional[int] = None
    env: Dict[str, str] = field(default_factory=dict)
    backends: Tuple[str, ...] = ()  # empty: every backend

    @property
    def requested_device(self) -> str:
        """``gpu`` when the flags ask for any GPU (gpu*, cuda*, opencl*), else ``cpu``."""
        device = self.flags.get("device", "cpu")
        return "cpu" if not device or device_kind(device) == "cpu" else "gpu"

    def runs_on(self, backend: str) -> bool:
        return not self.backends or backend in self.backends

    def intent(self) -> Intent:
        """The backend-independent request: intent keys, else what the Theano flags mean."""
        kind, index = split_device(self.flags.get("device", "cpu"))
        precision = self.precision
        if precision is None and self.flags.get("floatX"):
            precision = floatx_name(self.flags["floatX"])
        memory = self.memory
        for name in ("lib.cnmem", "gpuarray.preallocate"):
            if memory is None and name in self.flags:
                memory = memory_from_theano(name, self.flags[name])
        return Intent(kind or self.requested_device, index, precision, memory, self.threads)

    def written(self) -> Dict[str, str]:
        """Every key as the matrix spells it (for results.json and the report)."""
        keys = dict(self.flags)
        if self.precision is not None:
            keys["precision"] = self.precision
        if self.memory is not None:
            keys["memory"] = self.memory.policy if self.memory.policy != "amount" else "%g" % (self.memory.amount or 0)
        if self.threads is not None:
            keys["threads"] = str(self.threads) if self.threads else "all"
        keys.update({ENV_PREFIX + key: value for key, value in self.env.items()})
        if self.backends:
            keys[BACKENDS_KEY] = ",".join(self.backends)
        return keys


def _check_name(name: str, where: str) -> str:
    if not _NAME_RE.match(name):
        raise UserError("%s: variant name %r: use letters, digits, '.', '_', '+' or '-' (it names log files)"
                        % (where, name))
    return name


def _variant(name: str, items: Sequence, where: str) -> Variant:
    """A Variant from (key, value) pairs: intent keys, ``env.NAME``, ``backends``, Theano flags."""
    flags: Dict[str, str] = {}
    env: Dict[str, str] = {}
    intent: Dict[str, object] = {}
    backends: Tuple[str, ...] = ()
    seen = set()
    for raw_key, raw_value in items:
        key, value = raw_key.strip(), raw_value.strip()
        _check_value(key, value, where)
        if not key.startswith(ENV_PREFIX) and key not in INTENT_KEYS + (BACKENDS_KEY,):
            key = canonical_name(key)
        if key in seen:
            raise UserError("%s: %s is given twice" % (where, key))
        seen.add(key)
        if key.startswith(ENV_PREFIX):
            env[_env_name(key[len(ENV_PREFIX):], where)] = value
        elif key == "precision":
            intent["precision"] = parse_precision(value, where)
        elif key == "memory":
            intent["memory"] = parse_memory(value, where)
        elif key == "threads":
            intent["threads"] = parse_threads(value, where)
        elif key == BACKENDS_KEY:
            backends = _backends(value, where)
        else:
            flags[key] = value
    if "precision" in intent and "floatX" in flags:
        raise UserError("%s: precision and floatX say the same thing; keep one" % where)
    both = [name for name in ("lib.cnmem", "gpuarray.preallocate") if name in flags]
    if "memory" in intent and both:
        raise UserError("%s: memory and %s say the same thing; keep one" % (where, both[0]))
    return Variant(name, flags, env=env, backends=backends, **intent)  # type: ignore[arg-type]


def _check_value(key: str, value: str, where: str) -> None:
    if _CONTROL.search(value):
        raise UserError("%s: %s=%r: a value cannot hold a line break or other control character (in a matrix "
                        "file: an indented line continues the value above it)" % (where, key, value))


def _env_name(name: str, where: str) -> str:
    if not _ENV_NAME_RE.match(name):
        raise UserError("%s: env.%s: not an environment variable name (letters, digits, '_')" % (where, name))
    return name


def _backends(value: str, where: str) -> Tuple[str, ...]:
    names = tuple(part.strip().lower() for part in value.replace(",", " ").split() if part.strip())
    unknown = [name for name in names if name not in BACKENDS]
    if unknown or not names:
        raise UserError("%s: backends=%s: use one or more of %s" % (where, value, ", ".join(BACKENDS)))
    return names


def parse_matrix(text: str, source: str) -> List[Variant]:
    """Variants from matrix INI text; *source* names the file in messages."""
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # flag names are case-sensitive
    try:
        parser.read_string(text, source=source)
    except configparser.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError("%s: not a valid matrix file (%s); one [section] per variant, keys are Theano flags, "
                        "precision, memory, threads or env.NAME"
                        % (source, first)) from None
    variants = []
    for section in parser.sections():
        where = "%s [%s]" % (source, section)
        variants.append(_variant(_check_name(section, where), parser.items(section), where))
    if not variants:
        raise UserError("%s: no variants in the matrix file; add one [section] per variant" % source)
    return variants


def parse_variant_spec(spec: str) -> Variant:
    """``NAME:key=value,key=value`` (values quoted as in THEANO_FLAGS) -> Variant."""
    name, sep, rest = spec.partition(":")
    where = "--variant=%r" % spec if _CONTROL.search(spec) else "--variant=%s" % spec
    if not sep or not name:
        raise UserError("%s: expected NAME:key=value,... e.g. --variant gpu-cnmem:device=gpu,lib.cnmem=0.8"
                        % where)
    try:
        items = list(parse_theano_flags(rest).items())
        comment = has_unquoted_comment(rest)
    except ValueError as exc:  # shlex: "No closing quotation"
        raise UserError("%s: %s; quote values as in THEANO_FLAGS" % (where, exc)) from None
    if comment:
        raise UserError("%s: an unquoted '#' starts a comment in THEANO_FLAGS, which would drop everything "
                        "after it; quote the value that holds it, e.g. key=\"a#b\"" % where)
    if not items:
        raise UserError("%s: no flags after the name; e.g. --variant cpu64:device=cpu,floatX=float64" % where)
    return _variant(_check_name(name, where), items, where)


def select_variants(matrix: Optional[List[Variant]], specs: Sequence[str],
                    default: List[Variant]) -> List[Variant]:
    """The matrix's variants plus ``--variant`` ones (a spec replaces a same-named matrix variant)."""
    extra = [parse_variant_spec(spec) for spec in specs]
    base = matrix if matrix is not None else ([] if extra else default)
    by_name = {variant.name: variant for variant in base}
    for variant in extra:
        by_name[variant.name] = variant
    return list(by_name.values())
