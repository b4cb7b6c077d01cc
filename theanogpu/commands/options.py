"""Option values every command reads the same way: --format, --timeout, whole numbers.

One parser per kind of value, so that the same mistake gets the same one-line message (and exit
status 2) in every command.
"""

import math
import re
from typing import Any, Iterable, Mapping, Optional

from theanogpu.errors import UserError

_DIGITS = re.compile(r"[0-9]+")  # ASCII digits only: int() would also take "1_000" and "١٢"


def choice(args: Mapping[str, Any], option: str, choices: Iterable[str], default: str) -> str:
    """The value of *option* (e.g. ``--format``), which must be one of *choices*."""
    value = args.get(option) or default
    allowed = list(choices)
    if value not in allowed:
        raise UserError("%s=%s: choose one of %s" % (option, value, ", ".join(allowed)))
    return str(value)


# Any count an option gives: past this it is a typo (and planning that many things runs out of memory).
MAX_COUNT = 1_000_000_000


def positive_int(args: Mapping[str, Any], option: str, maximum: int = MAX_COUNT) -> Optional[int]:
    """A whole number from 1 to *maximum*, or None when the option is not given."""
    value = args.get(option)
    if value is None:
        return None
    text = str(value).strip()
    if not _DIGITS.fullmatch(text) or not text.strip("0"):
        raise UserError("%s=%s: expected a whole number >= 1" % (option, value))
    # len first: int() of a 5000-digit string is refused by Python itself (and slow before that).
    if len(text.lstrip("0")) > len(str(maximum)) or int(text) > maximum:
        raise UserError("%s=%s: at most %d" % (option, value, maximum))
    return int(text)


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
