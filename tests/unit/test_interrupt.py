"""Ctrl-C at any moment of `config`, `parse`, `report`, `stack` and `doctor`: exit 130, one line, no
traceback, and every file either as it was or wholly written.

(`compare`'s own run loop handles Ctrl-C itself: tests/unit/test_comparison.py.)
"""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import cli_env, start_cli

from theanogpu.cli import COMMANDS

LOG = Path(__file__).resolve().parents[1] / "fixtures" / "classic" / "cpu.log"

# Makes the import of one command module raise KeyboardInterrupt, as Ctrl-C during that import would.
INTERRUPT_IMPORT = textwrap.dedent("""
    import sys
    class Interrupt:
        def find_spec(self, name, path=None, target=None):
            if name == "theanogpu.commands." + sys.argv[1]:
                raise KeyboardInterrupt
    sys.meta_path.insert(0, Interrupt())
    from theanogpu.cli import main
    sys.exit(main())
""")


@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_while_the_command_module_loads_is_exit_130_without_traceback(tmp_path, command):
    proc = subprocess.run([sys.executable, "-c", INTERRUPT_IMPORT, command, "--help"], env=cli_env(tmp_path),
                          capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == "theanogpu: error: interrupted\n"


# `python -m theanogpu` with a Ctrl-C that lands in code compiled from a string (exec/eval: a dataclass
# or namedtuple being defined while a command module imports). CPython remembers such an interrupt even
# once caught, and at the exit of `-m` kills itself with SIGINT instead of exiting with our status.
INTERRUPT_IN_EXEC = textwrap.dedent("""
    import runpy
    from theanogpu import cli
    def interrupted(argv):
        exec("raise KeyboardInterrupt")
    cli._main = interrupted
    runpy.run_module("theanogpu", run_name="__main__")
""")


def test_ctrl_c_inside_code_compiled_from_a_string_still_exits_130(tmp_path):
    (tmp_path / "interrupt_in_exec.py").write_text(INTERRUPT_IN_EXEC)
    env = cli_env(tmp_path)
    env["PYTHONPATH"] += os.pathsep + str(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "interrupt_in_exec", "config"], env=env, capture_output=True,
                          text=True, timeout=60, cwd=str(tmp_path))
    assert (proc.returncode, proc.stderr) == (130, "theanogpu: error: interrupted\n")


def interrupt_after(args, home, delay):
    """Run `theanogpu ARGS`, send SIGINT *delay* seconds after it is up; (exit status, stderr)."""
    proc = start_cli(args, env=cli_env(home), cwd=str(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                     text=True)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


DELAYS = (0.005, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8)


def big_log(folder):
    log = folder / "big.log"
    text = LOG.read_text()
    log.write_text(text * 400)
    return log


def check(code, err, finished=0):
    """Interrupted (130, one line) or finished as it would have anyway (*finished*); no traceback."""
    assert "Traceback" not in err, err
    assert code in (finished, 130), (code, err)
    if code == 130:
        assert err.endswith("theanogpu: error: interrupted\n"), err


def test_ctrl_c_at_any_moment_of_config_write_leaves_the_old_file_or_the_new(tmp_path):
    target = tmp_path / ".theanorc"
    old = "[global]\nopenmp = False\n" + "".join("# padding %06d %s\n" % (i, "." * 1000) for i in range(3000))
    target.write_text(old)
    for delay in DELAYS:
        before = target.read_text()
        value = "True" if "openmp = False" in before else "False"
        code, err = interrupt_after(["config", "--theano", "0.8", "--set", "openmp=" + value, "--write"],
                                    tmp_path, delay)
        check(code, err)
        after = target.read_text()
        assert after == before or ("openmp = %s" % value in after and after.endswith(before[-2000:]))
        assert list(tmp_path.glob(".*.tmp")) == [], "a temporary file was left"
        for backup in tmp_path.glob(".theanorc.bak-*"):
            assert backup.read_text().startswith("[global]\nopenmp = ") and backup.stat().st_size > len(old) - 10


def test_ctrl_c_at_any_moment_of_report_output_leaves_no_partial_report(tmp_path):
    log = big_log(tmp_path)
    out = tmp_path / "report.csv"
    complete = subprocess.run([sys.executable, "-m", "theanogpu", "report", "--format", "csv", log],
                              env=cli_env(tmp_path), capture_output=True, text=True, timeout=120).stdout
    for delay in DELAYS:
        code, err = interrupt_after(["report", "--format", "csv", "--output", out, log], tmp_path, delay)
        check(code, err)
        assert not out.exists() or out.read_text() == complete
        assert list(tmp_path.glob(".*.tmp")) == []
        if out.exists():
            out.unlink()


@pytest.mark.parametrize("args", [["parse", "{log}"], ["parse", "--format", "json", "{log}"],
                                  ["stack", "list"], ["doctor", "--stack", sys.executable]],
                         ids=["parse", "parse-json", "stack-list", "doctor"])
def test_ctrl_c_at_any_moment_of_other_commands(tmp_path, args, home):
    log = big_log(tmp_path)
    args = [arg.format(log=log) for arg in args]
    finished = subprocess.run([sys.executable, "-m", "theanogpu", *args], env=cli_env(tmp_path), cwd=str(tmp_path),
                              capture_output=True, timeout=120).returncode
    for delay in DELAYS:
        code, err = interrupt_after(args, tmp_path, delay)
        check(code, err, finished)
