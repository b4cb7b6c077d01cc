"""`theanogpu compare` end to end through the real runner, parser and report, with a stub script.

This machine has no GPU, so the training script is a stub that prints the real console lines of a
Theano 0.8 GPU run; everything theanogpu does around it is real. The stack is this interpreter.
"""

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import start_cli

STUB = Path(__file__).resolve().parents[1] / "fixtures" / "stub" / "train_stub.py"


def compare(tmp_path, *args, env=None, **kwargs):
    full_env = dict(os.environ, **(env or {}))
    argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script", str(STUB),
            "--out", str(tmp_path / "out"), *args]
    return subprocess.run(argv, capture_output=True, text=True, env=full_env, **kwargs)


def results(tmp_path):
    return json.loads((tmp_path / "out" / "results.json").read_text())


def test_gpu_rows_with_speedups(tmp_path):
    proc = compare(tmp_path, "--epochs", "3", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    rows = {row["name"]: row for row in report["rows"]}
    assert report["baseline"] == "cpu"
    assert rows["gpu"]["device_used"] == "gpu" and rows["gpu"]["fallback"] is False
    assert rows["gpu"]["gpu_name"].startswith("GeForce GTX 1060")
    assert rows["gpu-cnmem"]["cnmem"]["fraction"] == pytest.approx(0.8)
    # Epoch times come from timestamps (ms), not Keras's whole seconds (which print 0s here).
    assert rows["cpu"]["seconds_per_epoch"] == pytest.approx(0.6, rel=0.3)
    assert rows["gpu"]["speedup"] > 2.5 and rows["gpu-cnmem"]["speedup"] > rows["gpu"]["speedup"]
    record = results(tmp_path)
    assert record["schema"] == 1 and len(record["runs"]) == 3
    for run in record["runs"]:
        assert (tmp_path / "out" / run["log"]).is_file()
        assert run["status"] == "ok" and run["exit_code"] == 0
    assert sorted(r["log"] for r in record["runs"]) == sorted(
        "%s@%s.log" % (v, record["runs"][0]["stack"].strip("/").replace("/", "_")) for v in
        ("cpu", "gpu", "gpu-cnmem"))


def test_crash_is_recorded_with_its_last_lines(tmp_path):
    proc = compare(tmp_path, "--variant", "cpu:device=cpu", "--epochs", "1", env={"STUB_MODE": "crash"})
    assert proc.returncode == 1
    (run,) = results(tmp_path)["runs"]
    assert run["status"] == "failed" and run["exit_code"] == 3
    assert any("MemoryError" in line for line in run["error"])
    assert "MemoryError" in proc.stdout


def test_timeout_kills_the_run(tmp_path):
    started = time.monotonic()
    proc = compare(tmp_path, "--variant", "cpu:device=cpu", "--epochs", "1", "--timeout", "2",
                   env={"STUB_MODE": "hang"})
    assert time.monotonic() - started < 60
    assert proc.returncode == 1
    (run,) = results(tmp_path)["runs"]
    assert run["status"] == "timeout"


def test_sigint_keeps_finished_runs_and_leaves_no_process(tmp_path):
    pids = tmp_path / "pids"
    env = dict(os.environ, STUB_MODE="", STUB_PIDS=str(pids))
    argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script", str(STUB),
            "--out", str(tmp_path / "out"), "--epochs", "40", "--variant", "fast:device=gpu,lib.cnmem=0.8",
            "--variant", "slow:device=cpu"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    log = tmp_path / "out" / "results.json"
    deadline = time.monotonic() + 60
    # Wait until the first run finished (results.json exists from the start) and the second is under way.
    while time.monotonic() < deadline and '"status": "ok"' not in (log.read_text() if log.exists() else ""):
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    record = results(tmp_path)
    statuses = [run["status"] for run in record["runs"]]
    assert statuses[0] == "ok" and statuses[-1] == "interrupted"
    # Nothing of the comparison is left running: not the harness's session, not any run's group.
    time.sleep(0.3)
    leftover = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert leftover == []
    for pid in pids.read_text().split():
        leftover = subprocess.run(["pgrep", "-g", pid], capture_output=True, text=True).stdout.split()
        assert leftover == [], "run process group %s still has %s" % (pid, leftover)
    # What a resume then runs is the comparison loop's business: test_comparison.py.
    assert "--out %s to resume" % (tmp_path / "out") in err


def test_until_stable_stops_early(tmp_path):
    proc = compare(tmp_path, "--variant", "gpu:device=gpu", "--epochs", "50", "--until-stable")
    assert proc.returncode == 0, proc.stderr
    (run,) = results(tmp_path)["runs"]
    assert run["status"] == "ok" and run["stopped_early"] == "stable"
    assert 4 <= len(run["parsed"]["epochs"]) < 50
    # The log says so itself: a report of the log alone tells the same story.
    log = tmp_path / "out" / run["log"]
    assert "theanogpu-stopped: {\"reason\": \"stable\"}" in log.read_text().splitlines()[-1]
    again = subprocess.run([sys.executable, "-m", "theanogpu", "report", str(log)], capture_output=True, text=True)
    assert "stopped early" in again.stdout


def test_dry_run_shows_command_environment_and_config(tmp_path):
    proc = compare(tmp_path, "--dry-run", "--epochs", "1")
    assert proc.returncode == 0, proc.stderr
    assert "THEANO_FLAGS=" in proc.stdout and "THEANORC=" in proc.stdout and "[lib]" in proc.stdout
    assert "lib.cnmem=0.8" in proc.stdout
    assert not (tmp_path / "out").exists()


def test_unwritable_out_is_a_clear_error_before_anything_runs(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script", str(STUB),
            "--out", str(blocker / "sub")]
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "--out" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_missing_stack_interpreter_is_a_clear_error(tmp_path):
    stacks_ini = tmp_path / "stacks.ini"
    stacks_ini.write_text("[ancient]\npython = 2.5\nrequirements = theano==0.7\n")
    proc = compare(tmp_path, "--stack", "ancient", env={"THEANOGPU_STACKS": str(stacks_ini),
                                                        "THEANOGPU_HOME": str(tmp_path / "home")})
    assert proc.returncode == 2
    assert "2.5" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, fragment", [
    (["--repeat", "0"], "--repeat"),
    (["--timeout", "soon"], "--timeout"),
    (["--format", "pdf"], "--format"),
    (["--matrix", "/no/such/matrix.ini"], "--matrix"),
    (["--variant", "broken"], "--variant"),
    (["--stack", "theano07"], "theano07"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, fragment):
    argv = [sys.executable, "-m", "theanogpu", "compare", "--script", str(STUB), "--out", str(tmp_path / "o"),
            *args]
    proc = subprocess.run(argv, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr and "Traceback" not in proc.stderr


def test_error_lines_keep_the_headline_a_stack_dump_pushed_out():
    from theanogpu.run import error_lines

    tail = ["Fatal Python error: PyEval_SaveThread: NULL tstate", ""] + ['  File "f.py", line %d' % i for i in range(9)]
    lines = error_lines(tail, "Fatal Python error: PyEval_SaveThread: NULL tstate")
    assert lines[0].startswith("Fatal Python error") and len(lines) == 6
    assert error_lines(["a", "ValueError: x"], "ValueError: x") == ["a", "ValueError: x"]


@pytest.mark.parametrize("mode, status", [("", 0), ("crash", 1)])
def test_a_reader_that_goes_away_costs_no_run_and_keeps_the_status(tmp_path, mode, status):
    """`compare ... 2>&1 | head -2`: every run still runs, results.json is complete, the status is true."""
    argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script", str(STUB),
            "--out", str(tmp_path / "out"), "--epochs", "2"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, STUB_MODE=mode))
    first = [proc.stdout.readline() for _ in range(2)]
    proc.stdout.close()  # the reader goes away before the first run ended
    assert proc.wait(timeout=120) == status
    assert b"runs, output in" in first[0]
    runs = results(tmp_path)["runs"]
    assert [run["variant"] for run in runs] == ["cpu", "gpu", "gpu-cnmem"]
    assert all(run["status"] == ("ok" if not mode else "failed") for run in runs)


def test_the_log_follows_the_run_as_it_prints(tmp_path):
    """`tail -f` on a run's log: each line is there within half a second of being printed."""
    argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script", str(STUB),
            "--out", str(tmp_path / "out"), "--epochs", "1", "--variant", "cpu:device=cpu", "--timeout", "20"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, STUB_MODE="hang"))
    log = tmp_path / "out" / ("cpu@%s.log" % sys.executable.strip("/").replace("/", "_"))
    deadline = time.monotonic() + 15
    seen = ""
    while time.monotonic() < deadline and "Epoch 1/1" not in seen:
        time.sleep(0.1)
        seen = log.read_text() if log.exists() else ""
    try:
        assert "Epoch 1/1" in seen and proc.poll() is None  # printed, logged, while the run still hangs
        assert seen.splitlines()[0].startswith("[     0.000 m] theanogpu-run: {")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def _compare_argv(tmp_path, *args):
    return [sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script", str(STUB),
            "--out", str(tmp_path / "out"), *args]


def test_two_compares_on_one_out_the_second_is_told_and_changes_nothing(tmp_path):
    first = subprocess.Popen(_compare_argv(tmp_path, "--variant", "cpu:device=cpu", "--epochs", "1",
                                           "--timeout", "30"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=dict(os.environ, STUB_MODE="hang"))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (tmp_path / "out" / "results.json").exists():
            time.sleep(0.1)
        before = (tmp_path / "out" / "results.json").read_bytes()
        second = subprocess.run(_compare_argv(tmp_path, "--epochs", "1"), capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and second.stderr.count("\n") == 1, second.stderr
        assert "in use by another theanogpu compare (pid %d" % first.pid in second.stderr
        assert (tmp_path / "out" / "results.json").read_bytes() == before
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    # The lock goes with the process: the next compare resumes normally.
    again = subprocess.run(_compare_argv(tmp_path, "--variant", "cpu:device=cpu", "--epochs", "1"),
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("plant", ["symlink", "fifo"])
def test_a_link_or_fifo_at_a_log_path_is_refused_not_followed(tmp_path, plant):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    log = out / ("cpu@%s.log" % sys.executable.strip("/").replace("/", "_"))
    if plant == "symlink":
        log.symlink_to(victim)
    else:
        os.mkfifo(str(log))
    proc = subprocess.run(_compare_argv(tmp_path, "--variant", "cpu:device=cpu", "--epochs", "1"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert ("a symbolic link" if plant == "symlink" else "a FIFO") in proc.stderr
    assert victim.read_text() == "precious\n"


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_results_stay_valid(tmp_path):
    """--out on a 56 MB tmpfs (in a private mount namespace; compare wants 50 MB free to start): the first
    run's 30 MB log fits, the second's fills the disk."""
    if not shutil.which("unshare") or subprocess.run(["unshare", "-rm", "true"]).returncode != 0:
        pytest.skip("no mount namespace here for a small tmpfs")
    small = tmp_path / "small"
    small.mkdir()
    argv = _compare_argv(small.parent, "--epochs", "1", "--variant", "a:device=cpu", "--variant", "b:device=cpu")
    argv[argv.index("--out") + 1] = str(small / "out")
    script = ("mount -t tmpfs -o size=56m none %s && %s; echo status=$?; cat %s/out/results.json"
              % (small, " ".join(shlex.quote(a) for a in argv), small))
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, STUB_MODE="", STUB_LINES="300000"))
    assert "status=1" in proc.stdout, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "disk full: cannot write" in proc.stderr and "free" in proc.stderr
    record = json.loads(proc.stdout.split("status=1", 1)[1])
    assert [(run["variant"], run["status"]) for run in record["runs"]] == [("a", "ok")]


@pytest.mark.parametrize("delay", [0.05, 0.4, 1.0, 1.6])
def test_ctrl_c_at_any_moment_is_130_without_a_traceback(tmp_path, delay):
    # The delay counts from when theanogpu is up: a Ctrl-C in the interpreter's own start-up is Python's.
    proc = start_cli(_compare_argv(tmp_path, "--epochs", "2")[3:], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode in (130, 0), err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    path = tmp_path / "out" / "results.json"
    if path.exists():
        json.loads(path.read_text())  # never half-written


def test_very_long_names_make_valid_file_names(tmp_path):
    venv = tmp_path / ("v" * 120) / ("w" * 120)
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    name = "n" * 90
    proc = subprocess.run([sys.executable, "-m", "theanogpu", "compare", "--stack", str(venv / "python"),
                           "--script", str(STUB), "--out", str(tmp_path / "out"), "--epochs", "1",
                           "--variant", "%s:device=cpu" % name], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (run,) = results(tmp_path)["runs"]
    assert run["variant"] == name and len(run["log"].encode()) <= 210 and (tmp_path / "out" / run["log"]).is_file()


SCRIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "scripts"


@pytest.mark.parametrize("script, measure", [("dlt_style.py", "epoch"), ("tqdm_style.py", "epoch"),
                                             ("loop_style.py", "epoch")])
def test_loops_that_are_not_keras_get_rows_with_a_time_and_a_speedup(tmp_path, script, measure):
    argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script",
            str(SCRIPTS / script), "--out", str(tmp_path / "out"), "--epochs", "3", "--format", "json",
            "--variant", "cpu:device=cpu", "--variant", "fast:device=gpu"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["measure"] == measure
    cpu, fast = report["rows"]
    assert cpu["epochs"] == 3 and cpu["seconds_per_epoch"] > 0 and cpu["wall_seconds"] > 0
    assert fast["speedup"] is not None and fast["speedup"] > 1.3  # the script is twice as fast "on the GPU"


def test_a_loop_that_prints_only_its_total_is_compared_on_that_time(tmp_path):
    script = tmp_path / "total_only.py"
    script.write_text("import os, time\n"
                      "t = 0.4 if 'device=cpu' in os.environ.get('THEANO_FLAGS', '') else 0.1\n"
                      "time.sleep(t)\n"
                      "print('Looping 100 times took %f seconds' % t)\n"
                      "print('Used the cpu' if t > 0.2 else 'Used the gpu')\n")
    argv = [sys.executable, "-m", "theanogpu", "compare", "--stack", sys.executable, "--script", str(script),
            "--out", str(tmp_path / "out"), "--variant", "cpu:device=cpu", "--variant", "gpu:device=gpu"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "speedup by the loop time the scripts printed (not every run has epoch times) vs cpu" in text
    assert "4.00x" in text
    # The report of the same logs says the same: ok, not "FAILED: no completed epoch".
    logs = sorted(str(p) for p in (tmp_path / "out").glob("*.log"))
    again = subprocess.run([sys.executable, "-m", "theanogpu", "report", *logs], capture_output=True, text=True)
    assert again.returncode == 0 and "FAILED" not in again.stdout and "4.00x" in again.stdout
