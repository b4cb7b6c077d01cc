"""PURE core for Theano flags: option tables per release, validation, dialect translation, quoting.

Public interface (everything else is an implementation detail):

* ``options_for(version)`` / ``VERSIONS``: the option tables ("0.8", "0.9", "1.0").
* ``check_value(version, name, value)`` / ``check_flags(version, flags)``: validate (UserError).
* ``canonical_name(name)``: ``floatx`` (as ConfigParser returns it) -> ``floatX``.
* ``TheanoRequest`` + ``spell_request(intent, version)``: device/floatX/cnmem/cuDNN -> flags and notes.
* ``flags_for_version(flags, version)``: re-spell a variant's flags for a release (gpu -> cuda...).
* ``parse_theano_flags`` / ``format_theano_flags`` / ``shell_assignment``: THEANO_FLAGS strings.
* ``render_theanorc`` / ``merge_theanorc`` / ``strict_problem`` / ``read_flags``: .theanorc text.
"""

from theanogpu.flags.dialect import (
    DialectFlags,
    TheanoRequest,
    flags_for_version,
    parse_cnmem,
    parse_cudnn,
    parse_device,
    parse_floatx,
    parse_theano_version,
    release_dialect,
    request_from_flags,
    spell_request,
)
from theanogpu.flags.options import RELEASES, VERSIONS, Option, options_for
from theanogpu.flags.quoting import (
    format_theano_flags,
    parse_theano_flags,
    quote_flag_value,
    shell_assignment,
)
from theanogpu.flags.rcfile import merge_theanorc, read_flags, render_theanorc, strict_problem
from theanogpu.flags.validate import canonical_name, check_flags, check_value, floatx_name, lookup

__all__ = [
    "RELEASES", "VERSIONS", "TheanoRequest", "Option", "DialectFlags", "canonical_name", "check_flags", "check_value",
    "flags_for_version", "floatx_name", "format_theano_flags", "request_from_flags", "lookup", "merge_theanorc",
    "options_for", "parse_cnmem", "parse_cudnn", "parse_device", "parse_floatx", "parse_theano_flags",
    "parse_theano_version", "quote_flag_value", "read_flags", "release_dialect", "render_theanorc",
    "shell_assignment", "strict_problem", "spell_request",
]
