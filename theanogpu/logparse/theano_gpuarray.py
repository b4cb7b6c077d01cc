"""Theano's gpuarray backend (``device=cuda*``/``opencl*``, ``contexts=...``; Theano 0.8-1.0).

Success lines, per context (theano/gpuarray/__init__.py and dnn.py)::

    Using cuDNN version 7005 on context None
    Can not use cuDNN on context None: Disabled by dnn.enabled flag
    Preallocating 10867/11439 Mb (0.950000) on cuda0
    Disabling allocation cache on cuda0
    Mapped name None to device cuda0: GeForce GTX 1080 Ti (0000:82:00.0)
    Mapped name None to device cuda0: Tesla K80 (cuDNN version 5005)        (Theano 0.8)

Failures, after which Theano runs on the CPU: ``pygpu was configured but could not be
imported``, ``Could not initialize pygpu, support disabled`` (the cause is the exception line that
ends the traceback after it), and the RuntimeErrors raised during initialisation.
"""

import re

from theanogpu.logparse.obs import NONE, Observations, device_kind

KEYWORDS = ("Mapped name", "cuDNN", "Preallocat", "allocation cache", "pygpu", "initialize the GPU",
            "Using contexts")

_MAPPED = re.compile(r"Mapped name (\S+) to device (\S+?):\s*(.*)")
# What follows the device name: a PCI bus id or unique id (0.9/1.0), or the 0.8 cuDNN note.
_NAME_SUFFIX = re.compile(
    r"\s*\((?:[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f]+|GPU-[0-9A-Fa-f-]+|[0-9A-Fa-f-]{16,}"
    r"|cuDNN version [^)]*|cuDNN not available)\)\s*$")
_T08_CUDNN = re.compile(r"\(cuDNN (?:version (\S+?)|(not available))\)\s*$")
_USING_CUDNN = re.compile(r"Using cuDNN version (\d+) on context (\S+)")
_CANNOT_CUDNN = re.compile(r"Can not use cuDNN on context (\S+?): (.*)")
_PREALLOC = re.compile(r"Preallocating (\d+)/(\d+) Mb \(([\d.]+)\) on (\S+)")
_PREALLOC_MB = re.compile(r"Trying to preallocate (\d+) MB of GPU memory while only (\d+) MB are available")


def clean_device_name(text: str) -> str:
    """``GeForce GTX 1080 Ti`` from ``GeForce GTX 1080 Ti (0000:82:00.0)``, keeping ``TITAN X (Pascal)``."""
    return _NAME_SUFFIX.sub("", text).strip()


def observe(text: str) -> Observations:
    if "Mapped name" in text:
        match = _MAPPED.search(text)
        if match is None:
            return NONE
        context, device, rest = match.groups()
        out: Observations = [("backend", {"name": "theano", "via": None}),
                             ("requested", {"device": device_kind(device) or "gpu", "raw": device}),
                             ("gpu_used", {"name": clean_device_name(rest) or None, "device": device,
                                           "context": None if context == "None" else context})]
        t08 = _T08_CUDNN.search(rest)
        if t08:
            out.append(("cudnn", {"value": t08.group(1) or "not available"}))
        return out
    if "Using cuDNN version" in text:
        match = _USING_CUDNN.search(text)
        return [("backend", {"name": "theano", "via": None}),
                ("cudnn", {"value": match.group(1)})] if match else NONE
    if "Can not use cuDNN on context" in text:
        match = _CANNOT_CUDNN.search(text)
        if match is None:
            return NONE
        message = match.group(2).strip()
        return [("backend", {"name": "theano", "via": None}),
                ("cudnn", {"value": message or "not available"})]
    if "Preallocating" in text:
        match = _PREALLOC.search(text)
        if match:
            fraction = round(float(match.group(3)), 6)
            return [("cnmem", {"enabled": True, "fraction": fraction, "megabytes": None,
                               "preallocated_mb": int(match.group(1)), "total_mb": int(match.group(2))})]
        if "Preallocating too much memory" in text:
            return [("warning", {"text": "gpuarray: preallocating too much memory can prevent cuDNN and "
                                         "cuBLAS from working"})]
        return NONE
    if "Disabling allocation cache" in text:
        return [("cnmem", {"enabled": False, "fraction": None, "megabytes": None}),
                ("allocation_cache", {"enabled": False})]
    if "pygpu was configured but could not be imported" in text:
        reason = "pygpu was configured but could not be imported"
        if "too old" in text:
            reason += " or is too old"
        return [("backend", {"name": "theano", "via": None}), ("requested", {"device": "gpu", "raw": None}),
                ("cpu_fallback", {"reason": reason, "detail_from_exception": True})]
    if "Could not initialize pygpu" in text:
        return [("backend", {"name": "theano", "via": None}), ("requested", {"device": "gpu", "raw": None}),
                ("cpu_fallback", {"reason": "Could not initialize pygpu, support disabled",
                                  "detail_from_exception": True})]
    if "initialize the GPU in a subprocess" in text:
        return [("reason_hint", {"reason": "the parent process already initialised the GPU "
                                           "(THEANO_GPU_IS_ALREADY_ACTIVE is set)"})]
    if "Trying to preallocate" in text:
        match = _PREALLOC_MB.search(text)
        if match:
            return [("reason_hint", {"reason": "cannot preallocate %s MB: only %s MB free" % match.groups()})]
        return NONE
    if "You enabled cuDNN, but we aren't able to use it" in text:
        return [("reason_hint", {"reason": "dnn.enabled=True but cuDNN is not usable"})]
    if "Using contexts will make init_gpu_device act like device" in text:
        return [("warning", {"text": "contexts with init_gpu_device: init_gpu_device acts like device"})]
    return NONE
