"""CSV report: one line per row, flat columns (cnmem and spread split into plain values).

New columns are only ever appended (``fastest`` last), so that scripts reading by position keep working.
Every column is a field of the JSON report's row (records.ReportRowDoc) or one key of such a field.
A cell that a spreadsheet would evaluate as a formula gets a leading ``'`` (textsafe.csv_cell).
"""

import csv
import io
from typing import Any, Dict, Optional, Tuple

from theanogpu.records import ROW_FIELDS, Report
from theanogpu.report.json import row_document
from theanogpu.textsafe import csv_cell

# column -> (row field, key inside it or None); "baseline" is the one column computed here.
SOURCES: Dict[str, Optional[Tuple[str, Optional[str]]]] = {
    "host": ("origin", None), "name": ("name", None), "stack": ("stack", None), "repeats": ("repeats", None),
    "device_requested": ("device_requested", None), "device_used": ("device_used", None),
    "gpu_name": ("gpu_name", None), "cnmem_enabled": ("cnmem", "enabled"), "cnmem_fraction": ("cnmem", "fraction"),
    "cnmem_megabytes": ("cnmem", "megabytes"), "cudnn": ("cudnn", None), "epochs": ("epochs", None),
    "seconds_per_epoch": ("seconds_per_epoch", None), "spread_over": ("spread", "over"),
    "spread_min": ("spread", "min"), "spread_max": ("spread", "max"), "spread_percent": ("spread", "percent"),
    "warmup_seconds": ("warmup_seconds", None), "speedup": ("speedup", None), "baseline": None,
    "status": ("status", None), "fallback": ("fallback", None), "fallback_reason": ("fallback_reason", None),
    "error": ("error", None), "fastest": ("fastest", None),
    "speedup_significant": ("speedup_significant", None), "measured_speedup": ("measured_speedup", None),
    "speedup_low": ("speedup_low", None), "speedup_high": ("speedup_high", None),
    "seconds_per_epoch_source": ("seconds_per_epoch_source", None), "throughput_rate": ("throughput", "rate"),
    "throughput_precision": ("throughput", "precision"),
    "script_seconds": ("script_seconds", None), "wall_seconds": ("wall_seconds", None),
    "measured_seconds": ("measured_seconds", None),
    "target": ("target", None), "node": ("node", None), "job_gpus": ("job_gpus", None),
}
COLUMNS = tuple(SOURCES)
assert all(source is None or source[0] in ROW_FIELDS for source in SOURCES.values())


def _cell(value: object) -> str:
    return csv_cell(_text(value))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " | ".join(str(item) for item in value)
    return str(value)


def _value(doc: Dict[str, Any], column: str, is_baseline: bool) -> object:
    source = SOURCES[column]
    if source is None:
        return is_baseline
    field, key = source
    value = doc[field]
    if column == "host":
        value = value or doc["host"]  # the origin label, else the machine's name
    if key is None:
        return value
    return value.get(key) if isinstance(value, dict) else None


def render(report: Report, color: bool = False, width: int = 80) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for index, row in enumerate(report["rows"]):
        doc = row_document(row)
        writer.writerow([_cell(_value(doc, column, index == report["baseline_index"])) for column in COLUMNS])
    return out.getvalue()
