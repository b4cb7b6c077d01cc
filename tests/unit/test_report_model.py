"""The pure report model: names from log files, medians, spreads, baselines, speedups, statuses."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theanogpu.errors import UserError
from theanogpu.report import model, render


def parsed(seconds, used="gpu", requested=None, fallback=False, **extra):
    obj = {"source": "x.log", "backend": "theano", "device_requested": requested, "device_used": used,
           "gpu_name": "GeForce GTX 1060" if used == "gpu" else None, "cnmem": None, "cudnn": None,
           "fallback": fallback, "warnings": [],
           "epochs": [{"epoch": i + 1, "of": len(seconds), "seconds": s, "metrics": {}}
                      for i, s in enumerate(seconds)]}
    obj.update(extra)
    return obj


def run(variant, seconds, used="gpu", stack="theano08", repeat=1, status="ok", origin="lab1", **extra):
    return {"variant": variant, "stack": stack, "repeat": repeat, "status": status, "origin": origin,
            "flags": {"device": used}, "parsed": parsed(seconds, used=used, **extra)}


@pytest.mark.parametrize("stem, expected", [
    ("gpu-cnmem@theano08#2", ("gpu-cnmem", "theano08", 2)),
    ("gpu-cnmem@theano08", ("gpu-cnmem", "theano08", 1)),
    ("cpu", ("cpu", None, 1)),
    ("cpu#3", ("cpu", None, 3)),
    ("run.2024-01-01", ("run.2024-01-01", None, 1)),
    ("@theano08", ("@theano08", None, 1)),
    ("a@b@c", ("a@b", "c", 1)),
])
def test_split_log_name(stem, expected):
    assert model.split_log_name(stem) == expected


@pytest.mark.parametrize("seconds, expected", [
    ([152, 153, 154], 153.5),  # the first epoch (compilation) is left out from 3 epochs on
    ([300, 20, 21, 20], 20),
    ([29, 27], 28),
    ([5], 5),
    ([], None),
])
def test_seconds_per_epoch(seconds, expected):
    assert model.seconds_per_epoch(seconds) == expected


def test_epoch_seconds_skips_epochs_without_a_time():
    obj = parsed([10.0, 11.0])
    obj["epochs"].insert(1, {"epoch": 2, "of": 3, "seconds": None, "metrics": {}})
    assert model.epoch_seconds(obj) == [10.0, 11.0]


@given(st.lists(st.floats(min_value=0.01, max_value=1e5), min_size=1, max_size=30))
def test_seconds_per_epoch_lies_within_the_steady_epochs(seconds):
    value = model.seconds_per_epoch(seconds)
    steady = seconds[1:] if len(seconds) >= 3 else seconds
    assert min(steady) <= value <= max(steady)


def classic_runs():
    return [run("cpu", [152, 153, 154], used="cpu"), run("gpu", [29, 27, 27], cnmem={"enabled": False}),
            run("gpu-cnmem", [22, 20, 20], cnmem={"enabled": True, "fraction": 0.8, "megabytes": None})]


def test_classic_speedups_against_the_first_cpu_run():
    report = model.build(classic_runs())
    assert report["baseline"] == "cpu" and report["baseline_index"] == 0
    speedups = [row["speedup"] for row in report["rows"]]
    assert speedups == pytest.approx([1.0, 153.5 / 27, 153.5 / 20])
    assert report["show_host"] is False and report["notes"] == []


def test_default_baseline_is_the_first_cpu_run_wherever_it_is():
    runs = classic_runs()
    runs.append(run("cpu64", [300, 300, 300], used="cpu"))
    report = model.build([runs[1], runs[3], runs[0]])
    assert report["baseline"] == "cpu64"
    assert report["rows"][0]["speedup"] == pytest.approx(300 / 27)


def test_named_baseline_and_name_at_stack():
    runs = classic_runs() + [run("gpu", [40, 40, 40], stack="theano10")]
    assert model.build(runs, baseline="gpu")["baseline_index"] == 1
    report = model.build(runs, baseline="gpu@theano10")
    assert report["baseline_index"] == 3 and report["rows"][0]["speedup"] == pytest.approx(40 / 153.5)


def test_unknown_baseline_names_the_choices():
    with pytest.raises(UserError, match="--baseline=tpu: no run of that name; choose one of: cpu, gpu, gpu-cnmem"):
        model.build(classic_runs(), baseline="tpu")


def test_no_cpu_run_means_no_speedups_and_says_so():
    report = model.build(classic_runs()[1:])
    assert report["baseline"] is None and all(row["speedup"] is None for row in report["rows"])
    assert "no CPU run" in report["notes"][0]


def test_a_cpu_run_known_only_from_its_request_can_be_the_baseline():
    cpu = run("cpu", [100, 100, 100], used=None)
    cpu["flags"] = {"device": "cpu"}
    report = model.build([run("gpu", [10, 10, 10]), cpu])
    assert report["baseline"] == "cpu" and report["rows"][0]["speedup"] == pytest.approx(10)
    assert report["rows"][1]["device_requested"] == "cpu"


def test_repeats_make_one_row_with_the_median_and_the_spread_across_them():
    runs = [run("gpu", [30, 20, 20], repeat=1), run("gpu", [30, 22, 22], repeat=2),
            run("gpu", [30, 21, 21], repeat=3)]
    [row] = model.build(runs)["rows"]
    assert row["repeats"] == 3 and row["seconds_per_epoch"] == 21
    assert row["spread"] == {"over": "repeats", "n": 3, "min": 20, "max": 22, "percent": pytest.approx(2 / 21 * 100)}
    assert row["warmup_seconds"] == 9


def test_one_run_has_its_spread_over_the_steady_epochs():
    [row] = model.build([run("cpu", [152, 153, 154], used="cpu")])["rows"]
    assert row["spread"]["over"] == "epochs" and row["spread"]["min"] == 153 and row["spread"]["max"] == 154
    assert row["warmup_seconds"] == -1.5


def test_runs_from_other_machines_are_rows_side_by_side():
    runs = [run("gpu", [20, 20, 20], origin="lab1"), run("gpu", [10, 10, 10], origin="lab2"),
            run("cpu", [100, 100, 100], used="cpu", origin="lab2")]
    report = model.build(runs)
    assert [(r["name"], r["origin"]) for r in report["rows"]] == [("gpu", "lab1"), ("gpu", "lab2"), ("cpu", "lab2")]
    assert report["show_host"] is True and report["hosts"] == ["lab1", "lab2"]


def test_host_objects_from_results_files_name_the_rows():
    record = {"host": {"hostname": "lab7"}, "runs": [run("gpu", [1, 1, 1], origin=None)]}
    [tagged] = model.runs_from_record(record, origin="lab7 2026-01-01")
    [row] = model.build([tagged])["rows"]
    assert row["host"] == "lab7" and row["origin"] == "lab7 2026-01-01"


def test_a_fallback_is_flagged_and_never_the_default_baseline():
    fell = run("gpu", [150, 150, 150], used="cpu", fallback=True, fallback_reason="nvcc compiler not found")
    report = model.build([fell, run("cpu", [100, 100, 100], used="cpu")])
    row = report["rows"][0]
    assert row["status"] == "fallback" and row["fallback"] is True
    assert row["fallback_reason"] == "nvcc compiler not found"
    assert report["baseline"] == "cpu"


def test_a_fallback_is_inferred_when_a_gpu_was_asked_and_the_cpu_was_used():
    fell = run("gpu", [150, 150, 150], used="cpu", fallback=None)
    fell["flags"] = {"device": "gpu0"}
    [row] = model.build([fell])["rows"]
    assert row["fallback"] is True and row["status"] == "fallback" and row["device_requested"] == "gpu"


def test_failed_and_timed_out_runs_keep_their_status_and_last_error_lines():
    failed = run("gpu", [], status="failed")
    failed["error"] = ["Traceback (most recent call last):", "MemoryError: cnmem"]
    timeout = run("gpu-cnmem", [30], status="timeout")
    report = model.build([run("cpu", [9, 9, 9], used="cpu"), failed, timeout])
    assert [(r["status"], r["error"]) for r in report["rows"]] == [
        ("ok", None), ("failed", ["Traceback (most recent call last):", "MemoryError: cnmem"]), ("timeout", None)]
    assert report["rows"][1]["seconds_per_epoch"] is None and report["rows"][1]["speedup"] is None
    assert report["rows"][2]["speedup"] == pytest.approx(9 / 30)


def test_repeats_that_ended_differently_show_the_worst_status():
    runs = [run("gpu", [20, 20, 20]), run("gpu", [], repeat=2, status="timeout")]
    [row] = model.build(runs)["rows"]
    assert row["status"] == "timeout" and row["seconds_per_epoch"] == 20
    assert row["notes"] == ["repeats: ok, timeout"]


def test_run_from_log_names_and_status():
    ok = model.run_from_log(parsed([10, 10]), model.split_log_name("gpu-cnmem@theano09#2"), origin="logs")
    assert (ok["variant"], ok["stack"], ok["repeat"], ok["status"]) == ("gpu-cnmem", "theano09", 2, "ok")
    assert ok["requested_device"] == "gpu"
    dead = model.run_from_log(parsed([], error="RuntimeError: cnmemInit failed"), model.split_log_name("gpu"))
    assert dead["status"] == "failed"
    assert dead["error"] == ["RuntimeError: cnmemInit failed", "no completed epoch in the log"]


@pytest.mark.parametrize("name, device", [
    ("gpu-cnmem", "gpu"), ("cpu64", "cpu"), ("cuda0", "gpu"), ("baseline", None), ("cpu-vs-gpu", None),
])
def test_requested_from_name(name, device):
    assert model.requested_from_name(name) == device


def test_short_dir_labels():
    assert model.short_dir_labels(["/work/shared/logs", "tests/fixtures/classic"]) == {
        "/work/shared/logs": "logs", "tests/fixtures/classic": "classic"}
    assert model.short_dir_labels(["a/runs", "b/runs"]) == {"a/runs": "a/runs", "b/runs": "b/runs"}
    assert model.short_dir_labels(["."]) == {".": "."}


# -- the fastest row ---------------------------------------------------------------------------------------


def cpu_tuning_runs():
    """A cpu-tuning matrix on one stack: the default, OpenMP threads, an optimised BLAS, float64."""
    return [run("cpu", [2.2, 1.9, 1.9], used="cpu", stack="theano10"),
            run("openmp", [1.8, 1.5, 1.55], used="cpu", stack="theano10"),
            run("blas", [2.0, 1.7, 1.7], used="cpu", stack="theano10"),
            run("float64", [3.5, 3.1, 3.1], used="cpu", stack="theano10")]


def fastest_names(report):
    return [row["name"] for row in report["rows"] if row["fastest"]]


def test_the_fastest_row_is_marked_and_summarised_against_the_baseline():
    report = model.build(cpu_tuning_runs())
    assert fastest_names(report) == ["openmp"]
    assert all(row["fastest"] is False for row in report["rows"] if row["name"] != "openmp")
    assert report["fastest"] == {
        "name": "openmp", "stack": "theano10", "host": "lab1", "seconds_per_epoch": 1.525, "seconds": 1.525,
        "speedup": pytest.approx(1.9 / 1.525), "vs_baseline": "cpu@theano10", "device_used": "cpu",
        "fallback": False, "indexes": [1], "clear_of": True}


def test_an_exact_tie_marks_every_tied_row_and_summarises_the_first():
    runs = cpu_tuning_runs()[:2] + [run("blas", [1.8, 1.5, 1.55], used="cpu", stack="theano10")]
    report = model.build(runs)
    assert fastest_names(report) == ["openmp", "blas"]
    assert report["fastest"]["name"] == "openmp" and report["fastest"]["indexes"] == [1, 2]


def test_a_single_row_is_not_the_fastest_of_anything():
    report = model.build([run("cpu", [2, 2, 2], used="cpu")])
    assert fastest_names(report) == [] and report["fastest"] is None
    assert model.build([])["fastest"] is None


@pytest.mark.parametrize("status", ["failed", "timeout", "interrupted", "skipped"])
def test_rows_that_did_not_finish_never_win_even_when_their_epochs_were_quicker(status):
    quick = run("openmp", [0.5, 0.5, 0.5], used="cpu", status=status)
    report = model.build([run("cpu", [2, 2, 2], used="cpu"), quick, run("blas", [1, 1, 1], used="cpu")])
    assert report["rows"][1]["seconds_per_epoch"] == 0.5  # timed, but it did not end well
    assert fastest_names(report) == ["blas"]


def test_a_repeat_that_failed_keeps_the_row_out_of_the_running():
    runs = [run("cpu", [2, 2, 2], used="cpu"), run("openmp", [1, 1, 1], used="cpu"),
            run("openmp", [], used="cpu", repeat=2, status="failed"), run("blas", [1.5, 1.5, 1.5], used="cpu")]
    assert fastest_names(model.build(runs)) == ["blas"]


def test_rows_without_an_epoch_time_are_left_out_and_one_timed_row_is_no_winner():
    untimed = run("openmp", [], used="cpu")  # "ok" from results.json, yet no epoch printed a time
    report = model.build([run("cpu", [2, 2, 2], used="cpu"), untimed])
    assert report["rows"][1]["seconds_per_epoch"] is None
    assert fastest_names(report) == [] and report["fastest"] is None


def test_a_fallback_never_wins_it_measured_another_configuration():
    fell = run("gpu", [1.2, 1.0, 1.0], used="cpu", stack="theano10", fallback=True)
    assert model.build(cpu_tuning_runs()[:1] + [fell])["fastest"] is None  # one real contender left
    report = model.build(cpu_tuning_runs() + [fell])
    assert fastest_names(report) == ["openmp"] and not report["rows"][-1]["fastest"]


def test_without_a_baseline_the_winner_has_no_speedup():
    report = model.build(classic_runs()[1:])  # two GPU runs: no CPU run to compare with
    assert report["fastest"]["name"] == "gpu-cnmem"
    assert report["fastest"]["speedup"] is None and report["fastest"]["vs_baseline"] is None


def test_the_baseline_itself_can_win():
    runs = [run("cpu", [1, 1, 1], used="cpu"), run("gpu", [5, 5, 5])]
    report = model.build(runs)
    assert report["fastest"]["name"] == "cpu" and report["fastest"]["speedup"] == 1.0
    assert report["fastest"]["vs_baseline"] == "cpu@theano08"


def test_runs_from_several_machines_compete_and_the_winner_names_its_machine():
    runs = [run("gpu", [20, 20, 20], origin="lab1"), run("gpu", [10, 10, 10], origin="lab2"),
            run("cpu", [100, 100, 100], used="cpu", origin="lab2")]
    report = model.build(runs)
    assert [row["fastest"] for row in report["rows"]] == [False, True, False]
    assert (report["fastest"]["name"], report["fastest"]["host"]) == ("gpu", "lab2")


@given(st.lists(st.tuples(st.sampled_from(["ok", "failed", "timeout", "skipped"]),
                          st.one_of(st.none(), st.integers(min_value=1, max_value=20))), max_size=8))
def test_the_winner_is_never_slower_than_a_finished_row(specs):
    runs = [run("v%d" % i, [] if seconds is None else [seconds] * 3, used="cpu", status=status)
            for i, (status, seconds) in enumerate(specs)]
    rows = model.build(runs)["rows"]
    finished = [row["seconds_per_epoch"] for row in rows
                if row["status"] == "ok" and row["seconds_per_epoch"] is not None]
    winners = [row for row in rows if row["fastest"]]
    if len(finished) < 2:
        assert winners == []
    else:
        assert winners and all(row["seconds_per_epoch"] == min(finished) for row in winners)
        assert len(winners) == finished.count(min(finished))


def test_a_win_inside_the_noise_is_not_a_clear_winner():
    from theanogpu.report.model import clear_of

    def row(seconds, low=None, high=None):
        spread = {"min": low, "max": high} if low is not None else None
        return {"status": "ok", "seconds_per_epoch": seconds, "measured_seconds": seconds, "spread": spread}

    assert clear_of([row(2.0, 1.9, 2.1), row(2.1, 2.0, 2.2)], [0]) is False
    assert clear_of([row(2.0, 1.9, 2.0), row(3.0, 2.9, 3.1)], [0]) is True
    assert clear_of([row(2.0), row(2.03)], [0]) is False and clear_of([row(2.0), row(2.1)], [0]) is True
    assert clear_of([row(2.0), row(2.0)], [0, 1]) is None


def test_a_speedup_inside_the_noise_is_marked_not_significant():
    """Two CPU configurations on a loaded machine: 1.84x one day, 0.63x the next, if noise is trusted."""
    rows = model.build([run("cpu", [50, 10, 30, 12], used="cpu"), run("tuned", [50, 11, 13, 25], used="cpu"),
                        run("gpu", [50, 2.0, 2.1, 2.2])])["rows"]
    base, tuned, gpu = rows
    assert base["speedup_significant"] is None  # the baseline against itself
    assert tuned["speedup"] == pytest.approx(12 / 13) and tuned["speedup_significant"] is False
    assert gpu["speedup_significant"] is True
    one_epoch = model.build([run("cpu", [30], used="cpu"), run("gpu", [3])])["rows"][1]
    assert one_epoch["speedup_significant"] is None  # a single measurement has no spread: cannot tell
    report = model.build([run("cpu", [50, 10, 30, 12], used="cpu"), run("tuned", [50, 11, 13, 25], used="cpu")])
    assert "~0.92x" in render(report, "text") and "not a significant difference" in render(report, "text")


def test_a_fallback_has_no_gpu_speedup_only_a_cpu_vs_cpu_ratio():
    report = model.build([run("cpu", [30, 30, 30], used="cpu"),
                          run("gpu", [29, 29, 29], used="cpu", requested="gpu", fallback=True)])
    fell = report["rows"][1]
    assert fell["speedup"] is None and fell["measured_speedup"] == pytest.approx(30 / 29)
    text = render(report, "text")
    assert "1.03x vs cpu@theano08 is CPU vs CPU" in " ".join(text.split())
    assert json.loads(render(report, "json"))["rows"][1]["speedup"] is None


def loop_run(variant, script=None, wall=None, used="cpu", status="ok"):
    parsed = {"device_used": used, "epochs": [], "script_seconds": script, "fallback": False}
    entry = {"variant": variant, "stack": "theano10", "repeat": 1, "status": status, "origin": "lab1",
             "flags": {"device": used}, "parsed": parsed}
    if wall is not None:
        entry["wall_seconds"] = wall
    return entry


def test_runs_without_epochs_are_compared_on_the_loop_time_they_printed():
    report = model.build([loop_run("cpu", script=2.6, wall=9.0), loop_run("gpu", script=0.26, wall=5.0, used="gpu")])
    assert report["measure"] == "loop"
    cpu, gpu = report["rows"]
    assert gpu["speedup"] == pytest.approx(10.0) and cpu["script_seconds"] == 2.6 and gpu["wall_seconds"] == 5.0
    text = " ".join(render(report, "text").split())
    assert "speedup by the loop time the scripts printed" in text and "no CPU run" not in text
    assert "loop s" in render(report, "markdown") and "wall s" in render(report, "markdown")


def test_without_a_common_loop_time_the_wall_time_is_the_measure():
    report = model.build([loop_run("cpu", script=2.6, wall=9.0), loop_run("gpu", wall=3.0, used="gpu")])
    assert report["measure"] == "wall" and report["rows"][1]["speedup"] == pytest.approx(3.0)
    assert "speedup by wall time" in " ".join(render(report, "text").split())


def test_a_baseline_without_the_measure_says_so_once_and_truly():
    runs = [run("cpu", [30, 30, 30], used="cpu"), run("gpu", [3, 3, 3])]
    report = model.build(runs + [loop_run("loop")], baseline="loop")
    assert report["notes"] == ["baseline loop@theano10 has no seconds per epoch: no speedups"]
    only_gpu = model.build([run("gpu", [3, 3, 3])])
    assert only_gpu["notes"] == ["no CPU run to compare with: no speedups (name one with --baseline)"]
    untimed_cpu = model.build([run("gpu", [3, 3, 3]), run("cpu", [], used="cpu")])
    assert untimed_cpu["measure"] == "epoch"
    assert untimed_cpu["notes"] == ["no CPU run with seconds per epoch to compare with: no speedups (name one "
                                    "with --baseline)"]
