"""EDGE: reading and writing the files a user names, without hanging, replacing or losing anything.

Reads (``open_regular``, ``read_limited``) refuse what is not a regular file before reading a byte:
a FIFO blocks forever until a writer comes, ``/dev/zero`` never ends, a directory is no file. Small
inputs (results, matrices, .theanorc) also get a size bound, so that a wrong file is one clear line,
not a process that eats the machine's memory.

Writes go through one decision (``write_target``): a regular file, or a name that does not exist
yet, is replaced atomically (a fully written temporary file renamed over it, so readers see the old
file or the new one, never a mix), at a symbolic link's target so the link stays; a stream the user
means (standard output as ``-`` or ``/dev/stdout``, a FIFO, a terminal, ``/dev/null``) is written
through, never replaced; anything else (a directory, a device, a socket) is refused. A replaced
file keeps its mode and owner; a new one gets the mode the umask allows, as ``open()`` would.

A temporary file left by a process killed mid-write (``.NAME.XXXXXXXX.tmp``) is removed by the next
write to the same name once it is clearly abandoned (see ``remove_stale_temps``).
"""

import errno
import json
import os
import re
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Dict, List, Optional, Tuple, Union

from theanogpu.errors import UserError

PathLike = Union[str, Path]

# Inputs that are small by nature; anything bigger is the wrong file (or /dev/zero as a regular file).
MAX_SMALL_INPUT = 10 * 1000 * 1000
# A temporary file this old is abandoned: a live write finishes (and renames it) within seconds.
STALE_TEMP_SECONDS = 3600.0
# mkstemp's names: a prefix, 8 characters from this alphabet, the suffix.
_TEMP_RANDOM = r"[a-z0-9_]{8}"
_TEMP_SUFFIXES = (".tmp", ".bak.tmp")
_FD_PATH = re.compile(r"/(?:dev/fd|proc/self/fd|proc/thread-self/fd|proc/(\d+)/fd)/(\d+)")
_STD_PATHS = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
_MAX_LINKS = 40  # as the kernel's ELOOP limit


class NotRegularFile(OSError):
    """A path that exists but is not a regular file (strerror says what it is)."""


class FileTooLarge(OSError):
    """A file over the size bound of its kind of input."""


def kind_of(mode: int) -> str:
    """``a FIFO (named pipe)``, ``a character device`` ...: what a non-regular file is, for messages."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISREG, "a regular file"))
    for test, name in kinds:
        if test(mode):
            return name
    return "not a regular file"


# ----------------------------------------------------------------------------------------- reads


def open_regular(path: PathLike) -> BinaryIO:
    """Open *path* for reading in binary, or raise OSError without blocking when it is no regular file.

    O_NONBLOCK makes opening a FIFO return at once instead of waiting for a writer; the type is
    checked on the open descriptor, so a file swapped in between cannot slip through.
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(name, flags)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", name)
        if not stat.S_ISREG(mode):
            raise NotRegularFile(errno.EINVAL, "it is %s, not a regular file" % kind_of(mode), name)
        _set_blocking(fd)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _set_blocking(fd: int) -> None:
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)


def read_limited(path: PathLike, limit: int = MAX_SMALL_INPUT) -> bytes:
    """The bytes of the regular file *path*; FileTooLarge when it holds more than *limit* bytes."""
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        data = b"" if size > limit else handle.read(limit + 1)  # + 1: a file that grew meanwhile
    if size > limit or len(data) > limit:
        raise FileTooLarge(errno.EFBIG, "it is larger than %s (%s); this is not the file it should be"
                           % (_size(limit), _size(max(size, len(data)))), os.fspath(path))
    return data


def _size(count: int) -> str:
    return "%d bytes" % count if count < 10000 else "%.0f MB" % (count / 1e6)


def stream_problem(fd: int) -> Optional[str]:
    """Why the already open input *fd* (standard input) cannot be read to an end, or None.

    Pipes, files and terminals end (or the user ends them); a device such as /dev/zero or
    /dev/urandom never does.
    """
    try:
        info = os.fstat(fd)
    except OSError:
        return None
    if stat.S_ISCHR(info.st_mode) and not os.isatty(fd) and not _is_null(info):
        return "it is a character device that never ends (such as /dev/zero), not a log"
    if stat.S_ISBLK(info.st_mode) or stat.S_ISDIR(info.st_mode):
        return "it is %s, not a log" % kind_of(info.st_mode)
    return None


def _is_null(info: os.stat_result) -> bool:
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(null.st_mode) and info.st_rdev == null.st_rdev


# ---------------------------------------------------------------------------- atomic replacement


def current_umask() -> int:
    """The process umask, read without changing it where the system tells (Linux), else by setting it back."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file: 0666 less the umask (0644 with the usual 022, 0600 with 077)."""
    return 0o666 & ~current_umask()


def _temp_name_pattern(name: str) -> "re.Pattern[str]":
    suffixes = "|".join(re.escape(suffix) for suffix in _TEMP_SUFFIXES)
    return re.compile(r"\.%s\.%s(?:%s)\Z" % (re.escape(name), _TEMP_RANDOM, suffixes))


def remove_stale_temps(path: PathLike, max_age: float = STALE_TEMP_SECONDS) -> List[Path]:
    """Remove the temporary files that writes to *path* left behind when killed; return them.

    Only files named as ``write_temp_beside`` names them for this very *path*, regular (never a
    link), owned by this user and untouched for *max_age* seconds: a write in progress elsewhere is
    younger than that, and nothing else carries the name.
    """
    path = Path(path)
    pattern = _temp_name_pattern(path.name)
    removed: List[Path] = []
    try:
        names = os.listdir(str(path.parent))
    except OSError:
        return removed
    now = time.time()
    for name in names:
        if not pattern.match(name):
            continue
        candidate = path.parent / name
        try:
            info = os.lstat(str(candidate))
            if (stat.S_ISREG(info.st_mode) and info.st_uid == _euid() and now - info.st_mtime > max_age):
                os.unlink(str(candidate))
                removed.append(candidate)
        except OSError:
            continue  # gone already, or not ours to remove
    return removed


def _euid() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else 0


def write_temp_beside(path: Path, data: bytes, mode: int, suffix: str = ".tmp",
                      owner: Optional[Tuple[int, int]] = None) -> str:
    """Write *data* to a new hidden temporary file next to *path*, flushed to disk; return its name.

    Next to the target so that a later rename or link cannot cross file systems. The caller moves it
    into place (or removes it); on any error here the temporary file is removed. *owner* (uid, gid)
    is given to the file where this process may. Abandoned temporary files of earlier, killed
    writes to *path* are removed first.
    """
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=suffix, dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if owner is not None:
            _give_owner(tmp, owner)
        os.chmod(tmp, mode & 0o777)
    except BaseException:
        discard(tmp)
        raise
    return tmp


def _give_owner(name: str, owner: Tuple[int, int]) -> None:
    """chown *name* to *owner*, or only its group, or leave it: only root may give files away."""
    if not hasattr(os, "chown"):
        return
    uid, gid = owner
    info = os.stat(name)
    if (info.st_uid, info.st_gid) == (uid, gid):
        return
    for wanted in ((uid, gid), (-1, gid)):
        try:
            os.chown(name, *wanted)
            return
        except PermissionError:
            continue


def discard(name: str) -> None:
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass


def _existing_regular(path: str) -> Optional[os.stat_result]:
    """The stat of *path* when it is a regular file, None when it does not exist; else NotRegularFile."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(errno.EINVAL, "it is %s, not a regular file" % kind_of(info.st_mode), path)
    return info


def atomic_write_bytes(path: PathLike, data: bytes, mode: Optional[int] = None) -> None:
    """Write *data* to the regular file *path* so that readers see either the old file or the new one.

    ``os.replace`` of a fully written temporary file is atomic on POSIX and Windows. A symbolic link
    is followed (the link stays, its target is replaced); a path that is not a regular file is never
    replaced (NotRegularFile). The file keeps the mode and owner of the file it replaces (a new one:
    0666 less the umask) unless *mode* is given.
    """
    real = os.path.realpath(os.fspath(path))
    old = _existing_regular(real)
    if mode is None:
        mode = old.st_mode & 0o777 if old is not None else new_file_mode()
    owner = (old.st_uid, old.st_gid) if old is not None else None
    tmp = write_temp_beside(Path(real), data, mode, owner=owner)
    try:
        _existing_regular(real)  # it may have become something else while we wrote
        os.replace(tmp, real)
    except BaseException:
        discard(tmp)
        raise


def atomic_write_text(path: PathLike, text: str, mode: Optional[int] = None) -> None:
    """``atomic_write_bytes`` of *text* in UTF-8, line endings exactly as given."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def read_json_object(path: PathLike) -> Optional[Dict[str, Any]]:
    """A small JSON object this tool wrote (a marker, a job's exit record), or None when it is not there, not
    complete yet (another machine is writing it) or not an object: to its readers all the same, "not yet"."""
    try:
        data = json.loads(read_limited(path).decode("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def create_exclusive(path: PathLike, mode: Optional[int] = None) -> int:
    """Create *path* as a new file and return a descriptor open for writing; FileExistsError when
    anything (a file, a link, even a dangling one) is already there.

    O_EXCL with O_NOFOLLOW: a link planted at the name is never followed to clobber its target.
    """
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0))
    return os.open(os.fspath(path), flags, 0o666 if mode is None else mode)


# -------------------------------------------------------------------------- targets users name


@dataclass
class WriteTarget:
    """Where the bytes for a user-named path go, decided before any work (``write_target``)."""

    given: str
    path: Path  # the regular file (a link's target), or the stream's path
    kind: str  # file | new | stream | fd
    fd: Optional[int] = None  # kind fd: /dev/stdout, -, /dev/fd/N
    existing: Optional[os.stat_result] = None  # kind file: the file replaced
    notes: List[str] = field(default_factory=list)  # e.g. "x is a link; updating y"


def _fd_named(path: str) -> Optional[int]:
    """The descriptor a path such as /dev/stdout, /dev/fd/3 or /proc/self/fd/1 stands for."""
    if path in _STD_PATHS:
        return _STD_PATHS[path]
    match = _FD_PATH.fullmatch(path)
    if match and (match.group(1) is None or int(match.group(1)) == os.getpid()):
        return int(match.group(2))
    return None


def _follow(path: str) -> Tuple[str, Optional[int], int]:
    """(where *path* leads, the descriptor it names or None, how many links were followed).

    Links are followed one at a time so that a link to /proc/self/fd/1 is seen as standard output,
    not as whatever file descriptor 1 happens to be.
    """
    # The directory part as the kernel resolves it (a ".." after a linked directory leads out of
    # the link's target, not back where the name started).
    absolute = os.path.abspath(path)
    current = os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
    for hops in range(_MAX_LINKS):
        fd = _fd_named(current)
        if fd is not None or not os.path.islink(current):
            return current, fd, hops
        link = os.readlink(current)
        current = os.path.normpath(os.path.join(os.path.realpath(os.path.dirname(current)), link))
    raise OSError(errno.ELOOP, "too many levels of symbolic links", path)


def _stream_device(info: os.stat_result) -> bool:
    """A character device a report may go to: /dev/null, or a terminal of this session."""
    if _is_null(info):
        return True
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd) and os.fstat(fd).st_rdev == info.st_rdev:
                return True
        except OSError:
            continue
    return False


def write_target(given: PathLike, label: str, streams: bool, force: bool = False,
                 read_only_hint: str = "make it writable or choose another file") -> WriteTarget:
    """Decide where writing to *given* goes, or raise UserError ("LABEL: why") before any work.

    *streams*: whether a stream the user means (``-``, /dev/stdout, a FIFO, a terminal, /dev/null)
    is welcome (a report is; a .theanorc to merge into is not). *force*: replace even a read-only
    file (mode without any write bit, which root could otherwise overwrite silently).
    """
    text = os.fspath(given)
    if text == "-":
        return _stream_or_refuse(WriteTarget(text, Path(text), "fd", fd=1), label, streams, "standard output")
    try:
        where, fd, hops = _follow(text)
    except OSError as exc:
        raise UserError("%s: %s" % (label, exc.strerror or exc)) from None
    notes = ["%s is a link; updating %s" % (text, where)] if hops else []
    if fd is not None:
        return _stream_or_refuse(WriteTarget(text, Path(where), "fd", fd=fd), label, streams, "a file descriptor")
    try:
        info: Optional[os.stat_result] = os.stat(where)
    except (FileNotFoundError, NotADirectoryError):  # no such file (yet), or its directory is no directory
        info = None
    except OSError as exc:
        raise UserError("%s: %s" % (label, exc.strerror or exc)) from None
    if info is None:
        _check_directory(Path(where), label)
        return WriteTarget(text, Path(where), "new", notes=notes)
    if stat.S_ISREG(info.st_mode):
        _check_replaceable(where, info, label, force, read_only_hint)
        _check_directory(Path(where), label)
        return WriteTarget(text, Path(where), "file", existing=info, notes=notes)
    kind = kind_of(info.st_mode)
    if stat.S_ISDIR(info.st_mode):
        raise UserError("%s: it is a directory; give a file name" % label)
    if stat.S_ISFIFO(info.st_mode) or (stat.S_ISCHR(info.st_mode) and _stream_device(info)):
        return _stream_or_refuse(WriteTarget(text, Path(where), "stream", notes=notes), label, streams, kind)
    raise UserError("%s: it is %s, not a regular file; nothing was written" % (label, kind))


def _stream_or_refuse(target: WriteTarget, label: str, streams: bool, kind: str) -> WriteTarget:
    if not streams:
        raise UserError("%s: it is %s, not a regular file; nothing was written" % (label, kind))
    return target


def _check_directory(path: Path, label: str) -> None:
    parent = path.parent
    if not parent.is_dir():
        raise UserError("%s: directory %s does not exist (or is not a directory)" % (label, parent))
    if not os.access(str(parent), os.W_OK | os.X_OK):
        raise UserError("%s: directory %s is not writable" % (label, parent))


def _check_replaceable(path: str, info: os.stat_result, label: str, force: bool, hint: str) -> None:
    # os.access says "writable" to root whatever the mode; no write bit at all is the owner's "keep".
    if force or (info.st_mode & 0o222 and os.access(path, os.W_OK)):
        return
    raise UserError("%s: the file is read-only (mode %04o); %s" % (label, info.st_mode & 0o7777, hint))


def write_to(target: WriteTarget, data: bytes) -> None:
    """Write *data* where *target* says: replace a regular file atomically, or write a stream through."""
    if target.kind in ("file", "new"):
        atomic_write_bytes(target.path, data)
    elif target.kind == "fd":
        _write_descriptor(target.fd if target.fd is not None else 1, data)
    else:
        _write_stream(target, data)


def _write_descriptor(fd: int, data: bytes) -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and _fileno(stream) == fd:
            stream.flush()  # what was printed before comes before the report
    _write_all(fd, data)


def _fileno(stream: object) -> Optional[int]:
    try:
        return stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_stream(target: WriteTarget, data: bytes) -> None:
    """Write through to a FIFO or a device: opened without creating or truncating, never blocking on
    a FIFO that nobody reads."""
    flags = os.O_WRONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(str(target.path), flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OSError(errno.ENXIO, "no process is reading from this FIFO", str(target.path)) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
            raise NotRegularFile(errno.EINVAL, "it changed while the report was made", str(target.path))
        _set_blocking(fd)
        _write_all(fd, data)
    finally:
        os.close(fd)


def write_output(target: WriteTarget, data: bytes, label: str) -> None:
    """``write_to``, with any failure as one UserError line naming *label*."""
    try:
        write_to(target, data)
    except OSError as exc:
        raise UserError("%s: cannot write it (%s)" % (label, exc.strerror or exc)) from None
