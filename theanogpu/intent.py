"""PURE: the backend-independent vocabulary of a variant (what the user wants, not how to spell it).

A variant states its intent with a few keys that every stack understands, next to (or instead of)
raw Theano flags and raw environment variables:

* ``device``: ``cpu`` or ``gpu`` (``gpuN`` / ``cudaN``: that GPU). Also Theano's own flag name.
* ``precision``: ``float32``, ``float64``, ``float16`` or ``mixed`` (float16 compute, float32
  weights: Keras's ``mixed_float16`` policy). Theano's ``floatX`` is the same intent.
* ``memory``: the GPU memory policy: an amount to preallocate (``0.8``: a fraction of GPU memory;
  ``2048``: megabytes; Theano's ``lib.cnmem`` / ``gpuarray.preallocate`` mean the same), ``grow``
  (allocate on demand, keep a cache) or ``off`` (no pool or cache at all).
* ``threads``: CPU threads for the math libraries: a whole number >= 1, or ``all`` (every core).

``backends.py`` turns an intent into Theano flags or a modern framework's environment variables.
(``flags.TheanoRequest`` is the narrower, Theano-only request that ``theanogpu config`` spells.)
"""

import re
from dataclasses import dataclass
from typing import Optional, Tuple

from theanogpu.devices import parse_theano_device
from theanogpu.errors import UserError
from theanogpu.flags.validate import FLOATX_ALIASES, finite_number

PRECISIONS = ("float16", "float32", "float64", "mixed")
MEMORY_WORDS = ("grow", "off")
# Keys of a matrix section that are intent, not Theano flags.
INTENT_KEYS = ("precision", "memory", "threads")
# A matrix key restricting a variant to stacks of some backends (see variants.py).
BACKENDS_KEY = "backends"
ENV_PREFIX = "env."
_PRECISION_ALIASES = {**FLOATX_ALIASES, "mixed_float16": "mixed",
                      "mixed-float16": "mixed", "fp16": "float16", "fp32": "float32", "fp64": "float64"}


@dataclass(frozen=True)
class Memory:
    """A GPU memory policy: ``amount`` (fraction <= 1 or megabytes > 1), ``grow`` or ``off``."""

    policy: str  # amount | grow | off
    amount: Optional[float] = None

    def describe(self) -> str:
        if self.policy != "amount":
            return {"grow": "allocate on demand", "off": "no memory pool"}[self.policy]
        if self.amount is not None and self.amount <= 1:
            return "preallocate %g%% of GPU memory" % (self.amount * 100)
        return "preallocate %g MB" % (self.amount or 0)


@dataclass(frozen=True)
class Intent:
    """What a variant wants; None: say nothing, let the framework use its default."""

    device: str = "cpu"  # cpu | gpu
    device_index: Optional[int] = None  # gpuN / cudaN
    precision: Optional[str] = None
    memory: Optional[Memory] = None
    threads: Optional[int] = None  # 0: every core (ALL_THREADS)


ALL_THREADS = 0
# More than any machine has cores; the math libraries would try to start that many threads.
MAX_THREADS = 4096


def _bad(where: str, key: str, text: str, why: str) -> UserError:
    """``--memory=abc: ...`` for an option, ``m.ini [gpu]: memory=abc: ...`` for a matrix key."""
    if where.startswith("--"):
        return UserError("%s=%s: %s" % (where, text, why))
    return UserError("%s: %s=%s: %s" % (where, key, text, why))


def split_device(text: str) -> Tuple[Optional[str], Optional[int]]:
    """``cuda1`` -> ("gpu", 1); ``cpu`` -> ("cpu", None); anything else -> (None, None)."""
    device = parse_theano_device(text.strip().lower())
    if device is None:
        return None, None
    return device.kind, device.gpu_number


def parse_precision(text: str, where: str) -> str:
    value = _PRECISION_ALIASES.get(text.strip().lower(), text.strip().lower())
    if value not in PRECISIONS:
        raise _bad(where, "precision", text, "use one of %s" % ", ".join(PRECISIONS))
    return value


def parse_memory(text: str, where: str) -> Memory:
    """``0.8`` / ``2048`` / ``preallocate=0.8`` / ``grow`` / ``off``; ``0`` is ``off`` (as for lib.cnmem)."""
    value = text.strip().lower()
    if value.startswith("preallocate"):
        value = value[len("preallocate"):].lstrip(" =:")
    if value in MEMORY_WORDS:
        return Memory(value)
    valid = "use a fraction 0 < x <= 1 of GPU memory, megabytes > 1, grow or off"
    amount = finite_number(value)
    if amount is None:
        raise _bad(where, "memory", text, valid)
    if amount < 0:
        raise _bad(where, "memory", text, "out of range; " + valid)
    return Memory("off") if amount == 0 else Memory("amount", amount)


def parse_threads(text: str, where: str) -> int:
    value = text.strip().lower()
    if value == "all":
        return ALL_THREADS
    # ASCII digits: str.isdigit() also passes "²", which int() then refuses with a traceback.
    if not re.fullmatch(r"[0-9]+", value) or not value.strip("0"):
        raise _bad(where, "threads", text, "use a whole number >= 1, or all")
    if len(value.lstrip("0")) > len(str(MAX_THREADS)) or int(value) > MAX_THREADS:
        raise _bad(where, "threads", text, "at most %d (or all)" % MAX_THREADS)
    return int(value)


def memory_from_theano(name: str, value: str) -> Optional[Memory]:
    """``lib.cnmem`` / ``gpuarray.preallocate`` as a memory intent (None: a value with no intent form).

    0 is Theano's default for both: no CNMeM pool (0.8/0.9), a cache grown on demand (gpuarray);
    a negative ``gpuarray.preallocate`` disables that cache.
    """
    amount = finite_number(value)
    if amount is None:
        return None
    if amount < 0:
        return Memory("off") if name == "gpuarray.preallocate" else None
    if amount == 0:
        return Memory("grow") if name == "gpuarray.preallocate" else Memory("off")
    return Memory("amount", amount)
