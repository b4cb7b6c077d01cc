"""JSON report: ``{"baseline": NAME, "rows": [...]}`` as the contract fixes it, plus extra fields.

Extras include ``fastest``: on each row a boolean (true for the winner, for every row of a tie), and
at the top the winner's name, stack, seconds per epoch and speedup vs the baseline, or null.
"""

from typing import Any, Dict, Optional

from theanogpu.records import ROW_FIELDS, Fastest, Report, ReportRow
from theanogpu.results import dumps

# Row fields in output order: the contract's first, then the extras (records.ReportRowDoc).
FIELDS = ROW_FIELDS


def _round(value: Optional[float], digits: int) -> Optional[float]:
    return None if value is None else round(value, digits)


def row_document(row: ReportRow) -> Dict[str, Any]:
    """A row with its numbers rounded for people (seconds to ms, speedups to 2 decimals)."""
    out: Dict[str, Any] = {field: row.get(field) for field in FIELDS}
    out["fastest"] = bool(row.get("fastest"))
    out["seconds_per_epoch"] = _round(row["seconds_per_epoch"], 3)
    out["speedup"] = _round(row["speedup"], 2)
    out["measured_speedup"] = _round(row["measured_speedup"], 2)
    out["speedup_low"] = _round(row["speedup_low"], 2)
    out["speedup_high"] = _round(row["speedup_high"], 2)
    out["warmup_seconds"] = _round(row["warmup_seconds"], 3)
    if row["spread"]:
        out["spread"] = dict(row["spread"], min=_round(row["spread"]["min"], 3),
                             max=_round(row["spread"]["max"], 3), percent=_round(row["spread"]["percent"], 2))
    return out


def fastest_document(summary: Optional[Fastest]) -> Optional[Dict[str, Any]]:
    """The report's winner, rounded like the rows (None when no row won)."""
    if not summary:
        return None
    return dict(summary, seconds_per_epoch=_round(summary["seconds_per_epoch"], 3),
                seconds=_round(summary["seconds"], 3), speedup=_round(summary["speedup"], 2))


def document(report: Report) -> Dict[str, Any]:
    return {"baseline": report["baseline"], "baseline_index": report["baseline_index"],
            "measure": report.get("measure"),
            "hosts": report["hosts"], "notes": report["notes"],
            "fastest": fastest_document(report.get("fastest")),
            "rows": [row_document(row) for row in report["rows"]]}


def render(report: Report, color: bool = False, width: int = 80) -> str:
    return dumps(document(report))
