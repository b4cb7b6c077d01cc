"""Training loops that are not Keras: DeepLearningTutorials, Theano's GPU test, tqdm, Lightning and
hand-written per-epoch lines, with and without timestamps, and the script's own total time."""

import pytest

from theanogpu.logparse import LogParser, format_line, parse_lines, parse_text
from theanogpu.logparse.loops import line_seconds, loop_metrics, parse_duration

BAR = "█" * 10


def epochs(result):
    return [(e["epoch"], e["seconds"], e["origin"]) for e in result["epochs"]]


def stamped(events):
    parser = LogParser()
    parser.feed_lines(format_line(t, "o", text) for t, text in events)
    return parser.result()


@pytest.mark.parametrize("text, seconds", [
    ("12.3s", 12.3), ("12.3 s", 12.3), ("21.40 sec", 21.4), ("3 seconds", 3.0), ("120ms", 0.12),
    ("1.5m", 90.0), ("2 min", 120.0), ("1.2 minutes", 72.0), ("2m 30s", 150.0), ("1h 2m 3s", 3723.0),
    ("2 hours", 7200.0), ("00:21", 21.0), ("01:02", 62.0), ("1:02:03", 3723.0), ("0:00:21.5", 21.5), ("21.4", 21.4),
])
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("line, seconds", [
    ("epoch 3 loss 0.5 time 21.4s", 21.4), ("Epoch [3/10] loss: 0.52 (12.3 s)", 12.3),
    ("Epoch 3/10 took 12.3s", 12.3), ("epoch 3: loss 0.5, 12.3 sec", 12.3),
    ("Epoch 3 | train_loss=0.5 | epoch_time: 0:01:02", 62.0), ("epoch 3 done in 2m 3s, 18.2 it/s", 123.0),
    ("Epoch 3 - 18.2 s/it - 5ms/step - loss 0.5", None), ("Epoch 3 data time 0.1s took 20s", 20.0),
])
def test_the_time_a_loop_line_prints(line, seconds):
    assert line_seconds(line) == (pytest.approx(seconds) if seconds is not None else None)


def test_loop_metrics_are_name_value_pairs_but_not_times_or_prose():
    assert loop_metrics("Epoch 3 | loss 0.5 | acc: 91.2% | val_loss=0.4 | lr 1e-3 | time 12s") == {
        "loss": 0.5, "acc": 91.2, "val_loss": 0.4, "lr": 0.001}
    assert loop_metrics("val_loss improved from inf to 0.50000, saving model") == {}
    assert loop_metrics("loss: nan") == {"loss": None}


@pytest.mark.parametrize("lines, expected", [
    (["epoch 1 loss 0.9 time 21.4s", "epoch 2 loss 0.8 time 20.1s"], [(1, 21.4, "loop"), (2, 20.1, "loop")]),
    (["Epoch [1/2] loss: 0.52 (12.3 s)", "Epoch [2/2] loss: 0.4 (11.0 s)"], [(1, 12.3, "loop"), (2, 11.0, "loop")]),
    (["Epoch 1/2 took 12.3s", "Epoch 2/2 took 11.9s"], [(1, 12.3, "loop"), (2, 11.9, "loop")]),
    (["epoch 1: loss 0.5, 12.3 sec", "epoch 2: loss 0.4, 12.1 sec"], [(1, 12.3, "loop"), (2, 12.1, "loop")]),
    (["INFO:root:Epoch 1, loss 0.5, time 21.4s", "INFO:root:Epoch 2, loss 0.4, time 20.4s"],
     [(1, 21.4, "loop"), (2, 20.4, "loop")]),
    (["Epoch 1 | train_loss=0.5 | val_acc: 0.91", "Epoch 2 | train_loss=0.4 | val_acc: 0.93"],
     [(1, None, "loop"), (2, None, "loop")]),
])
def test_hand_written_loop_lines(lines, expected):
    assert epochs(parse_lines(lines)) == expected


def test_steps_within_an_epoch_and_fractional_epochs_are_not_epochs():
    result = parse_lines(["Epoch [1/2], Step [100/600], Loss: 0.2", "Epoch [1/2], Step [200/600], Loss: 0.1",
                          "Step 4000 (epoch 4.65), 135.8 ms", "Minibatch loss: 2.235, learning rate: 0.008145",
                          "Epoch: [0][  10/5005]\tTime  0.237 ( 0.441)\tData  0.000 ( 0.188)\tLoss 6.9077e+00"])
    assert result["epochs"] == []
    result = parse_lines(["Epoch [1/2], Step [600/600], Loss: 0.2", "Epoch [2/2], Step [600/600], Loss: 0.1"])
    assert epochs(result) == [(1, None, "loop"), (2, None, "loop")]


def test_a_loop_printing_several_lines_per_epoch_gives_one_epoch_each():
    result = parse_lines(["Epoch 1 train loss: 0.9", "Epoch 1 val loss: 0.8 time 30.5s",
                          "Epoch 2 train loss: 0.7", "Epoch 2 val loss: 0.6 time 29.5s"])
    assert epochs(result) == [(1, 30.5, "loop"), (2, 29.5, "loop")]
    assert result["epochs"][1]["metrics"] == {"train loss": 0.7, "val loss": 0.6}


def test_keras_callbacks_and_keras_epochs_win_over_loop_lines():
    result = parse_lines(["Epoch 1/2", "100/100 [==============================] - 7s - loss: 0.6",
                          "epoch 1 custom print loss: 0.6 time 7.5s", "Epoch 2/2",
                          "100/100 [==============================] - 6s - loss: 0.5", "epoch 2 loss: 0.5 time 6.5s"])
    assert epochs(result) == [(1, 7.0, "keras"), (2, 6.0, "keras")]
    callbacks = parse_lines(["Epoch 00001: val_loss improved from inf to 0.50000, saving model to w.h5",
                             "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.0005.", "Epoch 5: early stopping"])
    assert callbacks["epochs"] == []


def test_two_runs_in_one_log_keep_both_runs_epochs():
    result = parse_lines(["epoch 1 loss 0.9 time 2s", "epoch 2 loss 0.8 time 2s",
                          "epoch 1 loss 0.9 time 3s", "epoch 2 loss 0.8 time 3s"])
    assert [e["seconds"] for e in result["epochs"]] == [2.0, 2.0, 3.0, 3.0]


def test_loop_lines_without_time_are_timed_by_timestamps():
    result = stamped([(0.5, "... loading data"), (10.0, "epoch 1 loss 0.9"), (31.0, "epoch 2 loss 0.8"),
                      (52.5, "epoch 3 loss 0.7 time 20.0s")])
    assert epochs(result) == [(1, None, "loop"), (2, 21.0, "loop"), (3, 20.0, "loop")]
    assert result["epochs"][2]["printed_seconds"] == 20.0


def test_dlt_logistic_sgd():
    result = parse_lines([
        "... loading data", "... building the model", "... training the model",
        "epoch 1, minibatch 83/83, validation error 12.458333 %",
        "     epoch 1, minibatch 83/83, test error of best model 12.375000 %",
        "epoch 2, minibatch 83/83, validation error 11.010417 %",
        "     epoch 2, minibatch 83/83, test error of best model 10.958333 %",
        "epoch 3, minibatch 83/83, validation error 10.312500 %",
        "Optimization complete with best validation score of 10.312500 %,with test performance 10.375000 %",
        "The code run for 3 epochs, with 4.530000 epochs/sec",
        "The code for file logistic_sgd.py ran for 0.7s"])
    assert epochs(result) == [(1, None, "dlt"), (2, None, "dlt"), (3, None, "dlt")]
    assert result["epochs"][0]["metrics"] == {"validation_error": 12.458333, "test_error": 12.375}
    assert result["script_seconds"] == 0.7
    assert result["script_timing"] == "The code for file logistic_sgd.py ran for 0.7s"


def test_dlt_epochs_per_sec_is_the_total_when_nothing_else_is_printed():
    result = parse_lines(["epoch 73, minibatch 83/83, validation error 7.500000 %",
                          "The code run for 74 epochs, with 1.936983 epochs/sec"])
    assert result["script_seconds"] == pytest.approx(74 / 1.936983, abs=0.001)
    assert parse_lines(["The code run for 10 epochs, with 2.5 sec/epochs"])["script_seconds"] == 25.0


def test_dlt_phases_add_up_and_minutes_become_seconds():
    result = parse_lines(["Pre-training layer 0, epoch 0, cost -98.5", "Pre-training layer 1, epoch 0, cost -90.1",
                          "The pretraining code for file SdA.py ran for 12.35m",
                          "epoch 1, minibatch 2500/2500, validation error 6.100000 %",
                          "The training code for file SdA.py ran for 1.50m"])
    assert result["script_seconds"] == pytest.approx(12.35 * 60 + 90)
    assert epochs(result) == [(1, None, "dlt")]
    assert "SdA.py ran for 12.35m" in result["script_timing"] and "ran for 1.50m" in result["script_timing"]


def test_dlt_training_epoch_lines_and_old_totals():
    result = parse_lines(["Training epoch 0, cost  -98.5", "Training epoch 1, cost  -91.2",
                          "The 30% corruption code for file dA.py ran for 10.54m"])
    assert epochs(result) == [(0, None, "dlt"), (1, None, "dlt")]
    assert result["script_seconds"] == pytest.approx(632.4)
    assert parse_lines(["The code ran for 2.992000 minutes"])["script_seconds"] == pytest.approx(179.52)
    assert parse_lines(["Training took 20.862 minutes"])["script_seconds"] == pytest.approx(1251.72)


def test_dlt_timestamped_epochs_from_consecutive_lines():
    lines = [(12.0, "epoch 1, minibatch 2500/2500, validation error 9.620000 %"),
             (22.5, "epoch 2, minibatch 2500/2500, validation error 8.610000 %"),
             (32.75, "epoch 3, minibatch 2500/2500, validation error 8.000000 %")]
    assert epochs(stamped(lines)) == [(1, None, "dlt"), (2, 10.5, "dlt"), (3, 10.25, "dlt")]
    for start in ("... training", "... training the model", "... finetunning the model", "Starting training..."):
        assert epochs(stamped([(1.0, start)] + lines)) == [(1, 11.0, "dlt"), (2, 10.5, "dlt"), (3, 10.25, "dlt")]


def test_theano_gpu_test_script():
    result = parse_lines(["Using gpu device 0: GeForce GTX 1060 (CNMeM is disabled, cuDNN 5105)",
                          "[GpuElemwise{exp,no_inplace}(<CudaNdarrayType(float32, vector)>), HostFromGpu(...)]",
                          "Looping 1000 times took 0.382059 seconds", "Result is [ 1.23178029  1.61879349]",
                          "Used the gpu"])
    assert (result["device_used"], result["script_seconds"], result["epochs"]) == ("gpu", 0.382, [])
    assert result["script_timing"] == "Looping 1000 times took 0.382059 seconds"


@pytest.mark.parametrize("line, seconds", [
    ("Training complete in 2m 30s", 150.0), ("Total training time: 0:12:03", 723.0),
    ("Training took 12.3s", 12.3), ("test_mlp took 118.123s expected 118s in our buildbot", 118.123),
    ("Finished training in 42.0 seconds", 42.0), ("Loading data took 3s", None), ("Training epoch 3, cost 0.5", None),
    ("{'train_runtime': 62.5028, 'train_samples_per_second': 48.0, 'train_loss': 0.4, 'epoch': 3.0}", 62.503),
    ("  train_runtime            = 0:01:02.50", 62.5),
])
def test_other_script_totals(line, seconds):
    assert parse_lines([line])["script_seconds"] == seconds


def tqdm_epoch(epoch, total, elapsed, desc="Epoch %d", postfix="", width=10):
    """The \\r redraws tqdm writes for one epoch (tqdm/std.py format_meter)."""
    out = []
    for n in (0, total // 3, 2 * total // 3, total):
        pct = 100 * n // total
        done = width * n // total
        bar = "█" * done + " " * (width - done)
        seconds = elapsed * n // total
        prefix = (desc % epoch + ": ") if desc else ""
        out.append("\r%s%3d%%|%s| %d/%d [%02d:%02d<00:%02d, 18.20it/s%s]" % (
            prefix, pct, bar, n, total, seconds // 60, seconds % 60, 0, postfix))
    return "".join(out)


def test_tqdm_bars_named_by_epoch_with_their_redraws():
    text = "".join(tqdm_epoch(epoch, 391, secs) + "\n" for epoch, secs in ((1, 21), (2, 20), (3, 75)))
    result = parse_text(text)
    assert epochs(result) == [(1, 21.0, "tqdm"), (2, 20.0, "tqdm"), (3, 75.0, "tqdm")]
    assert result["epochs"][0]["target"] == 391


def test_tqdm_hour_form_and_old_tqdm():
    result = parse_lines(["Epoch 1: 100%|" + BAR + "| 391/391 [01:02:03<00:00,  0.10it/s]",
                          "Epoch 2: 100%|##########| 391/391 [1:00:00<00:00,  0.11it/s]"])
    assert epochs(result) == [(1, 3723.0, "tqdm"), (2, 3600.0, "tqdm")]
    old = parse_lines(["Epoch 1/2", "|##########| 391/391 100% [elapsed: 00:21 left: 00:00, 18.20 iters/sec]",
                       "Epoch 2/2", "|##########| 391/391 100% [elapsed: 00:19 left: 00:00, 20.10 iters/sec]"])
    assert epochs(old) == [(1, 21.0, "tqdm"), (2, 19.0, "tqdm")]


def test_a_bar_without_desc_under_an_epoch_header_is_that_epoch_and_validation_bars_are_not():
    lines = []
    for epoch, secs in ((1, 21), (2, 20)):
        lines += ["Epoch %d/2" % epoch, "100%|" + BAR + "| 391/391 [00:%02d<00:00, 18.2it/s]" % secs,
                  "100%|" + BAR + "| 79/79 [00:01<00:00, 60.1it/s]", "train loss 0.5"]
    result = parse_lines(lines)
    assert [(e["epoch"], e["of"], e["seconds"], e["origin"]) for e in result["epochs"]] == [
        (1, 2, 21.0, "tqdm"), (2, 2, 20.0, "tqdm")]


def test_an_unfinished_bar_is_not_an_epoch():
    result = parse_text(tqdm_epoch(1, 391, 21) + "\n" + "\rEpoch 2:  33%|███       | 130/391 [00:07<00:14, 18.2it/s]\n")
    assert epochs(result) == [(1, 21.0, "tqdm")]


def test_lightning_bar_redrawn_after_validation_keeps_the_last_line_of_each_epoch():
    text = ""
    for epoch, train, total in ((0, 21, 23), (1, 20, 22)):
        text += tqdm_epoch(epoch, 391, train, postfix=", v_num=0, train_loss=0.5")
        text += "\nValidation: 0it [00:00, ?it/s]\rValidation DataLoader 0: 100%|" + BAR
        text += "| 79/79 [00:01<00:00, 60.1it/s]"
        text += "\rEpoch %d: 100%%|%s| 391/391 [00:%02d<00:00, 16.80it/s, v_num=0, train_loss=0.5, val_loss=0.4]" % (
            epoch, BAR, total)
    text += "\n`Trainer.fit` stopped: `max_epochs=2` reached.\n"
    result = parse_text(text)
    assert epochs(result) == [(0, 23.0, "lightning"), (1, 22.0, "lightning")]
    assert result["epochs"][0]["metrics"] == {"train_loss": 0.5, "val_loss": 0.4}


def test_lightning_rich_progress_bar():
    result = parse_lines([
        "Epoch 0/1  ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 391/391 0:00:21 • 0:00:00 18.20it/s v_num: 0 "
        "train_loss: 0.500",
        "Epoch 1/1  ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 391/391 0:00:20 • 0:00:00 19.10it/s v_num: 0 "
        "train_loss: 0.400"])
    assert [(e["epoch"], e["of"], e["seconds"], e["origin"]) for e in result["epochs"]] == [
        (0, 1, 21.0, "lightning"), (1, 1, 20.0, "lightning")]


def test_the_origin_with_timed_epochs_wins_over_untimed_prints():
    lines = []
    for epoch, secs in ((0, 21), (1, 20)):
        lines += ["Epoch %d: 100%%|%s| 391/391 [00:%02d<00:00, 18.2it/s, v_num=0]" % (epoch, BAR, secs),
                  "epoch %d: train loss: 0.5" % (epoch + 1)]
    assert epochs(parse_lines(lines)) == [(0, 21.0, "lightning"), (1, 20.0, "lightning")]


def test_cleverhans_epoch_header_then_took_line():
    result = parse_lines(["Epoch 0", "    Epoch took 338.5225307941437 seconds", "Epoch 1",
                          "    Epoch took 330.1 seconds"])
    assert epochs(result) == [(0, 338.523, "loop"), (1, 330.1, "loop")]
    assert result["epochs"][0]["printed_seconds"] == 338.5225307941437


def test_an_evaluator_engines_epoch_is_not_a_training_epoch():
    result = parse_lines([
        "[2023-04-08 05:40:26,561] [42292] [MainThread] [INFO] (ignite.engine.engine.SupervisedEvaluator:972) - "
        "Epoch[1] Complete. Time taken: 00:00:01.169",
        "[2023-04-08 05:40:26,586] [42292] [MainThread] [INFO] (ignite.engine.engine.SupervisedTrainer:972) - "
        "Epoch[1] Complete. Time taken: 00:00:02.693",
        "[2023-04-08 05:40:27,016] [42292] [MainThread] [INFO] (ignite.engine.engine.SupervisedTrainer:272) - "
        "Epoch: 2/50, Iter: 1/4 -- train_loss: 2.3614"])
    assert epochs(result) == [(1, 2.693, "loop")]


@pytest.mark.parametrize("sep", ["  ", "\t"])
def test_fastai_epoch_table(sep):
    rows = [["epoch", "train_loss", "valid_loss", "accuracy", "time"],
            ["0", "1.886015", "1.468085", "0.478400", "00:32"], ["1", "1.471524", "1.206125", "#na#", "00:31"],
            ["2", "1.212911", "1.020651", "0.638600", "01:02:03"]]
    lines = [sep.join(cell.ljust(10) if sep == "  " else cell for cell in row) for row in rows]
    result = parse_lines(lines[:2] + ["Better model found at epoch 0 with valid_loss value: 1.468085."] + lines[2:])
    assert epochs(result) == [(0, 32.0, "table"), (1, 31.0, "table"), (2, 3723.0, "table")]
    assert result["epochs"][1]["metrics"] == {"train_loss": 1.471524, "valid_loss": 1.206125}


def test_chainer_print_report_elapsed_time_is_cumulative():
    result = parse_lines([
        "epoch       main/loss   validation/main/loss  main/accuracy  validation/main/accuracy  elapsed_time",
        "1           0.191427    0.0964114             0.942117       0.9696                    8.60593",
        "2           0.0749396   0.0817394             0.976633       0.9745                    16.2315",
        "     total [##########........................................] 20.00%",
        "      2400 iter, 2 epoch / 10 epochs",
        "    248.44 iters/sec. Estimated time to finish: 0:00:38.642133.",
        "3           0.0486592   0.0760232             0.984398       0.9778                    23.9061"])
    assert epochs(result) == [(1, 8.606, "table"), (2, 7.626, "table"), (3, 7.675, "table")]


def test_a_table_row_must_match_its_header():
    result = parse_lines(["epoch  loss  time", "0  0.5  00:10", "1 2 3 4", "60000 train samples", "2  0.4  00:09"])
    assert epochs(result) == [(0, 10.0, "table"), (2, 9.0, "table")]


def test_pytorch_examples_mnist_test_set_line_ends_each_epoch():
    lines = []
    for epoch in (1, 2):
        lines += ["Train Epoch: %d [%d/60000 (%d%%)]\tLoss: 0.3" % (epoch, seen, seen * 100 // 60000)
                  for seen in (0, 640, 59520)]
        lines += ["", "Test set: Average loss: 0.0495, Accuracy: 9838/10000 (98%)", ""]
    result = parse_lines(lines)
    assert epochs(result) == [(1, None, "loop"), (2, None, "loop")]
    assert result["epochs"][0]["metrics"] == {"test_loss": 0.0495, "test_accuracy": 98.0}
    assert parse_lines(["Test set: Average loss: 0.0495, Accuracy: 9838/10000 (98%)"])["epochs"] == []


def test_pytorch_examples_imagenet_acc_line_ends_each_epoch():
    result = stamped([(1.0, "Epoch: [0][   0/5005]\tTime  3.2 ( 3.2)\tLoss 6.9e+00 (6.9e+00)"),
                      (500.0, "Epoch: [0][5000/5005]\tTime  0.2 ( 0.1)\tLoss 5.1e+00 (5.9e+00)"),
                      (530.0, " * Acc@1 12.340 Acc@5 30.120"),
                      (540.0, "Epoch: [1][   0/5005]\tTime  3.2 ( 3.2)\tLoss 4.9e+00 (4.9e+00)"),
                      (1040.5, " * Acc@1 20.000 Acc@5 41.000")])
    assert epochs(result) == [(0, None, "loop"), (1, 510.5, "loop")]


def test_dlt_rnnslu_redrawn_progress_keeps_each_epochs_last_time():
    text = "".join("[learning] epoch %d >> %2.2f%%completed in %.2f (sec) <<\r" % (epoch, pct, secs)
                   for epoch, total in ((0, 30.0), (1, 29.5)) for pct, secs in ((50.0, total / 2), (100.0, total)))
    text += "\nNEW BEST: epoch 1 valid F1 56.6 best test F1 51.2\n"
    result = parse_text(text)
    assert epochs(result) == [(0, 30.0, "loop"), (1, 29.5, "loop")]
    assert result["epochs"][1]["metrics"] == {"F1": 56.6}
