"""PURE: progress updates out of a script's raw output, each with the time it was printed.

Every progress display says how far the epoch is, at every redraw: Keras 1 redraws its bar with
``\\b`` and ``\\r`` inside one line until the epoch ends, Keras 2 on a pipe starts each update with
``\\n``, Keras 3 and tqdm redraw with ``\\r``. A ``Tracker`` is fed the output as it arrives, in the
chunks it arrives in, with their times, and turns each update into a ``Point``: (time, samples or
steps done, target, epoch). Points are thinned to a few per second (and always the first and last
of an epoch), so memory and the sidecar file stay small whatever the run's length.

The chunk's arrival time is the update's time: a line-based view would date an update only when the
next one ends its line (Keras 2) or when the epoch ends (Keras 1).
"""

import re
from typing import Callable, Dict, List, NamedTuple, Optional

# Thinned to one point per this many seconds within an epoch (plus each epoch's first and last).
MIN_INTERVAL = 0.2
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Keras: "  32/256 [==>....]", "1/16 ━━━", "  32/Unknown"; the count must be followed by something
# (a space, a bar), so that a count cut in the middle by a chunk boundary never reads as one.
_KERAS = re.compile(r"^\s*(\d+)/(\d+|Unknown)(?=[ \[━])")
# tqdm and PyTorch Lightning: "Epoch 2:  45%|████▌     | 176/391 [00:09<00:11, 18.2it/s]".
_TQDM = re.compile(r"\|\s*(\d+)/(\d+|\?)\s*\[")
_HEADER = re.compile(r"(?:^|\s)Epoch (\d+)/(\d+)\s*$")
_TQDM_EPOCH = re.compile(r"^\s*Epoch (\d+)\b")


class Point(NamedTuple):
    t: float  # seconds since the run started
    done: int  # samples (Keras 1/2) or steps (Keras 3, tqdm) done in this epoch
    target: Optional[int]  # None: unknown (Keras without steps_per_epoch)
    epoch: int  # 1-based; 0 before any epoch header


def parse_update(segment: str) -> Optional[tuple]:
    """(done, target or None, epoch or None) of one progress redraw, or None when it is none."""
    text = _ANSI.sub("", segment) if "\x1b" in segment else segment
    match = _KERAS.match(text)
    if match is not None:
        target = match.group(2)
        return int(match.group(1)), (None if target == "Unknown" else int(target)), None
    if "|" in text:
        match = _TQDM.search(text)
        if match is not None:
            epoch = _TQDM_EPOCH.match(text)
            target = match.group(2)
            return int(match.group(1)), (None if target == "?" else int(target)), (
                int(epoch.group(1)) + 1 if epoch else None)  # tqdm/Lightning count epochs from 0
    return None


class Tracker:
    """Feed it raw output as it arrives; it calls *sink(point)* for every kept update."""

    def __init__(self, sink: Callable[[Point], None]) -> None:
        self._sink = sink
        self._open: Dict[str, str] = {}  # per stream: the text after the last line break or redraw
        self._open_update: Dict[str, Optional[tuple]] = {}  # what that text said when it came
        self.epoch = 0
        self._last: Optional[Point] = None
        self._held: Optional[Point] = None  # the newest update not kept yet (an epoch's last is kept)

    def feed(self, t: float, stream: str, text: str) -> None:
        current = self._open.get(stream, "") + text
        # Everything before the last break is finished: look for epoch headers and updates there.
        cut = max(current.rfind("\n"), current.rfind("\r"), current.rfind("\b"))
        if cut >= 0:
            pieces = re.split(r"[\r\n\b]+", current[:cut])
            if self._open_update.get(stream) is not None and parse_update(pieces[0]) == self._open_update[stream]:
                pieces = pieces[1:]  # the segment that was open: already dated when its count came
            for finished in pieces:
                self._segment_done(t, finished)
            current = current[cut + 1:]
        # The open segment is an update as soon as its count is there: date it now.
        if len(current) > 4096:
            current = current[-4096:]  # a line with no break for ever: keep memory bounded
        self._open[stream] = current
        update = parse_update(current)
        self._open_update[stream] = update
        if update is not None:
            self._update(t, *update)

    def _segment_done(self, t: float, segment: str) -> None:
        """A segment that a break ended: an epoch header, or an update (dated by the chunk that brought
        its text; one that was already open when an earlier chunk came is a repeat and is dropped)."""
        if "Epoch" in segment:
            header = _HEADER.search(_ANSI.sub("", segment))
            if header is not None:
                self._new_epoch(int(header.group(1)))
                return
        update = parse_update(segment)
        if update is not None:
            self._update(t, *update)

    def _new_epoch(self, epoch: int) -> None:
        self._flush()
        self.epoch = epoch
        self._last = None

    def _update(self, t: float, done: int, target: Optional[int], epoch: Optional[int]) -> None:
        if epoch is not None and epoch != self.epoch:
            self._new_epoch(epoch)
        last = self._last
        if last is not None and done < last.done:
            self._new_epoch(self.epoch + 1)  # a new epoch without a header (Keras 3's single epoch)
            last = None
        if last is not None and done == last.done:
            return  # a redraw of the same count (Keras 3 redraws the last step with val_* metrics)
        point = Point(round(t, 3), done, target, self.epoch)
        if last is None or point.t - last.t >= MIN_INTERVAL or (target is not None and done >= target):
            self._keep(point)
        else:
            self._held = point

    def _keep(self, point: Point) -> None:
        self._held = None
        self._last = point
        self._sink(point)

    def _flush(self) -> None:
        if self._held is not None:
            self._keep(self._held)

    def close(self) -> None:
        """The output ended: keep the newest update too."""
        self._flush()


def points_of(chunks: List[tuple]) -> List[Point]:
    """The points a run's recorded ``(t, stream, text)`` chunks give, as the live tracker kept them."""
    found: List[Point] = []
    tracker = Tracker(found.append)
    for t, stream, text in chunks:
        tracker.feed(t, stream, text)
    tracker.close()
    return found


def format_point(point: Point) -> str:
    """One line of the ``.updates`` file next to a run's log: ``t done target epoch`` (target ``-``: unknown)."""
    return "%.3f %d %s %d" % (point.t, point.done, "-" if point.target is None else point.target, point.epoch)


def read_point(line: str) -> Optional[Point]:
    parts = line.split()
    if len(parts) != 4:
        return None
    try:
        return Point(float(parts[0]), int(parts[1]), None if parts[2] == "-" else int(parts[2]), int(parts[3]))
    except ValueError:
        return None
