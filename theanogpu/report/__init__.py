"""Report rows (model.py, pure) and one renderer per output format (a registry by format name).

Each renderer module has ``render(report: dict, color: bool = False, width: int = 80) -> str``;
only the text renderer uses *color* (ANSI, for a terminal) and *width*.
"""

import importlib
from typing import Callable

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


def render(report: dict, fmt: str, color: bool = False, width: int = 80) -> str:
    return renderer(fmt)(report, color=color, width=width)
