"""Every log in tests/fixtures/wild (real logs from issues and the frameworks' docs, and logs written
from the frameworks' sources) parses to its expected.json, compared as tests/fixtures/logs is, plus
``script_seconds`` (within 0.01 s) and ``epoch_origin`` (the origin of every epoch)."""

import json
from pathlib import Path

import pytest
from test_logparse_fixtures import check  # the comparison tests/fixtures/logs/README.md describes

from theanogpu.logparse import parse_lines, parse_path

WILD = Path(__file__).resolve().parents[1] / "fixtures" / "wild"
EXPECTED = json.loads((WILD / "expected.json").read_text(encoding="utf-8"))
EXTRA = ("script_seconds", "epoch_origin")


def check_wild(result, expected):
    problems = check(result, {k: v for k, v in expected.items() if k not in EXTRA})
    if "script_seconds" in expected:
        want, have = expected["script_seconds"], result["script_seconds"]
        if (want is None) != (have is None) or (want is not None and abs(have - want) > 0.01):
            problems.append("script_seconds: expected %r, got %r" % (want, have))
    if "epoch_origin" in expected:
        origins = sorted({e["origin"] for e in result["epochs"]})
        if origins != [expected["epoch_origin"]]:
            problems.append("epoch_origin: expected %r, got %r" % (expected["epoch_origin"], origins))
    return problems


def test_every_wild_log_has_expectations_and_a_source():
    logs = sorted(p.name for p in WILD.glob("*.log"))
    assert logs == sorted(EXPECTED)
    readme = (WILD / "README.md").read_text(encoding="utf-8")
    assert [name for name in logs if "`%s`" % name not in readme] == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_wild_log_parses_to_expected(name):
    result = parse_path(WILD / name)
    assert check_wild(result, EXPECTED[name]) == []
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_wild_log_same_result_from_lines(name):
    path = WILD / name
    with open(path, encoding="utf-8", newline="") as handle:
        assert parse_lines(handle, source=str(path)) == parse_path(path)


def test_the_wild_checker_catches_wrong_extras():
    result = parse_path(WILD / "dlt_logreg_doc_epochs_per_sec_total.log")
    wrong = dict(EXPECTED["dlt_logreg_doc_epochs_per_sec_total.log"], script_seconds=38.3, epoch_origin="loop")
    assert len(check_wild(result, wrong)) == 2
