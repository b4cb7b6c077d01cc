"""Keras output: backend line, ``Train on ...``, ``Epoch i/n`` and progress/epoch-summary lines.

Epoch-summary forms (Keras 1/2: keras/utils/generic_utils.py Progbar; Keras 3: keras/src/utils/progbar.py)::

    800/800 [==============================] - 0s - loss: 0.6852 - acc: 0.5050      1.x/2.0 verbose 1
    0s - loss: 0.6852 - acc: 0.5050 - val_loss: 0.6797                             1.x/2.0 verbose 2
    800/800 [==============================] - 0s 4us/step - loss: 0.6961            2.1-2.3 verbose 1
     - 0s - loss: 0.6961 - acc: 0.5112                                              2.2/2.3 verbose 2
    60000/60000 [==============================] - ETA: 0s - loss: 0.3375            2.0 quirk: no time
    196/196 - 1s - loss: 4.3 - accuracy: 0.08 - 851ms/epoch - 4ms/step              tf.keras verbose 2
    1563/1563 ━━━━━━━━━━━━━━━━━━━━ 16s 10ms/step - accuracy: 0.4334 - loss: 1.5440  Keras 3 verbose 1
    313/313 - 2s - 6ms/step - accuracy: 0.7034 - loss: 0.8887                       Keras 3 verbose 2

A bar whose count has not reached its target (``13184/60000 [=====>....] - ETA: 3s``, Keras 3
``12/1563 ━━━━ 7s 5ms/step``) is an intermediate update, never an epoch. Whether a completed bar
is an epoch (and not a download bar or ``evaluate()``) depends on what came before it: run.py decides.
"""

import math
import re
from typing import Optional, Tuple

from theanogpu.logparse.obs import NONE, Observations

KEYWORDS = ("Epoch", "backend", "Train on", "Downloading data from")

# Hot path: every segment starting with a digit or a space is tried against INTERMEDIATE first: a
# count that has not reached its target ("13184/60000 ...") is an intermediate update, done with
# unless glued() finds other text after its metrics.
INTERMEDIATE = re.compile(r" *(\d+)/(?!\1 )\d+ ")
# The same for Keras 3 before its ANSI colour codes are removed (it always writes them).
KERAS3_INTERMEDIATE = re.compile(r"\x1b\[1m *(\d+)/(?!\1\x1b)\d+\x1b\[0m ")
_COUNT = re.compile(r" *(\d+)/(\d+|Unknown|-1)(?= |$)")
_TIME = re.compile(
    r" *(?P<bar>\[[=>.]*\]|━+)? *(?:- +)?"
    r"(?:ETA: *(?P<eta>\S+)|(?P<sec>\d+)s(?= |$)(?: +-? *(?P<step>\d+(?:\.\d+)?)(?P<unit>s|ms|us)/(?:step|sample))?)")
_VERBOSE2 = re.compile(
    r" *(?:- +)?(?P<sec>\d+)s(?: +- +(?P<step>\d+(?:\.\d+)?)(?P<unit>s|ms|us)/step)?(?= +- +[A-Za-z_][\w./-]*: )")
_METRIC = re.compile(r" - ([A-Za-z_][\w./-]*): ?(\S+)")
_HEADER = re.compile(r"(?:^|(?<=[\s\d]))Epoch (\d+)/(\d+)\s*$")  # also glued after an update's value
_BACKEND = re.compile(r"Using (\w+) backend")
_TRAIN_ON = re.compile(r"Train on (\d+) (samples|steps)(?:, validate on (\d+) (?:samples|steps))?")

_UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
PROGRESS: Observations = [("progress", {})]
VALUE_CHARS = "0123456789.+-eEnaifs:"  # what a metric value or an ETA is made of


def glued(update: str) -> bool:
    """Whether an intermediate update carries other text after its metrics.

    In a merged stdout+stderr log a stderr line lands right after a progress update that has no
    newline yet (``... - loss: 1.0Using gpu device 0: ...``). In a genuine update whatever follows the
    last ``": "`` is one value: a number, nan, inf or an ETA (then padding, or the backspaces of the
    next redraw).
    """
    colon = update.rfind(": ")
    return colon >= 0 and bool(update[colon + 2:].rstrip(" \b").strip(VALUE_CHARS))


def parse_metrics(text: str, pos: int = 0) -> dict:
    """``{"loss": 0.3437, ...}`` from `` - name: value`` pairs; nan/inf become None (JSON has none)."""
    metrics = {}
    for name, value in _METRIC.findall(text, pos):
        try:
            number: Optional[float] = float(value)
        except ValueError:
            continue
        if number is not None and not math.isfinite(number):
            number = None
        metrics[name] = number
    return metrics


def _epoch_end(current: int, target: Optional[int], match: "re.Match", text: str, style: str) -> Observations:
    sec = match.group("sec")
    step = match.group("step")
    return [("epoch_end", {
        "current": current,
        "target": target,
        "seconds": float(sec) if sec is not None else None,
        "eta": match.groupdict().get("eta"),
        "seconds_per_step": float(step) * _UNIT_SECONDS[match.group("unit")] if step else None,
        "metrics": parse_metrics(text, match.end()),
        "style": style,
    })]


def progress(text: str) -> Optional[Observations]:
    """A progress or verbose-2 summary line, or None when *text* is neither (try other recognisers).

    Called for every segment that starts with a digit, a space or ``-``, so the common case (an
    intermediate update) returns after one regex match and one comparison.
    """
    count = _COUNT.match(text)
    if count is None:
        match = _VERBOSE2.match(text)
        if match is None:
            return None
        return _epoch_end(0, None, match, text, "verbose2")
    current, target = count.groups()
    known = target not in ("Unknown", "-1")
    if known and current != target:
        return PROGRESS
    match = _TIME.match(text, count.end())
    if match is None:
        return None
    bar = match.group("bar")
    if bar:
        style = "keras3" if bar[0] == "━" else "bar"
    else:
        # ``N/Unknown - 2s ...`` is a verbose=1 update whose step count is not known yet (Keras 2.1+
        # and tf.keras without steps_per_epoch): every one looks final, run.py keeps the last.
        style = "verbose2" if known else "unknown"
    if match.group("eta") is not None and not known:
        return PROGRESS
    return _epoch_end(int(current), int(target) if known else None, match, text, style)


def epoch_header(text: str) -> Optional[Tuple[int, int]]:
    """(i, n) of an ``Epoch i/n`` header (also glued after an update's value), else None."""
    match = _HEADER.search(text) if "Epoch" in text else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def observe(text: str) -> Observations:
    if "Epoch" in text:
        header = epoch_header(text)
        if header:
            return [("epoch_header", {"epoch": header[0], "of": header[1]})]
        return NONE
    if "backend" in text:
        match = _BACKEND.search(text)
        if match:
            name = match.group(1).lower()
            return [("backend", {"name": name, "via": "keras"})]
        return NONE
    if "Train on" in text:
        match = _TRAIN_ON.search(text)
        if match:
            return [("samples", {"train": int(match.group(1)), "unit": match.group(2),
                                 "validate": int(match.group(3)) if match.group(3) else None})]
        return NONE
    if "Downloading data from" in text:
        return [("download", {})]
    return NONE
