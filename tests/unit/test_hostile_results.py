"""A results.json is input like any other: wrong types, odd values and hostile strings in any field.

Whatever a file holds, `report` ends with an exit status and lines, never a traceback; a field of
the wrong type is named (file, run, field) and the other inputs are still reported; and no string
from a file can become markup, a formula or a terminal command in any format.
"""

import contextlib
import copy
import csv
import io
import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theanogpu.cli import main
from theanogpu.report import FORMATS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RESULTS = FIXTURES / "golden" / "results.json"
LOG = FIXTURES / "classic" / "cpu.log"
VALID = json.loads(RESULTS.read_text(encoding="utf-8"))


def run_report(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["report", *map(str, args)])
    return code, out.getvalue(), err.getvalue()


def write(path, record):
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


# ------------------------------------------------------------------------ wrong types, named

WRONG = [
    ({"stack": 5}, '"stack" must be a string or null, found a number'),
    ({"parsed": {"epochs": 5}}, '"parsed.epochs" must be a list, found a number'),
    ({"error": [1, 2]}, '"error[0]" must be a string, found a number'),
    ({"parsed": {"gpu_name": ["x"]}}, '"parsed.gpu_name" must be a string or null, found a list'),
    ({"parsed": {"epochs": [{"seconds": "fast"}]}}, '"parsed.epochs[0].seconds" must be a number or null'),
    ({"repeat": True}, '"repeat" must be a whole number, found true/false'),
    ({"flags": {"device": 1}}, '"flags.device" must be a string, found a number'),
    ({"parsed": {"cnmem": {"fraction": "80%"}}}, '"parsed.cnmem.fraction" must be a number or null'),
]


@pytest.mark.parametrize("change,words", WRONG, ids=[json.dumps(c) for c, _ in WRONG])
def test_a_field_of_the_wrong_type_is_named_and_the_other_inputs_still_reported(tmp_path, change, words):
    record = copy.deepcopy(VALID)
    run = record["runs"][1]
    for key, value in change.items():
        if key == "parsed":
            run["parsed"].update(value)
        else:
            run[key] = value
    bad = write(tmp_path / "results.json", record)
    code, out, err = run_report(bad, LOG)
    assert code == 2
    assert err.count("\n") == 1 and str(bad) in err and "run 2 (gpu)" in err and words in err, err
    assert "please report" not in err
    assert out.splitlines()[1].startswith("cpu ")  # the log is still reported


def json_values():
    scalars = (st.none() | st.booleans() | st.integers(min_value=-(10 ** 30), max_value=10 ** 30)
               | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
               | st.sampled_from(["nan", "inf", "-inf", "", "ok", "failed", "cpu", "gpu", "-1.5", "=1+1"]))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def paths(value, prefix=()):
    """Every place in *value* a mutation can hit: each key and list index, at any depth."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, prefix + (index,))
    return found


PATHS = paths(VALID)
NAMED_KEYS = sorted({key for path in PATHS for key in path if isinstance(key, str)})


def mutate(record, path, value):
    """Set the field at *path* to *value*; the sentinel DELETE removes it."""
    target = record
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


DELETE = object()

mutation = st.tuples(st.sampled_from(PATHS), json_values() | st.just(DELETE))
# A new key where the readers look for it: a field the fixture happens not to have.
insertion = st.tuples(st.sampled_from([p for p in PATHS if isinstance(p[-1], str)]),
                      st.sampled_from(NAMED_KEYS + ["skip_reason", "stopped_early", "origin", "host"]), json_values())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=3), st.lists(insertion, max_size=2))
def test_no_mutation_of_a_results_file_makes_any_format_crash(mutations, insertions):
    record = copy.deepcopy(VALID)
    for path, value in mutations:
        with contextlib.suppress(KeyError, IndexError, TypeError):
            mutate(record, path, value)
    for path, key, value in insertions:
        with contextlib.suppress(KeyError, IndexError, TypeError):
            target = record
            for step in path:
                target = target[step]
            if isinstance(target, dict):
                target[key] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.json"
        path.write_text(json.dumps(record, allow_nan=True), encoding="utf-8")
        for fmt in FORMATS:
            code, out, err = run_report("--format", fmt, path)  # an exception here fails the test
            assert code in (0, 2), (fmt, code, err)
            assert "please report" not in err, err
            assert err.count("\n") <= 1, err
            if code == 0:
                assert out


# --------------------------------------------------------------- hostile strings in every field

PAYLOAD = ("<script>alert(1)</script><img src=x onerror=alert(2)>\n- item\n# head | cell | "
           "[link](javascript:alert(3)) ![i](x) *em* _u_ `code` ~~s~~ $x$ &amp; \x1b]0;pwned\x07\x1b[2K\x1b[1A\r\t\x9b")
def _get(record, path):
    for step in path:
        record = record[step]
    return record


def _general(path):
    """A field's place in any run: the run index becomes "*", any other list index 0."""
    return tuple("*" if i == 1 and path[0] == "runs" else (0 if isinstance(step, int) else step)
                 for i, step in enumerate(path))


# Every string field of the fixture, and the string fields it happens to leave null or out.
HOSTILE_FIELDS = sorted({_general(path) for path in PATHS if isinstance(_get(VALID, path), str)} | {
    ("runs", "*", "skip_reason"), ("runs", "*", "stopped_early"), ("runs", "*", "origin"),
    ("runs", "*", "notes", 0), ("runs", "*", "error", 0), ("runs", "*", "parsed", "gpu_name"),
    ("runs", "*", "parsed", "cudnn"), ("runs", "*", "parsed", "fallback_reason"), ("runs", "*", "parsed", "error"),
    ("runs", "*", "parsed", "last_exception"), ("runs", "*", "parsed", "data", "kind"),
    ("runs", "*", "parsed", "warnings", 0), ("runs", "*", "parsed", "gpu_devices", 0, "name"),
}, key=str)


FORMULA = PAYLOAD + "\n=cmd|' /C calc'!A0"
# The same text without markup: same length, same line breaks, so the report has the same shape.
TAME = re.sub(r"[^\w\s]", "x", FORMULA)


def _put(target, path, payload):
    """Set *path* under *target*, making the objects and one-item lists on the way."""
    for step, after in zip(path, path[1:]):
        if isinstance(target, list):
            while len(target) <= step:
                target.append(None)
        if target[step] is None if isinstance(target, list) else not isinstance(target.get(step), (dict, list)):
            target[step] = [] if isinstance(after, int) else {}
        target = target[step]
    if isinstance(target, list):
        while len(target) <= path[-1]:
            target.append("")
    target[path[-1]] = payload


def hostile(field, payload=FORMULA):
    """The fixture with *payload* in *field* (in every run for "*"), one more run failed to show its error."""
    record = copy.deepcopy(VALID)
    if field[0] == "runs":
        for run in record["runs"]:
            if field[2] == "parsed" and run.get("parsed") is None:
                continue
            _put(run, field[2:], payload)
    else:
        _put(record, field, payload)
    record["runs"][2]["status"] = "failed"
    return record


def render_all(tmp_path, record):
    path = write(tmp_path / "results.json", record)
    outputs = {}
    for fmt in ("markdown", "csv", "text"):
        code, out, err = run_report("--format", fmt, path)
        assert code == 0, err
        outputs[fmt] = out
    return outputs


def markdown_html(text):
    from markdown_it import MarkdownIt

    # A CommonMark renderer that passes raw HTML through, as the reproduction did.
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(text)


@pytest.mark.parametrize("field", HOSTILE_FIELDS, ids=lambda p: ".".join(map(str, p)))
def test_a_hostile_string_in_any_field_stays_text_in_markdown_csv_and_text(tmp_path, field):
    outputs = render_all(tmp_path, hostile(field))
    benign = render_all(tmp_path, hostile(field, TAME))
    html = markdown_html(outputs["markdown"])
    for tag in ("<script", "<img", "<a ", "<h1", "<del>", "<s>"):
        assert tag not in html, (tag, html)
    plain = markdown_html(benign["markdown"])
    # No new rows, list items, tables, code blocks, emphasis or code spans: only the report's own.
    for tag in ("<tr>", "<li>", "<table>", "<pre>", "<em>", "<strong>", "<code>", "<ul>", "<p>"):
        assert html.count(tag) == plain.count(tag), tag
    for fmt in ("markdown", "text"):
        assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f]", outputs[fmt]), fmt
    rows = list(csv.reader(io.StringIO(outputs["csv"])))
    assert {len(row) for row in rows} == {len(rows[0])}
    for row in rows:
        for cell in row:
            assert not re.match(r"[=+\-@\t\r]", cell) or re.fullmatch(r"[+-]?[0-9.]+(e[+-]?\d+)?", cell), cell
