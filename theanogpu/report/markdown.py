"""Markdown report: a GitHub table (the fastest row's name in bold), the fastest row and the fallbacks and
failures (in bold) underneath, then the legend.

Every piece of data (names, GPU names, reasons, error lines) is escaped (textsafe.markdown): a
renderer shows it as text, never as HTML, a link or a new table cell or list item. A failed run's
output lines go in a code block whose fence is longer than any fence inside them.
"""

import re
from typing import List, Optional

from theanogpu.records import Report
from theanogpu.report import cells
from theanogpu.report.model import measure_value, origin_label
from theanogpu.textsafe import markdown, visible

_TILDES = re.compile(r"~{3,}")


def _fenced(details: List[str]) -> List[str]:
    """A failed run's output lines as a code block inside the list item above them."""
    lines = [visible(line) for line in details]
    longest = max((len(run) for line in lines for run in _TILDES.findall(line)), default=0)
    fence = "  " + "~" * max(4, longest + 1)  # a closing fence must be at least as long as the opening
    return ["", fence] + ["  " + line for line in lines] + [fence, ""]


def _cell(value: Optional[str]) -> str:
    return markdown(value, block_start=False) if value else "-"


def render(report: Report, color: bool = False, width: int = 80) -> str:
    if not report["rows"]:
        return "_No runs to report._\n"
    times = [(header, measure) for header, measure in (("loop s", "loop"), ("wall s", "wall"))
             if any(measure_value(row, measure) is not None for row in report["rows"])]
    # Where a cluster ran each row: columns only when some row ran on one.
    where = any(row.get("target") or row.get("node") for row in report["rows"])
    headers = (["host"] if report["show_host"] else []) + ["name", "stack"] + (
        ["target", "node", "job GPU"] if where else []) + [
        "device", "GPU", "CNMeM", "cuDNN", "epochs", "runs", "s/epoch", "spread"] + [
        header for header, _ in times] + ["speedup", "status"]
    right = {"epochs", "runs", "s/epoch", "spread", "speedup", "loop s", "wall s"}
    lines: List[str] = ["| " + " | ".join(headers) + " |",
                        "|" + "|".join("---:" if h in right else "---" for h in headers) + "|"]
    for index, row in enumerate(report["rows"]):
        status = _cell(cells.status(row))
        if cells.alert(row):
            status = "**%s**" % status
        name = _cell(row["name"])
        name = "**%s**" % name if row.get("fastest") else name
        name += " (baseline)" if index == report["baseline_index"] else ""
        values: List[str] = [_cell(origin_label(row))] if report["show_host"] else []
        values += [name, _cell(row["stack"])]
        if where:
            values += [_cell(row.get("target")), _cell(row.get("node")), _cell(cells.job_gpus(row.get("job_gpus")))]
        values += [_cell(value) for value in (
            cells.device(row), row["gpu_name"], cells.cnmem(row["cnmem"]),
            cells.cudnn(row["cudnn"]), str(row["epochs"]), str(row["repeats"]),
            cells.number(row["seconds_per_epoch"]), cells.spread(row["spread"]))]
        values += [_cell(cells.number(measure_value(row, measure))) for _, measure in times]
        values += [_cell(cells.speedup_cell(row)), status]
        lines.append("| " + " | ".join(values) + " |")
    lines.append("")
    fastest = cells.fastest(report)
    if fastest:
        lines.append("- " + markdown(fastest))
    details: List[str] = []
    for kind, note in cells.notes(report):
        if kind == "detail":
            details.append(note)
            continue
        if details:
            lines += _fenced(details)
            details = []
        lines.append("- **%s**" % markdown(note) if kind == "alert" else "- " + markdown(note))
    if details:
        lines += _fenced(details)
    lines += ["", "_%s._" % markdown(cells.legend(report))]
    return "\n".join(lines) + "\n"
