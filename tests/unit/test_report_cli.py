"""`theanogpu report` end to end on real files: the classic comparison from logs alone, bad inputs,
--output, --baseline, --plot, results from several machines."""

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from theanogpu import results
from theanogpu.cli import main
from theanogpu.report import model, read_inputs, render

CLASSIC = Path(__file__).resolve().parents[1] / "fixtures" / "classic"
LOGS = [str(CLASSIC / name) for name in ("cpu.log", "gpu.log", "gpu-cnmem.log")]


def report(capsys, *args):
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_classic_comparison_from_logs_alone(capsys):
    code, out, err = report(capsys, "--format", "json", *LOGS)
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["baseline"] == "cpu"
    rows = {row["name"]: row for row in doc["rows"]}
    assert rows["cpu"]["seconds_per_epoch"] == 153.5 and rows["cpu"]["speedup"] == 1.0
    assert rows["gpu"]["speedup"] == pytest.approx(5.7, abs=0.05)
    assert rows["gpu-cnmem"]["speedup"] == pytest.approx(7.7, abs=0.05)
    assert [(r["device_used"], r["gpu_name"], r["cudnn"], r["epochs"]) for r in doc["rows"]] == [
        ("cpu", None, None, 3), ("gpu", "GeForce GTX 1060", "5105", 3), ("gpu", "GeForce GTX 1060", "5105", 3)]
    assert rows["cpu"]["cnmem"] is None
    assert rows["gpu"]["cnmem"]["enabled"] is False
    assert rows["gpu-cnmem"]["cnmem"]["enabled"] is True and rows["gpu-cnmem"]["cnmem"]["fraction"] == 0.8
    assert all(row["status"] == "ok" and row["fallback"] is False for row in doc["rows"])


def test_classic_comparison_as_a_text_table(capsys):
    code, out, _ = report(capsys, *LOGS)
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["name", "device", "GPU", "CNMeM", "cuDNN", "epochs", "s/epoch", "spread", "speedup",
                                "status"]
    assert lines[1].split()[:2] == ["cpu", "cpu"] and "153.5" in lines[1] and "1.00x" in lines[1]
    assert lines[2].split()[:6] == ["gpu", "gpu", "GTX", "1060", "off", "5105"] and lines[2].split()[-2] == "5.69x"
    assert lines[3].split()[:7] == ["gpu-cnmem", "*", "gpu", "GTX", "1060", "80%", "5105"]  # " *": the fastest
    assert lines[3].split()[-2] in ("7.67x", "7.68x")
    assert "\x1b" not in out  # not a terminal: no colour


@pytest.fixture
def bad_inputs(tmp_path):
    good = tmp_path / "lab" / "results.json"
    good.parent.mkdir()
    record = results.new_results({"hostname": "lab", "cpu": "x", "gpus": []})
    results.add_run(record, {"variant": "gpu", "stack": "theano08", "repeat": 1, "status": "ok",
                             "flags": {"device": "gpu"},
                             "parsed": {"device_used": "gpu", "epochs": [{"epoch": 1, "of": 1, "seconds": 15.35}]}})
    results.save(good, record)
    truncated = tmp_path / "cut" / "results.json"
    truncated.parent.mkdir()
    text = good.read_text()
    truncated.write_text(text[: len(text) // 2])
    other = tmp_path / "other.json"
    other.write_text('{"schema": 7, "runs": []}')
    return {"good": good, "truncated": truncated, "other": other, "missing": tmp_path / "missing.log",
            "dir": tmp_path / "lab"}


def test_bad_inputs_are_named_and_the_others_still_reported(capsys, bad_inputs):
    b = bad_inputs
    code, out, err = report(capsys, "--format", "json", LOGS[0], str(b["missing"]), str(b["dir"]), str(b["truncated"]),
                            str(b["other"]), str(b["good"]))
    assert code == 2
    errors = err.splitlines()
    assert errors == [
        "theanogpu: error: %s: no such file" % b["missing"],
        "theanogpu: error: %s: is a directory; give %s" % (b["dir"], b["dir"] / "results.json"),
        errors[2],
        "theanogpu: error: %s: results schema 7, this theanogpu reads schema 1; upgrade theanogpu to read it"
        % b["other"],
    ]
    assert errors[2].startswith("theanogpu: error: %s: the JSON ends early" % b["truncated"])
    assert "truncated" in errors[2]
    doc = json.loads(out)
    assert [(row["name"], row["origin"], row["speedup"]) for row in doc["rows"]] == [
        ("gpu", "lab", 10.0), ("cpu", "classic", 1.0)]
    assert "Traceback" not in err


def test_only_bad_inputs_print_nothing_and_exit_2(capsys, tmp_path):
    code, out, err = report(capsys, str(tmp_path / "nope.log"))
    assert (code, out) == (2, "") and err == "theanogpu: error: %s: no such file\n" % (tmp_path / "nope.log")


def test_binary_garbage_is_a_log_without_epochs_not_a_crash(capsys, tmp_path):
    """A log has no exit status: without an error in it, it did not fail; it just has no epoch."""
    junk = tmp_path / "junk.log"
    junk.write_bytes(bytes(range(256)) * 10)
    code, out, err = report(capsys, "--format", "csv", str(junk), LOGS[0])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and err == ""
    assert [(r["name"], r["status"], r["seconds_per_epoch"]) for r in rows][0] == ("junk", "ok", "")
    text_code, text, _ = report(capsys, str(junk), LOGS[0])
    assert "no completed epoch in the log" in " ".join(text.split()) and "FAILED" not in text


def test_output_is_written_atomically_instead_of_stdout(capsys, tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old report\n")
    code, out, err = report(capsys, "--format", "markdown", "--output", str(target), *LOGS)
    assert (code, out, err) == (0, "", "")
    assert target.read_text().startswith("| name | stack | device |")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_output_into_a_missing_directory_is_a_clear_error(capsys, tmp_path):
    code, out, err = report(capsys, "--output", str(tmp_path / "no" / "r.txt"), *LOGS)
    assert code == 2 and out == ""
    assert err.startswith("theanogpu: error: --output=%s: cannot write it" % (tmp_path / "no" / "r.txt"))


def test_bad_format_and_baseline(capsys):
    code, _, err = report(capsys, "--format", "xml", *LOGS)
    assert code == 2 and "--format=xml: choose one of text, markdown, csv, json, html" in err
    code, out, err = report(capsys, "--baseline", "tpu", *LOGS)
    assert code == 2 and out == "" and "--baseline=tpu: no run of that name; choose one of: cpu, gpu, gpu-cnmem" in err


def test_baseline_by_name(capsys):
    code, out, _ = report(capsys, "--format", "json", "--baseline", "gpu", *LOGS)
    doc = json.loads(out)
    assert code == 0 and doc["baseline"] == "gpu"
    assert [row["speedup"] for row in doc["rows"]] == [pytest.approx(27 / 153.5, abs=0.01), 1.0, 1.35]


def test_log_names_give_variant_stack_and_repeat(capsys, tmp_path):
    for name, source in (("gpu-cnmem@theano08.log", "gpu-cnmem.log"), ("gpu-cnmem@theano08#2.log", "gpu-cnmem.log"),
                         ("cpu@theano08.log", "cpu.log")):
        shutil.copy(str(CLASSIC / source), str(tmp_path / name))
    code, out, _ = report(capsys, "--format", "json", *sorted(str(p) for p in tmp_path.iterdir()))
    doc = json.loads(out)
    assert [(r["name"], r["stack"], r["repeats"], r["logs"]) for r in doc["rows"]] == [
        ("cpu", "theano08", 1, ["cpu@theano08.log"]),
        ("gpu-cnmem", "theano08", 2, ["gpu-cnmem@theano08.log", "gpu-cnmem@theano08#2.log"])]
    assert doc["rows"][1]["spread"]["over"] == "repeats"


def test_results_from_two_machines_side_by_side_with_a_host_column(capsys, tmp_path):
    paths = []
    for host, seconds in (("lab.example.org", [30, 20, 20]), ("home", [15, 10, 10])):
        record = results.new_results({"hostname": host, "cpu": "x", "gpus": []})
        for variant, factor, device in (("cpu", 8, "cpu"), ("gpu", 1, "gpu")):
            results.add_run(record, {
                "variant": variant, "stack": "theano08", "repeat": 1, "status": "ok", "flags": {"device": device},
                "parsed": {"device_used": device, "epochs": [{"epoch": i + 1, "of": 3, "seconds": s * factor}
                                                             for i, s in enumerate(seconds)]}})
        path = tmp_path / host / "results.json"
        path.parent.mkdir()
        results.save(path, record)
        paths.append(str(path))
    code, out, _ = report(capsys, *paths)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:2] == ["host", "name"]
    assert [line.split()[:2] for line in lines[1:5]] == [["lab", "cpu"], ["lab", "gpu"], ["home", "cpu"],
                                                          ["home", "gpu"]]
    assert lines[4].split()[-2] == "16.00x"  # against the first CPU run: lab's 160 s


def render_results(paths, fmt):
    runs, problems = read_inputs([str(path) for path in paths])
    assert problems == []
    return render(model.build(runs), fmt)


def test_render_results_for_compare(tmp_path):
    record = results.new_results({"hostname": "h", "cpu": "x", "gpus": []})
    results.add_run(record, {"variant": "cpu", "stack": "theano10", "repeat": 1, "status": "ok",
                             "parsed": {"device_used": "cpu", "epochs": [{"epoch": 1, "of": 1, "seconds": 5}]}})
    results.add_run(record, {"variant": "gpu", "stack": "theano10", "repeat": 1, "status": "failed",
                             "error": ["RuntimeError: no GPU"], "parsed": {"epochs": []}})
    path = tmp_path / "results.json"
    results.save(path, record)
    text = render_results([path], "text")
    assert "!! gpu@theano10: failed: RuntimeError: no GPU" in text and "\x1b" not in text
    assert json.loads(render_results([path], "json"))["rows"][1]["status"] == "failed"


def test_plot_png_and_svg(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    for name in ("chart.png", "chart.svg"):
        code, out, err = report(capsys, "--plot", str(tmp_path / name), *LOGS)
        assert code == 0 and err == "" and "speedup" in out
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (tmp_path / "chart.svg").read_text()


def test_plot_needs_a_png_or_svg_name(capsys, tmp_path):
    code, out, err = report(capsys, "--plot", str(tmp_path / "chart.gif"), *LOGS)
    assert (code, out) == (2, "") and "the file name must end in .png or .svg" in err


def test_plot_without_matplotlib_says_how_to_get_it(tmp_path):
    # Run in a fresh interpreter where importing matplotlib fails, as on an install without the extra.
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from theanogpu.cli import main\n"
            "sys.exit(main(['report', '--plot', sys.argv[1]] + sys.argv[2:]))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "c.png"), *LOGS], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("theanogpu: error: --plot needs matplotlib, which is not installed: "
                           "pip install 'theanogpu[plot]' (or pip install matplotlib)\n")
    assert not (tmp_path / "c.png").exists()


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = capsys.readouterr().out
    assert "Examples:" in out and "--plot=PATH" in out


def test_the_fastest_configuration_is_named_in_every_format(capsys, tmp_path):
    code, out, _ = report(capsys, "--format", "json", *LOGS)
    doc = json.loads(out)
    assert code == 0 and [row["fastest"] for row in doc["rows"]] == [False, False, True]
    assert (doc["fastest"]["name"], doc["fastest"]["vs_baseline"], doc["fastest"]["speedup"]) == (
        "gpu-cnmem", "cpu", pytest.approx(7.7, abs=0.05))
    _, text, _ = report(capsys, *LOGS)
    assert "\n*  fastest: gpu-cnmem at 20.0 s/epoch, 7.6" in text
    _, table, _ = report(capsys, "--format", "csv", *LOGS)
    assert [row["fastest"] for row in csv.DictReader(io.StringIO(table))] == ["false", "false", "true"]
    page = tmp_path / "report.html"
    assert report(capsys, "--format", "html", "--output", str(page), *LOGS)[0] == 0
    assert '<p class="fastest">fastest: gpu-cnmem at 20.0 s/epoch' in page.read_text()
