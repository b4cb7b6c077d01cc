"""results.json: schema 1 records, atomic save, load with clear one-line errors, merge."""

import json
import os
from pathlib import Path

import pytest

from theanogpu import hostinfo, results
from theanogpu.errors import UserError

HOST = {"hostname": "lab1", "cpu": "Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz", "gpus": ["GeForce GTX 1060"]}


def run(variant="gpu", stack="theano08", repeat=1, status="ok", seconds=(20.0, 20.0)):
    return {"variant": variant, "stack": stack, "flags": {"device": "gpu"}, "repeat": repeat, "status": status,
            "exit_code": 0, "wall_seconds": 60.0, "log": "%s@%s.log" % (variant, stack),
            "parsed": {"device_used": "gpu", "epochs": [{"epoch": i + 1, "of": len(seconds), "seconds": s}
                                                        for i, s in enumerate(seconds)]}}


def test_new_results_is_schema_1_with_host_and_utc_time():
    record = results.new_results(HOST)
    assert record["schema"] == 1 and record["host"] == HOST and record["runs"] == []
    assert record["created"].endswith("Z") and len(record["created"]) == len("2026-01-01T12:00:00Z")


def test_new_results_without_host_describes_this_machine():
    host = results.new_results()["host"]
    assert host["hostname"] and host["cpu"] and isinstance(host["gpus"], list)


def test_save_then_load_round_trips(tmp_path):
    path = tmp_path / "results.json"
    record = results.add_run(results.new_results(HOST), run())
    results.save(path, record)
    loaded = results.load(path)
    assert loaded["runs"] == record["runs"] and loaded["host"] == HOST
    assert path.read_text().endswith("}\n")
    # Nothing left behind from the atomic replace.
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_save_writes_strict_json_even_with_a_diverged_loss(tmp_path):
    record = results.new_results(HOST)
    bad = run()
    bad["parsed"]["epochs"][0]["metrics"] = {"loss": float("nan"), "acc": float("inf")}
    results.save(tmp_path / "r.json", results.add_run(record, bad))

    def refuse(constant):
        raise AssertionError("non-standard JSON constant %s" % constant)

    strict = json.loads((tmp_path / "r.json").read_text(), parse_constant=refuse)
    assert strict["runs"][0]["parsed"]["epochs"][0]["metrics"] == {"loss": "nan", "acc": "inf"}


def test_save_replaces_atomically_and_keeps_the_old_file_on_bad_record(tmp_path):
    path = tmp_path / "results.json"
    results.save(path, results.add_run(results.new_results(HOST), run()))
    before = path.read_text()
    with pytest.raises(results.ResultsError):
        results.save(path, {"schema": 1, "runs": [{"status": "ok"}]})
    assert path.read_text() == before


def test_replace_run_replaces_the_same_variant_stack_repeat_and_appends_others():
    record = results.new_results(HOST)
    results.replace_run(record, run(status="interrupted"))
    results.replace_run(record, run(repeat=2))
    results.replace_run(record, run(status="ok"))
    assert [(r["repeat"], r["status"]) for r in record["runs"]] == [(1, "ok"), (2, "ok")]


def write(tmp_path, text, name="results.json"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, words", [
    ('{"schema": 2, "runs": []}', ["schema 2", "reads schema 1", "upgrade"]),
    ('{"schema": "1", "runs": []}', ["schema '1'"]),
    ('{"runs": []}', ['no "schema"']),
    ("[1, 2]", ["expected a JSON object"]),
    ('{"schema": 1, "runs": {}}', ['"runs" must be a list']),
    ('{"schema": 1, "runs": [{"variant": "cpu"}]}', ['run 1 (cpu) has no "status"']),
    ('{"schema": 1, "runs": [{"status": "ok"}]}', ['run 1 has no "variant"']),
    ('{"schema": 1, "runs": [1]}', ["run 1 is not a JSON object"]),
    ('{"schema": 1, "runs": [], "host": "x"}', ['"host" must be an object']),
    ('{"schema": 1, "runs": [}', ["not valid JSON", "line 1"]),
])
def test_load_rejects_other_files_with_one_line_naming_the_file(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as info:
        results.load(path)
    message = str(info.value)
    assert message.startswith(str(path) + ":") and "\n" not in message
    for word in words:
        assert word in message


def test_load_says_truncated_for_a_file_cut_mid_way(tmp_path):
    full = results.dumps(results.add_run(results.new_results(HOST), run()))
    path = write(tmp_path, full[: len(full) // 2])
    with pytest.raises(results.ResultsError, match=r"results\.json: the JSON ends early at line \d+ \(truncated"):
        results.load(path)


@pytest.mark.parametrize("make, words", [
    (lambda d: d / "missing.json", "no such file"),
    (lambda d: d, "is a directory"),
])
def test_load_missing_or_directory(tmp_path, make, words):
    with pytest.raises(results.ResultsError, match=words):
        results.load(make(tmp_path))


def test_load_binary_file(tmp_path):
    path = tmp_path / "results.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(results.ResultsError, match="not UTF-8"):
        results.load(path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_load_unreadable_file(tmp_path):
    path = write(tmp_path, "{}")
    path.chmod(0)
    with pytest.raises(results.ResultsError, match="permission denied"):
        results.load(path)


def test_load_or_new_starts_fresh_but_never_replaces_a_broken_file(tmp_path):
    fresh = results.load_or_new(tmp_path / "results.json", host=HOST)
    assert fresh["runs"] == [] and fresh["host"] == HOST
    broken = write(tmp_path, '{"schema": 1, "runs": [')
    with pytest.raises(results.ResultsError):
        results.load_or_new(broken)
    assert broken.read_text() == '{"schema": 1, "runs": ['


def test_nvidia_smi_list_parsing():
    text = ("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0b1c2d3e-aaaa-bbbb-cccc-0123456789ab)\n"
            "GPU 1: GeForce GTX 1060 6GB (UUID: GPU-12345678)\n"
            "  MIG 1g.10gb Device 0: (UUID: MIG-1234)\n")
    assert hostinfo.parse_nvidia_smi_list(text) == ["NVIDIA H100 80GB HBM3", "GeForce GTX 1060 6GB"]


def test_cpu_model_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU E5-2686 v4\n")
    assert hostinfo.cpu_model(info) == "Intel(R) Xeon(R) CPU E5-2686 v4"
    assert hostinfo.cpu_model(Path(tmp_path / "none"))  # falls back to the platform module


def test_every_cut_of_a_results_file_is_reported_as_truncated():
    full = results.dumps(results.add_run(results.new_results(HOST), run(seconds=(20.5, -1e-5))))
    for end in range(1, len(full.rstrip())):
        with pytest.raises(results.ResultsError, match="truncated"):
            results.loads(full[:end], "results.json")
