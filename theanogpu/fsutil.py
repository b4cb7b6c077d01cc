"""File writes that never leave a partial file behind."""

import os
import tempfile
from pathlib import Path
from typing import Union


def atomic_write_text(path: Union[str, Path], text: str, mode: int = None) -> None:
    """Write *text* to *path* so that readers see either the old file or the new one, never a mix.

    The data goes to a temporary file in the same directory (so the rename cannot cross file
    systems), is flushed to disk, and then replaces the target with ``os.replace``, which is atomic
    on POSIX and Windows.
    """
    path = Path(path)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, str(path))
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
