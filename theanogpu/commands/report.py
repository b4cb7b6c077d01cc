"""One comparison table from results.json files and training logs, from one machine or several.

Usage:
  theanogpu report [--format=FMT] [--baseline=NAME] [--output=PATH] [--plot=PATH] INPUT...
  theanogpu report (-h | --help)

Options:
  --format=FMT      text (an aligned table), markdown, csv, json or html (one self-contained
                    file: table and chart, nothing fetched from the network) [default: text].
  --baseline=NAME   The run that speedups are relative to: a variant name or NAME@STACK
                    (default: the first run on the CPU).
  --output=PATH     Write the report to PATH (a file is replaced atomically; - or /dev/stdout,
                    a FIFO or a terminal is written through) instead of printing it.
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

import sys
from typing import List, Optional, Sequence, Tuple

from theanogpu import fsutil
from theanogpu.commands import options
from theanogpu.errors import UserError
from theanogpu.records import Report
from theanogpu.report import FORMATS, model, read_inputs, render, render_for
from theanogpu.textsafe import visible


def build_report(inputs: Sequence[str], baseline: Optional[str] = None) -> Tuple[Report, List[str]]:
    """(report, problems) for INPUT paths; the report model of whatever could be read."""
    runs, problems = read_inputs(inputs)
    return model.build(runs, baseline), problems


def run(args: dict) -> int:
    fmt = options.choice(args, "--format", FORMATS, "text")
    plot_path = None
    if args["--plot"]:
        from theanogpu.report import plot  # matplotlib is an optional extra

        plot_path = plot.check_path(args["--plot"])
        plot._pyplot()  # fail now, before any work, when matplotlib is missing
    # Where the report goes is settled before the work: a directory or a device is refused now.
    output = (fsutil.write_target(args["--output"], "--output=%s: cannot write it" % args["--output"], streams=True)
              if args["--output"] else None)
    if plot_path is not None:
        fsutil.write_target(plot_path, "--plot=%s: cannot write it" % plot_path, streams=True)
    report, problems = build_report(args["INPUT"], args["--baseline"])
    for problem in problems:
        sys.stderr.write("theanogpu: error: %s\n" % visible(problem))
    if not report["rows"]:
        if not problems:
            raise UserError("no runs in %s" % ", ".join(args["INPUT"]))
        return 2
    if output is None:
        sys.stdout.write(render_for(report, fmt, sys.stdout))
        sys.stdout.flush()
    else:
        fsutil.write_output(output, render(report, fmt).encode("utf-8"), "--output=%s" % output.given)
    if plot_path is not None:
        try:
            plot.write_plot(report, plot_path, "--plot=%s: cannot write it" % plot_path)
        except OSError as exc:
            raise UserError("--plot=%s: cannot write it (%s)" % (plot_path, exc.strerror or exc)) from None
    return 2 if problems else 0
