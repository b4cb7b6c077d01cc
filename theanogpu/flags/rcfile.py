""".theanorc text: render flags as one, check that Theano can read one, merge flags into one (pure).

Theano reads ``.theanorc`` with Python's ConfigParser (theano/configparser.py): ``key.rsplit('.', 1)`` gives
the section (``[global]`` for dot-less names), option names are case-insensitive, section names
are not, ``%`` is interpolation (so a literal ``%`` is written ``%%``), ``#`` is never an inline
comment, and on Python 3 a duplicate section or option, an option before any section, or a line
with neither ``=`` nor ``:`` stops ``import theano``.

The merge edits the text line by line so that everything it does not own (comments, blank lines,
key order, spelling, unrelated sections such as ``[blas]``) survives byte for byte.
"""

import ast
import configparser
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple

from theanogpu.errors import UserError

# The same patterns as Python 3's configparser (SECTCRE, OPTCRE with delimiters '=' and ':').
_SECTION = re.compile(r"\[(?P<header>.+)\]")
_OPTION = re.compile(r"(?P<option>.*?)\s*(?P<vi>[=:])\s*(?P<value>.*)$")
_COMMENT_PREFIXES = ("#", ";")


def split_name(name: str) -> Tuple[str, str]:
    """Flag name -> (section, option) the way Theano looks it up in a config file."""
    if "." in name:
        section, key = name.rsplit(".", 1)
        return section, key
    return "global", name


def join_name(section: str, key: str) -> str:
    """(section, option) in a config file -> the flag name (split_name's inverse)."""
    return key if section == "global" else section + "." + key


def escape_value(value: str) -> str:
    """A literal value for ConfigParser with interpolation: ``%`` doubled."""
    return value.replace("%", "%%")


def group_by_section(flags: Mapping[str, str]) -> Dict[str, List[Tuple[str, str]]]:
    """``{section: [(option, value), ...]}`` with ``[global]`` first, then in order of appearance."""
    sections: Dict[str, List[Tuple[str, str]]] = {}
    for name, value in flags.items():
        section, key = split_name(name)
        sections.setdefault(section, []).append((key, value))
    if "global" in sections:
        sections = {"global": sections.pop("global"), **sections}
    return sections


def _option_line(key: str, value: str) -> str:
    if re.search(r"\s;", value):
        # Python 2's ConfigParser (Theano 0.8/0.9 on Python 2.7) cuts such a value at the ';'.
        raise UserError("%s = %s: ' ;' in a .theanorc value is an inline comment for Python 2; "
                        "use THEANO_FLAGS (--format flags) for this value" % (key, value))
    escaped = escape_value(value)
    return ("%s = %s" % (key, escaped)) if escaped else ("%s =" % key)


def render_theanorc(flags: Mapping[str, str], header: Sequence[str] = ()) -> str:
    """A complete ``.theanorc``: *header* as ``#`` comment lines, then one section per prefix."""
    out = ["# " + line if line else "#" for line in header]
    if out:
        out.append("")
    for section, items in group_by_section(flags).items():
        out.append("[%s]" % section)
        out.extend(_option_line(key, value) for key, value in items)
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def strict_problem(text: str) -> Optional[str]:
    """Why Python 3's ConfigParser (as ``import theano`` uses it) would refuse *text*, or None."""
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.DuplicateSectionError as exc:
        return "line %s: section [%s] appears twice (Python 3 refuses duplicate sections)" % (
            exc.lineno, exc.section)
    except configparser.DuplicateOptionError as exc:
        return ("line %s: option %r appears twice in [%s] (option names are case-insensitive; "
                "Python 3 refuses duplicates)" % (exc.lineno, exc.option, exc.section))
    except configparser.MissingSectionHeaderError as exc:
        return "line %s: %r comes before any [section] header" % (exc.lineno, exc.line.strip())
    except configparser.ParsingError as exc:
        lineno, line = exc.errors[0]
        if line[:1] in ("'", '"'):
            line = ast.literal_eval(line)  # configparser stores repr(line)
        return "line %s: %r is neither a [section], an option with '=' or ':', nor a comment" % (
            lineno, line.strip())
    return None


@dataclass
class _Line:
    kind: str  # skip (blank/comment) | section | option | continuation | junk
    section: Optional[str] = None
    key: Optional[str] = None  # lower-cased, as ConfigParser's optionxform does
    owner: Optional[int] = None  # for continuation lines: index of their option line


def scan(lines: Sequence[str]) -> List[_Line]:
    """Classify each line as Python 3's ConfigParser._read does (also for files it would refuse)."""
    result: List[_Line] = []
    section: Optional[str] = None
    option_index: Optional[int] = None
    indent_level = 0
    for index, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        value = line.strip()
        if not value or value.startswith(_COMMENT_PREFIXES):
            result.append(_Line("skip", section))
            continue
        indent = len(line) - len(line.lstrip())
        if section is not None and option_index is not None and indent > indent_level:
            result.append(_Line("continuation", section, owner=option_index))
            continue
        indent_level = indent
        header = _SECTION.match(value)
        if header:
            section = header.group("header")
            option_index = None
            result.append(_Line("section", section))
            continue
        match = _OPTION.match(value) if section is not None else None
        if match and match.group("option"):
            option_index = index
            result.append(_Line("option", section, match.group("option").rstrip().lower()))
        else:
            result.append(_Line("junk", section))
    return result


@dataclass
class Merge:
    """The merged text and what changed, for the report."""

    text: str
    updated: List[str] = field(default_factory=list)  # "name: old -> new"
    added: List[str] = field(default_factory=list)  # "name = value"
    unchanged: List[str] = field(default_factory=list)
    removed: List[str] = field(default_factory=list)  # "name = old"
    header_updated: bool = False


def _newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _replace_value(raw: str, value: str, newline: str) -> str:
    ending = raw[len(raw.rstrip("\r\n")):] or newline
    line = raw.rstrip("\r\n")
    stripped = line.lstrip()
    lead = line[: len(line) - len(stripped)]
    match = _OPTION.match(stripped.rstrip())
    assert match is not None
    prefix = lead + stripped[: match.start("value")]
    escaped = escape_value(value)
    if escaped and not match.group("value") and prefix[-2:-1].isspace():
        prefix += " "  # `cxx =` had no value: follow the `key = value` spacing it uses
    return (prefix + escaped).rstrip() + ending


GENERATED = "Generated by theanogpu"


def _generated_header(lines: Sequence[str]) -> int:
    """How many leading comment lines are the header theanogpu wrote (0 if the file has none)."""
    if not lines or not lines[0].lstrip("# ").startswith(GENERATED):
        return 0
    count = 0
    while count < len(lines) and lines[count].startswith("#"):
        count += 1
    return count


def merge_theanorc(text: str, flags: Mapping[str, str], remove: Sequence[str] = (),
                   header: Sequence[str] = ()) -> Merge:
    """Put *flags* into the ``.theanorc`` *text*, take the options named in *remove* out, and change
    nothing else.

    Existing options are updated in place (matched case-insensitively within the exact,
    case-sensitive section name, every occurrence if the file has duplicates); missing options go
    after the last option of their section (its last occurrence); missing sections go at the end.
    A header that theanogpu wrote at the top (``# Generated by theanogpu ...``) is replaced by
    *header* when one is given, so that it keeps telling the truth about the file.
    """
    newline = _newline_of(text)
    lines = text.splitlines(keepends=True)
    info = scan(lines)
    wanted = group_by_section(flags)
    unwanted: Dict[str, Set[str]] = {}
    for name in remove:
        section, key = split_name(name)
        unwanted.setdefault(section, set()).add(key.lower())
    merge = Merge(text)
    drop: Set[int] = set()
    found: Set[Tuple[str, str]] = set()
    values = {}
    generated = _generated_header(lines) if header else 0
    if generated:
        values[0] = "".join(("# " + line if line else "#") + newline for line in header)
        drop.update(range(1, generated))
        merge.header_updated = "".join(lines[:generated]) != values[0]
    for index, line in enumerate(info):
        if line.kind == "option" and line.key in unwanted.get(line.section or "", ()):
            merge.removed.append("%s = %s" % (join_name(line.section or "global", line.key or ""),
                                              _current_value(lines, info, index)))
            drop.add(index)
            drop.update(i for i, other in enumerate(info) if other.owner == index)
            continue
        if line.kind == "option" and line.section in wanted:
            for key, value in wanted[line.section]:
                if key.lower() != line.key:
                    continue
                found.add((line.section, key))
                old = _current_value(lines, info, index)
                name = join_name(line.section, key)
                if old == escape_value(value):
                    merge.unchanged.append(name)
                    continue
                values[index] = _replace_value(lines[index], value, newline)
                drop.update(i for i, other in enumerate(info) if other.owner == index)
                merge.updated.append("%s: %s -> %s" % (name, old, value))
    inserts: Dict[int, List[str]] = {}
    appended: List[str] = []
    for section, items in wanted.items():
        missing = [(key, value) for key, value in items if (section, key) not in found]
        if not missing:
            continue
        new_lines = [_option_line(key, value) + newline for key, value in missing]
        merge.added.extend("%s = %s" % (join_name(section, key), value)
                           for key, value in missing)
        anchor = _section_end(info, section)
        if anchor is None:
            appended.append("[%s]%s" % (section, newline))
            appended.extend(new_lines)
            appended.append(newline)
        else:
            inserts.setdefault(anchor, []).extend(new_lines)
    out: List[str] = []
    for index, raw in enumerate(lines):
        if index in drop:
            continue
        out.append(values.get(index, raw))
        if index in inserts:
            if not out[-1].endswith(("\n", "\r")):
                out[-1] += newline
            out.extend(inserts[index])
    if appended:
        if out and not out[-1].endswith(("\n", "\r")):
            out[-1] += newline
        if out and out[-1].strip():
            out.append(newline)
        while appended and appended[-1] == newline:
            appended.pop()
        out.extend(appended)
    merge.text = "".join(out)
    return merge


def _current_value(lines: Sequence[str], info: Sequence[_Line], index: int) -> str:
    match = _OPTION.match(lines[index].strip())
    assert match is not None
    parts = [match.group("value").strip()]
    parts.extend(lines[i].strip() for i, other in enumerate(info) if other.owner == index)
    return "\n".join(parts)


def _section_end(info: Sequence[_Line], section: str) -> Optional[int]:
    """Index of the line after which new options of *section* go (its last occurrence), or None."""
    anchor = None
    current = False
    for index, line in enumerate(info):
        if line.kind == "section":
            current = line.section == section
            if current:
                anchor = index
        elif current and line.kind in ("option", "continuation"):
            anchor = index
    return anchor


def read_flags(text: str) -> Dict[str, str]:
    """The flags a ``.theanorc`` text sets, as Theano would read them (``section.key`` names).

    Names come back lower-cased by ConfigParser except the section part; use
    ``validate.canonical_name`` for the THEANO_FLAGS spelling. Values are interpolated like Theano
    does (``%%`` -> ``%``), falling back to the raw text when interpolation fails.
    """
    problem = strict_problem(text)
    if problem:
        raise UserError(problem)
    parser = configparser.ConfigParser(strict=True)
    raw = configparser.RawConfigParser(strict=True)
    parser.read_string(text)
    raw.read_string(text)
    flags: Dict[str, str] = {}
    for section in parser.sections():
        for key in parser.options(section):
            try:
                value = parser.get(section, key)
            except configparser.InterpolationError:
                value = raw.get(section, key)
            flags[join_name(section, key)] = value
    return flags
