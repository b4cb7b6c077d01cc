"""The top-level command line: version, help, dispatch and exit codes (run as a real process)."""

import subprocess
import sys

import pytest

from theanogpu import __version__
from theanogpu.cli import COMMANDS


def run(*args):
    return subprocess.run([sys.executable, "-m", "theanogpu", *args], capture_output=True, text=True)


def test_version():
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == "theanogpu " + __version__


def test_help_lists_every_command():
    proc = run("--help")
    assert proc.returncode == 0
    for command in COMMANDS:
        assert "theanogpu " + command in proc.stdout


def test_each_command_has_help_with_examples():
    for command in COMMANDS:
        proc = run(command, "--help")
        assert proc.returncode == 0, (command, proc.stderr)
        assert "Usage:" in proc.stdout and "theanogpu " + command in proc.stdout
        assert "Examples:" in proc.stdout, command


def test_unknown_command_is_one_line_exit_2():
    proc = run("frobnicate")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "frobnicate" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_arguments_shows_usage_and_exits_2():
    proc = run()
    assert proc.returncode == 2
    assert "Usage:" in proc.stderr


def test_bad_option_is_usage_error_exit_2():
    proc = run("config", "--no-such-option")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [["compare", "--help"], ["--help"]])
def test_a_reader_that_stops_early_gets_no_traceback(args):
    """`theanogpu compare --help | head -1`: the pipe closes before the help is written."""
    proc = subprocess.Popen([sys.executable, "-m", "theanogpu", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err and proc.returncode in (0, -13)
