"""`theanogpu parse` as a real process: formats, bad inputs, stdin, exit codes."""

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
GTX960 = str(LOGS / "theano08_gtx960_cnmem_disabled_cudnn5005.log")
K80 = str(LOGS / "theano082_keras1_bad_device2_fallback_device0_k80_cnmem10_cudnn5005_10epochs.log")
NVCC = str(LOGS / "theano_nvcc_not_found_repl_mac.log")


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "theanogpu", "parse", *args], capture_output=True,
                          input=stdin, timeout=60)


def test_json_is_an_array_in_order_with_the_contract_fields():
    proc = run("--format", "json", K80, GTX960)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert [r["source"] for r in results] == [K80, GTX960]
    k80 = results[0]
    assert (k80["backend"], k80["device_used"], k80["gpu_name"], k80["cudnn"], k80["fallback"]) == (
        "theano", "gpu", "Tesla K80", "5005", True)
    assert k80["cnmem"] == {"enabled": True, "fraction": 0.1, "megabytes": None}
    assert k80["epochs"][0] == {"epoch": 1, "of": 10, "seconds": 205.0, "metrics": {"loss": 1.407, "acc": 0.6563},
                                "printed_seconds": 205.0, "seconds_per_step": None, "target": 215359,
                                "origin": "keras"}
    assert proc.stderr == b""


def test_format_json_with_equals_sign_too():
    proc = run("--format=json", GTX960)
    assert proc.returncode == 0 and json.loads(proc.stdout)[0]["gpu_name"] == "GeForce GTX 960"


def test_text_is_the_default_and_readable():
    proc = run(K80, NVCC)
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "== " + K80 in out and "== " + NVCC in out
    assert "Tesla K80" in out and "enabled, 10% of memory" in out and "5005" in out
    assert "10 of 10 completed; 205 s per epoch (median, first left out)" in out
    assert "FALLBACK: nvcc compiler not found on $PATH" in out


def test_csv_has_one_row_per_epoch():
    proc = run("--format", "csv", K80, GTX960)
    assert proc.returncode == 0
    rows = list(csv.DictReader(io.StringIO(proc.stdout.decode())))
    assert len(rows) == 10
    assert rows[0]["source"] == K80 and rows[0]["seconds"] == "205.0" and rows[0]["acc"] == "0.6563"
    assert rows[0]["fallback"] == "true"


def test_missing_directory_and_unreadable_inputs_exit_2_and_the_others_are_parsed(tmp_path):
    unreadable = tmp_path / "secret.log"
    unreadable.write_text("Using gpu device 0: X (CNMeM is disabled)\n")
    unreadable.chmod(0)
    missing = tmp_path / "missing.log"
    proc = run("--format", "json", str(missing), GTX960, str(tmp_path), str(unreadable))
    assert proc.returncode == 2
    results = json.loads(proc.stdout)
    if os.access(unreadable, os.R_OK):  # running as root: the file is readable after all
        assert [r["source"] for r in results] == [GTX960, str(unreadable)]
        errors = 2
    else:
        assert [r["source"] for r in results] == [GTX960]
        errors = 3
    err = proc.stderr.decode()
    assert err.count("\n") == errors and "Traceback" not in err
    assert "%s: cannot read log: No such file or directory" % missing in err
    assert "%s: cannot read log: Is a directory" % tmp_path in err


def test_stdin_and_gzip(tmp_path):
    data = Path(K80).read_bytes()
    proc = run("--format", "json", "-", stdin=data)
    assert proc.returncode == 0 and json.loads(proc.stdout)[0]["source"] == "-"
    packed = tmp_path / "run.log.gz"
    packed.write_bytes(gzip.compress(data))
    result = json.loads(run("--format", "json", str(packed)).stdout)[0]
    assert len(result["epochs"]) == 10


def test_corrupt_gzip_is_a_clean_error(tmp_path):
    broken = tmp_path / "broken.log.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    proc = run(str(broken))
    assert proc.returncode == 2
    assert b"broken.log.gz: cannot read log" in proc.stderr and b"Traceback" not in proc.stderr


def test_requested_option_turns_a_cpu_run_into_a_fallback(tmp_path):
    log = tmp_path / "cpu.log"
    log.write_text("Using Theano backend.\nEpoch 1/1\n - 152s - loss: 1.0\n")
    result = json.loads(run("--format", "json", "--requested", "gpu", str(log)).stdout)[0]
    assert (result["device_requested"], result["device_used"], result["fallback"]) == ("gpu", "cpu", True)


@pytest.mark.parametrize("args, message", [
    (("--format", "yaml", GTX960), b"--format=yaml: choose one of text, json, csv"),
    (("--requested", "tpu", GTX960), b"--requested=tpu: use gpu or cpu"),
])
def test_bad_options_are_one_line_exit_2(args, message):
    proc = run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and proc.stderr.count(b"\n") == 1


def test_binary_garbage_is_parsed_not_a_crash(tmp_path):
    junk = tmp_path / "junk.log"
    junk.write_bytes(bytes(range(256)) * 100)
    proc = run("--format", "json", str(junk))
    assert proc.returncode == 0
    assert json.loads(proc.stdout)[0]["epochs"] == []


def test_no_log_is_a_usage_error():
    proc = run()
    assert proc.returncode == 2


def test_truncated_gzip_parses_what_is_there(tmp_path):
    lines = Path(K80).read_text().splitlines(True)
    epochs = [line for line in lines if line.startswith(("Epoch ", "215359/"))]
    packed = gzip.compress("".join(lines[:20] + epochs * 30).encode())
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(packed[:len(packed) * 2 // 3])
    proc = run("--format", "json", str(cut))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)[0]
    assert result["gpu_name"] == "Tesla K80" and 0 < len(result["epochs"]) < 300
    assert any("truncated" in w for w in result["warnings"])


def test_timestamped_log_as_compare_writes_it(tmp_path):
    from theanogpu.logparse import format_line

    events = [(0.01, "m", 'theanogpu-run: {"variant": "gpu-cnmem", "flags": {"device": "gpu", "lib.cnmem": "0.8"}}'),
              (1.9, "e", "Using gpu device 0: GeForce GTX 1060 (CNMeM is enabled with initial size: 80.0% of memory, "
                         "cuDNN 5105)"),
              (2.0, "e", 'theanogpu-device: {"backend": "theano", "device": "gpu", "requested": "gpu", '
                         '"name": "GeForce GTX 1060", "reason": null}'),
              (14.0, "o", "Epoch 1/2"), (38.512, "o", "\r2000/2000 [==============================] - 24s - loss: 2.1"),
              (38.6, "o", "Epoch 2/2"), (58.71, "o", "\r2000/2000 [==============================] - 20s - loss: 1.9")]
    log = tmp_path / "gpu-cnmem@theano08.log"
    log.write_text("".join(format_line(*event) + "\n" for event in events), encoding="utf-8")
    result = json.loads(run("--format", "json", str(log)).stdout)[0]
    assert [e["seconds"] for e in result["epochs"]] == [24.512, 20.11]
    assert result["timestamped"] is True and result["seconds_before_first_epoch"] == 14.0
    assert result["first_epoch_extra_seconds"] == 4.402
    assert [g["name"] for g in result["gpu_devices"]] == ["GeForce GTX 1060"]
    assert result["run_info"]["variant"] == "gpu-cnmem"
    text = run(str(log)).stdout.decode()
    assert "timed from timestamps" in text and "14 s before the first epoch" in text


def test_json_output_stays_strict_json_with_a_nan_in_the_log(tmp_path):
    log = tmp_path / "nan.log"
    log.write_text('Epoch 1/1\ntheanogpu-result: {"epochs": 1, "test_loss": NaN}\n')
    proc = subprocess.run([sys.executable, "-m", "theanogpu", "parse", "--format", "json", str(log)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["result_info"]["test_loss"] == "nan"
