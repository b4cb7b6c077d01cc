"""Splitting bytes into terminal segments: \\r, \\b, ANSI, NUL, invalid UTF-8, chunk edges, huge lines."""

import io

import pytest

from theanogpu.logparse import parse_stream, parse_text
from theanogpu.logparse.lines import MAX_SEGMENT, Splitter, clean, erase_backspaces, feed_binary

EPOCH = "Epoch 1/1\n10/10 [==============================] - 7s - loss: 0.5\n"


def segments(pieces, binary=False, chunk_size=7):
    out = []
    splitter = Splitter(lambda seg, new: out.append((seg, new)))
    if binary:
        feed_binary(splitter, io.BytesIO(pieces), chunk_size=chunk_size)
    else:
        for piece in pieces:
            splitter.feed(piece)
        splitter.close()
    return out, splitter


def test_newlines_and_carriage_returns():
    out, _ = segments(["a\rb\nc\r\n", "d"])
    assert out == [("a", True), ("b", False), ("c", True), ("", False), ("d", True)]


def test_pieces_can_split_anywhere():
    text = "Epoch 1/2\r\n\r100/800 [==>...]\r800/800 [===] - 0s\nlast"
    whole, _ = segments([text])
    for size in (1, 2, 3, 5):
        pieces = [text[i:i + size] for i in range(0, len(text), size)]
        assert segments(pieces)[0] == whole


def test_multibyte_characters_split_across_chunks():
    data = ("1563/1563 " + "━" * 20 + " 16s 10ms/step - loss: 1.5\n").encode()
    out, _ = segments(data, binary=True, chunk_size=3)
    assert out == [(data.decode().rstrip("\n"), True)]


def test_invalid_utf8_and_nul_bytes():
    data = b"Epoch 1/1\n\xff\xfe garbage \x00\x00\n10/10 [====] - 7s - lo\x00ss: 0.5\n"
    result = parse_stream(io.BytesIO(data))
    assert [e["seconds"] for e in result["epochs"]] == [7.0]
    assert result["epochs"][0]["metrics"] == {"loss": 0.5}


@pytest.mark.parametrize("raw, shown", [
    ("abc\b\b", "a"),
    ("abc\b\bXY", "aXY"),
    ("\b\babc", "abc"),
    ("ab\b\b\b\bc", "c"),
    ("a\bb\bc", "c"),
    ("800/800 [====] - 0s" + "\b" * 5, "800/800 [====]"),
    ("", ""),
])
def test_backspace_erases(raw, shown):
    assert erase_backspaces(raw) == shown


def test_clean_removes_ansi_before_backspaces():
    # Keras 3 counts its \b by visible width, without the colour codes.
    bar = "\x1b[1m3/3\x1b[0m \x1b[32m━━\x1b[0m 0s"
    assert clean(bar + "\b" * 9) == ""
    assert clean("\x1b[1mEpoch 1/2\x1b[0m\x00") == "Epoch 1/2"
    assert clean("\x1b]0;title\x07text") == "text"


def test_overlong_line_is_cut_and_the_rest_skipped_without_storing_it():
    huge = "x" * (3 * MAX_SEGMENT)
    out, splitter = segments(["start\n", huge[:100000], huge[100000:], "\rafter\nnext\n"])
    assert [(len(s), new) for s, new in out] == [(5, True), (MAX_SEGMENT, True), (5, False), (4, True)]
    assert splitter.truncated == 1


def test_overlong_carriage_return_progress_line_is_split_as_it_streams():
    redraws = "".join("\r%5d/60000 [=>...] - ETA: 1s" % i for i in range(1, 60000, 10))
    out, splitter = segments([redraws[i:i + 50000] for i in range(0, len(redraws), 50000)] + ["\n"])
    assert splitter.truncated == 0
    assert len(out) == 6001 and out[-1][0].startswith("59991/60000")


def test_huge_line_in_one_chunk_is_cut():
    out, splitter = segments(["y" * (MAX_SEGMENT + 10) + "\nz\n"])
    assert [len(s) for s, _ in out] == [MAX_SEGMENT, 1]
    assert splitter.truncated == 1


def test_truncated_file_keeps_its_last_complete_epoch():
    text = EPOCH + "Epoch 2/2\n 5/10 [==>....."
    complete = EPOCH.index(" 7s") + len(" 7s")  # the summary line is an epoch once its time is there
    for cut in range(len(text) + 1):
        result = parse_text(text[:cut])
        expected = [7.0] if cut >= complete else []
        assert [e["seconds"] for e in result["epochs"]] == expected, cut


def test_crlf_logs():
    result = parse_text(EPOCH.replace("\n", "\r\n"))
    assert [e["seconds"] for e in result["epochs"]] == [7.0]


def test_interleaved_stderr_in_the_middle_of_a_progress_line():
    text = ("Epoch 1/1\n\r 1/10 [==>...] - ETA: 9s - loss: 1.0Using gpu device 0: GeForce GTX 960 (CNMeM is "
            "disabled, cuDNN 5005)\n\r10/10 [==========] - 9s - loss: 0.5\n")
    result = parse_text(text)
    assert result["gpu_name"] == "GeForce GTX 960"
    assert [e["seconds"] for e in result["epochs"]] == [9.0]


def test_a_fatal_python_error_is_the_runs_error():
    from theanogpu.logparse import parse_lines

    parsed = parse_lines(["Epoch 1/3", "Fatal Python error: PyEval_SaveThread: NULL tstate",
                          "Python runtime state: initialized", "", "Current thread 0x1 (most recent call first):",
                          '  File "x.py", line 3 in fit'], source="t")
    assert parsed["last_exception"] == "Fatal Python error: PyEval_SaveThread: NULL tstate"
