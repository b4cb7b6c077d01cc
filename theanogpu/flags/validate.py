"""Check flag names and values against one Theano release's option table (pure).

Whatever passes here is accepted by that release's own filters at ``import theano``; in a few
places this is stricter than Theano (a device named ``cudafoo``, ``nan``, values with surrounding
spaces, ``dnn.enabled=whatever`` in 0.8) because Theano would accept those and then misbehave.
"""

import difflib
import math
import re
from typing import Dict, Iterable, Mapping, Optional

from theanogpu.devices import parse_theano_device
from theanogpu.errors import UserError
from theanogpu.flags.options import REMOVED_HINTS, Option, options_for, releases_with

BOOL_VALUES = ("True", "true", "1", "False", "false", "0")
_INT = re.compile(r"[+-]?[0-9]+\Z")
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
FLOATX_ALIASES = {"16": "float16", "32": "float32", "64": "float64"}
_PREALLOC_OUTPUT = {"initial", "previous", "c_contiguous", "f_contiguous", "strided", "wrong_size", "ALL", ""}


def lookup(version: str, name: str, where: str = "") -> Option:
    """The option called exactly *name* in *version*, or a UserError with a did-you-mean."""
    table = options_for(version)
    if name in table:
        return table[name]
    prefix = (where + ": ") if where else ""
    lowered = {key.lower(): key for key in table}
    if name.lower() in lowered:
        raise UserError("%sunknown Theano %s flag %r: flag names are case-sensitive, write %r"
                        % (prefix, version, name, lowered[name.lower()]))
    if name.startswith("global."):
        raise UserError("%sunknown Theano %s flag %r: [global] options have no prefix, write %r"
                        % (prefix, version, name, name[len("global."):]))
    elsewhere = releases_with(name)
    if elsewhere:
        hint = REMOVED_HINTS.get(name, "")
        raise UserError("%s%r is not a Theano %s flag (only in Theano %s)%s"
                        % (prefix, name, version, ", ".join(elsewhere), ("; " + hint) if hint else ""))
    close = difflib.get_close_matches(name, list(table), n=3, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
        close = [lowered[c] for c in close]
    suggestion = ("; did you mean %s?" % " or ".join(close)) if close else ""
    raise UserError("%sunknown Theano %s flag %r%s" % (prefix, version, name, suggestion))


def check_value(version: str, name: str, value: str, where: str = "") -> str:
    """Validate *value* for flag *name* in *version*; return it, with floatX aliases spelled out.

    *where* names the source (e.g. ``--set``) at the start of the error message.
    """
    option = lookup(version, name, where)
    shown = value if value.isprintable() and value == value.strip() else repr(value)
    prefix = (where + " " if where else "") + "%s=%s" % (name, shown)
    problem = _value_problem(version, option, value)
    if problem:
        raise UserError("%s: %s for Theano %s; valid: %s" % (prefix, problem, version, option.describe()))
    if name == "floatX":
        return floatx_name(value)
    return value


def check_flags(version: str, flags: Mapping[str, str], where: str = "") -> Dict[str, str]:
    """Validate every item of *flags*; return the validated copy (in the same order)."""
    return {name: check_value(version, name, value, where) for name, value in flags.items()}


def _value_problem(version: str, option: Option, value: str) -> Optional[str]:
    """Why Theano would reject (or mishandle) *value*, or None if it is fine."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "control characters (newline, tab...) cannot be stored in THEANO_FLAGS or a .theanorc"
    if value != value.strip():
        return "leading/trailing spaces are stripped by Theano's parsers"
    kind, check = option.kind, option.check
    if kind == "enum":
        if value in option.choices or (option.name == "floatX" and value in FLOATX_ALIASES):
            return None
        return "invalid value %r" % value
    if kind == "bool":
        allowed = BOOL_VALUES[:3] if check == "true_only" else BOOL_VALUES
        return None if value in allowed else "invalid value %r" % value
    if kind == "int":
        if not _INT.match(value):
            return "%r is not an integer" % value
        return _bound_problem(check, int(value))
    if kind == "float":
        if value.lower() in ("inf", "+inf") and option.name == "optdb.position_cutoff":
            return None
        if not NUMBER.match(value):
            return "%r is not a finite number" % value
        return _bound_problem(check, float(value))
    return _string_problem(version, option, value)


def _bound_problem(check: Optional[str], number: float) -> Optional[str]:
    if not math.isfinite(number):
        return "%r is not a finite number" % number
    if check == "gt0" and not number > 0:
        return "must be > 0"
    if check == "ge0" and not number >= 0:
        return "must be >= 0"
    if check == "in012" and number not in (0, 1, 2):
        return "must be 0, 1 or 2"
    return None


def _device_problem(version: str, value: str, allowed: Iterable[str]) -> Optional[str]:
    if version == "1.0" and value.startswith("gpu"):
        return "%r is the old GPU backend, which Theano 1.0 removed (use cuda or cudaN)" % value
    # Strict spellings: Theano checks only the prefix, so `cudax` would pass it and fail later.
    device = parse_theano_device(value)
    if device is not None and device.family in allowed:
        return None
    return "invalid device %r" % value


def _string_problem(version: str, option: Option, value: str) -> Optional[str]:
    check = option.check
    if check == "device":
        return _device_problem(version, value, ("cpu", "gpu", "cuda", "opencl"))
    if check == "init_device":
        if value == "":
            return None
        return _device_problem(version, value, ("gpu", "cuda", "opencl"))
    if check == "contexts":
        return _contexts_problem(value)
    if check == "nvcc_flags":
        bad = [flag for flag in value.split(" ") if flag and not flag.startswith("-")]
        return ("%r does not start with '-'" % bad[0]) if bad else None
    if check == "seed":
        return None if value == "random" or _INT.match(value) else "invalid seed %r" % value
    if check == "prealloc_output":
        bad = [part for part in value.split(":") if part not in _PREALLOC_OUTPUT]
        return ("unknown item %r" % bad[0]) if bad else None
    if check == "no_fopenmp":
        return "Theano 1.0 refuses -fopenmp here" if "-fopenmp" in value.split(" ") else None
    if check == "path":
        return None if value else "an empty path"
    if check == "forbidden":
        return None if value == "" else "Theano raises an error for any non-empty value of this flag"
    if check == "dnn_enabled_08":
        # Theano 0.8 does not validate it at all, but only these three strings mean anything.
        return None if value in ("auto", "True", "False") else "%r would silently act like auto" % value
    return None


def _contexts_problem(value: str) -> Optional[str]:
    if value == "":
        return None
    for item in value.split(";"):
        parts = item.split("->")
        if len(parts) != 2:
            return "malformed context map item %r" % item
        name, device = parts
        if name == "cpu" or name.startswith(("cuda", "opencl")):
            return "%r cannot be used as a context name" % name
        parsed = parse_theano_device(device)
        if parsed is None or parsed.family not in ("cuda", "opencl"):
            return "context %r: invalid device %r" % (name, device)
    return None


def finite_number(text: str) -> Optional[float]:
    """The number *text* spells (as Theano's float() reads it), or None: not a number, nan or inf."""
    if not NUMBER.match(text.strip()):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def floatx_name(text: str) -> str:
    """``32`` -> ``float32`` (Theano accepts both spellings); anything else unchanged."""
    return FLOATX_ALIASES.get(text, text)


def canonical_name(name: str, versions: Iterable[str] = ("0.8", "0.9", "1.0")) -> str:
    """The exact spelling of flag *name* matched case-insensitively (``floatx`` -> ``floatX``).

    ConfigParser lower-cases option names, so flags read from an INI file come back as
    ``floatx``; THEANO_FLAGS needs ``floatX``. Unknown names are returned unchanged.
    """
    for version in versions:
        for known in options_for(version):
            if known.lower() == name.lower():
                return known
    return name
