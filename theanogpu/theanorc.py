"""EDGE: find the user's .theanorc, merge flags into it, keep a backup, replace it atomically.

Where Theano looks (theano/configparser.py, the same in 0.8, 0.9 and 1.0): every entry of
``$THEANORC`` split on ``os.pathsep``, ``~`` expanded, read left to right (the right-most wins) by
ConfigParser.read, which skips what it cannot open, so an empty entry (``THEANORC=:/path``) reads
nothing and the others still count; without ``$THEANORC``, ``~/.theanorc`` and, on Windows only,
``~/.theanorc.txt`` read last. We write to the file the user most likely means: PATH if given,
else the first non-empty ``$THEANORC`` entry, else ``~/.theanorc`` (or ``~/.theanorc.txt`` on
Windows when it exists, since it wins there).

The file is written through fsutil's one write path: a regular file is replaced atomically (mode
and owner kept, a new one as the umask says), a link is updated at its target, anything that is
not a regular file (a FIFO, /dev/null, a directory) is refused, as is a read-only file without
``--force``.
"""

import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Sequence

from theanogpu import fsutil
from theanogpu.errors import UserError
from theanogpu.flags.dialect import Stale, stale_options
from theanogpu.flags.rcfile import merge_theanorc, read_flags, render_theanorc, strict_problem
from theanogpu.flags.validate import canonical_name

# A .theanorc is a few lines; a bigger file is not one to merge into.
MAX_THEANORC = fsutil.MAX_SMALL_INPUT


@dataclass
class Target:
    path: Path
    notes: List[str] = field(default_factory=list)


def choose_target(path: Optional[str], environ: Mapping[str, str], platform: str = sys.platform,
                  exists: Callable[[str], bool] = os.path.exists) -> Target:
    """The file ``--write[=PATH]`` writes to, with notes on why (pure apart from *exists*)."""
    if path:
        return Target(Path(os.path.expanduser(path)))
    theanorc = environ.get("THEANORC")
    if theanorc is not None:
        entries = theanorc_files(theanorc)
        if not entries:
            raise UserError("THEANORC is set but empty (no file in it), so Theano reads no config file; "
                            "unset it or pass --write=PATH")
        target = Target(Path(entries[0]))
        if len(entries) > 1:
            target.notes.append("THEANORC lists %d files; writing the first, %s, but later ones override "
                                "the same keys" % (len(entries), entries[0]))
        return target
    home = Path(os.path.expanduser("~"))
    if platform == "win32" and exists(str(home / ".theanorc.txt")):
        return Target(home / ".theanorc.txt",
                      ["writing %s: on Windows Theano reads it after ~/.theanorc, so it wins"
                       % (home / ".theanorc.txt")])
    return Target(home / ".theanorc")


def theanorc_files(value: str) -> List[str]:
    """The files Theano reads for ``THEANORC=value``: its entries, ``~`` expanded, empty ones dropped."""
    return [os.path.expanduser(entry) for entry in value.split(os.pathsep) if entry]


@dataclass
class WriteReport:
    path: Path
    backup: Optional[Path]
    created: bool
    changed: bool
    lines: List[str]  # human-readable report, one line each


def _timestamp() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S")


def _make_backup(path: Path, data: bytes, original: os.stat_result) -> Path:
    """Copy *data* to ``<name>.bak-<timestamp>`` next to *path*; never overwrite, never half-written.

    The copy is written to a temporary file first and then hard-linked under its final name, which
    fails instead of replacing an existing backup; so a kill leaves either a whole backup or none.
    It gets the original's mode and owner: a .theanorc may hold private paths.
    """
    tmp = fsutil.write_temp_beside(path, data, original.st_mode & 0o777, suffix=".bak.tmp",
                                   owner=(original.st_uid, original.st_gid))
    try:
        stem = "%s.bak-%s" % (path.name, _timestamp())
        for attempt in range(1000):
            backup = path.with_name(stem if attempt == 0 else "%s-%d" % (stem, attempt))
            try:
                os.link(tmp, str(backup))
            except FileExistsError:
                continue
            except OSError:
                # No hard links on this file system: a rename is the next best thing.
                if backup.exists():
                    continue
                os.replace(tmp, str(backup))
            return backup
        raise UserError("cannot pick a free backup name next to %s; remove old .bak files" % path)
    finally:
        fsutil.discard(tmp)


def write_theanorc(path: Path, flags: Mapping[str, str], header: Sequence[str], force: bool = False,
                   version: Optional[str] = None, reasons: Optional[Mapping[str, str]] = None) -> WriteReport:
    """Merge *flags* into *path* (create it from *header* + flags if missing or empty).

    Written for Theano *version*: options of the file that release no longer reads are translated or
    removed (dialect.stale_options), and theanogpu's own header comment is brought up to date. Every
    value that changes is reported, with its reason from *reasons* (flag -> why) when there is one.
    Raises UserError, with *path* untouched, if the file cannot be read, Theano could not parse it
    (unless *force*), or it cannot be written. Writes a backup first and replaces the file atomically.
    """
    # A link is updated at its target (replacing it would cut it from the user's dotfiles), as editors do.
    target = fsutil.write_target(path, "cannot write %s" % path, streams=False, force=force,
                                 read_only_hint="make it writable, or pass --force to replace it anyway")
    lines: List[str] = list(target.notes)
    path = target.path
    data = _read_existing(target)
    if not data:
        text = render_theanorc(flags, header)
        old_text = None
    else:
        try:
            old_text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError("%s is not UTF-8/ASCII text; Theano's ConfigParser reads it with the locale "
                            "encoding. Convert it (or pass --write=PATH to another file)" % path) from None
        problem = strict_problem(old_text)
        if problem and not force:
            raise UserError("%s %s; Theano could not read this file on Python 3. Fix it, or pass --force "
                            "to merge anyway" % (path, problem))
        if problem:
            lines.append("warning: %s %s (merged anyway because of --force)" % (path, problem))
        # A file Theano cannot read (merged anyway with --force) has no options to call stale.
        existing = {} if problem else {canonical_name(name): value for name, value in read_flags(old_text).items()}
        stale = stale_options(existing, flags, version) if version else Stale()
        merged = merge_theanorc(old_text, dict(flags, **stale.add), stale.remove, header)
        text = merged.text
        why = dict(reasons or {})
        lines.extend(stale.notes)
        lines.extend("updated %s%s" % (item, " (%s)" % why[item.split(":")[0]] if item.split(":")[0] in why else "")
                     for item in merged.updated)
        lines.extend("added %s" % item for item in merged.added if item.split(" = ")[0] not in stale.add)
        if merged.header_updated:
            lines.append("updated the header comment to say what wrote the file now")
    if old_text is not None and text == old_text:
        lines.append("%s already has these settings; nothing written" % path)
        return WriteReport(path, None, False, False, lines)
    backup = None
    try:
        if data is not None and target.existing is not None:
            backup = _make_backup(path, data, target.existing)
        fsutil.write_to(target, text.encode("utf-8"))
    except OSError as exc:
        if backup is not None:
            backup.unlink()
        raise UserError("cannot write %s: %s" % (path, exc.strerror or exc)) from None
    if backup is not None:
        lines.append("wrote %s (previous version kept as %s)" % (path, backup))
    else:
        lines.append("wrote %s (new file)" % path)
    return WriteReport(path, backup, data is None, True, lines)


def _read_existing(target: fsutil.WriteTarget) -> Optional[bytes]:
    """The bytes of the file to merge into (None: there is none yet), read with a size bound."""
    if target.existing is None:
        return None
    try:
        return fsutil.read_limited(target.path, MAX_THEANORC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UserError("cannot read %s: %s" % (target.path, exc.strerror or exc)) from None
