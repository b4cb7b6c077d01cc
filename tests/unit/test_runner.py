"""The process runner, with real processes: timestamps, streams, timeouts, stops, process groups."""

import os
import sys
import textwrap
import threading
import time

from theanogpu.run.runner import StopFlag, group_alive, run_process


def script(tmp_path, body):
    path = tmp_path / "child.py"
    path.write_text(textwrap.dedent(body))
    return [sys.executable, "-u", str(path)]


def collect(argv, **kwargs):
    lines = []
    outcome = run_process(argv, dict(os.environ), lambda t, s, x: lines.append((t, s, x)), **kwargs)
    return outcome, lines


def test_lines_are_streamed_with_stream_and_increasing_time(tmp_path):
    argv = script(tmp_path, """
        import sys, time
        print("Epoch 1/2")
        sys.stderr.write("Using gpu device 0: X (CNMeM is disabled, cuDNN 5105)\\n")
        time.sleep(0.2)
        sys.stdout.write("\\r10/10 [====] - 0s\\b\\bno newline at end")
    """)
    outcome, lines = collect(argv)
    assert outcome.status == "ok" and outcome.exit_code == 0
    texts = [(s, x) for _, s, x in lines]
    assert ("o", "Epoch 1/2") in texts
    assert ("e", "Using gpu device 0: X (CNMeM is disabled, cuDNN 5105)") in texts
    assert ("o", "\r10/10 [====] - 0s\b\bno newline at end") in texts
    times = [t for t, _, _ in lines]
    assert times == sorted(times)
    assert times[-1] - times[0] >= 0.15


def test_crash_is_failed_with_the_last_lines(tmp_path):
    argv = script(tmp_path, """
        raise RuntimeError("boom in training")
    """)
    outcome, _ = collect(argv)
    assert outcome.status == "failed" and outcome.exit_code == 1
    assert any("boom in training" in line for line in outcome.tail)


def test_timeout_kills_the_whole_group(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    argv = script(tmp_path, """
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open(%r, "w").write(str(child.pid))
        print("started", flush=True)
        time.sleep(60)
    """ % str(pidfile))
    started = time.monotonic()
    outcome, lines = collect(argv, timeout=1.5)
    assert outcome.status == "timeout"
    assert time.monotonic() - started < 10
    grandchild = int(pidfile.read_text())
    time.sleep(0.2)
    assert not _alive(grandchild)


def test_stop_flag_interrupts_and_leaves_no_process(tmp_path):
    argv = script(tmp_path, """
        import os, time
        print(os.getpgrp(), flush=True)
        time.sleep(60)
    """)
    stop = StopFlag()
    threading.Timer(0.8, stop.set).start()
    outcome, lines = collect(argv, stop=stop)
    assert outcome.status == "interrupted"
    pgid = int(lines[0][2])
    assert not group_alive(pgid)


def test_leftover_children_are_reaped_after_a_normal_exit(tmp_path):
    pidfile = tmp_path / "orphan.pid"
    argv = script(tmp_path, """
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open(%r, "w").write(str(child.pid))
    """ % str(pidfile))
    outcome, _ = collect(argv)
    assert outcome.status == "ok"
    time.sleep(0.2)
    assert not _alive(int(pidfile.read_text()))


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_chatty_orphan_holding_the_pipes_does_not_keep_the_run_going(tmp_path):
    pidfile = tmp_path / "chatty.pid"
    argv = script(tmp_path, """
        import subprocess, sys
        # Inherits stdout and writes to it all the time, long after its parent has exited.
        child = subprocess.Popen([sys.executable, "-c",
                                  "import sys, time\\nwhile True:\\n    sys.stdout.write('x\\\\n'); "
                                  "sys.stdout.flush(); time.sleep(0.01)"])
        open(%r, "w").write(str(child.pid))
        print("parent done")
    """ % str(pidfile))
    start = time.monotonic()
    outcome, lines = collect(argv, timeout=30)
    assert outcome.status == "ok" and time.monotonic() - start < 10
    assert any(text == "parent done" for _, _, text in lines)
    time.sleep(0.2)
    assert not _alive(int(pidfile.read_text()))
