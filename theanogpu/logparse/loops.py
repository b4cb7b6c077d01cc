"""Training loops that are not Keras: their per-epoch lines, and the total time a script prints.

Epoch lines (each kind is an epoch ``origin``; run.py groups them by epoch number, see loop_epochs.py)::

    epoch 3, minibatch 83/83, validation error 7.480000 %        dlt: DeepLearningTutorials code/*.py
    Training epoch 3, cost  -98.5                                 dlt: dA.py, cA.py, rbm.py
    Epoch 2: 100%|██████████| 391/391 [00:21<00:00, 18.2it/s]     tqdm (format_meter: [H:]MM:SS)
    Epoch 2: 100%|██████████| 391/391 [00:21<00:00, 18.20it/s, v_num=0, train_loss=0.5]   lightning
    Epoch 2/9  ━━━━━━━━━━━━━━━━ 391/391 0:00:21 • 0:00:00 18.20it/s v_num: 0 train_loss: 0.500
                                                                  lightning (RichProgressBar)
    |##########| 391/391 100% [elapsed: 00:21 left: 00:00, 18.20 iters/sec]         tqdm 1.x
    epoch 3 ... time 21.4s / Epoch [3/10] ... (12.3 s) / Epoch 3/10 took 12.3s      loop
    epoch 3: loss 0.5, 12.3 sec / Epoch 3 | train_loss=0.5 | val_acc: 0.91         loop (no time)
    Epoch 0  then  Epoch took 338.5 seconds                                         loop (two lines)
    Train Epoch: 1 [59520/60000 (99%)] ...  then  Test set: Average loss: 0.0495, ...     loop
                                                  (pytorch/examples mnist; imagenet's `` * Acc@1``)
    epoch     train_loss  valid_loss  accuracy  time                  table: fastai's fastprogress, then
    0         1.886015    1.468085    0.478400  00:32                 one row per epoch ("time": per epoch)
    epoch  main/loss  validation/main/loss  elapsed_time              table: Chainer's PrintReport
    1      0.191427   0.0964114             8.60593                   ("elapsed_time": since the start)

A bar counts once complete (``100%`` with n = total, or no total); its desc names the epoch, or it
follows an epoch header (``Epoch 3/10``, ``Epoch 3``) and has no desc. A loop line needs an integer
epoch (``Step 4000 (epoch 4.65), 135.8 ms`` is a step) and no step counter short of its total
(``Epoch [1/5], Step [100/600]`` is progress within an epoch); without a time it needs a metric.

Script totals (``script_time``: ``script_seconds`` in the parse object)::

    Looping 1000 times took 2.612 seconds                        Theano's GPU test (using_gpu.txt)
    The code for file mlp.py ran for 1.23m / ran for 12.3s        DeepLearningTutorials, stderr
    The pretraining code for file SdA.py ran for 12.35m           one per phase: the phases add up
    The code ran for 2.99 minutes / Training took 20.862 minutes  older DeepLearningTutorials
    The code run for 74 epochs, with 1.936983 epochs/sec          logistic_sgd.py (derived: 74/1.94)
    Training complete in 2m 30s / Total training time: 0:12:03    hand-written loops
    {'train_runtime': 62.5, ...} / train_runtime = 0:01:02.50     Hugging Face's Trainer
"""

import math
import re
from typing import Any, Dict, Optional, Tuple

from theanogpu.logparse.obs import NONE, Observations

KEYWORDS = ("epoch", "ran for", "took", "raining", "it/s", "s/it", "iters/sec", "train_runtime",
            "set: Average loss", "Acc@1", "finetun")

_NUMBER = r"\d+(?:\.\d+)?"
_UNITS = {"ms": 1e-3, "msec": 1e-3, "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
          "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
          "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0}
_UNIT = r"(?:ms|msec|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)"
# One or more "<number><unit>" (2m 30s), never a rate ("18.2 s/it", "5ms/step").
_AMOUNTS = r"(?:%s\s*%s\b(?!/)[ ,]*)+" % (_NUMBER, _UNIT)
_CLOCK = r"\d+:\d\d(?::\d\d)?(?:\.\d+)?"
_DURATION = r"(?:%s|%s)" % (_CLOCK, _AMOUNTS)
_AMOUNT = re.compile(r"(?<![\d.])(%s)\s*(%s)\b" % (_NUMBER, _UNIT), re.IGNORECASE)  # from a number's start only

# Where a loop line says how long its epoch took, most specific label first.
_TIMED = [re.compile(pattern, re.IGNORECASE) for pattern in (
    r"\b(?:took|time taken)\s*[:=]?\s*(%s|%s)" % (_DURATION, _NUMBER),
    r"\b(?:epoch|total|train(?:ing)?)[ _]time\b\s*[:=]?\s*(%s|%s)" % (_DURATION, _NUMBER),
    r"\b(?:elapsed|duration)(?:[ _]time)?\b\s*[:=]?\s*(%s|%s)" % (_DURATION, _NUMBER),
    r"\btime\b\s*[:=]?\s*(%s|%s)(?![\d.])" % (_DURATION, _NUMBER),
    r"\b(?:in|after)\s+(%s)" % _DURATION,
    r"[(\[]\s*(%s)\s*[)\]]" % _DURATION,
    r"(?<![\w./])(%s)" % _AMOUNTS,
)]

_LOOP_EPOCH = re.compile(r"(?<![\w.])epoch\b\s*[:#=]?\s*[\[(]?\s*(\d+)(?:\s*(?:/|of)\s*(\d+))?\s*[\])]?(?![\d.])",
                         re.IGNORECASE)
# After the epoch: "Step [100/600]", "batch 10/50", or a bare "[10/5005]" (PyTorch's ImageNet example).
_STEP_COUNTER = re.compile(r"(?:\b(?:step|batch|iter(?:ation)?|minibatch|it|update)s?\b\s*[:#=]?\s*[\[(]?"
                           r"|[\[(])\s*(\d+)\s*/\s*(\d+)", re.IGNORECASE)
_BARE_HEADER = re.compile(r"^[\W_]*epoch\s*[:#]?\s*(\d+)(?:\s*/\s*(\d+))?[\W_]*$", re.IGNORECASE)
_EPOCH_TOOK = re.compile(r"^[\W_]*(?:epoch\s+)?took\s+(%s)" % _DURATION, re.IGNORECASE)
_VALUE = r"(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)(?![\w.:/])"
# "name: value" and "name=value" for any name of one or two words ("Val loss: 8.25"); "name value" only
# for a name that reads as a metric ("to 0.5" in "val_loss improved from inf to 0.5" is not one).
_METRIC_WORD = r"[A-Za-z_]*(?:loss|acc|accuracy|err|error|cost|auc|f1|mae|mse|rmse|ppl|perplexity|bleu|dice|iou" \
               r"|score|precision|recall|lr)\w*"
_METRIC = re.compile(r"(?<![\w.])(?:([A-Za-z_][\w./-]*(?: [A-Za-z_][\w./-]*)?)\s*[:=]\s*|(%s)\s+)" % _METRIC_WORD
                     + _VALUE, re.IGNORECASE)
_NOT_METRICS = frozenset(("epoch", "epochs", "time", "took", "elapsed", "duration", "step", "steps", "batch",
                          "iter", "iteration", "minibatch", "update", "in", "after", "of", "total", "it", "taken"))

_DLT_VALID = re.compile(r"epoch (\d+), minibatch (\d+)/(\d+), validation error (%s) ?%%" % _NUMBER)
_DLT_TEST = re.compile(r"epoch (\d+), minibatch (\d+)/(\d+), test error of best model (%s) ?%%" % _NUMBER)
_DLT_TRAIN = re.compile(r"Training epoch (\d+), (?:reconstruction )?cost(?: is)?\s+(\S+)")

# Each searched for without its desc (what comes before it is the desc): a regex that began with the
# desc would try every split of a long line. The bar may be missing: tqdm with ncols=0 (Colab's
# "!python") prints "Epoch 2: 100% 391/391 [00:21<...".
_TQDM = re.compile(r"(?P<pct>\d{1,3})%%(?:\|[^|]*\|)?[ \t]*(?P<n>\d+)/(?P<total>\d+)[ \t]*"
                   r"\[(?P<elapsed>%s)<[^,\]]*(?:,(?P<post>[^\]]*))?\]" % _CLOCK)
_TQDM_NO_TOTAL = re.compile(r"(?<!\d)(?P<n>\d+)it \[(?P<elapsed>%s)(?:,(?P<post>[^\]]*))?\]" % _CLOCK)
_TQDM_OLD = re.compile(r"\|[#\- ]*\| (?P<n>\d+)/(?P<total>\d+)[ \t]+(?P<pct>\d{1,3})%% \[elapsed: (?P<elapsed>%s) left"
                       % _CLOCK)
_RICH = re.compile(r"[━╸╺─]+[ \t]+(?P<n>\d+)/(?P<total>\d+)[ \t]+(?:(?P<days>\d+) days?, )?"
                   r"(?P<elapsed>%s) • \S+[ \t]+\S+it/s(?P<post>.*)$" % _CLOCK)
_DESC_EPOCH = re.compile(r"\bepoch\b\s*[:#]?\s*(\d+)(?:\s*/\s*(\d+))?", re.IGNORECASE)
_POSTFIX_METRIC = re.compile(r"(?<![\w./-])([A-Za-z_][\w./-]*)[=:] ?(-?[\d.]+(?:e[-+]?\d+)?|nan|inf)\b",
                             re.IGNORECASE)

# "... training" (DeepLearningTutorials), "Starting training..." (Lasagne's examples): the loop begins,
# which times the first epoch of a timestamped log whose epoch lines print no time.
_LOOP_START = re.compile(r"^(?:\.\.\. ?)?(?:start(?:ing)? )?(?:pre-?training|training|fine-?tun+ing)(?: the model)?"
                         r"\s*\.*$", re.IGNORECASE)
_MNIST_TEST = re.compile(r"(Test|Validation|Val) set: Average loss: (%s), Accuracy: (\d+)/(\d+) \((%s)%%\)"
                         % (_NUMBER, _NUMBER))
_IMAGENET_VAL = re.compile(r"^\* Acc@1 (%s) Acc@5 (%s)" % (_NUMBER, _NUMBER))
_LOOPING = re.compile(r"Looping (\d+) times took (%s(?:[eE][-+]?\d+)?) ?(?:seconds|s)\b" % _NUMBER)
_DLT_RAN = re.compile(r"The (?:([\w%%-]+(?: [\w%%-]+){0,3}) )?code (?:for file (\S+) )?ran for (%s) ?"
                      r"(m|s|minutes|seconds)\b" % _NUMBER)
_DLT_RUN_FOR = re.compile(r"The code run for (\d+) epochs, with (%s) (epochs/sec|sec/epochs?)" % _NUMBER)
_HF_RUNTIME = re.compile(r"train_runtime'?\s*[:=]\s*'?(%s|%s)" % (_CLOCK, _NUMBER))
_TOTAL = re.compile(r"(?:^|[\s:\]>|-])((?:total )?(?:pre-?training|fine[- ]?tuning|training|train)(?: time| loop)?"
                    r"|test_\w+|finished training)\s*(?:took|time|completed in|complete in|finished in|done in|in|:)"
                    r"\s*[:=]?\s*(%s)" % _DURATION, re.IGNORECASE)


def parse_duration(text: str) -> Optional[float]:
    """Seconds for ``12.3s``, ``2m 30s``, ``1.2 minutes``, ``00:21`` (tqdm's MM:SS) or ``1:02:03``."""
    text = text.strip().rstrip(",")
    try:
        if ":" in text:
            seconds = 0.0
            for part in text.split(":"):
                seconds = seconds * 60 + float(part)
        else:
            amounts = _AMOUNT.findall(text)
            seconds = sum(float(number) * _UNITS[unit.lower()] for number, unit in amounts) if amounts else float(text)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None


def _number(value: str) -> Optional[float]:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def loop_metrics(text: str, pos: int = 0) -> Dict[str, Optional[float]]:
    """``name: value``, ``name=value`` and ``name value`` pairs of a hand-written line (not times)."""
    metrics: Dict[str, Optional[float]] = {}
    for named, spaced, value in _METRIC.findall(text, pos):
        name = named or spaced
        words = name.lower().split()
        if words[0] in _NOT_METRICS or words[-1] in _NOT_METRICS or name in metrics:
            continue
        metrics[name] = _number(value)
    return metrics


def line_seconds(text: str, pos: int = 0) -> Optional[float]:
    """The time a loop line prints for its epoch, or None."""
    if "(sec)" in text:
        text = text.replace(" (sec)", "s")  # rnnslu.py: "completed in 12.34 (sec) <<"
    for pattern in _TIMED:
        match = pattern.search(text, pos)
        if match:
            seconds = parse_duration(match.group(1))
            if seconds is not None:
                return seconds
    return None


def observe(text: str) -> Observations:
    if "%|" in text or "it/s" in text or "s/it" in text or "iters/sec" in text or "it [" in text or (
            "% " in text and "<" in text):
        bar = progress_bar(text)
        if bar is not None:
            return bar
    if ("raining" in text or "inetun" in text) and _LOOP_START.match(text):
        return [("loop_start", {})]
    if "ran for" in text or "took" in text or "raining" in text or "run for" in text or "train_runtime" in text:
        total = script_time(text)
        if total:
            return total
    if "poch" in text or "POCH" in text:
        return epoch_line(text)
    if "set: Average loss" in text or "Acc@1" in text:
        return eval_summary(text)
    return NONE


def progress_bar(text: str) -> Optional[Observations]:
    """A tqdm, Lightning or rich bar: ``bar_end`` once complete, [] while running, None if not a bar."""
    match = _TQDM.search(text) or _TQDM_OLD.search(text)
    if match is not None:
        if int(match.group("pct")) < 100 or match.group("n") != match.group("total"):
            return NONE
    else:
        match = _TQDM_NO_TOTAL.search(text) or (_RICH.search(text) if "•" in text else None)
        if match is None:
            return None
        total = match.groupdict().get("total")
        if total is not None and match.group("n") != total:
            return NONE
    fields = match.groupdict()
    desc = text[:match.start()].strip().rstrip(":").strip()
    post = fields.get("post") or ""
    seconds = parse_duration(match.group("elapsed"))
    if fields.get("days") and seconds is not None:
        seconds += 86400 * int(fields["days"])
    epoch = _DESC_EPOCH.search(desc)
    lightning = "v_num" in post or "•" in text
    return [("bar_end", {
        "epoch": int(epoch.group(1)) if epoch else None,
        "of": int(epoch.group(2)) if epoch and epoch.group(2) else None,
        "desc": desc, "seconds": seconds, "target": int(fields["total"]) if fields.get("total") else None,
        "metrics": {name: _number(value) for name, value in _POSTFIX_METRIC.findall(post) if name != "v_num"},
        "origin": "lightning" if lightning else "tqdm"})]


def eval_summary(text: str) -> Observations:
    """The per-epoch evaluation line of pytorch/examples (mnist: ``Test set: Average loss: 0.0495,
    Accuracy: 9838/10000 (98%)``; imagenet: `` * Acc@1 75.123 Acc@5 92.456``): it ends the epoch whose
    steps came last (``Train Epoch: 1 [59520/60000 (99%)]``, ``Epoch: [0][5000/5005]``)."""
    match = _MNIST_TEST.search(text)
    if match:
        return [("eval_summary", {"metrics": {"test_loss": float(match.group(2)),
                                              "test_accuracy": float(match.group(5))}})]
    match = _IMAGENET_VAL.search(text)
    if match:
        return [("eval_summary", {"metrics": {"acc1": float(match.group(1)), "acc5": float(match.group(2))}})]
    return NONE


def script_time(text: str) -> Observations:
    """A total the script printed for its loop (see the module docstring), else []."""
    match = _LOOPING.search(text)
    if match:
        return [_total(float(match.group(2)), "Looping %s times" % match.group(1), match.group(0))]
    match = _DLT_RAN.search(text)
    if match:
        seconds = float(match.group(3)) * (60.0 if match.group(4)[0] == "m" else 1.0)
        label = " ".join(part for part in (match.group(1), "code", match.group(2)) if part)
        return [_total(seconds, label, match.group(0))]
    match = _DLT_RUN_FOR.search(text)
    if match:
        epochs, rate = float(match.group(1)), float(match.group(2))
        if rate <= 0:
            return NONE
        seconds = epochs / rate if match.group(3).startswith("epochs") else epochs * rate
        return [_total(seconds, "code", match.group(0), derived=True)]
    match = _HF_RUNTIME.search(text)
    if match:
        runtime = parse_duration(match.group(1))
        return [_total(runtime, "train_runtime", "train_runtime: %s" % match.group(1))] if runtime is not None else NONE
    match = _TOTAL.search(text)
    if match:
        total = parse_duration(match.group(2))
        if total is not None:
            return [_total(total, match.group(1).lower(), match.group(0).lstrip(" :]>|-"))]
    return NONE


def _total(seconds: float, label: str, text: str, derived: bool = False) -> Tuple[str, dict]:
    return ("script_time", {"seconds": seconds if math.isfinite(seconds) else None, "label": label,
                            "text": text.strip(), "derived": derived})


def table_header(text: str) -> Optional[Observations]:
    """The header row of a per-epoch table (fastai, Chainer): ``epoch`` then two or more column names."""
    columns = text.split()
    if len(columns) < 3 or columns[0].lower() != "epoch" or any(_number(c) is not None for c in columns):
        return None
    return [("table_header", {"columns": columns})]


def table_row(columns: list, text: str) -> Optional[Dict[str, Any]]:
    """A row under a table header: the epoch, its metrics and its time (``elapsed``: since the start)."""
    cells = text.split()
    if len(cells) != len(columns) or not cells[0].isdigit():
        return None
    row: Dict[str, object] = {"epoch": int(cells[0]), "seconds": None, "elapsed": None, "metrics": {}}
    for name, cell in zip(columns[1:], cells[1:]):
        lower = name.lower()
        if lower == "time":
            row["seconds"] = parse_duration(cell)
        elif lower in ("elapsed_time", "elapsed"):
            row["elapsed"] = parse_duration(cell)
        elif cell != "#na#":
            value = _number(cell) if cell not in ("nan", "inf") else None
            if value is None and cell not in ("nan", "inf"):
                return None  # not a row of numbers
            row["metrics"][name] = value  # type: ignore[index]
    return row


def epoch_line(text: str) -> Observations:
    """DeepLearningTutorials' lines, an epoch header of a loop, or a hand-written per-epoch line."""
    if text[:5].lower() == "epoch" and ("  " in text or "\t" in text):
        header = table_header(text)
        if header is not None:
            return header
    if text.startswith(("epoch ", "     epoch ")) or "minibatch" in text:
        dlt = _dlt(text)
        if dlt is not None:
            return dlt
    if "Training epoch" in text:
        match = _DLT_TRAIN.search(text)
        if match:
            return [_loop_epoch(int(match.group(1)), None, None, {"cost": _number(match.group(2))}, "dlt")]
    if "Pre-training layer" in text:
        return NONE  # layer-wise pretraining restarts its epochs per layer: not the training's epochs
    bare = _BARE_HEADER.match(text)
    if bare:
        return [("loop_header", {"epoch": int(bare.group(1)),
                                 "of": int(bare.group(2)) if bare.group(2) else None})]
    took = _EPOCH_TOOK.match(text)
    if took:
        return [("loop_took", {"seconds": parse_duration(took.group(1))})]
    return _hand_written(text)


def _dlt(text: str) -> Optional[Observations]:
    match = _DLT_VALID.search(text)
    if match:
        return [_loop_epoch(int(match.group(1)), None, None, {"validation_error": float(match.group(4))}, "dlt")]
    match = _DLT_TEST.search(text)
    if match:
        return [("loop_metrics", {"epoch": int(match.group(1)), "origin": "dlt",
                                  "metrics": {"test_error": float(match.group(4))}})]
    return None


def _hand_written(text: str) -> Observations:
    match = _LOOP_EPOCH.search(text)
    if match is None or "valuator" in text[:match.start()]:
        return NONE  # an evaluation engine's own "epoch" (ignite's SupervisedEvaluator) is no training epoch
    for counter in _STEP_COUNTER.finditer(text, match.end()):
        if counter.group(1) != counter.group(2):
            # A step within the epoch, not its end; the epoch may end in a summary without its number.
            return [("loop_progress", {"epoch": int(match.group(1)),
                                       "of": int(match.group(2)) if match.group(2) else None})]
    rest = match.end()
    seconds = line_seconds(text, rest)
    metrics = loop_metrics(text, rest)
    if seconds is None and not metrics:
        return NONE
    return [_loop_epoch(int(match.group(1)), int(match.group(2)) if match.group(2) else None, seconds, metrics,
                        "loop")]


def _loop_epoch(epoch: int, of: Optional[int], seconds: Optional[float], metrics: dict, origin: str,
                ) -> Tuple[str, dict]:
    return ("loop_epoch", {"epoch": epoch, "of": of, "seconds": seconds, "metrics": metrics, "origin": origin})

