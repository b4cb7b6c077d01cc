"""THEANO_FLAGS strings: Theano's own parser (copied) and a generator whose output it parses back.

Theano splits THEANO_FLAGS with POSIX ``shlex`` using ``,`` as the only separator, so quotes and
backslashes are interpreted and an unquoted ``#`` starts a comment that swallows every later flag
(theano/configparser.py, parse_config_string). The generator quotes any value that shlex would otherwise change.
"""

import re
import shlex
from typing import Dict, Mapping

# Characters that shlex (posix, whitespace=',') would treat specially in an unquoted value; spaces
# are quoted too because the string usually travels through a shell or a config file.
_NEEDS_QUOTES = re.compile(r"[,#'\"\\\s]")
_SAFE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")


def _splitter(config_string: str, comments: bool = True) -> shlex.shlex:
    my_splitter = shlex.shlex(config_string, posix=True)
    my_splitter.whitespace = ","
    my_splitter.whitespace_split = True
    if not comments:
        my_splitter.commenters = ""
    return my_splitter


def parse_theano_flags(config_string: str) -> Dict[str, str]:
    """Parse *config_string* exactly as Theano 0.8-1.0 parse THEANO_FLAGS (configparser.py).

    Items without ``=`` are ignored (Theano warns about them); later keys override earlier ones.
    """
    config_dict: Dict[str, str] = {}
    for kv_pair in _splitter(config_string):
        kv_pair = kv_pair.strip()
        if not kv_pair:
            continue
        kv_tuple = kv_pair.split("=", 1)
        if len(kv_tuple) == 2:
            k, v = kv_tuple
            config_dict[k] = v
    return config_dict


def has_unquoted_comment(config_string: str) -> bool:
    """Whether an unquoted ``#`` in *config_string* starts a comment, silently dropping what follows.

    Theano reads THEANO_FLAGS that way (``device=cpu#x,floatX=float64`` is ``device=cpu``), so a
    string the user typed with one is almost certainly not what they meant.
    """
    return list(_splitter(config_string)) != list(_splitter(config_string, comments=False))


def quote_flag_value(value: str) -> str:
    """*value* as it must appear after ``key=`` so that Theano reads back exactly *value*."""
    if not _NEEDS_QUOTES.search(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_theano_flags(flags: Mapping[str, str]) -> str:
    """The THEANO_FLAGS value for *flags*: ``key=value`` items joined by ``,`` with no spaces.

    Values with leading/trailing whitespace cannot survive Theano's ``strip()`` and are refused, as
    are keys that are not plain dotted names.
    """
    items = []
    for key, value in flags.items():
        if not _SAFE_KEY.match(key):
            raise ValueError("not a Theano flag name: %r" % key)
        if value != value.strip():
            raise ValueError("Theano strips the ends of %s=%r; it cannot be represented" % (key, value))
        items.append("%s=%s" % (key, quote_flag_value(value)))
    return ",".join(items)


def shell_assignment(flags: Mapping[str, str], export: bool = False) -> str:
    """``THEANO_FLAGS=...`` (or ``export THEANO_FLAGS=...``) quoted for a POSIX shell."""
    line = "THEANO_FLAGS=" + shlex.quote(format_theano_flags(flags))
    return ("export " + line) if export else line
