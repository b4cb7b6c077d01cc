"""File writes that never leave a partial file behind."""

import os
import tempfile
from pathlib import Path
from typing import Optional, Union


def write_temp_beside(path: Path, data: bytes, mode: int, suffix: str = ".tmp") -> str:
    """Write *data* to a new hidden temporary file next to *path*, flushed to disk; return its name.

    Next to the target so that a later rename or link cannot cross file systems. The caller moves it
    into place (or removes it); on any error here the temporary file is removed.
    """
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=suffix, dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode & 0o777)
    except BaseException:
        discard(tmp)
        raise
    return tmp


def discard(name: str) -> None:
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass


def atomic_write_bytes(path: Union[str, Path], data: bytes, mode: Optional[int] = None) -> None:
    """Write *data* to *path* so that readers see either the old file or the new one, never a mix.

    ``os.replace`` of a fully written temporary file is atomic on POSIX and Windows. The file keeps
    the mode of the file it replaces (0644 for a new one) unless *mode* is given.
    """
    path = Path(path)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
    tmp = write_temp_beside(path, data, mode)
    try:
        os.replace(tmp, str(path))
    except BaseException:
        discard(tmp)
        raise


def atomic_write_text(path: Union[str, Path], text: str, mode: Optional[int] = None) -> None:
    """``atomic_write_bytes`` of *text* in UTF-8, line endings exactly as given."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)
