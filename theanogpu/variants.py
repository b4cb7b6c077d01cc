"""PURE: variants (a name plus Theano flags) from a matrix INI file or ``--variant`` specs.

A matrix file has one section per variant; its keys are Theano flag names (``device``, ``floatX``,
``lib.cnmem``...) written in any release's dialect: ``compare`` re-spells them for each stack's
Theano release (``flags.flags_for_version``), so one matrix serves 0.8, 0.9 and 1.0 alike.
"""

import configparser
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from theanogpu.errors import UserError
from theanogpu.flags import canonical_name, parse_theano_flags

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


@dataclass(frozen=True)
class Variant:
    name: str
    flags: Dict[str, str]

    @property
    def requested_device(self) -> str:
        """``gpu`` when the flags ask for any GPU (gpu*, cuda*, opencl*), else ``cpu``."""
        device = self.flags.get("device", "cpu")
        return "cpu" if device == "cpu" or not device else "gpu"


def _check_name(name: str, where: str) -> str:
    if not _NAME_RE.match(name):
        raise UserError("%s: variant name %r: use letters, digits, '.', '_', '+' or '-' (it names log files)"
                        % (where, name))
    return name


def _canonical_flags(items: Sequence, where: str) -> Dict[str, str]:
    flags: Dict[str, str] = {}
    for key, value in items:
        key = canonical_name(key.strip())
        if key in flags:
            raise UserError("%s: flag %s is given twice" % (where, key))
        flags[key] = value.strip()
    return flags


def parse_matrix(text: str, source: str) -> List[Variant]:
    """Variants from matrix INI text; *source* names the file in messages."""
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # flag names are case-sensitive in THEANO_FLAGS
    try:
        parser.read_string(text, source=source)
    except configparser.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError("%s: not a valid matrix file (%s); one [section] per variant, keys are Theano flags"
                        % (source, first)) from None
    variants = []
    for section in parser.sections():
        where = "%s [%s]" % (source, section)
        variants.append(Variant(_check_name(section, where), _canonical_flags(parser.items(section), where)))
    if not variants:
        raise UserError("%s: no variants in the matrix file; add one [section] per variant" % source)
    return variants


def parse_variant_spec(spec: str) -> Variant:
    """``NAME:key=value,key=value`` (values quoted as in THEANO_FLAGS) -> Variant."""
    name, sep, rest = spec.partition(":")
    where = "--variant=%s" % spec
    if not sep or not name:
        raise UserError("%s: expected NAME:key=value,... e.g. --variant gpu-cnmem:device=gpu,lib.cnmem=0.8"
                        % where)
    try:
        items = list(parse_theano_flags(rest).items())
    except ValueError as exc:  # shlex: "No closing quotation"
        raise UserError("%s: %s; quote values as in THEANO_FLAGS" % (where, exc)) from None
    if not items:
        raise UserError("%s: no flags after the name; e.g. --variant cpu64:device=cpu,floatX=float64" % where)
    return Variant(_check_name(name, where), _canonical_flags(items, where))


def select_variants(matrix: Optional[List[Variant]], specs: Sequence[str],
                    default: List[Variant]) -> List[Variant]:
    """The matrix's variants plus ``--variant`` ones (a spec replaces a same-named matrix variant)."""
    extra = [parse_variant_spec(spec) for spec in specs]
    base = matrix if matrix is not None else ([] if extra else default)
    by_name = {variant.name: variant for variant in base}
    for variant in extra:
        by_name[variant.name] = variant
    return list(by_name.values())
