"""The timestamped log format, and epoch times measured from it; the classic CPU/GPU/CNMeM comparison."""

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theanogpu.logparse import LogParser, format_line, parse_lines, parse_text, split_line

GPU_LINE = "Using gpu device 0: GeForce GTX 1060 (CNMeM is %s, cuDNN 5105)"


def stamped(events):
    return [format_line(t, stream, text) for t, stream, text in events]


def test_format_and_split():
    line = format_line(12.3456, "o", "\r800/800 [====] - 0s\b\b")
    assert line == "[    12.346 o] \r800/800 [====] - 0s\b\b"
    assert split_line(line) == (12.346, "o", "\r800/800 [====] - 0s\b\b")
    assert split_line(line + "\n") == (12.346, "o", "\r800/800 [====] - 0s\b\b")
    assert split_line("[    12.346 o]") == (12.346, "o", "")
    assert split_line("Epoch 1/2") is None
    assert split_line("[INFO] something") is None
    assert format_line(1e7, "e", "x") == "[10000000.000 e] x"
    assert format_line(0, "m", "a\nb") == "[     0.000 m] a\n[     0.000 m] b"


@pytest.mark.parametrize("t, stream", [(float("nan"), "o"), (float("inf"), "o"), (1.0, "out"), (1.0, "O"),
                                       ("1", "o")])
def test_format_rejects_bad_values(t, stream):
    with pytest.raises(ValueError):
        format_line(t, stream, "x")


@given(t=st.floats(min_value=0, max_value=1e6, allow_nan=False), stream=st.sampled_from("oem"),
       text=st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=200))
def test_raw_text_is_always_recoverable(t, stream, text):
    assert split_line(format_line(t, stream, text)) == (round(t, 3), stream, text)


def test_epoch_seconds_come_from_timestamps():
    lines = stamped([
        (0.010, "e", "Using Theano backend."),
        (1.500, "e", GPU_LINE % "disabled"),
        (30.000, "o", "Epoch 1/3"),
        (57.250, "o", "\r10/10 [==============================] - 27s - loss: 1.0 - acc: 0.5"),
        (57.260, "o", "Epoch 2/3"),
        (77.760, "o", "10/10 [==============================] - 20s - loss: 0.9 - acc: 0.6"),
        (77.770, "o", "Epoch 3/3"),
        (98.070, "o", "10/10 [==============================] - 20s - loss: 0.8 - acc: 0.7"),
        (98.500, "e", "done"),
    ])
    result = parse_lines(lines)
    assert result["timestamped"] is True
    assert [e["seconds"] for e in result["epochs"]] == [27.25, 20.5, 20.3]
    assert [e["printed_seconds"] for e in result["epochs"]] == [27.0, 20.0, 20.0]
    assert result["first_epoch_extra_seconds"] == pytest.approx(27.25 - 20.4)
    assert result["seconds_before_first_epoch"] == 30.0
    assert result["log_seconds"] == 98.5
    assert result["device_used"] == "gpu"


def test_progress_redraws_inherit_the_timestamp_of_their_line():
    bs = "\b" * 60
    line = format_line(50.0, "o", "\r 1/10 [==>...] - ETA: 9s - loss: 1.0" + bs +
                       "\r10/10 [==============================] - 9s - loss: 0.5")
    result = parse_lines([format_line(40.5, "o", "Epoch 1/1"), line])
    assert [e["seconds"] for e in result["epochs"]] == [9.5]


def test_epoch_without_header_is_timed_from_the_previous_epoch_end():
    bar = "50/50 [====] - %ds - loss: 1"
    result = parse_lines(stamped([(10.0, "o", bar % 6), (16.5, "o", bar % 6), (20.0, "o", "Epoch 3/3"),
                                  (25.0, "o", bar % 5)]))
    # the first has no start time (Keras's seconds); the second starts where the first ended
    assert [e["seconds"] for e in result["epochs"]] == [6.0, 6.5, 5.0]
    assert [e["epoch"] for e in result["epochs"]] == [1, 2, 3]


def test_buffered_stdout_is_detected_and_keras_seconds_are_kept():
    result = parse_lines(stamped([(0.0, "o", "Epoch 1/1"), (0.1, "o", "Epoch 2/2"),
                                  (0.2, "o", "10/10 [====] - 27s - loss: 1.0")]))
    assert [e["seconds"] for e in result["epochs"]] == [27.0]
    assert any("buffered" in w for w in result["warnings"])


def test_feed_event_from_the_runner_gives_the_same_result_as_the_written_log():
    events = [(0.5, "e", "Using Theano backend."), (2.0, "o", "Epoch 1/1"),
              (9.125, "o", "\r5/10 [==>...] - ETA: 1s" + "\b" * 30 + "\r10/10 [==========] - 7s - loss: 0.25")]
    parser = LogParser("live")
    for event in events:
        parser.feed_event(*event)
    live = parser.result()
    assert live["epochs"][0]["seconds"] == 7.125
    assert parse_lines(stamped(events), source="live") == live


def test_mixed_timestamped_and_plain_lines_do_not_confuse_the_parser():
    result = parse_text("[    1.000 o] Epoch 1/1\nplain line without prefix\n[    4.000 o] 5/5 [===] - 3s - loss: 1\n")
    assert [e["seconds"] for e in result["epochs"]] == [3.0]


# -- the classic comparison (issue 4 acceptance) ---------------------------------------------------

def classic_log(device_line, seconds):
    lines = ["Using Theano backend."] + ([device_line] if device_line else [])
    lines.append("Train on 50000 samples, validate on 10000 samples")
    for index, value in enumerate(seconds, 1):
        lines += ["Epoch %d/%d" % (index, len(seconds)),
                  "50000/50000 [==============================] - %ds - loss: 1.8658 - acc: 0.3048 - "
                  "val_loss: 1.4747 - val_acc: 0.4626" % value]
    return lines


def per_epoch(result):
    seconds = [e["seconds"] for e in result["epochs"]]
    return statistics.median(seconds[1:] if len(seconds) >= 3 else seconds)


def test_classic_comparison_from_logs_alone():
    cpu = parse_lines(classic_log(None, [152, 153, 154]), source="cpu")
    gpu = parse_lines(classic_log(GPU_LINE % "disabled", [29, 27, 27]), source="gpu")
    cnmem = parse_lines(classic_log(GPU_LINE % "enabled with initial size: 80.0% of memory", [22, 20, 20]),
                        source="gpu-cnmem")
    assert (cpu["device_used"], cpu["cnmem"], cpu["cudnn"], cpu["gpu_name"]) == ("cpu", None, None, None)
    assert (gpu["device_used"], gpu["cnmem"]["enabled"], gpu["cudnn"]) == ("gpu", False, "5105")
    assert (cnmem["cnmem"]["fraction"], cnmem["gpu_name"]) == (0.8, "GeForce GTX 1060")
    assert [e["seconds"] for e in cpu["epochs"]] == [152.0, 153.0, 154.0]
    assert per_epoch(cpu) / per_epoch(gpu) == pytest.approx(5.7, abs=0.05)
    assert per_epoch(cpu) / per_epoch(cnmem) == pytest.approx(7.7, abs=0.1)
    assert cpu["samples"] == {"train": 50000, "validate": 10000, "unit": "samples"}


def test_a_single_keras3_epoch_takes_the_scripts_own_timer():
    """Keras 3 prints no `Epoch 1/1` header for one epoch, so no timestamps bracket it."""
    from theanogpu.logparse import parse_lines

    lines = ["[     5.000 o] x_train shape: (256, 32, 32, 3)",
             "[     9.645 o] 8/8 - 3s - 404ms/step - accuracy: 0.0938 - loss: 2.3114 - val_accuracy: 0.2941 "
             "- val_loss: 2.2909",
             '[     9.900 o] theanogpu-result: {"epochs": 1, "epoch_seconds": [3.233]}']
    (epoch,) = parse_lines(lines)["epochs"]
    assert epoch["seconds"] == 3.233 and epoch["printed_seconds"] == 3.0
    mismatch = lines[:2] + ['[     9.900 o] theanogpu-result: {"epochs": 2, "epoch_seconds": [3.2, 1.0]}']
    assert parse_lines(mismatch)["epochs"][0]["seconds"] == 3.0
