"""Rows of runs from a cluster: where they ran is part of the row, two nodes are never repeats of each
other, and the CSV only ever gains columns at the end."""

import csv
import io

from theanogpu.report import model, render
from theanogpu.report.csv import COLUMNS


def parsed(seconds, used="gpu", gpu="Tesla V100-SXM2-16GB"):
    return {"source": "x.log", "backend": "theano", "device_requested": "gpu", "device_used": used,
            "gpu_name": gpu if used == "gpu" else None, "cnmem": None, "cudnn": None,
            "fallback": False, "warnings": [],
            "epochs": [{"epoch": i + 1, "of": len(seconds), "seconds": s, "metrics": {}}
                       for i, s in enumerate(seconds)]}


def run(variant, seconds, target, node, repeat=1, used="gpu", gpus=("Tesla V100-SXM2-16GB",)):
    return {"variant": variant, "stack": "theano10", "repeat": repeat, "status": "ok", "origin": "lab",
            "flags": {"device": used}, "parsed": parsed(seconds, used, gpus[0]), "launcher": "slurm", "target": target,
            "node": node, "job_gpus": list(gpus), "job_id": str(repeat)}


RUNS = [
    run("cpu", [10.0, 10.0], "v100", "gpu07", used="cpu"),
    run("gpu", [2.0, 2.0], "v100", "gpu07", repeat=1),
    run("gpu", [2.1, 2.1], "v100", "gpu07", repeat=2),
    run("gpu", [3.0, 3.0], "v100", "gpu08", repeat=3),  # another node: another row, not a third repeat
    run("gpu", [5.0, 5.0], "k80", "k80-01", gpus=("Tesla K80",)),
]


def test_runs_on_two_nodes_are_two_rows_and_repeats_on_one_node_are_one():
    report = model.build(RUNS)
    rows = [(row["name"], row["target"], row["node"], row["repeats"]) for row in report["rows"]]
    assert rows == [("cpu", "v100", "gpu07", 1), ("gpu", "v100", "gpu07", 2), ("gpu", "v100", "gpu08", 1),
                    ("gpu", "k80", "k80-01", 1)]
    assert report["rows"][3]["job_gpus"] == ["Tesla K80"]
    assert model.build(RUNS, "gpu@theano10+k80")["baseline_index"] == 3


def test_the_text_report_says_where_each_row_ran():
    text = render(model.build(RUNS), "text", width=120)
    lines = text.splitlines()
    # The job's GPU is said when it says more than the framework's own device line: the CPU row's node had one.
    assert lines[0].split()[:5] == ["name", "target", "node", "job", "GPU"]
    assert lines[1].split()[:5] == ["cpu", "v100", "gpu07", "Tesla", "V100-SXM2-16GB"]
    assert lines[3].split()[:3] == ["gpu", "v100", "gpu08"]
    assert lines[4].split()[:4] == ["gpu", "k80", "k80-01", "Tesla"]
    # Without such a difference the column stays out; target and node stay in.
    gpu_rows = render(model.build(RUNS[1:]), "text", width=120).splitlines()[0].split()
    assert gpu_rows[:4] == ["name", "target", "node", "device"]


def test_csv_columns_are_only_appended():
    # The columns before this change, in their order: scripts that read by position keep working.
    before = ("host,name,stack,repeats,device_requested,device_used,gpu_name,cnmem_enabled,cnmem_fraction,"
              "cnmem_megabytes,cudnn,epochs,seconds_per_epoch,spread_over,spread_min,spread_max,spread_percent,"
              "warmup_seconds,speedup,baseline,status,fallback,fallback_reason,error,fastest,speedup_significant,"
              "measured_speedup").split(",")
    assert list(COLUMNS[:len(before)]) == before and COLUMNS[-3:] == ("target", "node", "job_gpus")
    rows = list(csv.DictReader(io.StringIO(render(model.build(RUNS), "csv"))))
    assert (rows[2]["target"], rows[2]["node"], rows[2]["job_gpus"]) == ("v100", "gpu08", "Tesla V100-SXM2-16GB")


def test_notes_name_the_node_of_a_row_in_trouble():
    failed = dict(run("gpu", [], "v100", "gpu09"), status="timeout",
                  error=["Slurm's time limit ended the job on gpu09 (TIMEOUT)"])
    text = render(model.build(RUNS + [failed]), "text", width=120)
    assert "!! gpu@theano10 on v100/gpu09: timeout: Slurm's time limit ended the job on gpu09 (TIMEOUT)" in text


def test_markdown_and_html_say_where_too_and_local_reports_are_unchanged():
    markdown = render(model.build(RUNS), "markdown")
    assert markdown.splitlines()[0].startswith("| name | stack | target | node | job GPU | device |")
    assert "| gpu | theano10 | v100 | gpu08 | Tesla V100-SXM2-16GB | gpu |" in markdown
    page = render(model.build(RUNS), "html")
    assert ">target<" in page and ">gpu08<" in page and ">Tesla K80<" in page
    local = [dict(run, target=None, node=None, job_gpus=[]) for run in RUNS[:2]]
    assert "target" not in render(model.build(local), "markdown").splitlines()[0]
    assert ">target<" not in render(model.build(local), "html")
