"""Text report: an aligned table that fits the width (80 columns by default), notes underneath.

Columns that are empty in every row are left out; if the table is still too wide, long names are
shortened (ending in ``~``), and if even that is not enough each row becomes a short block.
Fallbacks and failures are marked ``!!`` in the notes, and in red when *color* is on (a terminal).
The fastest row's name ends in `` *``, and the line starting ``*`` under the table says why (in green
on a terminal). Control characters in the data (escape sequences from a log) are shown escaped
(textsafe.visible): the only escape sequences in the output are this module's own colours.
"""

import textwrap
from typing import Callable, List, Optional, Tuple

from theanogpu.records import Report, ReportRow
from theanogpu.report import cells
from theanogpu.report.model import origin_label
from theanogpu.textsafe import visible

RED, GREEN, BOLD, RESET = "\x1b[31m", "\x1b[32m", "\x1b[1m", "\x1b[0m"
# Ends the winner's name cell: in the name column (left-aligned, shrunk in the middle) it keeps the
# numbers aligned and survives shortening, like the "!!" that ends a fallback's device cell.
FASTEST_MARK = " *"


class Column:
    def __init__(self, header: str, cell: Callable[[ReportRow], Optional[str]], right: bool = False,
                 shrink_to: int = 0, optional: bool = False) -> None:
        self.header = header
        self.cell = cell
        self.right = right
        self.shrink_to = shrink_to  # 0: never shortened
        self.optional = optional  # may be left out of a narrow table (the JSON report has it)


def _device(row: ReportRow) -> Optional[str]:
    text = cells.device(row)
    # "cpu (asked gpu)" is too wide for a column; the "!!" note under the table says it in full.
    return row["device_used"] + "!!" if row["fallback"] and row["device_used"] else text


def _name(row: ReportRow) -> str:
    return row["name"] + (FASTEST_MARK if row.get("fastest") else "")


def _one_stack(rows: List[ReportRow]) -> Optional[str]:
    """The stack when every row ran on the same one: then it is said once, not in a column."""
    stacks = {row["stack"] for row in rows}
    return stacks.pop() if len(stacks) == 1 else None


def _columns(report: Report) -> List[Column]:
    rows = report["rows"]
    columns = []
    if report["show_host"]:
        columns.append(Column("host", origin_label, shrink_to=10))
    columns.append(Column("name", _name, shrink_to=10))
    # Columns shown only when some row has a value (the stack column: when rows differ in it).
    optional: List[Tuple[Column, bool]] = [
        (Column("stack", lambda r: r["stack"], shrink_to=6),
         any(row["stack"] for row in rows) and not _one_stack(rows)),
        # Where a cluster ran each row: the --on target, the node, the GPU the job saw from inside.
        (Column("target", lambda r: r.get("target"), shrink_to=6), any(row.get("target") for row in rows)),
        (Column("node", lambda r: r.get("node"), shrink_to=6), any(row.get("node") for row in rows)),
        # Said when it says more than the GPU column (the framework's own word): e.g. a fallback's node had one.
        (Column("job GPU", lambda r: cells.job_gpus(r.get("job_gpus")), shrink_to=8, optional=True),
         any(cells.job_gpus(row.get("job_gpus")) not in (None, cells.gpu(row["gpu_name"])) for row in rows)),
        (Column("device", _device), True),
        (Column("GPU", lambda r: cells.gpu(r["gpu_name"]), shrink_to=8), any(row["gpu_name"] for row in rows)),
        (Column("CNMeM", lambda r: cells.cnmem(r["cnmem"])), any(row["cnmem"] for row in rows)),
        (Column("cuDNN", lambda r: cells.cudnn(r["cudnn"])), any(row["cudnn"] for row in rows)),
    ]
    columns += [column for column, shown in optional if shown]
    columns.append(Column("epochs", lambda r: str(r["epochs"]), right=True))
    if any(row["repeats"] > 1 for row in rows):
        columns.append(Column("runs", lambda r: str(r["repeats"]), right=True, optional=True))
    columns.append(Column("s/epoch", lambda r: cells.number(r["seconds_per_epoch"]), right=True))
    if any(row["spread"] for row in rows):
        columns.append(Column("spread", lambda r: cells.spread(r["spread"]), right=True, optional=True))
    # The loop time a script printed and the wall time: what runs without epochs are compared on.
    measure = report.get("measure") or "epoch"
    if any(row["script_seconds"] is not None for row in rows):
        columns.append(Column("loop s", lambda r: cells.number(r["script_seconds"]), right=True,
                              optional=measure != "loop"))
    if any(row["wall_seconds"] is not None for row in rows):
        columns.append(Column("wall", lambda r: cells.number(r["wall_seconds"]), right=True))
    columns.append(Column("speedup", lambda r: cells.speedup_cell(r), right=True))
    columns.append(Column("status", cells.status))
    return columns


def _fit(text: str, width: int) -> str:
    """*text* cut to *width* in the middle (``theano~cnmem``): both ends of names tell them apart."""
    if len(text) <= width:
        return text
    if width < 5:
        return text[:max(width - 1, 0)] + "~"
    head = width // 2
    return text[:head] + "~" + text[len(text) - (width - 1 - head):]


def _shrunk(columns: List[Column], natural: List[int], width: int) -> Optional[List[int]]:
    """Widths that fit *width* with one-space gaps by shortening the shrinkable columns, or None."""
    widths = list(natural)
    while sum(widths) + len(widths) - 1 > width:
        shrinkable = [i for i, column in enumerate(columns)
                      if column.shrink_to and widths[i] > column.shrink_to]
        if not shrinkable:
            return None
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _layout(columns: List[Column], table: List[List[str]],
            width: int) -> Optional[Tuple[List[int], str, List[int]]]:
    """(widths, gap, kept column indexes): whole with two spaces or one, else shortened, else narrower."""
    natural = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for gap in (2, 1):
        if sum(natural) + gap * (len(natural) - 1) <= width:
            return natural, " " * gap, list(range(len(columns)))
    kept = list(range(len(columns)))
    while True:
        widths = _shrunk([columns[i] for i in kept], [natural[i] for i in kept], width)
        if widths is not None:
            return widths, " ", kept
        optional = [i for i in kept if columns[i].optional]
        if not optional:
            return None
        kept.remove(optional[-1])


def _paint(text: str, style: str, color: bool) -> str:
    return style + text + RESET if color and style else text


def _row_style(row: ReportRow) -> str:
    """Red for trouble (even on a winner: a fallback's time is no GPU's), green for the winner."""
    if cells.alert(row):
        return RED
    return GREEN if row.get("fastest") else ""


def _table(report: Report, width: int, color: bool) -> List[str]:
    columns = _columns(report)
    table = [[column.header for column in columns]]
    table += [[visible(column.cell(row) or "-") for column in columns] for row in report["rows"]]
    layout = _layout(columns, table, width)
    if layout is None:
        return _blocks(report, columns, table, color)
    widths, gap, kept = layout
    lines = []
    for number, line in enumerate(table):
        text = gap.join(_fit(line[i], w).rjust(w) if columns[i].right else _fit(line[i], w).ljust(w)
                        for i, w in zip(kept, widths)).rstrip()
        if number == 0:
            text = _paint(text, BOLD, color)
        else:
            text = _paint(text, _row_style(report["rows"][number - 1]), color)
        lines.append(text)
    return lines


def _blocks(report: Report, columns: List[Column], table: List[List[str]], color: bool) -> List[str]:
    """One short block per row, for terminals too narrow for the table."""
    lines = []
    key_width = max(len(column.header) for column in columns)
    for row, line in zip(report["rows"], table[1:]):
        style = _row_style(row) or BOLD
        lines.append(_paint(line[1] if report["show_host"] else line[0], style, color))
        lines += ["  %s  %s" % (column.header.ljust(key_width), cell) for column, cell in zip(columns, line)
                  if column.header != "name"]
        lines.append("")
    return lines


def render(report: Report, color: bool = False, width: int = 80) -> str:
    if not report["rows"]:
        return "no runs to report\n"
    lines = _table(report, width, color)
    if lines[-1]:
        lines.append("")
    wrap = textwrap.TextWrapper(width=max(width, 40), subsequent_indent="   ", break_on_hyphens=False)
    # The answer to "which configuration is fastest" comes first, right under the "*" it explains.
    fastest = cells.fastest(report)
    if fastest:
        lines += [_paint(text, GREEN, color) for text in wrap.wrap(FASTEST_MARK.strip() + "  " + visible(fastest))]
    for kind, raw in cells.notes(report):
        note = visible(raw)
        if kind == "alert":
            lines += [_paint(text, RED, color) for text in wrap.wrap("!! " + note)]
        elif kind == "detail":
            # A line of the run's output: whole (wrapped, never cut in the middle), its indent kept.
            body = note.rstrip()
            indent = body[:len(body) - len(body.lstrip())]
            detail = textwrap.TextWrapper(width=max(width, 40), initial_indent="   | ",
                                          subsequent_indent="   | " + indent + "  ", break_on_hyphens=False,
                                          break_long_words=True, drop_whitespace=True)
            lines += [_paint(text, RED, color) for text in detail.wrap(body) or ["   |"]]
        else:
            lines += wrap.wrap("-  " + note)
    stack = _one_stack(report["rows"])
    if stack:
        lines += wrap.wrap("-  every run used stack %s" % visible(stack))
    lines += wrap.wrap(visible(cells.legend(report)))
    return "\n".join(lines) + "\n"
