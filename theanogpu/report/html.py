"""HTML report: ONE self-contained file (inline CSS, inline SVG chart, no script, nothing fetched).

A Content-Security-Policy that allows nothing but inline styles and data: images makes the
"nothing from the network" promise hold even if a value in the report looked like a URL.
"""

from html import escape
from typing import Callable, List, Optional, Tuple

from theanogpu.records import Report, ReportRow
from theanogpu.report import cells
from theanogpu.report.model import MEASURES, origin_label

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: .3em .6em; text-align: left; white-space: nowrap; }
.wide { overflow-x: auto; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fastest td { background: #e6f4ea; }
tr.fastest td.name::after { content: " \\2605  fastest"; color: #1e7b34; font-weight: bold; }
tr.alert td { background: #fdecea; color: #a01515; }
tr.baseline td { font-weight: bold; }
p.fastest { color: #1e7b34; font-weight: bold; }
.notes li.alert { color: #a01515; font-weight: bold; }
.notes pre { background: #f6f6f6; color: #333; font-weight: normal; padding: .5em; overflow-x: auto; }
.legend { color: #555; font-size: .9em; }
svg text { font-family: system-ui, sans-serif; font-size: 12px; }
"""
BAR_HEIGHT, BAR_GAP, LABEL_WIDTH, BAR_WIDTH, VALUE_WIDTH = 22, 8, 230, 380, 150
COLORS = {"ok": "#3b6ea5", "baseline": "#8a8a8a", "alert": "#c0392b", "fastest": "#2e8b57"}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def chart(report: Report) -> str:
    """Inline SVG: one horizontal bar of seconds per epoch per row, labelled with the speedup."""
    rows = report["rows"]
    longest = max((row["measured_seconds"] or 0 for row in rows), default=0) or 1.0
    height = len(rows) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP + 20
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    parts = ['<svg role="img" width="%d" height="%d" viewBox="0 0 %d %d">'
             % (width, height, width, height),
             "<title>Seconds per epoch (shorter is faster)</title>"]
    for index, row in enumerate(rows):
        y = BAR_GAP + index * (BAR_HEIGHT + BAR_GAP)
        middle = y + BAR_HEIGHT / 2 + 4
        label = cells.label(report, row)
        parts.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>'
                     % (LABEL_WIDTH - 8, middle, escape(_short(label, 34))))
        seconds = row["measured_seconds"]
        if seconds is None:
            parts.append('<text x="%d" y="%.1f" fill="%s">no time (%s)</text>'
                         % (LABEL_WIDTH, middle, COLORS["alert"], escape(cells.status(row))))
            continue
        kind = cells.bar_kind(report, index)
        length = max(seconds / longest * BAR_WIDTH, 1.0)
        value = cells.bar_label(row, " \u00b7 ")
        parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>'
                     % (LABEL_WIDTH, y, length, BAR_HEIGHT, COLORS[kind], escape(label), escape(value)))
        parts.append('<text x="%.1f" y="%.1f">%s</text>' % (LABEL_WIDTH + length + 6, middle, escape(value)))
    parts.append('<text x="%d" y="%d" fill="#555">%s (shorter is faster)</text>'
                 % (LABEL_WIDTH, height - 6, escape(MEASURES[report.get("measure") or "epoch"][2])))
    parts.append("</svg>")
    return "\n".join(parts)


def _table(report: Report) -> List[str]:
    rows = report["rows"]
    candidates: List[Tuple[str, Callable[[ReportRow], Optional[str]], bool]] = [
        ("host", lambda r: origin_label(r), report["show_host"]),
        ("name", lambda r: r["name"], True),
        ("stack", lambda r: r["stack"], any(r["stack"] for r in rows)),
        # Where a cluster ran the row (--on target, node, the GPUs the job saw): only for cluster runs.
        ("target", lambda r: r.get("target"), any(r.get("target") for r in rows)),
        ("node", lambda r: r.get("node"), any(r.get("node") for r in rows)),
        ("job GPU", lambda r: cells.job_gpus(r.get("job_gpus")), any(r.get("job_gpus") for r in rows)),
        ("asked", lambda r: r["device_requested"], True),
        ("used", lambda r: r["device_used"], True),
        ("GPU", lambda r: r["gpu_name"], any(r["gpu_name"] for r in rows)),
        ("CNMeM", lambda r: cells.cnmem(r["cnmem"]), any(r["cnmem"] for r in rows)),
        ("cuDNN", lambda r: cells.cudnn(r["cudnn"]), any(r["cudnn"] for r in rows)),
        ("epochs", lambda r: str(r["epochs"]), True),
        ("runs", lambda r: str(r["repeats"]), any(r["repeats"] > 1 for r in rows)),
        ("s/epoch", lambda r: cells.number(r["seconds_per_epoch"]), True),
        ("spread", lambda r: cells.spread(r["spread"]), any(r["spread"] for r in rows)),
        ("loop s", lambda r: cells.number(r["script_seconds"]), any(r["script_seconds"] is not None for r in rows)),
        ("wall s", lambda r: cells.number(r["wall_seconds"]), any(r["wall_seconds"] is not None for r in rows)),
        ("speedup", lambda r: cells.speedup_cell(r), True),
        ("status", cells.status, True),
        ("fallback", lambda r: None if r["fallback"] is None else ("yes" if r["fallback"] else "no"), True),
    ]
    columns = [(header, cell) for header, cell, shown in candidates if shown]
    numeric = {"epochs", "runs", "s/epoch", "spread", "speedup", "loop s", "wall s"}
    titles = {"asked": "device requested", "used": "device used"}
    lines = ['<div class="wide"><table id="report">', "<thead><tr>%s</tr></thead>" % "".join(
        '<th scope="col"%s>%s</th>' % (' title="%s"' % titles[h] if h in titles else "", escape(h))
        for h, _ in columns), "<tbody>"]
    for index, row in enumerate(rows):
        flags = (("fastest", bool(row.get("fastest"))), ("alert", cells.alert(row)),
                 ("baseline", index == report["baseline_index"]))
        classes = [name for name, on in flags if on]
        tds = "".join('<td%s>%s</td>' % (_td_class(h, numeric), escape(cell(row) or "-")) for h, cell in columns)
        # The star after the name is CSS content: the cell's text stays the plain name for copying and
        # for scripts reading the table; the title says it to screen readers and on hover.
        title = ' title="fastest"' if row.get("fastest") else ""
        lines.append('<tr class="%s"%s data-status="%s">%s</tr>'
                     % (" ".join(classes), title, escape(row["status"]), tds))
    lines.append("</tbody></table></div>")
    return lines


def _td_class(header: str, numeric: set) -> str:
    if header in numeric:
        return ' class="num"'
    return ' class="name"' if header == "name" else ""


def _notes(report: Report) -> List[str]:
    lines = ['<ul class="notes">']
    details: List[str] = []

    def flush() -> None:
        if details:
            lines.append("<pre>%s</pre>" % escape("\n".join(details)))
            del details[:]

    for kind, note in cells.notes(report):
        if kind == "detail":
            details.append(note)
            continue
        flush()
        if len(lines) > 1:
            lines.append("</li>")
        lines.append('<li class="%s">%s' % (kind, escape(("!! " if kind == "alert" else "") + note)))
    flush()
    if len(lines) > 1:
        lines.append("</li>")
    lines.append("</ul>")
    return lines if len(lines) > 2 else []


def render(report: Report, color: bool = False, width: int = 80) -> str:
    head = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            '<meta http-equiv="Content-Security-Policy" content="%s">' % CSP,
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>theanogpu report</title>", "<style>%s</style>" % STYLE, "</head>", "<body>",
            "<h1>Seconds per epoch by configuration</h1>"]
    if not report["rows"]:
        body = ["<p>No runs to report.</p>"]
    else:
        body = ["<figure>", chart(report), "</figure>"] + _table(report)
        fastest = cells.fastest(report)
        if fastest:
            body.append('<p class="fastest">%s</p>' % escape(fastest))
        body += _notes(report)
        body.append('<p class="legend">%s.</p>' % escape(cells.legend(report)))
    return "\n".join(head + body + ["</body>", "</html>"]) + "\n"
