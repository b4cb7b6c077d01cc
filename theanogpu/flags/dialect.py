"""What the user wants (device, floatX, GPU memory pool, cuDNN) -> flags in one Theano release's dialect.

The same intent is spelled differently per release (theano/configdefaults.py of each release):

* 0.8: ``device=gpu`` (old backend) and ``lib.cnmem``; ``cuda*`` is an experimental sandbox there.
* 0.9: both backends; ``gpu*`` + ``lib.cnmem`` (deprecated old backend) or ``cuda*`` +
  ``gpuarray.preallocate``.
* 1.0: only ``cuda*`` + ``gpuarray.preallocate``; ``gpu*`` is an error and ``lib.cnmem`` is ignored.

``lib.cnmem`` (0.8/0.9) and ``gpuarray.preallocate`` (0.9/1.0) mean the same thing: 0 off,
0 < x <= 1 a fraction of GPU memory clipped to 0.95, x > 1 megabytes. (In 0.8's gpuarray sandbox
``1`` meant 1 MB; this module never emits ``gpuarray.preallocate`` for 0.8.)
"""

import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

from theanogpu.devices import TheanoDevice, parse_theano_device
from theanogpu.errors import UserError
from theanogpu.flags.validate import check_value, finite_number, floatx_name

CUDNN_MODES = {"auto": "auto", "on": "True", "off": "False"}
_CUDNN_ALIASES = {"true": "on", "false": "off", "1": "on", "0": "off", "yes": "on", "no": "off"}
CLIP = 0.95
# The devices a request names and the dialects re-spell; OpenCL devices pass through as other flags.
_REQUEST_FAMILIES = ("cpu", "gpu", "cuda")
# The flags a TheanoRequest owns; everything else passes through untouched.
REQUEST_FLAGS = ("device", "floatX", "lib.cnmem", "gpuarray.preallocate", "dnn.enabled")


@dataclass(frozen=True)
class TheanoRequest:
    """What the user asks of Theano, in no release's spelling (``intent.Intent`` is the same idea for
    every backend, a variant's). None means "say nothing, let Theano use its default"."""

    device: Optional[str] = None  # cpu | gpu | gpuN | cuda | cudaN
    floatx: Optional[str] = None  # float16 | float32 | float64
    cnmem: Optional[float] = None  # 0 off; 0 < x <= 1 fraction; > 1 megabytes
    cudnn: Optional[str] = None  # auto | on | off


@dataclass
class DialectFlags:
    """Flags for one release plus notes (one line each) on what was translated and why."""

    version: str
    flags: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)


def _request_device(text: str) -> Optional[TheanoDevice]:
    device = parse_theano_device(text)
    return device if device is not None and device.family in _REQUEST_FAMILIES else None


def parse_device(text: str) -> str:
    """``--device``: cpu, gpu, gpuN, cuda or cudaN."""
    if _request_device(text) is None:
        raise UserError("--device=%s: not a device; use cpu, gpu, gpuN, cuda or cudaN "
                        "(gpu/cuda are translated to what the Theano release supports)" % text)
    return text


def parse_floatx(text: str) -> str:
    """``--floatx``: float16, float32, float64 (or 16, 32, 64)."""
    value = floatx_name(text)
    if value not in ("float16", "float32", "float64"):
        raise UserError("--floatx=%s: not a Theano floatX; use float32 (GPU), float64 or float16" % text)
    return value


def parse_cnmem(text: str) -> float:
    """``--cnmem``: 0 disables; 0 < x <= 1 is a fraction of GPU memory; x > 1 is megabytes."""
    valid = "use 0 (off), a fraction 0 < x <= 1 of GPU memory, or megabytes > 1"
    value = finite_number(text)
    if value is None:
        raise UserError("--cnmem=%s: not a number; %s" % (text, valid))
    if value < 0:
        raise UserError("--cnmem=%s: out of range; %s" % (text, valid))
    return value


def parse_cudnn(text: str) -> str:
    """``--cudnn``: auto (use it if it works), on (fail without it), off."""
    mode = _CUDNN_ALIASES.get(text.lower(), text.lower())
    if mode not in CUDNN_MODES:
        raise UserError("--cudnn=%s: use auto, on or off" % text)
    return mode


def format_number(value: float) -> str:
    """0.8 -> '0.8', 1000.0 -> '1000': the shortest text Theano's float() reads back exactly."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def describe_amount(value: float) -> str:
    if value == 0:
        return "off"
    if value <= 1:
        return "%.1f%% of GPU memory" % (min(value, CLIP) * 100)
    return "%s MB" % format_number(value)


def _device_for(version: str, device: str, notes: List[str]) -> str:
    parsed = _request_device(device)
    assert parsed is not None
    family, index = parsed.family, parsed.index
    if version == "1.0" and family == "gpu":
        notes.append("device=%s -> device=cuda%s: Theano 1.0 removed the old GPU backend (gpu*)"
                     % (device, index))
        return "cuda" + index
    if version == "0.8" and family == "cuda":
        notes.append("device=%s -> device=gpu%s: in Theano 0.8 the cuda* backend (gpuarray) is an "
                     "experimental sandbox; use --set device=%s to ask for it anyway"
                     % (device, index, device))
        return "gpu" + index
    if version == "0.9" and family == "gpu":
        notes.append("device=%s uses the old GPU backend, deprecated in Theano 0.9 (it logs a warning); "
                     "--device cuda selects the new gpuarray backend" % device)
    return device


def spell_request(intent: TheanoRequest, version: str) -> DialectFlags:
    """Flags for *intent* in the dialect of Theano *version* ("0.8", "0.9" or "1.0")."""
    result = DialectFlags(version)
    flags, notes = result.flags, result.notes
    device = _device_for(version, intent.device, notes) if intent.device else None
    if device is not None:
        flags["device"] = device
    if intent.floatx is not None:
        flags["floatX"] = intent.floatx
        if device and device.startswith("gpu") and intent.floatx != "float32":
            if version == "0.9" and intent.floatx == "float16":
                raise UserError("--floatx=float16 with the old GPU backend (device=%s) makes Theano 0.9 "
                                "raise RuntimeError; use --device cuda" % device)
            notes.append("floatX=%s with the old GPU backend: only float32 computations run on the GPU"
                         % intent.floatx)
    if intent.cnmem is not None:
        if device == "cpu":
            notes.append("--cnmem left out: it has no effect with device=cpu")
        else:
            _memory_flags(version, device, intent.cnmem, flags, notes)
    if intent.cudnn is not None:
        if device == "cpu":
            notes.append("--cudnn left out: it has no effect with device=cpu")
        else:
            flags["dnn.enabled"] = CUDNN_MODES[intent.cudnn]
    for name, value in flags.items():
        check_value(version, name, value)
    return result


def _memory_flags(version: str, device: Optional[str], amount: float, flags: Dict[str, str],
                  notes: List[str]) -> None:
    text = format_number(amount)
    old_backend = version == "0.8" or (version == "0.9" and not (device or "").startswith("cuda"))
    if old_backend:
        flags["lib.cnmem"] = text
        what = "lib.cnmem"
    else:
        flags["gpuarray.preallocate"] = text
        what = "gpuarray.preallocate"
        if version == "1.0":
            notes.append("lib.cnmem was removed in Theano 1.0: --cnmem %s -> gpuarray.preallocate=%s "
                         "(same meaning: %s)" % (text, text, describe_amount(amount)))
        else:
            notes.append("device=%s uses gpuarray: --cnmem %s -> gpuarray.preallocate=%s (%s)"
                         % (device, text, text, describe_amount(amount)))
    notes.extend(amount_notes(what, text, version))


def amount_notes(name: str, value: str, version: str) -> List[str]:
    """What a lib.cnmem / gpuarray.preallocate value really does in *version*, when that surprises."""
    try:
        amount = float(value)
    except ValueError:
        return []
    if name == "gpuarray.preallocate" and version == "0.8":
        # Theano 0.8's gpuarray sandbox: fraction only below 1 (clipped to 0.98); 1 and above are MB.
        if amount >= 1:
            return ["gpuarray.preallocate=%s means %s MB in Theano 0.8 (1 is 1 MB there, but 95%% of GPU "
                    "memory in 0.9/1.0)" % (value, value)]
        return []
    if name == "gpuarray.preallocate" and amount < 0:
        return ["gpuarray.preallocate=%s disables the allocation cache (slower, but no pooling)" % value]
    if CLIP < amount <= 1:
        return ["%s=%s: Theano clips fractions to %s, so this preallocates 95%% of GPU memory" % (name, value, CLIP)]
    if amount > 1:
        return ["%s=%s means %s MB (values above 1 are megabytes, not a fraction)" % (name, value, value)]
    return []


def consistency_notes(flags: Mapping[str, str]) -> List[str]:
    """Memory-pool flags that the chosen device's backend ignores."""
    device = flags.get("device", "cpu")
    notes = []
    if "lib.cnmem" in flags and not device.startswith("gpu"):
        notes.append("lib.cnmem only affects the old backend (device=gpu*); device=%s ignores it%s"
                     % (device, "; use gpuarray.preallocate" if device.startswith("cuda") else ""))
    if "gpuarray.preallocate" in flags and not device.startswith(("cuda", "opencl")):
        notes.append("gpuarray.preallocate only affects the gpuarray backend (device=cuda*); device=%s ignores it"
                     % device)
    return notes


def request_from_flags(flags: Mapping[str, str]) -> Tuple[TheanoRequest, Dict[str, str]]:
    """Split a flags dict written in any release's dialect into an TheanoRequest and the other flags.

    ``lib.cnmem`` and ``gpuarray.preallocate`` both become the memory amount (0.9/1.0 meaning).
    A negative ``gpuarray.preallocate`` (disable the allocation cache) has no intent form and stays
    in the other flags, as do values this module does not understand.
    """
    rest = dict(flags)
    device = rest.get("device")
    device = rest.pop("device") if device is not None and _request_device(device) else None
    floatx = rest.get("floatX")
    floatx = rest.pop("floatX") if floatx in ("float16", "float32", "float64", "16", "32", "64") else None
    floatx = parse_floatx(floatx) if floatx else None
    cnmem = None
    for key in ("lib.cnmem", "gpuarray.preallocate"):
        amount = finite_number(rest.get(key) or "")
        if amount is not None and amount >= 0:
            del rest[key]
            cnmem = amount if cnmem is None else cnmem
    cudnn = None
    enabled = rest.get("dnn.enabled")
    if enabled in ("auto", "True", "False"):
        cudnn = {"auto": "auto", "True": "on", "False": "off"}[rest.pop("dnn.enabled")]
    return TheanoRequest(device, floatx, cnmem, cudnn), rest


def flags_for_version(flags: Mapping[str, str], version: str) -> DialectFlags:
    """Re-spell *flags* (e.g. a variant ``device=gpu, lib.cnmem=0.8``) for Theano *version*.

    The device/floatX/memory/cuDNN part is translated as ``translate`` does; every other flag is
    kept as written and validated against *version* (UserError if that release lacks it).
    """
    intent, rest = request_from_flags(flags)
    result = spell_request(intent, version)
    for name, value in rest.items():
        result.flags[name] = check_value(version, name, value)
    return result


_VERSION_RE = re.compile(r"(?:theano)?(0\.?8|0\.?9|1\.?0)(?:\.[0-9][0-9a-z.]*)?\Z", re.IGNORECASE)


def parse_theano_version(text: str) -> str:
    """``--theano``: 0.8, 0.9 or 1.0; also 0.8.2, 1.0.5, theano08, 10 ... -> "0.8" / "0.9" / "1.0"."""
    match = _VERSION_RE.match(text.strip())
    if not match:
        raise UserError("--theano=%s: unsupported Theano version; use 0.8, 0.9 or 1.0" % text)
    digits = match.group(1).replace(".", "")
    return digits[0] + "." + digits[1]


def release_dialect(version: str) -> Tuple[str, Optional[str]]:
    """An installed Theano version string (e.g. "0.9.0", "0.10.0beta1") -> (dialect, note or None)."""
    parts = re.findall(r"[0-9]+", version)[:2]
    major, minor = (int(parts[0]), int(parts[1])) if len(parts) == 2 else (0, 0)
    if (major, minor) >= (1, 0) or (major == 0 and minor >= 10):
        dialect = "1.0"
    elif (major, minor) == (0, 9):
        dialect = "0.9"
    else:
        dialect = "0.8"
    note = None
    if (major, minor) < (0, 8) or (major, minor) > (1, 0):
        note = "Theano %s is outside 0.8-1.0; writing the %s dialect" % (version, dialect)
    return dialect, note


@dataclass
class Stale:
    """What to do with a file's options that the release being written for no longer reads."""

    remove: List[str] = field(default_factory=list)
    add: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)


def stale_options(existing: Mapping[str, str], flags: Mapping[str, str], version: str) -> Stale:
    """``lib.cnmem`` in a file written for Theano 1.0, which removed it (1.0 only warns that it does not
    recognise it, and the pool is silently off): its amount moves to ``gpuarray.preallocate`` unless
    the new flags set that already; the stale key goes either way."""
    stale = Stale()
    if version != "1.0" or "lib.cnmem" not in existing:
        return stale
    old = existing["lib.cnmem"]
    stale.remove.append("lib.cnmem")
    amount = finite_number(old)
    if "gpuarray.preallocate" in flags or "gpuarray.preallocate" in existing:
        stale.notes.append("removed lib.cnmem = %s: Theano 1.0 ignores it; gpuarray.preallocate sets the pool now"
                           % old)
    elif amount is not None and amount > 0 and str(flags.get("device", existing.get("device", ""))).startswith("cuda"):
        stale.add["gpuarray.preallocate"] = old
        stale.notes.append("lib.cnmem = %s -> gpuarray.preallocate = %s: Theano 1.0 removed lib.cnmem (same "
                           "meaning: %s)" % (old, old, describe_amount(amount)))
    else:
        stale.notes.append("removed lib.cnmem = %s: Theano 1.0 ignores it" % old)
    return stale
