"""PURE: which runs a comparison makes, in which order, and with which flags per stack."""

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from theanogpu.flags import flags_for_version
from theanogpu.variants import Variant


@dataclass(frozen=True)
class StackTarget:
    """A stack as ``compare`` needs it: its name and the Theano dialect its flags are spelled in."""

    name: str
    theano: Optional[str]  # "0.8" / "0.9" / "1.0"; None: no Theano in this stack


@dataclass
class PlannedRun:
    variant: Variant
    stack: StackTarget
    repeat: int
    repeats: int
    flags: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    @property
    def key(self) -> Tuple[str, str, int]:
        return (self.variant.name, self.stack.name, self.repeat)

    @property
    def label(self) -> str:
        """``variant@stack`` plus ``#repeat`` when a variant runs more than once (CONTRACT log names)."""
        base = "%s@%s" % (self.variant.name, safe_stack_label(self.stack.name))
        return base + ("#%d" % self.repeat if self.repeats > 1 else "")


def safe_stack_label(name: str) -> str:
    """Stack names may be paths (``/opt/venv``) or ``tox:env``; log file names may not hold ``/``."""
    cleaned = name.strip("/").replace("/", "_").replace("\\", "_").replace(":", "-")
    return cleaned or "stack"


def plan_runs(variants: Sequence[Variant], stacks: Sequence[StackTarget], repeats: int) -> List[PlannedRun]:
    """Every variant on every stack, *repeats* times, interleaved.

    Repeat 1 of every (stack, variant) comes before any repeat 2, so slow drift of the machine
    (thermal throttling, a background job) spreads over all variants instead of biasing one.
    """
    runs = []
    for repeat in range(1, repeats + 1):
        for stack in stacks:
            for variant in variants:
                run = PlannedRun(variant, stack, repeat, repeats)
                if stack.theano is not None:
                    translation = flags_for_version(variant.flags, stack.theano)
                    run.flags, run.notes = dict(translation.flags), list(translation.notes)
                else:
                    run.flags = dict(variant.flags)
                runs.append(run)
    return runs


def finished_keys(records: Iterable[dict]) -> set:
    """Runs of an earlier (interrupted) comparison that need not run again: they ended on their own."""
    return {(r.get("variant"), r.get("stack"), r.get("repeat", 1)) for r in records
            if r.get("status") in ("ok", "failed", "timeout")}


def epoch_durations(header_times: Sequence[float]) -> List[float]:
    """Seconds per completed epoch from the times its ``Epoch i/n`` headers were printed.

    Keras prints the next header right after an epoch's summary, so consecutive headers bracket
    exactly one epoch (training plus validation).
    """
    return [b - a for a, b in zip(header_times, header_times[1:])]


def is_stable(durations: Sequence[float], window: int = 3, tolerance: float = 0.02) -> bool:
    """True when the last *window* epochs (never the first, which carries compilation) agree within
    *tolerance* relative spread ((max - min) / median)."""
    steady = list(durations[1:])
    if len(steady) < window:
        return False
    last = sorted(steady[-window:])
    median = last[len(last) // 2]
    return median > 0 and (last[-1] - last[0]) / median < tolerance
