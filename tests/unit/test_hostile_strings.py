"""Hostile strings from logs, names and matrix files: shown as text, never obeyed.

A terminal never receives an escape sequence from a file (text report, `parse`, error messages); a
CSV cell never starts a formula; a variant name, a flag or an environment value cannot add a line
to a log name, a generated file or `compare --dry-run`'s output (which people pipe to `sh`).
(results.json fields in every report format: test_hostile_results.py.)
"""

import csv
import io
import re
import subprocess
import sys
from html import unescape

import pytest
from conftest import cli_env

from theanogpu.cli import main
from theanogpu.textsafe import csv_cell, markdown, visible

ESCAPES = "\x1b]0;pwned\x07\x1b[2K\x1b[1A\x9b31m"
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
HOSTILE_LOG = ("Using Theano backend.\n"
               "Using gpu device 0: GeForce GTX 1060" + ESCAPES + " (CNMeM is enabled with initial size: 80.0% of "
               "memory, cuDNN 5105)\n"
               "Epoch 1/2\n50000/50000 [==============================] - 20s - loss: 1.5 - acc: 0.45\n"
               "Epoch 2/2\n50000/50000 [==============================] - 20s - loss: 1.2 - acc: 0.55\n")


def cli(capsys, *args):
    code = main(list(map(str, args)))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def hostile_log(tmp_path):
    log = tmp_path / ("gpu" + "\x1b[2J" + ".log")
    log.write_text(HOSTILE_LOG)
    return log


def test_parse_text_shows_escape_sequences_escaped(capsys, hostile_log):
    code, out, _ = cli(capsys, "parse", hostile_log)
    assert code == 0 and "gpu\\x1b[2J.log" in out and "GeForce GTX 1060" in out
    assert not CONTROL.search(out), out


def test_text_report_shows_escape_sequences_escaped(capsys, hostile_log):
    code, out, _ = cli(capsys, "report", hostile_log)
    assert code == 0 and "\\x1b" in out
    assert not CONTROL.search(out), out


def test_error_lines_that_quote_a_file_show_its_escapes_escaped(tmp_path):
    matrix = tmp_path / "m.ini"
    matrix.write_text("[cpu]\ndevice = cpu\nenv.A" + ESCAPES + " = 1\n")
    missing = tmp_path / ("no" + ESCAPES + ".log")
    for args in (["compare", "--dry-run", "--stack", sys.executable, "--matrix", matrix],
                 ["parse", missing], ["report", missing]):
        proc = subprocess.run([sys.executable, "-m", "theanogpu", *map(str, args)], env=cli_env(tmp_path),
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert "\\x1b" in proc.stderr and not CONTROL.search(proc.stderr.rstrip("\n")), proc.stderr


def test_parse_csv_neutralises_formulas(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "=HYPERLINK(evil).log"
    log.write_text(HOSTILE_LOG)
    code, out, _ = cli(capsys, "parse", "--format", "csv", log.name)
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[1][0] == "'=HYPERLINK(evil).log"
    assert rows[1][rows[0].index("loss")] == "1.5"


@pytest.mark.parametrize("text,cell", [("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"),
                                       ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
                                       ("-1.5", "-1.5"), ("+2", "+2"), ("1e-3", "1e-3"), ("-", "'-"),
                                       ("gpu", "gpu"), ("", "")])
def test_csv_cells_never_start_a_formula_but_numbers_stay_numbers(text, cell):
    assert csv_cell(text) == cell


@pytest.mark.parametrize("text", ["<script>", "a|b", "- x", "1. x", "# h", "[l](u)", "*e*", "`c`", "a\nb", "~~s~~"])
def test_markdown_escaping_round_trips_through_a_commonmark_renderer(text):
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).render("- " + markdown(text))
    assert html.count("<li>") == 1 and unescape(re.sub("<[^>]+>", "", html)).strip() == visible(text)


# ------------------------------------------------------------------------- names and values


REFUSED_VARIANTS = [
    ("cpu\n:device=cpu", "variant name"),
    ("a:device=cpu#x,floatX=float64", "unquoted '#'"),
    ("a:device=cpu,env.X=1\nrm -rf ~", "line break"),
    ("a:device=cpu,env.X=\x1b[2J", "control character"),
]


@pytest.mark.parametrize("spec,words", REFUSED_VARIANTS, ids=[repr(s) for s, _ in REFUSED_VARIANTS])
def test_a_variant_that_would_add_a_line_or_drop_a_flag_is_refused(tmp_path, spec, words):
    proc = subprocess.run([sys.executable, "-m", "theanogpu", "compare", "--dry-run", "--stack", sys.executable,
                           "--variant", spec], env=cli_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and words in proc.stderr, proc.stderr
    assert proc.stdout == ""


def test_a_quoted_hash_is_kept(capsys):
    code, out, err = cli(capsys, "compare", "--dry-run", "--stack", sys.executable, "--variant",
                         'a:device=cpu,base_compiledir="/tmp/x#1",floatX=float64')
    assert code == 0, err
    assert "floatX=float64" in out and "/tmp/x#1" in out


def test_a_matrix_continuation_line_cannot_reach_the_dry_run_output(tmp_path, capsys):
    matrix = tmp_path / "m.ini"
    matrix.write_text("[cpu]\ndevice = cpu\nenv.GREETING = hello\n  touch %s\n" % (tmp_path / "pwned"))
    code, _, err = cli(capsys, "compare", "--dry-run", "--stack", sys.executable, "--matrix", matrix)
    assert code == 2 and "env.GREETING" in err and "line break" in err


def test_dry_run_output_is_commands_and_comments_only(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "theanogpu", "compare", "--dry-run", "--stack", sys.executable,
                           "--variant", 'a:device=cpu,env.X="it\'s $HOME `id`; rm -rf ~ #"'], env=cli_env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 1 and lines[0].startswith("env ")
    # The one command line is a single, quoted shell command: `sh -n` parses it as one.
    assert subprocess.run(["sh", "-n", "-c", lines[0]]).returncode == 0


def test_config_backend_set_refuses_a_name_with_a_line_break(capsys):
    code, out, err = cli(capsys, "config", "--backend", "torch", "--set", "FOO\n=1")
    assert code == 2 and out == "" and "--set" in err
