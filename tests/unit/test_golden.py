"""Golden outputs: `parse`, `report` and `compare --dry-run` print exactly what they printed before.

The expected texts live in tests/golden/ (one file per case). They pin behaviour across internal
restructuring: a change that alters any of these outputs must be deliberate, and is made visible by
regenerating them (``THEANOGPU_UPDATE_GOLDEN=1 pytest tests/unit/test_golden.py``) and reviewing the
diff. Paths that depend on the machine or the test's temporary directories are replaced by
placeholders before comparing.
"""

import os
import sys
from pathlib import Path

import pytest

from theanogpu import cli
from theanogpu.childenv import RUN_VARS

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
LOGS = ROOT / "tests" / "fixtures" / "logs"
CLASSIC = ROOT / "tests" / "fixtures" / "classic"
RESULTS = ROOT / "tests" / "fixtures" / "golden" / "results.json"
UPDATE = os.environ.get("THEANOGPU_UPDATE_GOLDEN") == "1"


def _logs():
    return sorted(str(p.relative_to(ROOT)) for p in LOGS.glob("*.log"))


def _classic():
    return sorted(str(p.relative_to(ROOT)) for p in CLASSIC.glob("*.log"))


CASES = {
    "parse-json-fixture-logs": ["parse", "--format", "json", *_logs()],
    "parse-text-fixture-logs": ["parse", *_logs()],
    "parse-csv-classic": ["parse", "--format", "csv", *_classic()],
    "parse-text-requested-gpu": ["parse", "--requested", "gpu", *_classic()],
    "report-text-classic": ["report", *_classic()],
    "report-markdown-classic": ["report", "--format", "markdown", *_classic()],
    "report-csv-classic": ["report", "--format", "csv", *_classic()],
    "report-json-classic": ["report", "--format", "json", *_classic()],
    "report-html-classic": ["report", "--format", "html", *_classic()],
    "report-text-results": ["report", str(RESULTS.relative_to(ROOT))],
    "report-json-results": ["report", "--format", "json", str(RESULTS.relative_to(ROOT))],
    "report-markdown-results-and-logs": ["report", "--format", "markdown", "--baseline", "cpu@theano08",
                                         str(RESULTS.relative_to(ROOT)), *_classic()],
    "report-csv-fixture-logs": ["report", "--format", "csv", *_logs()],
    "compare-dry-run-default-theano": ["compare", "--dry-run", "--stack", "theano08", "--stack", "theano09",
                                       "--stack", "theano10", "--epochs", "2", "--samples", "256"],
    "compare-dry-run-cpu-gpu-all-stacks": ["compare", "--dry-run", "--matrix", "templates/cpu-gpu.ini",
                                           "--stack", "theano10", "--stack", "keras3-torch", "--stack",
                                           "keras3-jax", "--stack", "keras3-tf", "--repeat", "2"],
    "compare-dry-run-variants": ["compare", "--dry-run", "--stack", "theano10", "--stack", "keras3-jax",
                                 "--variant", "cpu64:device=cpu,floatX=float64",
                                 "--variant", "gpu-grow:device=gpu,memory=grow,threads=2",
                                 "--variant", "tf-only:device=gpu1,backends=tensorflow,env.FOO=bar baz",
                                 "--arg=--verbose", "--epochs", "1"],
}


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A cache, HOME and config dir of the test's own, and the repository as the working directory."""
    monkeypatch.setenv("THEANOGPU_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("THEANOGPU_STACKS", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    # A dry run lists what it takes out of the caller's environment: the developer's activated venv
    # or exported THEANO_FLAGS must not change the expected text.
    for name in RUN_VARS:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(ROOT)
    return tmp_path


def _normalise(text: str, sandbox: Path) -> str:
    text = text.replace(str(sandbox), "<tmp>")
    text = text.replace(str(ROOT), "<repo>")
    text = text.replace(sys.executable, "<python>")
    # --dry-run writes its config files into a fresh temporary directory.
    import re

    return re.sub(r"/[^\s'\"]*/theanogpu-dry-run-[A-Za-z0-9_]+", "<dry-run>", text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_output(name, sandbox, capsys):
    code = cli.main(list(CASES[name]))
    out, err = capsys.readouterr()
    text = "exit %d\n--- stdout\n%s--- stderr\n%s" % (code, _normalise(out, sandbox), _normalise(err, sandbox))
    path = GOLDEN / (name + ".txt")
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, "output of `theanogpu %s` changed; see tests/golden/%s.txt" % (
        " ".join(CASES[name][:3]), name)
