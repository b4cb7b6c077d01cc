"""Epochs of training loops that are not Keras, and the total time a script printed (see loops.py).

Each ``origin`` (dlt, tqdm, lightning, loop, table) keeps its own list: a script may print a bar and its own
per-epoch line for the same epoch, numbered differently (Lightning counts from 0, a print from 1),
so the origins are never merged; ``finish`` returns the one that says the most. Within an origin the
lines of one epoch number make one epoch: the last line wins (Lightning redraws its bar after
validation; a loop may print several lines per epoch), and a number lower than the current one
starts a new run in the same log rather than rewriting the first one's epochs.
"""

from typing import Any, Dict, List, Optional, Tuple

from theanogpu.logparse.loops import table_row

Header = Tuple[int, Optional[int]]

MAX_TOTALS = 20


class _Origin:
    """The epochs one kind of line gave, in order."""

    def __init__(self, order: int) -> None:
        self.order = order
        self.items: List[Dict[str, Any]] = []
        self.index: Dict[int, int] = {}      # epoch number -> position in items, for the current run
        self.current: Optional[int] = None   # the epoch number of the last line
        self.start_t: Optional[float] = None  # when the current epoch began: the previous epoch's last line
        self.last_t: Optional[float] = None


class LoopEpochs:
    """Collects ``loop_epoch``/``bar_end``/``loop_took`` observations; memory bounded by *limit* per origin."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._origins: Dict[str, _Origin] = {}
        self.dropped = 0
        self.table: Optional[List[str]] = None  # the columns of a per-epoch table (fastai, Chainer)
        self._table_elapsed: Optional[float] = None
        self.in_progress: Optional[Header] = None  # the epoch whose steps a loop printed last
        self.started_t: Optional[float] = None     # when the script said its training loop starts

    def table_header(self, columns: List[str]) -> None:
        self.table = list(columns)
        self._table_elapsed = None

    def table_row(self, text: str, t: Optional[float]) -> None:
        """A line while a table is open: an epoch if it is one of its rows."""
        row = table_row(self.table or [], text)
        if row is None:
            return
        seconds = row["seconds"]
        if seconds is None and row["elapsed"] is not None:
            # Chainer's elapsed_time counts from the start of training: an epoch is the difference.
            previous = self._table_elapsed or 0.0
            seconds = max(0.0, row["elapsed"] - previous)
            self._table_elapsed = row["elapsed"]
        self.epoch({"epoch": row["epoch"], "of": None, "seconds": seconds, "metrics": row["metrics"],
                    "origin": "table"}, t)

    def epoch(self, data: Dict[str, Any], t: Optional[float], first_wins: bool = False) -> None:
        origin = self._origins.get(data["origin"])
        if origin is None:
            origin = self._origins[data["origin"]] = _Origin(len(self._origins))
            origin.last_t = self.started_t  # the first epoch began when the loop did
        number = data["epoch"]
        if number != origin.current:
            if origin.current is not None and number < origin.current:
                origin.index = {}  # the numbers start again: a second run in the same log
            origin.current = number
            origin.start_t = origin.last_t
        origin.last_t = t
        position = origin.index.get(number)
        if position is not None and first_wins:
            return
        entry = self._entry(data, origin, t)
        if position is not None:
            old = origin.items[position]
            entry["metrics"] = dict(old["metrics"], **entry["metrics"])
            if entry["printed_seconds"] is None and old["printed_seconds"] is not None:
                entry["seconds"], entry["printed_seconds"] = old["seconds"], old["printed_seconds"]
            origin.items[position] = entry
        elif len(origin.items) < self._limit:
            origin.index[number] = len(origin.items)
            origin.items.append(entry)
        else:
            self.dropped += 1

    def metrics(self, data: Dict[str, Any]) -> None:
        """More metrics for an epoch already listed (DeepLearningTutorials' test error line)."""
        origin = self._origins.get(data["origin"])
        position = origin.index.get(data["epoch"]) if origin is not None else None
        if origin is not None and position is not None:
            origin.items[position]["metrics"].update(data["metrics"])

    def bar(self, data: Dict[str, Any], t: Optional[float], header: Optional[Header]) -> None:
        """A completed bar: the epoch its desc names, or, with no desc at all, the epoch of the header
        above it (the first bar after a header is training; later ones are validation)."""
        if data["epoch"] is not None:
            self.epoch(data, t)
        elif not data["desc"] and header is not None:
            self.epoch(dict(data, epoch=header[0], of=header[1]), t, first_wins=True)

    def summary(self, metrics: Dict[str, Any], t: Optional[float]) -> None:
        """An evaluation line printed once per epoch, after the epoch's steps (pytorch/examples)."""
        if self.in_progress is not None:
            self.epoch({"epoch": self.in_progress[0], "of": self.in_progress[1], "seconds": None, "metrics": metrics,
                        "origin": "loop"}, t)
            self.in_progress = None

    def took(self, seconds: Optional[float], t: Optional[float], header: Optional[Header]) -> None:
        """``Epoch took 338.5 seconds`` under an ``Epoch 0`` header."""
        if header is not None and seconds is not None:
            self.epoch({"epoch": header[0], "of": header[1], "seconds": seconds, "metrics": {}, "origin": "loop"},
                       t, first_wins=True)

    def finish(self) -> List[Dict[str, Any]]:
        """The epochs of the origin with the most timed epochs (then the most epochs, then the first)."""
        if not self._origins:
            return []
        best = max(self._origins.values(), key=lambda o: (sum(e["seconds"] is not None for e in o.items),
                                                          len(o.items), -o.order))
        return best.items

    @staticmethod
    def _entry(data: Dict[str, Any], origin: _Origin, t: Optional[float]) -> Dict[str, Any]:
        printed = data["seconds"]
        seconds = round(printed, 3) if printed is not None else None
        if seconds is None and t is not None and origin.start_t is not None and t >= origin.start_t:
            seconds = round(t - origin.start_t, 3)  # a timestamped log: from the previous epoch's line
        return {"epoch": data["epoch"], "of": data.get("of"), "seconds": seconds, "metrics": dict(data["metrics"]),
                "printed_seconds": printed, "seconds_per_step": None, "target": data.get("target"),
                "origin": data["origin"]}


class ScriptTiming:
    """The training time the script printed: one total per phase (pretraining + fine-tuning add up;
    a phase printed again replaces its total), or else one derived from epochs and a rate."""

    def __init__(self) -> None:
        self._totals: Dict[str, Tuple[float, str]] = {}
        self._derived: Optional[Tuple[float, str]] = None

    def add(self, data: Dict[str, Any]) -> None:
        if data["seconds"] is None:
            return  # not a finite number of seconds
        entry = (float(data["seconds"]), data["text"])
        if data.get("derived"):
            self._derived = entry
        elif data["label"] in self._totals or len(self._totals) < MAX_TOTALS:
            self._totals[data["label"]] = entry

    def result(self) -> Tuple[Optional[float], Optional[str]]:
        """``(script_seconds, script_timing)``."""
        if self._totals:
            return (round(sum(seconds for seconds, _ in self._totals.values()), 3),
                    "; ".join(text for _, text in self._totals.values()))
        if self._derived is not None:
            return round(self._derived[0], 3), self._derived[1]
        return None, None
