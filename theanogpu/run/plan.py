"""PURE: which runs a comparison makes, in which order, and with which flags per stack."""

import hashlib
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

from theanogpu.backends import translate_variant
from theanogpu.intent import ALL_THREADS
from theanogpu.run.targets import ClusterTarget
from theanogpu.stacks.target import StackTarget
from theanogpu.variants import Variant

__all__ = ["AUTO", "PlannedRun", "StackTarget", "is_stable", "plan_run",
           "plan_runs", "safe_stack_label", "wants_auto_blas"]

# A flag value that the harness works out per stack (blas.ldflags: the best BLAS library found).
AUTO = "auto"


@dataclass
class PlannedRun:
    variant: Variant
    stack: StackTarget
    repeat: int
    repeats: int
    flags: Dict[str, str] = field(default_factory=dict)  # THEANO_FLAGS (Theano stacks only)
    env: Dict[str, str] = field(default_factory=dict)  # what the variant sets besides THEANO_FLAGS
    notes: List[str] = field(default_factory=list)
    floatx: Optional[str] = None  # keras.json floatx
    skip: Optional[str] = None  # why this variant does not run on this stack
    where: Optional[ClusterTarget] = None  # the cluster target it is sent to; None: this machine

    @property
    def key(self) -> Tuple[str, str, int, Optional[str]]:
        """What tells it apart from the comparison's other runs (results.run_key of its entry)."""
        return (self.variant.name, self.stack.name, self.repeat, self.where.name if self.where else None)

    @property
    def label(self) -> str:
        """``variant@stack``, ``+target`` on a cluster, ``#repeat`` when a variant runs more than once: names its
        log and files."""
        base = "%s@%s" % (self.variant.name, safe_stack_label(self.stack.name))
        if self.where is not None:
            base += "+" + self.where.name
        return fit_file_name(base + ("#%d" % self.repeat if self.repeats > 1 else ""))


# File systems allow 255 bytes a name; the label gets ".log" and ".log.tmp"-like endings, and a
# resume may add more: keep a margin.
MAX_LABEL_BYTES = 200


def fit_file_name(label: str) -> str:
    """*label* if it makes a valid file name, else its start plus a hash of the whole (still unique)."""
    if len(label.encode("utf-8")) <= MAX_LABEL_BYTES:
        return label
    digest = hashlib.sha256(label.encode("utf-8")).hexdigest()[:12]
    head = label.encode("utf-8")[:MAX_LABEL_BYTES - 13].decode("utf-8", "ignore")
    return "%s~%s" % (head, digest)


def safe_stack_label(name: str) -> str:
    """Stack names may be paths (``/opt/venv``) or ``tox:env``; log file names may not hold ``/``."""
    cleaned = name.strip("/").replace("/", "_").replace("\\", "_").replace(":", "-")
    return cleaned or "stack"


def plan_runs(variants: Sequence[Variant], stacks: Sequence[StackTarget], repeats: int,
              cpu_count: int = 1, where: Sequence[ClusterTarget] = ()) -> List[PlannedRun]:
    """Every variant on every stack (on every cluster target, when *where* names some), *repeats* times,
    interleaved.

    Repeat 1 of every (stack, variant) comes before any repeat 2, so slow drift of the machine
    (thermal throttling, a background job) spreads over all variants instead of biasing one.
    """
    runs = []
    for repeat in range(1, repeats + 1):
        places: List[Optional[ClusterTarget]] = list(where) or [None]
        for target in places:
            for stack in stacks:
                for variant in variants:
                    run = plan_run(variant, stack, repeat, repeats, cpu_count)
                    run.where = target
                    if target is not None and variant.threads == ALL_THREADS and not run.skip:
                        run.notes.append("threads = all is %d here, the CPUs of the machine that runs compare, "
                                         "not the node's: say threads = N" % cpu_count)
                    runs.append(run)
    return runs


def plan_run(variant: Variant, stack: StackTarget, repeat: int = 1, repeats: int = 1,
             cpu_count: int = 1) -> PlannedRun:
    """One run: the variant translated for the stack's backend (Theano flags or environment)."""
    run = PlannedRun(variant, stack, repeat, repeats)
    backend = stack.keras_backend
    if not variant.runs_on(backend):
        run.skip = "runs only on %s stacks (backends = %s)" % (" or ".join(variant.backends),
                                                                ", ".join(variant.backends))
        return run
    notes = []
    if variant.flags.get("blas.ldflags") == AUTO and backend == "theano":
        if stack.blas_ldflags is None:
            run.skip = "blas.ldflags = auto: %s" % (stack.blas_source or "no BLAS library found in this stack")
            return run
        variant = replace(variant, flags=dict(variant.flags, **{"blas.ldflags": stack.blas_ldflags}))
        notes.append("blas.ldflags = auto -> %s (%s)" % (stack.blas_ldflags, stack.blas_source))
    translation = translate_variant(variant, backend, stack.theano, cpu_count)
    run.flags, run.env = dict(translation.flags), dict(translation.env)
    run.notes, run.floatx = notes + list(translation.notes), translation.floatx
    return run


def wants_auto_blas(variants: Sequence[Variant]) -> bool:
    return any(variant.flags.get("blas.ldflags") == AUTO for variant in variants)


def is_stable(durations: Sequence[float], window: int = 3, tolerance: float = 0.02) -> bool:
    """True when the last *window* epochs (never the first, which carries compilation) agree within
    *tolerance* relative spread ((max - min) / median)."""
    steady = list(durations[1:])
    if len(steady) < window:
        return False
    last = sorted(steady[-window:])
    median = last[len(last) // 2]
    return median > 0 and (last[-1] - last[0]) / median < tolerance
