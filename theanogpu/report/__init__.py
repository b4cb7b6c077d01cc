"""Report rows (model.py, pure), their inputs (inputs.py) and one renderer per output format.

Each renderer module has ``render(report: Report, color: bool = False, width: int = 80) -> str``;
only the text renderer uses *color* (ANSI, for a terminal) and *width*.

Public interface: ``read_inputs(paths) -> (runs, problems)``, ``model.build(runs, baseline)``,
``render(report, fmt, color, width)``, ``render_for(report, fmt, stream)`` and ``FORMATS``.
"""

import importlib
import os
import shutil
from typing import IO, Callable

from theanogpu.records import Report
from theanogpu.report.inputs import read_inputs

__all__ = ["FORMATS", "read_inputs", "render", "render_for", "renderer", "terminal"]

# Format name -> renderer module (in this package); the order is the one --help shows.
FORMATS = {
    "text": "text",
    "markdown": "markdown",
    "csv": "csv",
    "json": "json",
    "html": "html",
}


def renderer(fmt: str) -> Callable[..., str]:
    """The ``render`` function of format *fmt* (KeyError for an unknown format)."""
    return importlib.import_module("theanogpu.report." + FORMATS[fmt]).render


def render(report: Report, fmt: str, color: bool = False, width: int = 80) -> str:
    return renderer(fmt)(report, color=color, width=width)


def terminal(stream: object) -> bool:
    """Whether *stream* is a terminal that wants colour (NO_COLOR says it does not)."""
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def render_for(report: Report, fmt: str, stream: IO[str]) -> str:
    """*report* as *stream* shows it best: coloured text at the terminal's width on a terminal."""
    tty = terminal(stream)
    width = shutil.get_terminal_size().columns if tty else 80
    return render(report, fmt, color=tty and fmt == "text", width=width)
