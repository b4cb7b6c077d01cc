"""``--plot PATH``: a PNG or SVG bar chart of seconds per epoch, drawn with matplotlib (optional extra).

matplotlib is the optional extra ``theanogpu[plot]``; without it the command says so in one line.
"""

import io
from pathlib import Path
from typing import Any, List, Optional, Union

from theanogpu import fsutil
from theanogpu.errors import UserError
from theanogpu.records import Report
from theanogpu.report import cells
from theanogpu.report.model import MEASURES

SUFFIXES = (".png", ".svg")
ALERT, BASELINE, NORMAL, FASTEST = "#c0392b", "#8a8a8a", "#3b6ea5", "#2e8b57"
KIND_COLORS = {"alert": ALERT, "baseline": BASELINE, "ok": NORMAL, "fastest": FASTEST}


def _pyplot() -> Any:
    try:
        import matplotlib  # an optional extra

        matplotlib.use("Agg")  # files only: never open a window or need a display
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("--plot needs matplotlib, which is not installed: pip install 'theanogpu[plot]' "
                        "(or pip install matplotlib)") from None
    return plt


def check_path(path: Union[str, Path]) -> Path:
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise UserError("--plot=%s: the file name must end in .png or .svg" % path)
    return path


def write_plot(report: Report, path: Union[str, Path], label: Optional[str] = None) -> None:
    """Draw the chart and write it to *path* (format from the suffix) through fsutil's one write path:
    a regular file replaced atomically, a FIFO or /dev/stdout written through, anything else refused."""
    path = check_path(path)
    label = label or "--plot=%s" % path
    target = fsutil.write_target(path, label, streams=True)  # refused before the drawing, not after
    fsutil.write_to(target, draw(report, path))


def draw(report: Report, path: Path) -> bytes:
    """The chart as PNG or SVG bytes (the format from *path*'s suffix)."""
    plt = _pyplot()
    indexes = [i for i, row in enumerate(report["rows"]) if row["measured_seconds"] is not None]
    rows = [report["rows"][i] for i in indexes]
    if not rows:
        raise UserError("--plot=%s: no run has an epoch time to plot" % path)
    labels = [cells.label(report, row) for row in rows]
    values: List[float] = [row["measured_seconds"] or 0.0 for row in rows]
    colors = [KIND_COLORS[cells.bar_kind(report, i)] for i in indexes]
    figure, axes = plt.subplots(figsize=(8, 1.2 + 0.5 * len(rows)))
    try:
        positions = list(range(len(rows)))[::-1]
        axes.barh(positions, values, color=colors)
        axes.set_yticks(positions)
        axes.set_yticklabels(labels)
        axes.set_xlabel("%s (shorter is faster)" % MEASURES[report.get("measure") or "epoch"][2])
        axes.set_xlim(0, max(values) * 1.3)
        for position, row, value in zip(positions, rows, values):
            axes.text(value, position, "  " + cells.bar_label(row, "  "), va="center")
        axes.set_title("theanogpu: %s" % MEASURES[report.get("measure") or "epoch"][2])
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format=path.suffix.lower().lstrip("."))
        return buffer.getvalue()
    finally:
        plt.close(figure)
