"""PURE: steady-state throughput from progress updates, with a confidence interval.

A run's speed is what it does once warm: after start-up, Theano's compilation and the slow first
updates of the first epoch. From the update points (updates.Point: time, done, target, epoch):

1. increments between consecutive points of the same epoch, up to its last step: the gap to the
   next epoch's first update is no training, nor is the one to the point that reaches the target
   (Keras 1/2 draw it only after the epoch's validation, so it carries the validation's time);
2. increments gathered into blocks of at least ``BLOCK_SECONDS`` (batch means: neighbouring updates
   are correlated, blocks much less), each block a rate (done per second);
3. the warm-up cut off where the data say it ends: MSER (White's Marginal Standard Error Rule)
   picks the number of leading blocks whose removal makes the mean of the rest most precise, searched
   over the first half only;
4. the rate: total done over total time of the steady blocks; its 95 % interval from the blocks'
   spread with Student's t.

Nothing here is tuned per framework: the same rules hold for Keras 1/2/3 and tqdm.
"""

import math
import statistics
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from theanogpu.updates import Point

BLOCK_SECONDS = 1.0
MIN_BLOCKS = 5  # fewer blocks cannot say how noisy they are
# Student's t, two-sided 95 %, by degrees of freedom; above 30 the normal value is close enough.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042)


def t95(degrees: int) -> float:
    return _T95[degrees - 1] if 1 <= degrees <= len(_T95) else 1.96


@dataclass(frozen=True)
class Estimate:
    rate: float  # done per second (samples or steps, as the progress display counts)
    low: float  # 95 % interval of the rate
    high: float
    blocks: int  # steady blocks the interval rests on
    updates: int  # updates (points) in the steady part
    steady_seconds: float  # training time the rate rests on
    warmup_seconds: float  # from the first update to the start of the steady part

    @property
    def precision(self) -> float:
        """Half the interval, relative to the rate (0.02: known within +-2 %)."""
        return (self.high - self.low) / 2 / self.rate if self.rate > 0 else math.inf

    def seconds_per(self, target: int) -> float:
        """Seconds a *target*-long epoch's training takes at this rate."""
        return target / self.rate


def closes_epoch(point: Point) -> bool:
    """Whether *point* reaches its epoch's target: for Keras 1/2 it is drawn after the validation."""
    return point.target is not None and point.done >= point.target


class Blocks:
    """The blocks of a run's updates, kept up to date one point at a time: (start, seconds, done,
    updates) blocks of at least BLOCK_SECONDS of training between consecutive points of one epoch
    (the block still filling is not one). A point that adds no block cannot change the estimate, so
    a live run is re-estimated only when one is completed."""

    def __init__(self) -> None:
        self.found: List[Tuple[float, float, int, int]] = []
        self.first_t: Optional[float] = None
        self._previous: Optional[Point] = None
        self._open: Tuple[float, float, int, int] = (0.0, 0.0, 0, 0)

    def add(self, point: Point) -> bool:
        """Take the run's next point; whether it completed a block."""
        before, self._previous = self._previous, point
        if before is None:
            self.first_t = point.t
            return False
        if not (point.epoch == before.epoch and point.done > before.done and point.t > before.t) \
                or closes_epoch(point):
            return False  # not training: a new epoch, a redraw, the point drawn after the validation
        start, seconds, done, count = self._open
        if count == 0:
            start = before.t
        seconds, done, count = seconds + point.t - before.t, done + point.done - before.done, count + 1
        if seconds >= BLOCK_SECONDS:
            self.found.append((start, seconds, done, count))
            self._open = (0.0, 0.0, 0, 0)
            return True
        self._open = (start, seconds, done, count)
        return False

    def estimate(self) -> Optional[Estimate]:
        """The steady-state throughput of the blocks so far, or None while there are too few to tell."""
        blocks = self.found
        if len(blocks) < MIN_BLOCKS or self.first_t is None:
            return None
        rates = [done / seconds for _, seconds, done, _ in blocks]
        cut = warmup_blocks(rates)
        steady = blocks[cut:]
        if len(steady) < MIN_BLOCKS:
            return None
        seconds = sum(block[1] for block in steady)
        done = sum(block[2] for block in steady)
        rate = done / seconds
        steady_rates = rates[cut:]
        half = t95(len(steady_rates) - 1) * statistics.stdev(steady_rates) / math.sqrt(len(steady_rates))
        return Estimate(rate=rate, low=max(rate - half, 0.0), high=rate + half, blocks=len(steady),
                        updates=sum(block[3] for block in steady), steady_seconds=seconds,
                        warmup_seconds=steady[0][0] - self.first_t)


def warmup_blocks(rates: Sequence[float]) -> int:
    """How many leading blocks are warm-up: MSER's truncation point, searched over the first half."""
    best, best_score = 0, math.inf
    for cut in range(0, max(1, len(rates) // 2)):
        rest = rates[cut:]
        if len(rest) < 2:
            break
        score = statistics.pvariance(rest) / len(rest)
        if score < best_score:
            best, best_score = cut, score
    return best


def estimate(points: Sequence[Point]) -> Optional[Estimate]:
    """The steady-state throughput of a run's updates, or None while there are too few to tell."""
    blocks = Blocks()
    for point in points:
        blocks.add(point)
    return blocks.estimate()


def stable(points: Sequence[Point], precision: float, min_steady_seconds: float) -> Optional[Estimate]:
    """The estimate once the steady rate is known within *precision* (0.02: +-2 % at 95 %) after at
    least *min_steady_seconds* of steady training; None until then."""
    return judged(estimate(points), precision, min_steady_seconds)


def judged(found: Optional[Estimate], precision: float, min_steady_seconds: float) -> Optional[Estimate]:
    """*found* if it is known well enough (see `stable`), else None."""
    if found is None or found.steady_seconds < min_steady_seconds or found.precision > precision:
        return None
    return found


def ratio_interval(ratio: float, precision_a: float, precision_b: float) -> Tuple[float, float]:
    """The ~95 % interval (low, high) of *ratio*, a ratio of two independent rates known within the
    relative half-widths *precision_a* and *precision_b* (combined in quadrature, as for a product of
    independent errors)."""
    relative = math.sqrt(precision_a ** 2 + precision_b ** 2)
    return ratio * max(1.0 - relative, 0.0), ratio * (1.0 + relative)
