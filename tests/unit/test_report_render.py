"""Every report format from one model: the classic numbers, fallbacks and failures flagged, layout."""

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest

from theanogpu.report import FORMATS, model, render


def parsed(seconds, used="gpu", **extra):
    obj = {"backend": "theano", "device_requested": None, "device_used": used,
           "gpu_name": "GeForce GTX 1060" if used == "gpu" else None, "cnmem": None, "cudnn": None,
           "fallback": False, "warnings": [],
           "epochs": [{"epoch": i + 1, "of": len(seconds), "seconds": s} for i, s in enumerate(seconds)]}
    obj.update(extra)
    return obj


def run(variant, seconds, used="gpu", status="ok", origin="lab1", stack="theano08", **extra):
    return {"variant": variant, "stack": stack, "repeat": 1, "status": status, "origin": origin,
            "flags": {"device": "gpu" if variant.startswith("gpu") else "cpu"},
            "parsed": parsed(seconds, used=used, **extra)}


def classic(extra_runs=()):
    runs = [run("cpu", [152, 153, 154], used="cpu"),
            run("gpu", [29, 27, 27], cnmem={"enabled": False, "fraction": None, "megabytes": None}, cudnn="5105"),
            run("gpu-cnmem", [22, 20, 20], cnmem={"enabled": True, "fraction": 0.8, "megabytes": None},
                cudnn="5105")]
    return model.build(runs + list(extra_runs))


def troubled():
    fell = run("gpu-fallback", [150, 151, 152], used="cpu", fallback=True,
               fallback_reason="nvcc compiler not found on $PATH")
    failed = run("gpu-oom", [], status="failed")
    failed["error"] = ["Traceback (most recent call last):", "RuntimeError: Cuda error: out of memory | ouch"]
    return classic([fell, failed])


def test_registry_has_the_contract_formats():
    assert list(FORMATS) == ["text", "markdown", "csv", "json", "html"]


def test_text_table_classic():
    text = render(classic(), "text")
    lines = text.splitlines()
    assert lines[0].split() == ["name", "device", "GPU", "CNMeM", "cuDNN", "epochs", "s/epoch", "spread",
                                "speedup", "status"]
    assert lines[1].split() == ["cpu", "cpu", "-", "-", "-", "3", "153.5", "0.7%", "1.00x", "ok"]
    assert lines[2].split() == ["gpu", "gpu", "GTX", "1060", "off", "5105", "3", "27.0", "0.0%", "5.69x", "ok"]
    # The fastest row's name ends in " *"; the line starting "*" under the table says why.
    assert lines[3].split()[:2] == ["gpu-cnmem", "*"] and lines[1].split()[1] != "*" and lines[2].split()[1] != "*"
    assert lines[3].split()[5:] == ["80%", "5105", "3", "20.0", "0.0%", "7.67x", "ok"]
    assert lines[5] == "*  fastest: gpu-cnmem@theano08 at 20.0 s/epoch, 7.67x vs cpu@theano08"
    # One stack for all rows is said once, under the table, rather than in a column.
    assert "every run used stack theano08" in text
    assert "speedup vs cpu@theano08 at 153.5 s/epoch" in text
    assert all(len(line) <= 80 for line in lines) and "\x1b" not in text


def test_text_shows_a_stack_column_when_stacks_differ():
    report = classic([run("gpu", [40, 40, 40], stack="theano10", cnmem=None)])
    lines = render(report, "text").splitlines()
    assert lines[0].split()[:2] == ["name", "stack"] and lines[4].split()[:2] == ["gpu", "theano10"]
    assert all(len(line) <= 80 for line in lines)


def test_text_flags_fallbacks_and_failures_and_colors_them_on_a_terminal():
    report = troubled()
    plain = render(report, "text")
    assert "!! gpu-fallback@theano08: fell back to CPU: nvcc compiler not found on $PATH" in plain
    assert "cpu!!" in plain and "FALLBACK" in plain
    assert "!! gpu-oom@theano08: failed, last lines:" in plain
    assert "   | RuntimeError: Cuda error: out of memory | ouch" in plain
    colored = render(report, "text", color=True)
    red_lines = [line for line in colored.splitlines() if line.startswith("\x1b[31m")]
    assert any("gpu-fallback" in line for line in red_lines) and any("fell back to CPU" in line for line in red_lines)
    assert not any(line.startswith("\x1b[31mcpu ") for line in colored.splitlines())


def test_text_fits_80_columns_with_long_names_and_hosts():
    runs = [run("cpu-float64-reference-run-on-the-lab-machine", [100, 100, 100], used="cpu",
                origin="gpu-node-17.cluster.example.org"),
            run("gpu-cnmem-0.95-with-cudnn-forced-on", [10, 10, 10], origin="laptop-of-someone",
                gpu_name="NVIDIA GeForce RTX 4090 Laptop GPU", cudnn="Can not compile with cuDNN. We got this error")]
    text = render(model.build(runs), "text")
    lines = text.splitlines()
    assert lines[0].startswith("host") and all(len(line) <= 80 for line in lines), text
    assert "~" in lines[1]  # shortened in the middle, not cut off blindly
    # The long cuDNN message is a note (wrapped to the width).
    assert "cuDNN Can not compile with cuDNN. We got this error" in " ".join(text.split())


def test_text_falls_back_to_blocks_on_a_very_narrow_terminal():
    text = render(classic(), "text", width=30)
    assert "gpu-cnmem *\n" in text and "  speedup  7.67x" in text
    assert "  CNMeM    80%" in text


def test_markdown_table():
    text = render(troubled(), "markdown")
    lines = text.splitlines()
    assert lines[0] == ("| name | stack | device | GPU | CNMeM | cuDNN | epochs | runs | s/epoch | spread | speedup "
                        "| status |")
    assert lines[1].count("|") == 13
    assert "| cpu (baseline) | theano08 | cpu |" in text
    assert ("| **gpu-cnmem** | theano08 | gpu | GeForce GTX 1060 | 80% | 5105 | 3 | 1 | 20.0 | 0.0% | 7.67x | ok |"
            in text)
    assert "| cpu (asked gpu) |" in text and "**FALLBACK**" in text and "**FAILED**" in text
    assert "- **gpu-fallback@theano08: fell back to CPU: nvcc compiler not found on \\$PATH" in text
    assert "  ~~~~\n  Traceback (most recent call last):\n" in text


def test_markdown_escapes_pipes_in_cells():
    runs = [run("a|b", [1, 1, 1], used="cpu")]
    assert "| a\\|b (baseline) |" in render(model.build(runs), "markdown")


def test_csv_rows():
    rows = list(csv.DictReader(io.StringIO(render(troubled(), "csv"))))
    assert [r["name"] for r in rows] == ["cpu", "gpu", "gpu-cnmem", "gpu-fallback", "gpu-oom"]
    assert rows[0]["baseline"] == "true" and rows[0]["seconds_per_epoch"] == "153.5"
    assert rows[2]["speedup"] == "7.67" and rows[2]["cnmem_fraction"] == "0.8" and rows[2]["cudnn"] == "5105"
    assert (rows[3]["status"], rows[3]["fallback"], rows[3]["device_used"]) == ("fallback", "true", "cpu")
    assert rows[3]["fallback_reason"] == "nvcc compiler not found on $PATH"
    assert rows[4]["status"] == "failed" and "out of memory" in rows[4]["error"]


def test_json_follows_the_contract():
    doc = json.loads(render(troubled(), "json"))
    assert doc["baseline"] == "cpu"
    contract = {"name", "stack", "device_requested", "device_used", "gpu_name", "cnmem", "cudnn", "epochs",
                "seconds_per_epoch", "speedup", "status", "fallback"}
    for row in doc["rows"]:
        assert contract <= set(row)
    cnmem = doc["rows"][2]
    assert (cnmem["name"], cnmem["seconds_per_epoch"], cnmem["speedup"], cnmem["epochs"]) == ("gpu-cnmem", 20.0,
                                                                                             7.67, 3)
    assert cnmem["cnmem"] == {"enabled": True, "fraction": 0.8, "megabytes": None}
    assert doc["rows"][1]["speedup"] == 5.69
    fell = doc["rows"][3]
    assert (fell["status"], fell["fallback"], fell["fallback_reason"]) == ("fallback", True,
                                                                           "nvcc compiler not found on $PATH")
    assert doc["rows"][4]["error"][-1].startswith("RuntimeError")


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.urls, self.rows, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        self.urls += [attrs[k] for k in ("src", "href", "xlink:href", "action") if k in attrs]
        if tag == "tr":
            self.rows.append(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_one_self_contained_file():
    page = render(troubled(), "html")
    parser = _Page()
    parser.feed(page)
    assert "script" not in parser.tags and "link" not in parser.tags and parser.urls == []
    assert "http://" not in page and "https://" not in page and "@import" not in page and "url(" not in page
    assert "svg" in parser.tags and "rect" in parser.tags and "table" in parser.tags
    statuses = [row.get("data-status") for row in parser.rows if "data-status" in row]
    assert statuses == ["ok", "ok", "ok", "fallback", "failed"]
    assert [row["class"] for row in parser.rows if "data-status" in row][3] == "alert"
    text = "".join(parser.text)
    assert "!! gpu-fallback@theano08: fell back to CPU: nvcc compiler not found on $PATH" in text
    assert "7.67x" in text and "RuntimeError: Cuda error: out of memory" in text


def test_html_escapes_what_comes_from_logs():
    runs = [run("<script>alert(1)</script>", [1, 1, 1], used="cpu", gpu_name='<img src="http://x/y">')]
    page = render(model.build(runs), "html")
    parser = _Page()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags and parser.urls == []


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_handles_no_rows_and_no_baseline(fmt):
    empty = render(model.build([]), fmt)
    says_empty = {"text": "no runs to report", "markdown": "No runs to report", "html": "No runs",
                  "json": '"rows": []', "csv": "host,name,stack"}
    assert says_empty[fmt] in empty
    if fmt == "csv":
        assert empty.count("\n") == 1  # the header and no row
    only_gpu = render(model.build([run("gpu", [1, 1, 1])]), fmt)
    if fmt == "csv":
        assert next(csv.DictReader(io.StringIO(only_gpu)))["speedup"] == ""
    else:
        assert "no CPU run" in only_gpu


def test_a_fallback_to_another_gpu_is_not_called_a_cpu_fallback():
    moved = run("gpu2", [10, 10, 10], fallback=True, fallback_reason="Bad device number 2; ran on gpu0 instead")
    text = " ".join(render(model.build([moved]), "text").split())  # the note is wrapped to 80 columns
    assert "!! gpu2@theano08: fell back to another GPU: Bad device number 2; ran on gpu0 instead" in text
    assert "CPU:" not in text


# -- the fastest row in every format -----------------------------------------------------------------------


def cpu_tuning(extra_runs=()):
    """A cpu-tuning matrix on one stack (default, OpenMP threads, optimised BLAS, float64)."""
    runs = [run("cpu", [2.2, 1.9, 1.9], used="cpu", stack="theano10"),
            run("openmp", [1.8, 1.5, 1.55], used="cpu", stack="theano10"),
            run("blas", [2.0, 1.7, 1.7], used="cpu", stack="theano10"),
            run("float64", [3.5, 3.1, 3.1], used="cpu", stack="theano10")]
    return model.build(runs + list(extra_runs))


def test_text_marks_the_fastest_row_and_says_it_under_the_table():
    text = render(cpu_tuning(), "text")
    lines = text.splitlines()
    names = [line.split()[:2] for line in lines[1:5]]
    assert names == [["cpu", "cpu"], ["openmp", "*"], ["blas", "cpu"], ["float64", "cpu"]]
    assert lines[6] == "*  fastest: openmp@theano10 at 1.52 s/epoch, 1.25x vs cpu@theano10"
    # The marker keeps the columns aligned: every row's s/epoch ends where the header's does.
    end = lines[0].index("s/epoch") + len("s/epoch")
    assert [line[end - 4:end] for line in lines[1:5]] == ["1.90", "1.52", "1.70", "3.10"]
    assert all(len(line) <= 80 for line in lines)


def test_text_names_every_row_of_a_tie():
    text = render(cpu_tuning([run("mkl", [1.8, 1.5, 1.55], used="cpu", stack="theano10")]), "text")
    assert "openmp *" in text and "mkl *" in text and "blas *" not in text
    # The line is wrapped to 80 columns.
    assert ("* fastest (a tie): openmp@theano10 and mkl@theano10 at 1.52 s/epoch, 1.25x vs cpu@theano10"
            in " ".join(text.split()))


def test_text_a_faster_fallback_is_not_called_the_fastest():
    fell = run("gpu", [1.2, 1.0, 1.0], used="cpu", stack="theano10", fallback=True)
    text = render(cpu_tuning([fell]), "text")
    flat = " ".join(text.split())  # the lines are wrapped to 80 columns
    assert "* fastest: openmp@theano10" in flat
    assert "!! gpu@theano10: fell back to CPU (GPU requested, ran on the CPU)" in flat
    row = next(line for line in text.splitlines() if line.startswith("gpu"))
    assert row.split()[:2] == ["gpu", "cpu!!"]
    assert any(line.startswith("\x1b[31mgpu ") for line in render(cpu_tuning([fell]), "text", color=True).splitlines())


def test_text_the_winner_and_its_line_are_green_on_a_terminal():
    lines = render(cpu_tuning(), "text", color=True).splitlines()
    assert lines[2].startswith("\x1b[32mopenmp *") and lines[2].endswith("\x1b[0m")
    assert lines[6].startswith("\x1b[32m*  fastest: openmp@theano10")
    assert not lines[1].startswith("\x1b[32m") and not lines[3].startswith("\x1b[32m")


def test_text_the_marker_survives_long_names_and_blocks():
    long_name = run("openmp-with-OMP_NUM_THREADS-8-and-KMP_AFFINITY-compact", [1, 1, 1], used="cpu",
                    stack="theano10", origin="gpu-node-17.cluster.example.org")
    text = render(cpu_tuning([long_name]), "text")
    assert all(len(line) <= 80 for line in text.splitlines()), text
    row = next(line for line in text.splitlines() if "openmp-" in line)
    assert "~" in row and " *" in row  # shortened in the middle, the marker at its end kept
    blocks = render(cpu_tuning(), "text", width=30)
    assert "openmp *\n" in blocks and "*  fastest: openmp@theano10" in blocks


def test_text_no_marker_without_two_finished_rows():
    text = render(model.build([run("cpu", [2, 2, 2], used="cpu"), run("gpu", [], status="failed")]), "text")
    assert " *" not in text and "fastest" not in text


def test_text_the_baseline_winning_is_said_plainly():
    report = model.build([run("cpu", [1, 1, 1], used="cpu"), run("gpu", [5, 5, 5])])
    assert "*  fastest: cpu@theano08 at 1.00 s/epoch (the baseline)" in render(report, "text")


def test_text_without_a_baseline_the_line_has_no_speedup():
    report = model.build([run("gpu", [29, 27, 27]), run("gpu-cnmem", [22, 20, 20])])
    assert "*  fastest: gpu-cnmem@theano08 at 20.0 s/epoch\n" in render(report, "text")


def test_markdown_bolds_the_winner_and_says_it():
    text = render(cpu_tuning(), "markdown")
    assert "| **openmp** | theano10 | cpu |" in text and "| **cpu** (baseline)" not in text
    assert text.count("**") == 2
    assert "\n- fastest: openmp@theano10 at 1.52 s/epoch, 1.25x vs cpu@theano10\n" in text
    won = render(model.build([run("cpu", [1, 1, 1], used="cpu"), run("gpu", [5, 5, 5])]), "markdown")
    assert "| **cpu** (baseline) |" in won


def test_csv_appends_new_columns_and_keeps_the_old_in_place():
    text = render(cpu_tuning(), "csv")
    header = text.splitlines()[0].split(",")
    assert header[:3] == ["host", "name", "stack"]
    # Scripts read by position: every column keeps its place, new ones come after "fastest".
    assert header[20:25] == ["status", "fallback", "fallback_reason", "error", "fastest"]
    assert header[25:27] == ["speedup_significant", "measured_speedup"]
    assert header[-3:] == ["target", "node", "job_gpus"]  # the cluster's columns came last
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["name"], r["fastest"]) for r in rows] == [("cpu", "false"), ("openmp", "true"), ("blas", "false"),
                                                          ("float64", "false")]


def test_json_marks_the_winner_and_keeps_the_contract():
    doc = json.loads(render(cpu_tuning(), "json"))
    assert [row["fastest"] for row in doc["rows"]] == [False, True, False, False]
    assert doc["fastest"] == {"name": "openmp", "stack": "theano10", "host": "lab1", "seconds_per_epoch": 1.525,
                              "seconds": 1.525,
                              "speedup": 1.25, "vs_baseline": "cpu@theano10", "device_used": "cpu",
                              "fallback": False, "indexes": [1], "clear_of": True}
    assert doc["baseline"] == "cpu" and doc["rows"][1]["speedup"] == 1.25  # what was there stays
    alone = json.loads(render(model.build([run("cpu", [1, 1, 1], used="cpu")]), "json"))
    assert alone["fastest"] is None and alone["rows"][0]["fastest"] is False


def test_html_highlights_the_winner_row_bar_and_line():
    page = render(cpu_tuning(), "html")
    parser = _Page()
    parser.feed(page)
    assert parser.urls == [] and "url(" not in page and "://" not in page
    classes = [row["class"].split() for row in parser.rows if "data-status" in row]
    assert ["fastest" in c for c in classes] == [False, True, False, False]
    assert "tr.fastest td" in page and 'content: " \\2605  fastest"' in page  # styled inline: a CSS star
    assert '<p class="fastest">fastest: openmp@theano10 at 1.52 s/epoch, 1.25x vs cpu@theano10</p>' in page
    bars = re.findall(r'<rect [^>]*fill="([^"]+)"><title>([^:]+):', page)
    assert ("#2e8b57", "openmp@theano10") in bars and [fill for fill, _ in bars].count("#2e8b57") == 1
    assert "1.52 s \u00b7 1.25x \u00b7 fastest" in page


def test_html_a_faster_fallback_stays_an_alert_not_a_winner():
    fell = run("gpu", [1.2, 1.0, 1.0], used="cpu", stack="theano10", fallback=True)
    parser = _Page()
    parser.feed(render(cpu_tuning([fell]), "html"))
    [row] = [row for row in parser.rows if row.get("data-status") == "fallback"]
    assert row["class"].split() == ["alert"]
    assert "fastest: openmp@theano10" in "".join(parser.text)


def test_plot_colours_the_winners_bar(tmp_path):
    pytest.importorskip("matplotlib")
    from theanogpu.report.plot import FASTEST, write_plot

    write_plot(cpu_tuning(), tmp_path / "chart.svg")
    svg = (tmp_path / "chart.svg").read_text()
    assert svg.count("fill: %s" % FASTEST) == 1 and "fastest" in svg


def test_text_skipped_runs_say_why_and_a_long_error_keeps_its_headline():
    skipped = {"variant": "openmp", "stack": "keras3-torch", "repeat": 1, "status": "skipped", "origin": "lab1",
               "flags": {}, "parsed": None, "skip_reason": "runs only on theano stacks (backends = theano)"}
    crashed = run("cpu-omp", [], status="failed", used="cpu")
    crashed["error"] = ["Fatal Python error: PyEval_SaveThread: NULL tstate"] + ['  File "x.py", line %d' % i
                                                                               for i in range(7)]
    text = render(classic([skipped, crashed]), "text")
    row = next(line for line in text.splitlines() if line.startswith("openmp"))
    assert row.split()[2] == "-" and row.split()[-1] == "SKIPPED"
    flat = " ".join(text.split())
    assert "- openmp@keras3-torch: skipped, runs only on theano stacks (backends = theano)" in flat
    detail = [line for line in text.splitlines() if line.startswith("   |")]
    assert detail[0].endswith("Fatal Python error: PyEval_SaveThread: NULL tstate") and len(detail) == 5
    assert detail[-1].endswith("line 6")


def test_text_data_said_once_when_every_run_shares_it():
    synthetic = {"source": "synthetic", "label": "SYNTHETIC data (CIFAR-10 not found locally)"}
    runs = [run("cpu", [3, 3, 3], used="cpu", data=synthetic), run("gpu", [1, 1, 1], data=synthetic)]
    text = render(model.build(runs), "text")
    assert text.count("synthetic data") == 1 and "every run: synthetic data" in text
    mixed = render(model.build(runs + [run("gpu2", [1, 1, 1], data={"source": "cifar10"})]), "text")
    assert "every run:" not in mixed


def test_crash_lines_are_whole_wrapped_never_cut_in_the_middle():
    long_error = ("Exception: URL fetch failure on https://s3.amazonaws.com/img-datasets/mnist.npz: None -- "
                  "[Errno -3] Temporary failure in name resolution")
    report = model.build([{"variant": "cpu", "stack": "theano10", "repeat": 1, "status": "failed",
                           "error": [long_error, 'at File "train.py", line 12, in <module>: mnist.load_data()',
                                     "a", "b", "c", "d", "e"], "parsed": {"epochs": []}}])
    text = render(report, "text", width=60)
    assert "~" not in text
    joined = " ".join(line.strip("| ").strip() for line in text.splitlines() if line.startswith("   |"))
    assert "Temporary failure in name resolution" in joined and 'at File "train.py", line 12' in joined
    assert "a" not in joined.split()  # five lines at most: headline, the user's frame, the last three
