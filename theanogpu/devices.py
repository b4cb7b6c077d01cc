"""PURE: one vocabulary for devices: what a device string, a variant name or a set of flags asks for.

Two readings of a device string exist and both live here:

* ``device_kind``: gpu, cpu or None for a device as any framework or user writes it (``cuda:0``,
  ``GPU:1``, ``mps``...); lenient, for logs and records.
* ``parse_theano_device``: the strict spellings Theano accepts for its ``device`` flag (``cpu``,
  ``gpuN``, ``cudaN``, ``openclN:M``); strict, for what the tool writes into a config.
"""

import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

GPU_PREFIXES = ("gpu", "cuda", "opencl", "mps", "rocm", "hip", "xpu", "metal")
THEANO_FAMILIES = ("cpu", "gpu", "cuda", "opencl")
_THEANO_DEVICE = {
    "cpu": re.compile(r"cpu\Z"),
    "gpu": re.compile(r"gpu([0-9]*)\Z"),
    "cuda": re.compile(r"cuda([0-9]*)\Z"),
    "opencl": re.compile(r"opencl([0-9]+:[0-9]+)\Z"),
}


def device_kind(raw: object) -> Optional[str]:
    """gpu, cpu or None for a device string as Theano, TensorFlow, PyTorch or a user would write it."""
    if not isinstance(raw, str):
        return None
    value = raw.strip().strip("'\"").lower()
    if value.startswith("cpu"):
        return "cpu"
    if value.startswith(GPU_PREFIXES):
        return "gpu"
    return None


@dataclass(frozen=True)
class TheanoDevice:
    """A value of Theano's ``device`` flag: its family and what follows (``"1"``, ``"0:1"`` or ``""``)."""

    family: str  # cpu | gpu | cuda | opencl
    index: str = ""

    @property
    def kind(self) -> str:
        return "cpu" if self.family == "cpu" else "gpu"

    @property
    def gpu_number(self) -> Optional[int]:
        """N of ``gpuN``/``cudaN`` (which GPU), None for the default GPU, the CPU or OpenCL."""
        return int(self.index) if self.family in ("gpu", "cuda") and self.index.isdigit() else None

    def __str__(self) -> str:
        return self.family + self.index


def parse_theano_device(text: str) -> Optional[TheanoDevice]:
    """The Theano device *text* names exactly (``cuda1``), or None (``cudafoo``, ``cpu0``, ``GPU``)."""
    for family, pattern in _THEANO_DEVICE.items():
        match = pattern.match(text)
        if match:
            return TheanoDevice(family, match.group(1) if match.groups() else "")
    return None


def requested_from_flags(flags: Optional[Mapping[str, Any]]) -> Optional[str]:
    """gpu / cpu from Theano flags (``device``, ``init_gpu_device``, ``contexts``), None if they don't say."""
    if not flags:
        return None
    kind = device_kind(flags.get("device"))
    if kind == "gpu":
        return kind
    if device_kind(flags.get("init_gpu_device")) == "gpu" or flags.get("contexts"):
        return "gpu"
    return kind


def requested_from_name(name: str) -> Optional[str]:
    """The device a variant name promises (``gpu-cnmem`` -> gpu, ``cpu64`` -> cpu), else None."""
    tokens = [t for t in re.split(r"[^a-z0-9]+", name.lower()) if t]
    kinds = {"cpu" if t.startswith("cpu") else "gpu" for t in tokens if t.startswith(("cpu", "gpu", "cuda"))}
    return kinds.pop() if len(kinds) == 1 else None
