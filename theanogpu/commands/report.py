"""One comparison table from results.json files and training logs, from one machine or several.

Usage:
  theanogpu report [--format=FMT] [--baseline=NAME] [--output=PATH] [--plot=PATH] INPUT...
  theanogpu report (-h | --help)

Options:
  --format=FMT      text (an aligned table), markdown, csv, json or html (one self-contained
                    file: table and chart, nothing fetched from the network) [default: text].
  --baseline=NAME   The run that speedups are relative to: a variant name or NAME@STACK
                    (default: the first run on the CPU).
  --output=PATH     Write the report to PATH (replaced atomically) instead of printing it.
  --plot=PATH       Also draw a bar chart of seconds per epoch to PATH (.png or .svg); needs
                    matplotlib: pip install 'theanogpu[plot]'.

INPUT is any mix of results.json files (from `theanogpu compare`) and raw training logs. A log's
name is its file stem; `gpu-cnmem@theano08#2.log` is variant gpu-cnmem on stack theano08, repeat 2.
Runs of one variant and stack from the same machine (or log directory) are repeats of one row.
Seconds per epoch is the median over completed epochs, leaving out the first epoch when there are
three or more (it carries compilation). A run that asked for a GPU and ran on the CPU is flagged.
An input that cannot be read is named on stderr, the others are still reported, and the exit
status is 2.

Examples:
  theanogpu report theanogpu-runs/20260101-120000/results.json
  theanogpu report cpu.log gpu.log gpu-cnmem.log
  theanogpu report --format markdown --baseline cpu@theano08 lab/results.json home/results.json
  theanogpu report --format html --output report.html --plot epochs.svg runs/*/results.json
"""

import os
import shutil
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from theanogpu import fsutil, results
from theanogpu.errors import UserError
from theanogpu.report import FORMATS, model, render


def _is_results_file(path: Path) -> bool:
    """results.json by name, or any file whose text starts with ``{`` (logs never do)."""
    if path.suffix.lower() == ".json":
        return True
    with open(str(path), "rb") as handle:
        head = handle.read(512)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _results_labels(records: List[Tuple[Path, dict]]) -> List[str]:
    """The host of each record, with its date where one host has several records."""
    names = [results.hostname(record) or str(path.parent) for path, record in records]
    short = [name.split(".")[0] if results.hostname(record) else name
             for name, (_, record) in zip(names, records)]
    if len(set(short)) == len(set(names)):  # gpu-node-17.cluster.example.org -> gpu-node-17
        names = short
    labels = []
    for name, (_, record) in zip(names, records):
        if names.count(name) > 1 and isinstance(record.get("created"), str):
            name = "%s %s" % (name, record["created"][:16].replace("T", " "))
        labels.append(name)
    return labels


def _parse_log(path: Path) -> dict:
    from theanogpu.logparse import parse_path  # noqa: PLC0415 - the parser is only needed for logs

    name = model.split_log_name(path.stem)[0]
    return parse_path(str(path), requested_device=model.requested_from_name(name))


def _read_inputs(inputs: Sequence[str]) -> Tuple[List[dict], List[str]]:
    """(runs, problems): every usable run of *inputs*, and one line per input that is not usable."""
    problems: List[str] = []
    records: List[Tuple[Path, dict]] = []
    logs: List[Tuple[Path, dict]] = []
    seen = set()
    for text in inputs:
        path = Path(text)
        key = str(path.resolve()) if path.exists() else text
        if key in seen:
            continue
        seen.add(key)
        try:
            if not path.exists():
                problems.append("%s: no such file" % path)
            elif path.is_dir():
                inside = path / "results.json"
                problems.append("%s: is a directory; give %s" % (
                    path, inside if inside.is_file() else "its results.json or its .log files"))
            elif _is_results_file(path):
                records.append((path, results.load(path)))
            else:
                logs.append((path, _parse_log(path)))
        except results.ResultsError as exc:
            problems.append(str(exc))
        except PermissionError:
            problems.append("%s: cannot read it (permission denied)" % path)
        except OSError as exc:
            problems.append("%s: cannot read it (%s)" % (path, exc.strerror or exc))
        except Exception as exc:  # noqa: BLE001 - one odd log must not sink the report of the others
            problems.append("%s: could not parse it (%s: %s); please report this with the file"
                            % (path, type(exc).__name__, exc))
    runs: List[dict] = []
    for label, (_, record) in zip(_results_labels(records), records):
        runs += model.runs_from_record(record, origin=label)
    dirs = model.short_dir_labels([str(path.parent) for path, _ in logs])
    for path, parsed in logs:
        run = model.run_from_log(parsed, path.stem, origin=dirs[str(path.parent)])
        run["log"] = path.name
        runs.append(run)
    return runs, problems


def build_report(inputs: Sequence[str], baseline: Optional[str] = None) -> Tuple[dict, List[str]]:
    """(report, problems) for INPUT paths; the report model of whatever could be read."""
    runs, problems = _read_inputs(inputs)
    return model.build(runs, baseline), problems


def _terminal(stream: object) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def render_results(paths: Sequence[object], fmt: str = "text", baseline: Optional[str] = None,
                   color: Optional[bool] = None) -> str:
    """The report of results.json files as text, for `compare` to print at its end.

    *color* None: ANSI colour when the format is text and stdout is a terminal.
    """
    runs: List[dict] = []
    loaded = [(Path(str(path)), results.load(str(path))) for path in paths]
    for label, (_, record) in zip(_results_labels(loaded), loaded):
        runs += model.runs_from_record(record, origin=label)
    report = model.build(runs, baseline)
    tty = _terminal(sys.stdout)
    if color is None:
        color = fmt == "text" and tty
    width = shutil.get_terminal_size().columns if tty else 80
    return render(report, fmt, color=color, width=width)


def _write_output(path: Path, text: str) -> None:
    if path.is_dir():
        raise UserError("--output=%s: is a directory; give a file name" % path)
    try:
        fsutil.atomic_write_text(path, text)
    except OSError as exc:
        raise UserError("--output=%s: cannot write it (%s)" % (path, exc.strerror or exc)) from None


def run(args: dict) -> int:
    fmt = args["--format"] or "text"
    if fmt not in FORMATS:
        raise UserError("--format=%s: choose one of %s" % (fmt, ", ".join(FORMATS)))
    plot_path = None
    if args["--plot"]:
        from theanogpu.report import plot  # noqa: PLC0415

        plot_path = plot.check_path(args["--plot"])
        plot._pyplot()  # fail now, before any work, when matplotlib is missing
    output = Path(args["--output"]) if args["--output"] else None
    report, problems = build_report(args["INPUT"], args["--baseline"])
    for problem in problems:
        sys.stderr.write("theanogpu: error: %s\n" % problem)
    if not report["rows"]:
        if not problems:
            raise UserError("no runs in %s" % ", ".join(args["INPUT"]))
        return 2
    tty = output is None and _terminal(sys.stdout)
    width = shutil.get_terminal_size().columns if tty else 80
    text = render(report, fmt, color=tty and fmt == "text", width=width)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        _write_output(output, text)
    if plot_path is not None:
        try:
            plot.write_plot(report, plot_path)
        except OSError as exc:
            raise UserError("--plot=%s: cannot write it (%s)" % (plot_path, exc.strerror or exc)) from None
    return 2 if problems else 0
