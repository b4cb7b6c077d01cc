"""Option values every command reads the same way: --format, --timeout, whole numbers.

One parser per kind of value, so that the same mistake gets the same one-line message (and exit
status 2) in every command.
"""

import math
from typing import Any, Iterable, Mapping, Optional

from theanogpu.errors import UserError


def choice(args: Mapping[str, Any], option: str, choices: Iterable[str], default: str) -> str:
    """The value of *option* (e.g. ``--format``), which must be one of *choices*."""
    value = args.get(option) or default
    allowed = list(choices)
    if value not in allowed:
        raise UserError("%s=%s: choose one of %s" % (option, value, ", ".join(allowed)))
    return str(value)


def positive_int(args: Mapping[str, Any], option: str) -> Optional[int]:
    """A whole number >= 1, or None when the option is not given."""
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


def seconds(args: Mapping[str, Any], option: str, default: Optional[float] = None) -> Optional[float]:
    """A number of seconds > 0 (not nan, not inf), or *default* when the option is not given."""
    value = args.get(option)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not (number > 0 and math.isfinite(number)):  # also rejects nan
        raise UserError("%s=%s: expected a number of seconds > 0" % (option, value))
    return number
