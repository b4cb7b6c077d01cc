"""Markdown report: a GitHub table (the fastest row's name in bold), the fastest row and the fallbacks and
failures (in bold) underneath, then the legend."""

from typing import List, Optional

from theanogpu.records import Report
from theanogpu.report import cells
from theanogpu.report.model import origin_label


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _fenced(details: List[str]) -> List[str]:
    """A failed run's output lines as a code block inside the list item above them."""
    return ["", "  ~~~~"] + details + ["  ~~~~", ""]


def render(report: Report, color: bool = False, width: int = 80) -> str:
    if not report["rows"]:
        return "_No runs to report._\n"
    # Where a cluster ran each row: columns only when some row ran on one.
    where = any(row.get("target") or row.get("node") for row in report["rows"])
    headers = (["host"] if report["show_host"] else []) + ["name", "stack"] + (
        ["target", "node", "job GPU"] if where else []) + [
        "device", "GPU", "CNMeM", "cuDNN", "epochs", "runs", "s/epoch", "spread", "speedup", "status"]
    right = {"epochs", "runs", "s/epoch", "spread", "speedup"}
    lines: List[str] = ["| " + " | ".join(headers) + " |",
                        "|" + "|".join("---:" if h in right else "---" for h in headers) + "|"]
    for index, row in enumerate(report["rows"]):
        status = cells.status(row)
        if cells.alert(row):
            status = "**%s**" % status
        name = "**%s**" % row["name"] if row.get("fastest") else row["name"]
        name += " (baseline)" if index == report["baseline_index"] else ""
        values: List[Optional[str]] = [origin_label(row)] if report["show_host"] else []
        values += [name, row["stack"]]
        if where:
            values += [row.get("target"), row.get("node"), cells.job_gpus(row.get("job_gpus"))]
        values += [
            cells.device(row), row["gpu_name"], cells.cnmem(row["cnmem"]),
            cells.cudnn(row["cudnn"]), str(row["epochs"]), str(row["repeats"]),
            cells.number(row["seconds_per_epoch"]), cells.spread(row["spread"]),
            cells.speedup_cell(row),
            status]
        lines.append("| " + " | ".join(_escape(value or "-") for value in values) + " |")
    lines.append("")
    fastest = cells.fastest(report)
    if fastest:
        lines.append("- " + fastest)
    details: List[str] = []
    for kind, note in cells.notes(report):
        if kind == "detail":
            details.append("  " + note)
            continue
        if details:
            lines += _fenced(details)
            details = []
        lines.append("- **%s**" % note if kind == "alert" else "- " + note)
    if details:
        lines += _fenced(details)
    lines += ["", "_%s._" % cells.legend(report)]
    return "\n".join(lines) + "\n"
