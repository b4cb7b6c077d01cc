"""Keras epoch lines in every version's form, with \\r/\\b progress and intermediate updates."""

import pytest

from theanogpu.logparse import parse_lines, parse_text
from theanogpu.logparse.keras import parse_metrics, progress

BS = "\b"


def seconds(result):
    return [e["seconds"] for e in result["epochs"]]


def keras1_verbose1_tty(epochs, updates, total=800, secs=0):
    """Keras 1.2.2/2.0.8 verbose=1: '\\b'*prev_width + '\\r' + bar, written even to a file."""
    out = ["Train on %d samples, validate on 200 samples\n" % total]
    for epoch in range(1, epochs + 1):
        out.append("Epoch %d/%d\n" % (epoch, epochs))
        width = 0
        for seen in updates:
            line = "%3d/%d [==>...........................] - ETA: 0s - loss: 0.7024 - acc: 0.4600" % (seen, total)
            out.append(BS * width + "\r" + line)
            width = len(line)
        final = ("%d/%d [==============================] - %ds - loss: 0.6852 - acc: 0.5050 - val_loss: 0.6797 "
                 "- val_acc: 0.4800" % (total, total, secs))
        out.append(BS * width + "\r" + final + "\n")
    return "".join(out)


def test_keras1_verbose1_with_backspaces_and_carriage_returns():
    result = parse_text(keras1_verbose1_tty(2, [100, 200, 700], secs=3))
    assert seconds(result) == [3.0, 3.0]
    first = result["epochs"][0]
    assert (first["epoch"], first["of"]) == (1, 2)
    assert first["metrics"] == {"loss": 0.6852, "acc": 0.505, "val_loss": 0.6797, "val_acc": 0.48}
    assert result["samples"] == {"train": 800, "validate": 200, "unit": "samples"}


def test_reference_verified_keras1_line_exactly():
    text = ("Train on 800 samples, validate on 200 samples\nEpoch 1/2\n"
            "\r100/800 [==>...........................] - ETA: 0s - loss: 0.7024 - acc: 0.4600" + BS * 80 +
            "\r800/800 [==============================] - 0s - loss: 0.6852 - acc: 0.5050 - val_loss: 0.6797 - "
            "val_acc: 0.4800\n")
    result = parse_text(text)
    assert seconds(result) == [0.0]
    assert result["epochs"][0]["metrics"]["val_acc"] == 0.48


def test_keras1_verbose2():
    result = parse_lines(["Epoch 1/2", "0s - loss: 0.6852 - acc: 0.5050 - val_loss: 0.6797 - val_acc: 0.4800",
                          "Epoch 2/2", "152s - loss: 0.5 - acc: 0.6"])
    assert seconds(result) == [0.0, 152.0]
    assert result["epochs"][1]["metrics"] == {"loss": 0.5, "acc": 0.6}


def test_keras224_non_tty_blank_line_after_epoch_and_one_line_per_update():
    text = ("Epoch 1/2\n\n100/800 [==>...........................] - ETA: 0s - loss: 0.7097 - acc: 0.4500\n"
            "800/800 [==============================] - 0s 4us/step - loss: 0.6961 - acc: 0.5112 - val_loss: "
            "0.7097 - val_acc: 0.4900\nEpoch 2/2\n\n"
            "800/800 [==============================] - 1s 1ms/step - loss: 0.6 - acc: 0.6\n")
    result = parse_text(text)
    assert seconds(result) == [0.0, 1.0]
    assert result["epochs"][0]["seconds_per_step"] == pytest.approx(4e-6)
    assert result["epochs"][1]["seconds_per_step"] == pytest.approx(1e-3)
    assert result["epochs"][0]["target"] == 800


def test_keras224_and_231_verbose2_leading_dash():
    result = parse_lines(["Epoch 1/2", " - 0s - loss: 0.6961 - acc: 0.5112 - val_loss: 0.7097 - val_acc: 0.4900",
                          "Epoch 2/2", " - 3s - loss: 0.2 - accuracy: 0.9 - val_loss: 0.1 - val_accuracy: 0.95"])
    assert seconds(result) == [0.0, 3.0]
    assert set(result["epochs"][1]["metrics"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_seconds_per_step_units():
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        result = parse_lines(["Epoch 1/1", "10/10 [==============================] - 20s 2%s/step - loss: 0.1" % unit])
        assert result["epochs"][0]["seconds_per_step"] == pytest.approx(2 * factor)


@pytest.mark.parametrize("eta", ["3s", "1:02", "1:02:03"])
def test_intermediate_updates_with_any_eta_form_are_not_epochs(eta):
    result = parse_lines(["Epoch 1/3", "  13184/60000 [=====>........................] - ETA: %s - loss: 0.09" % eta])
    assert result["epochs"] == []


def test_keras20_final_line_with_eta_is_an_epoch_without_seconds():
    result = parse_lines(["Epoch 1/12", "60000/60000 [==============================] - ETA: 0s - loss: 0.3375 - "
                          "acc: 0.8974 - val_loss: 0.0830 - val_acc: 0.9744"])
    assert seconds(result) == [None]
    assert result["epochs"][0]["metrics"]["val_acc"] == 0.9744


def test_keras3_bars_with_ansi_codes_and_redraws():
    """Keras 3 always redraws with \\b and \\r on POSIX and colours the bar with ANSI codes."""
    def bar(current, target, time, extra=""):
        done = 20 * current // target
        return ("\x1b[1m%d/%d\x1b[0m \x1b[32m%s\x1b[0m\x1b[37m%s\x1b[0m \x1b[1m%s\x1b[0m 10ms/step - "
                "accuracy: 0.4334 - loss: 1.5440%s" % (current, target, "━" * done, "━" * (20 - done), time, extra))

    text = "Epoch 1/2\n"
    previous = 0
    for current, time in ((1, "1:02:03"), (800, "7s"), (1563, "0s")):
        line = bar(current, 1563, time)
        text += BS * previous + "\r" + line
        previous = len(line) - 34
    text += BS * previous + "\r" + bar(1563, 1563, "16s", " - val_accuracy: 0.5466 - val_loss: 1.2493") + "\n"
    text += "Epoch 2/2\n" + bar(1563, 1563, "17s", " - val_accuracy: 0.6 - val_loss: 1.1") + "\n"
    text += ("\x1b[1m313/313\x1b[0m \x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m\x1b[37m\x1b[0m \x1b[1m2s\x1b[0m 6ms/step - "
             "accuracy: 0.7\n")
    result = parse_text(text)
    assert seconds(result) == [16.0, 17.0]
    assert result["epochs"][0]["metrics"]["val_loss"] == 1.2493


def test_keras3_redraw_without_erasing_replaces_the_epoch_line():
    """Without dynamic display the last-batch line and the final line both survive: one epoch."""
    result = parse_lines(["Epoch 1/2", "1563/1563 ━━━━━━━━━━━━━━━━━━━━ 0s 10ms/step - accuracy: 0.43 - loss: 1.54",
                          "1563/1563 ━━━━━━━━━━━━━━━━━━━━ 16s 10ms/step - accuracy: 0.43 - loss: 1.54 - val_loss: 1.2",
                          "Epoch 2/2", "1563/1563 ━━━━━━━━━━━━━━━━━━━━ 17s 11ms/step - accuracy: 0.5 - loss: 1.1"])
    assert seconds(result) == [16.0, 17.0]


def test_tf_keras_without_dynamic_display_last_batch_eta_line_then_final_line():
    result = parse_lines(["Epoch 1/2", "1719/1719 [==============================] - ETA: 0s - loss: 1.0187",
                          "1719/1719 [==============================] - 4s 2ms/step - loss: 1.0187 - val_loss: 0.52",
                          "Epoch 2/2", "1719/1719 [==============================] - ETA: 0s - loss: 0.5",
                          "1719/1719 [==============================] - 3s 2ms/step - loss: 0.5 - val_loss: 0.43"])
    assert seconds(result) == [4.0, 3.0]
    assert result["epochs"][1]["metrics"] == {"loss": 0.5, "val_loss": 0.43}


def test_keras3_verbose2_and_evaluate_after_training():
    result = parse_lines(["Epoch 1/2", "1563/1563 - 16s - 10ms/step - accuracy: 0.4334 - loss: 1.5440",
                          "Epoch 2/2", "1563/1563 - 15s - 10ms/step - accuracy: 0.5 - loss: 1.2",
                          "313/313 - 2s - 6ms/step - accuracy: 0.7034 - loss: 0.8887"])
    assert seconds(result) == [16.0, 15.0]


def test_tf_keras_verbose2_with_per_epoch_time():
    result = parse_lines(["Epoch 1/2", "196/196 - 1s - loss: 4.3691 - accuracy: 0.0853 - 851ms/epoch - 4ms/step"])
    assert seconds(result) == [1.0]
    assert result["epochs"][0]["metrics"] == {"loss": 4.3691, "accuracy": 0.0853}


def test_unknown_target_the_last_update_before_the_next_header_is_the_epoch():
    result = parse_lines(["Epoch 1/2", "      3/Unknown - 1s 300ms/step - loss: 0.9",
                          "      7/Unknown - 2s 290ms/step - loss: 0.8", "Epoch 2/2",
                          "7/7 [==============================] - 2s 280ms/step - loss: 0.7"])
    assert seconds(result) == [2.0, 2.0]
    assert result["epochs"][0]["metrics"] == {"loss": 0.8}


def test_download_bar_and_evaluate_are_not_epochs():
    result = parse_lines([
        "Downloading data from https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "170498071/170498071 [==============================] - 8s 0us/step",
        "Epoch 1/1", "1563/1563 [==============================] - 30s 19ms/step - loss: 1.5 - accuracy: 0.45",
        "313/313 [==============================] - 1s 3ms/step - loss: 1.2 - accuracy: 0.57"])
    assert seconds(result) == [30.0]


def test_callbacks_printing_between_and_after_lines():
    result = parse_lines([
        "Epoch 1/2",
        "Epoch 00001: val_loss improved from inf to 0.50, saving model to /tmp/w.h5",
        "100/100 [==============================] - 7s - loss: 0.6 - acc: 0.7   Epoch 00000: saving model to x.h5",
        "Epoch 2/2", "100/100 [==============================] - 6s - loss: 0.5 - acc: 0.8",
        "Epoch 00002: early stopping"])
    assert seconds(result) == [7.0, 6.0]
    assert result["epochs"][0]["metrics"] == {"loss": 0.6, "acc": 0.7}


def test_excerpt_starting_mid_training_keeps_its_first_epoch():
    result = parse_lines(["50000/50000 [==============================] - 678s - loss: 1.7646 - acc: 0.3460",
                          "Epoch 2/200", "50000/50000 [==============================] - 701s - loss: 1.3731"])
    assert [(e["epoch"], e["of"], e["seconds"]) for e in result["epochs"]] == [(1, 200, 678.0), (2, 200, 701.0)]


def test_headerless_log_counts_each_summary():
    result = parse_lines(["11s - loss: 0.2791 - acc: 0.9203", "12s - loss: 0.1121 - acc: 0.9680"])
    assert [(e["epoch"], e["seconds"]) for e in result["epochs"]] == [(1, 11.0), (2, 12.0)]


def test_custom_loop_timings_are_loop_epochs_never_keras_ones():
    result = parse_lines(["Epoch 0", "    Epoch took 338.5225307941437 seconds",
                          "10/10 [00:01<00:00,  9.50it/s]", "Looping 1000 times took 2.364756 seconds"])
    assert [(e["epoch"], e["seconds"], e["origin"]) for e in result["epochs"]] == [(0, 338.523, "loop")]
    assert result["script_seconds"] == 2.365
    assert parse_lines(["Epoch 1/10", "10/10 [00:01<00:00,  9.50it/s]"])["epochs"] == []


def test_nan_metrics_become_null_with_a_warning():
    result = parse_lines(["Epoch 1/1", "60000/60000 [==============================] - 2s - loss: nan - acc: 0.1087"])
    assert result["epochs"][0]["metrics"] == {"loss": None, "acc": 0.1087}
    assert any("nan" in w for w in result["warnings"])


def test_small_metric_values_in_exponent_form():
    assert parse_metrics(" - loss: 1.2345e-04 - acc: -3.0000e-05 - lr: 1.0000e-03") == {
        "loss": 1.2345e-04, "acc": -3e-05, "lr": 1e-3}


def test_backend_lines():
    for name in ("Theano", "TensorFlow", "CNTK"):
        result = parse_lines(["Using %s backend." % name])
        assert result["keras_backend"] == name.lower()
        assert result["backend"] == name.lower()


def test_progress_recogniser_returns_none_for_other_lines():
    assert progress("60000 train samples") is None
    assert progress("  File \"x.py\", line 3") is None


@pytest.mark.parametrize("update, is_glued", [
    ("  1/10 [==>...........................] - ETA: 9s - loss: 1.0", False),
    ("  1/10 [==>...........................] - ETA: 9s - loss: 1.0000   " + BS * 40, False),
    ("  1/10 [==>...........................] - ETA: 9s", False),
    ("  12/1563 ━━━━━━━━━━━━━━━━━━━━ 7s 5ms/step", False),
    ("  1/10 [==>....] - ETA: 1:02:03 - loss: nan - acc: 1.2345e-04  ", False),
    ("  1/10 [==>....] - ETA: 9s - loss: 1.0Using gpu device 0: X (CNMeM is disabled, cuDNN 5005)", True),
    ('  1/10 [==>....] - ETA: 9s - loss: 1.0theanogpu-device: {"device": "cpu", "name": null}', True),
    ("  1/10 [==>....] - ETA: 9s - loss: 1.02023-11-25 04:07:16.813872: I tensorflow/x.cc:442] Loaded cuDNN "
     "version 8600", True),
])
def test_glued_text_after_an_intermediate_update(update, is_glued):
    from theanogpu.logparse.keras import glued

    assert glued(update) is is_glued


def test_device_line_glued_to_an_update_is_still_read():
    result = parse_text('Epoch 1/1\n\r  1/10 [==>....] - ETA: 9s - loss: 1.0theanogpu-device: {"backend": "theano", '
                        '"device": "cpu", "requested": "gpu", "name": null, "reason": null}\n')
    assert result["device_used"] == "cpu" and result["fallback"] is True


def test_tf_line_glued_to_an_update_is_still_read():
    result = parse_text("Epoch 1/1\n\r  1/10 [==>....] - ETA: 9s - loss: 1.02023-11-25 04:07:16.813872: I "
                        "tensorflow/stream_executor/cuda/cuda_dnn.cc:442] Loaded cuDNN version 8600\n"
                        "\r10/10 [==========] - 9s 900ms/step - loss: 0.5\n")
    assert result["cudnn"] == "8600"
    assert seconds(result) == [9.0]


def test_short_glued_text_after_an_update_is_not_lost():
    result = parse_text("\r  1/10 [==>....] - ETA: 9s - loss: 0.9Epoch 2/2\n\r10/10 [==========] - 9s - loss: 0.5\n")
    assert [(e["epoch"], e["of"]) for e in result["epochs"]] == [(2, 2)]


def test_epochs_kept_are_capped_with_a_warning():
    from theanogpu.logparse.run import MAX_EPOCHS

    result = parse_text("5s - loss: 0.5\n" * (MAX_EPOCHS + 3))
    assert len(result["epochs"]) == MAX_EPOCHS
    assert any("only the first %d" % MAX_EPOCHS in w for w in result["warnings"])


def test_an_epoch_header_glued_to_a_short_eta_update_still_counts():
    """The parser's inlined copy of glued() once took a short glued tail ending in a digit for one value."""
    from theanogpu.logparse import keras

    text = ("Epoch 1/2\n10/10 [==============================] - 1s - loss: 1.0000\n"
            "\r  1/10 [==>...........................] - ETA: 9s - loss: 1 Epoch 2/2\n"
            "10/10 [==============================] - 1s - loss: 0.5000\n")
    assert keras.glued("\r  1/10 [==>...........................] - ETA: 9s - loss: 1 Epoch 2/2")
    assert [(e["epoch"], e["of"]) for e in parse_lines(text.splitlines())["epochs"]] == [(1, 2), (2, 2)]


def keras3_fit_with_callbacks(epochs, seconds, tty=True, callback_prints=()):
    """Keras 3 ``fit`` output with ModelCheckpoint, ReduceLROnPlateau and a custom callback.

    As keras/src/callbacks: the progress bar callback comes last, so ``on_epoch_end`` messages (each
    starting with ``\\n``) land between the last batch's update (its ETA ``0s``) and the final line.
    Returns the list of (text, seconds since start) pieces, one per write.
    """
    def bar(current, target, time, extra=""):
        done = 20 * current // target
        return ("\x1b[1m%4d/%d\x1b[0m \x1b[32m%s\x1b[0m\x1b[37m%s\x1b[0m \x1b[1m%s\x1b[0m 10ms/step - "
                "accuracy: 0.4334 - loss: 1.5440%s" % (current, target, "━" * done, "━" * (20 - done), time, extra))

    writes = []
    t = 1.0
    for epoch, took in zip(range(1, epochs + 1), seconds):
        start = t
        writes.append(("Epoch %d/%d\n" % (epoch, epochs), t))
        previous = 0
        for current in (1, 400, 800, 1200, 1563):
            t = start + took * current / 1563 * 0.95
            line = bar(current, 1563, "%ds" % ((1563 - current) // 100))
            writes.append(((BS * previous + "\r" if tty else "\n") + line, t))
            previous = len(line) - 34
            if current == 800:
                for text in callback_prints:
                    writes.append((text + "\n", t))
        writes.append(("\nEpoch %d: val_loss improved from 1.30000 to 1.20000, saving model to best.keras\n"
                       % epoch, t))
        writes.append(("\nEpoch %d: ReduceLROnPlateau reducing learning rate to 0.0005.\n" % epoch, t))
        t = start + took
        final = bar(1563, 1563, "%ds" % round(took), " - val_accuracy: 0.5 - val_loss: 1.2 - learning_rate: 0.001")
        writes.append(((BS * previous + "\r" if tty else "\n") + final + "\n", t))
    return writes


@pytest.mark.parametrize("tty", [True, False])
def test_keras3_callbacks_printing_inside_an_epoch_keep_each_epoch_time(tty):
    writes = keras3_fit_with_callbacks(3, [18.2, 16.4, 15.6], tty=tty, callback_prints=("batch 800 done",))
    result = parse_text("".join(text for text, _ in writes))
    assert seconds(result) == [18.0, 16.0, 16.0]
    assert [e["epoch"] for e in result["epochs"]] == [1, 2, 3]
    assert all(e["metrics"]["val_loss"] == 1.2 for e in result["epochs"])


def test_keras3_callbacks_timestamped_log_measures_each_epoch():
    from theanogpu.logparse import LogParser

    parser = LogParser()
    for text, t in keras3_fit_with_callbacks(3, [18.2, 16.4, 15.6], callback_prints=("my callback says hi",)):
        for piece in text.split("\n")[:-1] if text.endswith("\n") else [text]:
            parser.feed_event(t, "o", piece)
    result = parser.result()
    assert [e["seconds"] for e in result["epochs"]] == pytest.approx([18.2, 16.4, 15.6], abs=0.01)
    assert [e["printed_seconds"] for e in result["epochs"]] == [18.0, 16.0, 16.0]


def test_keras3_single_epoch_without_header_and_a_checkpoint_message():
    result = parse_lines(["1563/1563 ━━━━━━━━━━━━━━━━━━━━ 0s 10ms/step - accuracy: 0.43 - loss: 1.54",
                          "",
                          "Epoch 1: val_loss improved from inf to 1.20000, saving model to best.keras",
                          "1563/1563 ━━━━━━━━━━━━━━━━━━━━ 16s 10ms/step - accuracy: 0.43 - loss: 1.54 - val_loss: 1.2"])
    assert seconds(result) == [16.0]


def test_evaluate_after_the_last_epoch_does_not_replace_it():
    result = parse_lines(["Epoch 1/1", "1563/1563 ━━━━━━━━━━━━━━━━━━━━ 0s 10ms/step - accuracy: 0.43 - loss: 1.54",
                          "Epoch 1: val_loss improved from inf to 1.20000, saving model to best.keras",
                          "1563/1563 ━━━━━━━━━━━━━━━━━━━━ 16s 10ms/step - accuracy: 0.43 - loss: 1.54 - val_loss: 1.2",
                          "Test set:",
                          "1563/1563 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step - accuracy: 0.5 - loss: 1.3",
                          "1563/1563 ━━━━━━━━━━━━━━━━━━━━ 5s 3ms/step - accuracy: 0.5 - loss: 1.3"])
    assert seconds(result) == [16.0]
    assert result["epochs"][0]["metrics"]["val_loss"] == 1.2


def test_tf_keras_eta_line_then_checkpoint_message_then_final_line():
    result = parse_lines(["Epoch 1/2", "1719/1719 [==============================] - ETA: 0s - loss: 1.0187",
                          "Epoch 00001: val_loss improved from inf to 0.52000, saving model to w.h5",
                          "1719/1719 [==============================] - 4s 2ms/step - loss: 1.0187 - val_loss: 0.52",
                          "Epoch 2/2", "1719/1719 [==============================] - 3s 2ms/step - loss: 0.5"])
    assert seconds(result) == [4.0, 3.0]


@pytest.mark.parametrize("final", [None, "469/469 [==============================] - 10s 21ms/step - loss: 0.5"])
def test_unknown_target_bar_is_one_epoch_not_two(final):
    lines = ["Epoch 1/1", "      1/Unknown - 2s 2s/step - loss: 2.3", "     32/Unknown - 3s 60ms/step - loss: 1.3",
             "    469/Unknown - 10s 20ms/step - loss: 0.5"]
    result = parse_lines(lines + ([final] if final else []))
    assert seconds(result) == [10.0]
    assert result["epochs"][0]["epoch"] == 1
    assert result["epochs"][0]["target"] == (469 if final else None)


def test_unknown_target_bar_redrawn_with_carriage_returns_and_no_header():
    result = parse_text("\r      1/Unknown - 2s 2s/step - loss: 2.3\r     32/Unknown - 3s 60ms/step - loss: 1.3"
                        "\r     64/Unknown - 4s 60ms/step - loss: 1.1\n")
    assert seconds(result) == [4.0]
