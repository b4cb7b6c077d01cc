"""Every real log in tests/fixtures/logs parses to the values in its expected.json (README's rules)."""

import json
from pathlib import Path

import pytest

from theanogpu.logparse import CONTRACT_FIELDS, parse_lines, parse_path

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
EXPECTED = json.loads((LOGS / "expected.json").read_text(encoding="utf-8"))


def _norm(name):
    return " ".join(name.split()).lower() if isinstance(name, str) else name


def check(result, expected):
    """The comparison README.md describes: one message per mismatch."""
    problems = []
    cnmem = result["cnmem"] or {}
    got = {
        "device_used": result["device_used"],
        "gpu_name": result["gpu_name"],
        "cnmem_enabled": cnmem.get("enabled"),
        "cnmem_fraction": cnmem.get("fraction"),
        "cnmem_megabytes": cnmem.get("megabytes"),
        "cudnn": result["cudnn"],
        "fallback": result["fallback"],
        "epoch_seconds": [e["seconds"] for e in result["epochs"]],
    }
    for field, want in expected.items():
        if field.startswith("_"):
            continue
        have = got[field]
        if field == "gpu_name":
            ok = _norm(have) == _norm(want)
        elif field in ("cnmem_fraction", "cnmem_megabytes"):
            tolerance = 0.005 if field == "cnmem_fraction" else 0.5
            ok = (want is None and have is None) or (want is not None and have is not None
                                                     and abs(have - want) <= tolerance)
        elif field == "cudnn":
            ok = (want is None and have is None) or (
                want is not None and have is not None and have.strip() == want.strip())
        elif field == "epoch_seconds":
            ok = len(have) == len(want) and all(
                (w is None and h is None) or (w is not None and h is not None and abs(h - w) <= 0.5)
                for h, w in zip(have, want))
        else:
            ok = have == want
        if not ok:
            problems.append("%s: expected %r, got %r" % (field, want, have))
    return problems


def test_every_log_has_expectations():
    logs = sorted(p.name for p in LOGS.glob("*.log"))
    assert len(logs) == 27
    assert logs == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_to_expected(name):
    result = parse_path(LOGS / name)
    assert check(result, EXPECTED[name]) == []
    for field in CONTRACT_FIELDS:
        assert field in result
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_same_result_from_lines_as_from_bytes(name):
    path = LOGS / name
    with open(path, encoding="utf-8", newline="") as handle:
        from_lines = parse_lines(handle, source=str(path))
    assert from_lines == parse_path(path)


def test_the_checker_itself_catches_a_wrong_value():
    result = parse_path(LOGS / "theano08_gtx960_cnmem_disabled_cudnn5005.log")
    wrong = dict(EXPECTED["theano08_gtx960_cnmem_disabled_cudnn5005.log"], cudnn="5105", gpu_name="GTX 970")
    assert len(check(result, wrong)) == 2


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e.get("epoch_seconds")))
def test_every_fixture_epoch_keeps_its_metrics(name):
    for epoch in parse_path(LOGS / name)["epochs"]:
        assert "loss" in epoch["metrics"], epoch


def test_fixture_metrics_values():
    result = parse_path(LOGS / "keras23_verbose2_leading_dash_accuracy_mnist_cpu.log")
    assert result["epochs"][0]["metrics"] == {"loss": 0.2349, "accuracy": 0.9284, "val_loss": 0.0476,
                                              "val_accuracy": 0.9844}
    assert (result["epochs"][-1]["epoch"], result["epochs"][-1]["of"]) == (10, 10)
