"""Property tests: whatever the input, parsing never raises and always gives a valid parse object."""

import io
import json
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theanogpu.logparse import CONTRACT_FIELDS, LogParser, parse_lines, parse_stream, parse_text

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
WILD = Path(__file__).resolve().parents[1] / "fixtures" / "wild"
FIXTURES = sorted(LOGS.glob("*.log")) + sorted(WILD.glob("*.log"))
REAL_LINES = sorted({line for path in FIXTURES
                     for line in path.read_text(encoding="utf-8").splitlines() if line.strip()})
SYNTHETIC = [
    "Epoch 1/3", "Epoch 2/3", " - 5s - loss: 0.5 - acc: 0.9", "12s - loss: nan - acc: 0.1",
    "  100/800 [==>...........................] - ETA: 1:02:03 - loss: 0.7024",
    "800/800 [==============================] - 0s 4us/step - loss: 0.6961 - acc: 0.5112",
    "1563/1563 \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m 16s 10ms/step - accuracy: 0.43 - loss: 1.54",
    "      7/Unknown - 2s 290ms/step - loss: 0.8",
    'theanogpu-device: {"backend": "theano", "device": "cpu", "requested": "gpu", "name": null, "reason": "x"}',
    'theanogpu-data: {"synthetic": true}', "theanogpu-device: {broken",
    "[    12.345 o] Epoch 1/1", "[    13.000 e] 10/10 [====] - 1s - loss: 1",
    "Traceback (most recent call last):", "RuntimeError: boom",
    "ERROR (theano.sandbox.cuda): ERROR: Not using GPU. Initialisation of device gpu failed:",
    "Using gpu device 0: X (CNMeM is enabled with initial size: 1e999% of memory, cuDNN 5005)",
    "Preallocating 99999999999999999999/1 Mb (nan) on cuda0", "Epoch 99999999999999999999/1",
    "Mapped name None to device cuda0: ", "Using gpu device 0: ",
    "Epoch 2: 100%|██████████| 391/391 [00:21<00:00, 18.2it/s, v_num=0, train_loss=nan]",
    "Epoch 9: 391it [99:99, ?it/s]", "100%|##########| 3/3 [1:02:03<00:00,  0.1it/s]",
    "Epoch 99999999999999999999 took 1e999s", "Epoch 0", "Epoch took  s",
    "epoch 3, minibatch 83/83, validation error 7.4 %", "The code run for 0 epochs, with 0.000000 epochs/sec",
    "The code for file x.py ran for 1e999m", "Looping 1000 times took nan seconds", "Training complete in 99m 99s",
    "Found device 0 with properties: ", "name: X", "Ignoring visible gpu device (device: 0, name: (",
    "Creating TensorFlow device (/gpu:0) -> (device: 0, name: ",
    " with CUDA capability sm_86 is not compatible with the current PyTorch", "2023-11-25T04:06:47.7328312Z ",
    "2023-11-25T04:06:47Z 10/10 [====] - 1s - loss: 1", "GPU available: True, used: True",
    "Training took 1%s seconds" % ("0" * 400), "epoch 3 took 1%ss loss: 1%s" % ("0" * 400, "0" * 400),
    "The code run for 1%s epochs, with 0.0000001 epochs/sec" % ("0" * 400),
]
NOISE = st.sampled_from(["\r", "\b", "\b" * 80, "\r\n", "\x00", "\x1b[1m", "\x1b[", "\xff", "━", "\n", " - ", ": "])


def valid(result):
    for field in CONTRACT_FIELDS:
        assert field in result
    assert result["device_used"] in ("gpu", "cpu", None)
    assert result["fallback"] in (True, False, None)
    json.dumps(result, allow_nan=False)
    # The per-line guard turns a bug into a warning; no input here may trigger it.
    assert not [w for w in result["warnings"] if w.startswith("parser error")], result["warnings"]
    for epoch in result["epochs"]:
        assert epoch["seconds"] is None or epoch["seconds"] >= 0
    return result


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4000))
def test_random_bytes(data):
    valid(parse_stream(io.BytesIO(data)))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=2000))
def test_random_text(text):
    valid(parse_text(text))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(REAL_LINES + SYNTHETIC), NOISE), max_size=60), st.randoms())
def test_random_mixes_of_real_lines_with_noise_and_truncation(pieces, rnd):
    text = "".join(piece if piece in ("\r", "\n") or rnd.random() < 0.3 else piece + "\n" for piece in pieces)
    data = text.encode("utf-8", "surrogatepass")
    cut = rnd.randint(0, len(data))
    valid(parse_stream(io.BytesIO(data[:cut])))
    valid(parse_text(text, requested_device=rnd.choice(["gpu", "cpu", None, "cuda1", "bogus"])))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(REAL_LINES + SYNTHETIC), max_size=40), st.integers(min_value=1, max_value=64))
def test_chunking_never_changes_the_result(lines, size):
    text = "\n".join(lines) + "\n"
    whole = parse_text(text)
    parser = LogParser()
    for start in range(0, len(text), size):
        parser.feed_text(text[start:start + size])
    assert parser.result() == whole


def test_every_fixture_survives_every_truncation_point():
    rnd = random.Random(4)
    for path in FIXTURES:
        data = path.read_bytes()
        for cut in sorted(rnd.sample(range(len(data) + 1), min(len(data) + 1, 25))):
            valid(parse_stream(io.BytesIO(data[:cut])))


def test_lines_given_without_newlines_or_as_bytes():
    result = parse_lines([b"Epoch 1/1", "10/10 [====] - 3s - loss: 1\r", bytearray(b"\xffjunk")])
    assert [e["seconds"] for e in valid(result)["epochs"]] == [3.0]


LONG = 20000
PATHOLOGICAL = {
    "digits after a label": "epoch 1 took " + "1" * LONG,
    "spaces before a bar": "Epoch 1 " + " " * LONG + "• it/s",
    "many phrase starts": "The " * (LONG // 4) + "ran for",
    "many names": "Created device:GPU:0 physical GPU " + "name: x" * (LONG // 7),
    "many GPUs": "Found GPU0 x " * (LONG // 13),
    "a long word": "epoch 1 " + "a" * LONG + " loss: 1 it/s",
    "spaces and a phrase": " " * LONG + "with CUDA capability sm_86 is not",
}


def test_long_lines_take_linear_time():
    """Every recogniser on a long line of its own keywords: a regex that backtracks over every split
    of such a line takes minutes, not milliseconds."""
    import time

    for name, line in PATHOLOGICAL.items():
        started = time.perf_counter()
        valid(parse_text(line + "\n"))
        assert time.perf_counter() - started < 5, name
