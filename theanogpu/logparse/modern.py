"""Machine-readable lines that theanogpu's own scripts print, and PyTorch/JAX device lines.

**The device line.** A training script run by ``compare`` (examples/cifar10_cnn.py) prints, once the
framework is initialised and the device really in use is known, one line on stdout or stderr::

    theanogpu-device: {"backend": "torch", "device": "cpu", "requested": "gpu", "name": null, "reason": "..."}

``theanogpu-device: `` (with that one space) followed by a JSON object on the same line:

- ``backend``: theano | tensorflow | torch | jax | cntk (the framework doing the computation);
- ``device``: where the computation runs: ``gpu`` or ``cpu`` (``cuda``, ``cuda:0``, ``gpu0``, ``mps``
  are read as gpu);
- ``requested``: ``gpu``, ``cpu`` or null, what the run asked for (flags, environment);
- ``name``: the GPU's name as the framework reports it, or null;
- ``reason``: why the run is not on the requested device, or null.

Other keys are allowed (e.g. ``cudnn``, ``detail``: a dict of what the probe saw, whose ``error``
serves as the reason when there is no ``reason``) and kept in the parse object's ``device_info``.
The line is taken as the truth about the device: it comes from inside the process.

**The data line.** ``theanogpu-data: {"source": "synthetic", "train": 2000, ...}`` (or
``{"synthetic": true, ...}``): what the training data was; kept as ``data`` in the parse object, and
``synthetic_data`` is true for ``"synthetic": true`` or ``"source": "synthetic"``.

**The result line.** ``theanogpu-result: {"epochs": 3, "epoch_seconds": [...], ...}``: the script's
own summary after training; kept as ``result_info``.

**The run line.** ``theanogpu-run: {"variant": "gpu", "flags": {"device": "gpu", ...}}``: what the
harness asked for, for a runner that writes it into the log (stream ``m``); ``flags`` give
``device_requested``.

Plain lines also recognised: ``Using device: cuda`` and ``Using cuda device`` (PyTorch's quickstart
tutorial prints ``f"Using {device} device"``), ``cuDNN version: 8200`` (a print of
``torch.backends.cudnn.version()``), JAX's ``No GPU/TPU
found, falling back to CPU`` and ``... a CUDA-enabled jaxlib is not installed. Falling back to cpu``,
and PyTorch's ``CUDA initialization: ...`` warning (a reason if the run ends on the CPU).

PyTorch's warnings about a GPU its build cannot use (torch/cuda/__init__.py, ``_check_capability`` and
``_check_cubins``), each a multi-line UserWarning whose first line may follow ``UserWarning: ``::

    NVIDIA GeForce RTX 3090 with CUDA capability sm_86 is not compatible with the current PyTorch installation.
    The current PyTorch install supports CUDA capabilities sm_37 sm_50 sm_60 sm_70.
    If you want to use the NVIDIA GeForce RTX 3090 GPU with PyTorch, please check the instructions at ...
    Found GPU0 Tesla K40m which is of cuda capability 3.5.              (0.3-2.x, "too old")
    Found GPU0 GeForce GTX 770 which requires CUDA_VERSION >= 8000 to   (0.3-1.x)

They name the GPU (``gpu_seen``) and give a reason if the run ends on the CPU; whether it does is
for the rest of the log to say (PyTorch may still run on the GPU, or fail on its first kernel).

PyTorch Lightning's Trainer says where it runs: ``GPU available: True (cuda), used: True`` (2.x;
1.x prints ``GPU available: True, used: True``).
"""

import json
import re
from typing import Dict, Optional

from theanogpu.logparse.obs import NONE, Observations, device_kind

KEYWORDS = ("theanogpu-", "Using device", "alling back to", "CUDA initialization", "jax", "capability",
            "Found GPU", "GPU with PyTorch", "GPU available", "CUDNN VERSION", "cuDNN version:")

DEVICE_TAG = "theanogpu-device:"
DATA_TAG = "theanogpu-data:"
RUN_TAG = "theanogpu-run:"
RESULT_TAG = "theanogpu-result:"
STOPPED_TAG = "theanogpu-stopped:"


def stopped_line(reason: str) -> str:
    """The line theanogpu ends a log with when it stopped the run early on purpose (--until-stable)."""
    return STOPPED_TAG + " " + json.dumps({"reason": reason})

_USING_DEVICE = re.compile(r"^Using device:? +['\"]?([A-Za-z]+)")
_USING_X_DEVICE = re.compile(r"^Using (cuda|cpu|mps|xpu)(?::\d+)? device\s*$")
_CUDNN_PRINT = re.compile(r"cudnn version:\s*(\d{3,6})\s*$", re.IGNORECASE)
_TORCH_CUDA_INIT = re.compile(r"CUDA initialization: (.*?)(?: \(Triggered internally.*)?$")
_INCOMPATIBLE = " with CUDA capability sm_"
_TORCH_INCOMPATIBLE = re.compile(r"(\d+) is not compatible")
_TORCH_TOO_OLD = re.compile(r"Found GPU(\d+) (.{1,200}?) which "
                            r"(is of cuda capability [\d.]+\d|requires CUDA_VERSION >= \d+)")
_TORCH_WANT = re.compile(r"If you want to use the (.{1,200}?) GPU with PyTorch")
_TORCH = ("backend", {"name": "torch", "via": None})
_LIGHTNING = re.compile(r"GPU available: (True|False)(?: \((\w+)\))?, used: (True|False)")


def _json_object(text: str, tag: str) -> Optional[dict]:
    start = text.find(tag)
    try:
        value = json.loads(text[start + len(tag):].strip())
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def format_device_line(backend: str, device: str, requested: Optional[str] = None, name: Optional[str] = None,
                       reason: Optional[str] = None, **extra: object) -> str:
    """The ``theanogpu-device:`` line for these values (the scripts inside old stacks inline this)."""
    payload: Dict[str, object] = {"backend": backend, "device": device, "requested": requested, "name": name,
                                  "reason": reason}
    payload.update(extra)
    return DEVICE_TAG + " " + json.dumps(payload, sort_keys=False)


def observe(text: str) -> Observations:
    if "theanogpu-" in text:
        if DEVICE_TAG in text:
            value = _json_object(text, DEVICE_TAG)
            return [("device_line", value)] if value is not None else NONE
        if DATA_TAG in text:
            value = _json_object(text, DATA_TAG)
            return [("data", value)] if value is not None else NONE
        if RUN_TAG in text:
            value = _json_object(text, RUN_TAG)
            return [("run_line", value)] if value is not None else NONE
        if RESULT_TAG in text:
            value = _json_object(text, RESULT_TAG)
            return [("result_line", value)] if value is not None else NONE
        if STOPPED_TAG in text:
            value = _json_object(text, STOPPED_TAG)
            return [("stopped", value)] if value is not None else NONE
        return NONE
    if text.startswith("Using "):
        match = _USING_DEVICE.match(text) or _USING_X_DEVICE.match(text)
        kind = device_kind(match.group(1)) if match else None
        if kind == "gpu" and match is not None:
            return [("gpu_used", {"name": None, "device": match.group(1), "context": None})]
        if kind == "cpu":
            return [("used_by_script", {"device": "cpu"})]
        return NONE
    if "No GPU/TPU found, falling back to CPU" in text:
        return [("backend", {"name": "jax", "via": None}), ("requested", {"device": "gpu", "raw": None, "weak": True}),
                ("cpu_fallback", {"reason": "JAX found no GPU/TPU"})]
    if "CUDA-enabled jaxlib is not installed" in text:
        return [("backend", {"name": "jax", "via": None}), ("requested", {"device": "gpu", "raw": None, "weak": True}),
                ("cpu_fallback", {"reason": "a GPU may be present, but the installed jaxlib has no CUDA support"})]
    if "cuDNN version:" in text or "CUDNN VERSION" in text:
        match = _CUDNN_PRINT.search(text)
        return [("cudnn", {"value": match.group(1)})] if match else NONE
    if "GPU available" in text:
        match = _LIGHTNING.search(text)
        if match is None:
            return NONE
        if match.group(3) == "True":
            return [_TORCH, ("gpu_used", {"name": None, "device": match.group(2) or "cuda", "context": None})]
        return [_TORCH, ("used_by_script", {"device": "cpu"})]
    if "capability" in text or "Found GPU" in text or "GPU with PyTorch" in text:
        return _torch_capability(text)
    if "CUDA initialization" in text:
        match = _TORCH_CUDA_INIT.search(text)
        if match:
            return [("reason_hint", {"reason": "CUDA initialization: " + match.group(1).strip()})]
    return NONE


def _torch_capability(text: str) -> Observations:
    """PyTorch's warning that its build cannot use this GPU (see the module docstring)."""
    at = text.find(_INCOMPATIBLE)
    match = _TORCH_INCOMPATIBLE.match(text, at + len(_INCOMPATIBLE)) if at >= 0 else None
    if match:
        # The name may follow a warning prefix on the same line ("...py:104: UserWarning: NVIDIA ...").
        name = text[:at].rsplit(": ", 1)[-1].rsplit("`", 1)[-1].strip(" '\"")
        why = "CUDA capability sm_%s is not supported by the installed PyTorch build" % match.group(1)
    else:
        match = _TORCH_TOO_OLD.search(text)
        if match:
            name, why = match.group(2).strip(), ("it %s, which this PyTorch build does not support"
                                                 % match.group(3))
        else:
            match = _TORCH_WANT.search(text)
            if match is None:
                return NONE
            name, why = match.group(1).strip(), None
    if not name:
        return NONE
    out: Observations = [_TORCH, ("gpu_seen", {"name": name})]
    if why:
        out.append(("reason_hint", {"reason": "PyTorch cannot use %s: %s" % (name, why)}))
    return out
