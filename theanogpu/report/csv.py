"""CSV report: one line per row, flat columns (cnmem and spread split into plain values).

New columns are only ever appended (``fastest`` last), so that scripts reading by position keep working.
"""

import csv
import io

from theanogpu.report.json import row_document

COLUMNS = ("host", "name", "stack", "repeats", "device_requested", "device_used", "gpu_name",
           "cnmem_enabled", "cnmem_fraction", "cnmem_megabytes", "cudnn", "epochs", "seconds_per_epoch",
           "spread_over", "spread_min", "spread_max", "spread_percent", "warmup_seconds", "speedup",
           "baseline", "status", "fallback", "fallback_reason", "error", "fastest")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(report: dict, color: bool = False, width: int = 80) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for index, row in enumerate(report["rows"]):
        doc = row_document(row)
        cnmem = doc["cnmem"] if isinstance(doc["cnmem"], dict) else {}
        spread = doc["spread"] or {}
        values = dict(doc, host=doc["origin"] or doc["host"],
                      cnmem_enabled=cnmem.get("enabled"), cnmem_fraction=cnmem.get("fraction"),
                      cnmem_megabytes=cnmem.get("megabytes"), spread_over=spread.get("over"),
                      spread_min=spread.get("min"), spread_max=spread.get("max"),
                      spread_percent=spread.get("percent"), baseline=index == report["baseline_index"],
                      error=" | ".join(doc["error"]) if doc["error"] else None)
        writer.writerow([_cell(values[column]) for column in COLUMNS])
    return out.getvalue()
