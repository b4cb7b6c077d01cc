"""Read training logs: the device really used, GPU, CNMeM, cuDNN, fallback and epoch times.

Usage:
  theanogpu parse [--format=FMT] [--requested=DEV] LOG...
  theanogpu parse (-h | --help)

Options:
  --format=FMT      text (default): a summary per log; json: a JSON array with one parse object
                    per log, in order (the contract's format); csv: one row per epoch.
  --requested=DEV   The device the runs asked for when the logs do not say (gpu, cpu, or a Theano
                    device such as gpu0 or cuda1): a run that asked for gpu and ran on the CPU is
                    reported as a fallback.
  -h --help         Show this help.

LOG is a console log (plain or timestamped as `theanogpu compare` writes it, .gz too), or - for
standard input. Progress bars written with \\r and \\b, invalid UTF-8 and huge files are fine: a log
is read in one pass in constant memory. A LOG that cannot be read is reported on stderr, the
others are still parsed, and the exit status is 2.

Examples:
  theanogpu parse train.log                          # what device, CNMeM, cuDNN, seconds per epoch
  theanogpu parse --format json runs/*/*.log > parsed.json
  python train.py 2>&1 | theanogpu parse -           # parse a run as it is piped in
  theanogpu parse --requested gpu --format csv cpu.log gpu.log
"""

import csv
import errno
import io
import json
import sys
from typing import List, Optional

from theanogpu import fsutil
from theanogpu.commands import options
from theanogpu.devices import device_kind
from theanogpu.errors import UserError
from theanogpu.logparse import parse_path, parse_stream
from theanogpu.records import Cnmem, ParseResult
from theanogpu.report.model import epoch_seconds, seconds_per_epoch
from theanogpu.results import json_safe
from theanogpu.textsafe import csv_cell, visible

FORMATS = ("text", "json", "csv")


def _parse_one(path: str, requested: Optional[str]) -> ParseResult:
    if path == "-":
        problem = fsutil.stream_problem(sys.stdin.fileno())
        if problem:
            raise fsutil.NotRegularFile(errno.EINVAL, "standard input: " + problem, "-")
        return parse_stream(sys.stdin.buffer, source="-", requested_device=requested)
    return parse_path(path, requested_device=requested)


def _fmt_seconds(value: Optional[float]) -> str:
    if value is None:
        return "?"
    return ("%.3f" % value).rstrip("0").rstrip(".") + " s"


def _cnmem_text(cnmem: Optional[Cnmem]) -> str:
    if not cnmem:
        return "not printed"
    if not cnmem.get("enabled"):
        return "disabled"
    fraction, megabytes = cnmem.get("fraction"), cnmem.get("megabytes")
    if fraction is not None:
        return "enabled, %g%% of memory" % round(fraction * 100, 2)
    if megabytes is not None:
        return "enabled, %g MB" % megabytes
    return "enabled"


def render_text(result: ParseResult) -> str:
    lines = ["== %s" % result["source"]]

    def row(label: str, value: str) -> None:
        lines.append("  %-10s %s" % (label, value))

    backend = result["backend"] or "not printed"
    if result.get("keras_backend"):
        backend += " (Keras backend: %s)" % result["keras_backend"]
    row("backend", backend)
    device = "requested %s, used %s" % (result["device_requested"] or "?", result["device_used"] or "?")
    if result["fallback"]:
        device += "  FALLBACK: %s" % (result.get("fallback_reason") or "reason not printed")
    elif result["fallback"] is False:
        device += ", no fallback"
    row("device", device)
    error = result.get("error")
    if error:
        row("error", error)
    gpus = [g for g in result.get("gpu_devices") or [] if g.get("name")]
    names = ", ".join("%s (%s)" % (g["name"], g["device"]) for g in gpus) if len(gpus) > 1 else None
    row("GPU", names or result["gpu_name"] or "none printed")
    row("CNMeM", _cnmem_text(result["cnmem"]))
    row("cuDNN", result["cudnn"] or "not printed")
    epochs = result["epochs"]
    if epochs:
        of = epochs[-1].get("of")
        summary = "%d%s completed" % (len(epochs), " of %d" % of if of else "")
        seconds = epoch_seconds(result)
        median = seconds_per_epoch(seconds)
        if median is not None:
            summary += "; %s per epoch (median%s)" % (_fmt_seconds(median),
                                                       ", first left out" if len(seconds) >= 3 else "")
        extra = result.get("first_epoch_extra_seconds")
        if extra is not None:
            summary += "; first epoch %+.3g s" % extra
        if result.get("timestamped"):
            summary += "; timed from timestamps"
        row("epochs", summary)
        for epoch in epochs:
            metrics = "  ".join("%s %s" % (k, "nan" if v is None else "%g" % v) for k, v in epoch["metrics"].items())
            label = "%s/%s" % (epoch["epoch"], epoch["of"] or "?")
            lines.append("  %10s %-9s %s" % (label, _fmt_seconds(epoch["seconds"]), metrics))
    else:
        row("epochs", "none completed")
    if result.get("script_seconds") is not None:
        row("script", "%s in all, as it printed: %s" % (_fmt_seconds(result["script_seconds"]),
                                                         result.get("script_timing") or "?"))
    if result.get("seconds_before_first_epoch") is not None:
        row("start-up", _fmt_seconds(result["seconds_before_first_epoch"]) + " before the first epoch")
    if result.get("synthetic_data"):
        row("data", "synthetic")
    for warning in result["warnings"]:
        row("warning", warning)
    # Names, reasons and warnings come from the log: shown, never obeyed by the terminal.
    return "\n".join(visible(line) for line in lines) + "\n"


def render_csv(results: List[ParseResult]) -> str:
    names: List[str] = []
    for result in results:
        for epoch in result["epochs"]:
            for name in epoch["metrics"]:
                if name not in names:
                    names.append(name)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(name) for name in ["source", "device_used", "fallback", "epoch", "of", "seconds"]
                     + names])
    for result in results:
        for epoch in result["epochs"]:
            cells = [result["source"], result["device_used"] or "", _csv_bool(result["fallback"]),
                     epoch["epoch"], epoch["of"] if epoch["of"] is not None else "",
                     "" if epoch["seconds"] is None else epoch["seconds"]]
            cells += ["" if epoch["metrics"].get(n) is None else epoch["metrics"][n] for n in names]
            # A source path or a metric name may start like a formula (=, +, -, @): kept as text.
            writer.writerow([csv_cell(str(cell)) for cell in cells])
    return out.getvalue()


def _csv_bool(value: Optional[bool]) -> str:
    return "" if value is None else str(value).lower()


def run(args: dict) -> int:
    fmt = options.choice(args, "--format", FORMATS, "text")
    requested = args["--requested"]
    if requested is not None and device_kind(requested) is None:
        raise UserError("--requested=%s: use gpu or cpu (or a Theano device such as gpu0, cuda1)" % requested)
    results = []
    failed = 0
    for path in args["LOG"]:
        try:
            result = _parse_one(path, requested)
        except OSError as exc:
            failed += 1
            reason = exc.strerror or str(exc)
            if isinstance(exc, fsutil.NotRegularFile) and path != "-":
                reason += "; to parse a stream, pipe it in: ... | theanogpu parse -"
            sys.stderr.write("theanogpu: error: %s\n" % visible("%s: cannot read log: %s" % (path, reason)))
            continue
        results.append(result)
        if fmt == "text":
            if len(results) > 1:
                sys.stdout.write("\n")
            sys.stdout.write(render_text(result))
            sys.stdout.flush()
    if fmt == "json":
        sys.stdout.write(json.dumps(json_safe(results), indent=2, allow_nan=False) + "\n")
    elif fmt == "csv":
        sys.stdout.write(render_csv(results))
    return 2 if failed else 0
