"""PURE: the short text of each report cell and the notes under a table, shared by the renderers."""

from typing import List, Optional, Tuple

from theanogpu.records import Report, ReportRow, Spread
from theanogpu.report.model import MEASURES, origin_label, row_name

# Shown instead of a cuDNN message longer than this; the message goes to the notes.
CUDNN_CELL_MAX = 14
# Lines of a failed run's output shown under the table (results.json keeps up to 8).
ERROR_LINES = 5
_GPU_PREFIXES = ("NVIDIA ", "GeForce ")


def number(value: Optional[float]) -> str:
    """Seconds with a sensible precision: 153.5, 27.0, 0.42."""
    if value is None:
        return "-"
    return "%.1f" % value if abs(value) >= 10 else "%.2f" % value


def speedup(value: Optional[float]) -> str:
    return "-" if value is None else "%.2fx" % value


NOT_SIGNIFICANT = "~"


def speedup_cell(row: ReportRow) -> str:
    """``2.31x``; ``~1.04x`` when the difference is inside the measured spread; ``-`` for none (a
    fallback's ratio is CPU vs CPU, said in its note instead)."""
    text = speedup(row["speedup"])
    return NOT_SIGNIFICANT + text if row["speedup"] is not None and row.get("speedup_significant") is False \
        else text


def spread(value: Optional[Spread]) -> str:
    percent = value.get("percent") if value else None
    return "-" if percent is None else "%.1f%%" % percent


def cnmem(value: object) -> Optional[str]:
    """``80%``, ``1024 MB``, ``off``, or None when the log does not say."""
    if not isinstance(value, dict):
        return None
    if value.get("enabled") is False:
        return "off"
    fraction, megabytes = value.get("fraction"), value.get("megabytes")
    if isinstance(fraction, (int, float)) and fraction:
        return "%g%%" % round(fraction * 100, 1)
    if isinstance(megabytes, (int, float)) and megabytes:
        return "%g MB" % megabytes
    return "on" if value.get("enabled") else None


def cudnn(value: Optional[str]) -> Optional[str]:
    """A version or ``n/a``; a long message becomes ``see note`` (the note carries it whole)."""
    if value is None:
        return None
    if value.lower() == "not available":
        return "n/a"
    return value if len(value) <= CUDNN_CELL_MAX and "\n" not in value else "see note"


def gpu(name: Optional[str]) -> Optional[str]:
    """``GeForce GTX 1060`` -> ``GTX 1060``: the vendor prefixes say nothing in a column named GPU."""
    if not name:
        return None
    for prefix in _GPU_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix):]
    return name


def job_gpus(names: Optional[List[str]]) -> Optional[str]:
    """The GPUs a cluster job saw: ``V100-SXM2-16GB``, ``2x A100-SXM4-40GB``; None: none or not a cluster job."""
    if not names:
        return None
    short = [gpu(name) or name for name in names]
    if len(set(short)) == 1:
        return short[0] if len(short) == 1 else "%dx %s" % (len(short), short[0])
    return ", ".join(short)


def device(row: ReportRow) -> Optional[str]:
    """``gpu``, ``cpu``; a fallback shows both: ``cpu (asked gpu)``; ``gpu?`` when only asked."""
    used, requested = row["device_used"], row["device_requested"]
    if row["fallback"] and used and requested and used != requested:
        return "%s (asked %s)" % (used, requested)
    if used:
        return used
    if row["status"] == "skipped":
        return None  # it never ran: nothing was used, and nothing is in doubt
    return requested + "?" if requested else None


def status(row: ReportRow) -> str:
    return row["status"] if row["status"] == "ok" else row["status"].upper()


def data_note(data: object) -> Optional[str]:
    """A remark when the training data was not the real data set (synthetic)."""
    if isinstance(data, str):
        return data or None
    if not isinstance(data, dict):
        return None
    kind = data.get("kind") or data.get("source") or ("synthetic" if data.get("synthetic") else None)
    return "synthetic data" if isinstance(kind, str) and "synthetic" in kind.lower() else None


def label(report: Report, row: ReportRow) -> str:
    """The row's name as notes refer to it: with its stack and host when those tell rows apart."""
    text = row_name(row)
    if row.get("target"):  # a cluster's row: where it ran tells it apart from the same run elsewhere
        text += " on %s" % "/".join(part for part in (row.get("target"), row.get("node")) if part)
    if report["show_host"]:
        text += " [%s]" % origin_label(row)
    return text


def alert(row: ReportRow) -> bool:
    """A row in trouble: it fell back, failed, timed out, was interrupted or skipped."""
    return bool(row["fallback"]) or row["status"] != "ok"


def bar_kind(report: Report, index: int) -> str:
    """A chart bar's kind: trouble first (a fallback that won is still no GPU win), then the winner,
    then the baseline: ``alert``, ``fastest``, ``baseline`` or ``ok``."""
    row = report["rows"][index]
    if alert(row):
        return "alert"
    if row.get("fastest"):
        return "fastest"
    return "baseline" if index == report["baseline_index"] else "ok"


def bar_label(row: ReportRow, separator: str) -> str:
    """What a chart writes next to a row's bar: seconds, speedup, and what is special about the row."""
    parts = ["%s s" % number(row["measured_seconds"])]
    if row["speedup"] is not None:
        parts.append(speedup_cell(row))
    if row["fallback"]:
        parts.append("fell back to CPU")
    if row.get("fastest"):
        parts.append("fastest")
    return separator.join(parts)


def notes(report: Report) -> List[Tuple[str, str]]:
    """``(kind, text)`` lines for under the table.

    kind: ``alert`` (a fallback, a failure), ``detail`` (one line of a failed run's output, belonging
    to the alert above it) or ``info``.
    """
    lines: List[Tuple[str, str]] = []
    # One line when every run that ran trained on the same kind of data, not one per row.
    data_notes = {data_note(row.get("data")) for row in report["rows"] if row["status"] != "skipped"}
    shared_data = data_notes.pop() if len(data_notes) == 1 else None
    if shared_data:
        lines.append(("info", "every run: %s" % shared_data))
    for row in report["rows"]:
        name = label(report, row)
        if row["fallback"]:
            reason = row.get("fallback_reason")
            # The parser also calls it a fallback when Theano moved to another GPU (bad gpuN).
            where = "another GPU" if row["device_used"] == "gpu" else "CPU"
            text = "%s: fell back to %s%s" % (name, where, ": " + reason if reason else
                                              " (GPU requested, ran on the %s)" % where)
            measured = row.get("measured_speedup")
            if measured is not None and row["device_used"] == "cpu" and report["baseline_index"] is not None:
                text += "; its %s vs %s is CPU vs CPU, no GPU speedup" % (
                    speedup(measured), label(report, report["rows"][report["baseline_index"]]))
            lines.append(("alert", text))
        if row["status"] == "skipped":
            reason = row.get("skip_reason")
            lines.append(("info", "%s: skipped%s" % (name, ", " + reason if reason else "")))
        elif row["status"] not in ("ok", "fallback"):
            error = [line.rstrip() for line in row.get("error") or [] if line.strip()]
            if len(error) > ERROR_LINES:
                # The error's headline comes first when the runner put it there, then the frame of
                # the user's own code ("at File ..."); the rest is the end of the output.
                lead = 2 if error[1].startswith('at File "') else 1
                error = error[:lead] + error[-(ERROR_LINES - lead):]
            if len(error) == 1:
                lines.append(("alert", "%s: %s: %s" % (name, row["status"], error[0].strip())))
            else:
                lines.append(("alert", "%s: %s%s" % (name, row["status"], ", last lines:" if error else "")))
                lines.extend(("detail", line) for line in error)
        if row["cudnn"] and cudnn(row["cudnn"]) == "see note":
            lines.append(("info", "%s: cuDNN %s" % (name, " ".join(row["cudnn"].split()))))
        data = data_note(row.get("data"))
        if data and not shared_data:
            lines.append(("info", "%s: %s" % (name, data)))
        lines.extend(("info", "%s: %s" % (name, note)) for note in row.get("notes") or [])
    lines.extend(("info", note) for note in report.get("notes") or [])
    return lines


def fastest(report: Report) -> Optional[str]:
    """``fastest: openmp@theano10 at 1.52 s/epoch, 1.24x vs cpu@theano10``, or None without a winner."""
    summary = report.get("fastest")
    if not summary:
        return None
    rows = report["rows"]
    winners = [label(report, rows[index]) for index in summary["indexes"]]
    head = "fastest: " if len(winners) == 1 else "fastest (a tie): "
    text = "%s%s at %s %s" % (head, " and ".join(winners), number(summary.get("seconds")), unit(report))
    if report["baseline_index"] in summary["indexes"]:
        text += " (the baseline)"
    elif summary["speedup"] is not None and report["baseline_index"] is not None:
        text += ", %s vs %s" % (speedup(summary["speedup"]), label(report, rows[report["baseline_index"]]))
    if summary.get("clear_of") is False:
        text += "; within the measurement spread of the next row, so not a clear winner (try --repeat 3)"
    return text


def unit(report: Report) -> str:
    """``s/epoch``, or ``s`` for a loop or wall time."""
    return MEASURES[report.get("measure") or "epoch"][3]


def legend(report: Report) -> str:
    """One line: the baseline, the measure and what the numbers mean."""
    index = report["baseline_index"]
    measure = report.get("measure") or "epoch"
    if index is not None and report["rows"][index]["measured_seconds"] is not None:
        base = "speedup %svs %s at %s %s" % (
            "" if measure == "epoch" else "by %s (not every run has epoch times) " % MEASURES[measure][2],
            label(report, report["rows"][index]), number(report["rows"][index]["measured_seconds"]), unit(report))
    else:
        base = "no speedups (no baseline)"
    text = ("%s; s/epoch: median over completed epochs, first left out when 3+; "
            "spread: (max-min)/median over repeats, else over epochs" % base)
    if any(row.get("speedup_significant") is False and row["speedup"] is not None for row in report["rows"]):
        text += "; %s: inside the two rows' measured spread, not a significant difference" % NOT_SIGNIFICANT
    return text
