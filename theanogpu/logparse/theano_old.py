"""Theano's old CUDA backend (``device=gpu*``, Theano 0.7-0.9, ``theano.sandbox.cuda``).

The device line, in every historical form (theano/sandbox/cuda/__init__.py, 0.7-0.9)::

    Using gpu device 0: GeForce GTX 980                                           (0.7)
    Using gpu device 0: GeForce GTX TITAN X (CNMeM is disabled)                   (0.7/0.8 dev)
    Using gpu device 0: Tesla K40m (CNMeM is enabled with initial size: 30.0% of memory, CuDNN 5004)
    Using gpu device 0: GeForce GTX 980 Ti (CNMeM is enabled with initial size: 2048 MB, cuDNN 5005)
    Using gpu device 0: TITAN X (Pascal) (CNMeM is disabled, cuDNN not available)
    Using gpu device 0: GeForce GTX 980 (CNMeM is disabled, cuDNN Can not compile with cuDNN. ...

and the failure lines of ``use()``: nvcc not found, CUDA installed but the device not available,
initialisation failed (the reason on the next line), forced device without fallback, plus the
deprecation and version warnings. Also the ``Used the cpu``/``Used the gpu`` line of Theano's own GPU
test script, and ``THEANO_FLAGS=...`` in a shell command line (what the user asked for).
"""

import re
from typing import Optional, Tuple

from theanogpu.logparse.obs import NONE, Observations, device_kind

KEYWORDS = ("gpu device", "nvcc", "CUDA is installed", "Initialisation of device", "cuda backend",
            "No fallback", "You forced", "cuda_ndarray", "old GPU", "old gpu", "floatX=float32",
            "more recent", "tring to use", "recognise this flag", "THEANO_FLAGS", "Used the ")

_USING = re.compile(r"Using gpu device (\d+): (.*)")
_CUDNN_PART = re.compile(r", (?:cuDNN|CuDNN|cudnn) ")
_BARE_CUDNN = re.compile(r" \((?:cuDNN|CuDNN) ")
_PERCENT = re.compile(r"initial size: ([\d.]+)% of memory")
_MEGABYTES = re.compile(r"initial size: ([\d.]+) ?MB")
_NOT_AVAILABLE = re.compile(r"CUDA is installed, but device (\S+) is not available\s*(?:\(error: (.*?)\)?\s*$)?")
_INIT_FAILED = re.compile(r"Initialisation of device (\S+) failed:\s*(.*)")
_FLAGS = re.compile(r"THEANO_FLAGS=(\"[^\"]*\"|'[^']*'|\S+)")
_UNKNOWN_FLAG = re.compile(r"Theano does not recognise this flag: ([A-Za-z_][\w.]*)\s*$")
_USED_THE = re.compile(r"^Used the (cpu|gpu)\s*$")
NVCC_NOT_FOUND = "nvcc compiler not found on $PATH"


def parse_cnmem(text: str) -> Optional[dict]:
    """The contract's cnmem object for ``CNMeM is ...`` (fraction 0.8 for ``80.0% of memory``)."""
    text = text.strip()
    if not text.startswith("CNMeM is"):
        return None
    if "disabled" in text:
        return {"enabled": False, "fraction": None, "megabytes": None}
    match = _PERCENT.search(text)
    if match:
        return {"enabled": True, "fraction": round(float(match.group(1)) / 100.0, 6), "megabytes": None}
    match = _MEGABYTES.search(text)
    if match:
        return {"enabled": True, "fraction": None, "megabytes": float(match.group(1))}
    return {"enabled": True, "fraction": None, "megabytes": None}


def split_device_line(rest: str) -> Tuple[str, Optional[str], Optional[str]]:
    """``(gpu name, CNMeM part, cuDNN part)`` of what follows ``Using gpu device N: ``.

    The name may itself hold parentheses (``TITAN X (Pascal)``), so the CNMeM part is found by its
    text, not by the first parenthesis. A multi-line cuDNN message leaves the line without its ``)``.
    """
    rest = rest.rstrip()
    start = rest.find(" (CNMeM is ")
    if start < 0:
        match = _BARE_CUDNN.search(rest)
        if match is None:
            return rest, None, None
        name, inner = rest[:match.start()], rest[match.start() + 2:]
        cnmem_part = None
        cudnn_part: Optional[str] = inner.split(" ", 1)[1] if " " in inner else ""
    else:
        name, inner = rest[:start], rest[start + 2:]
        match = _CUDNN_PART.search(inner)
        if match:
            cnmem_part, cudnn_part = inner[:match.start()], inner[match.end():]
        else:
            cnmem_part, cudnn_part = inner, None
    if rest.endswith(")"):
        if cudnn_part is not None and cudnn_part.endswith(")"):
            cudnn_part = cudnn_part[:-1]
        elif cnmem_part is not None and cnmem_part.endswith(")"):
            cnmem_part = cnmem_part[:-1]
    if cudnn_part is not None:
        cudnn_part = cudnn_part.strip()
        if cudnn_part.lower() == "not available":
            cudnn_part = "not available"
    return name.strip(), cnmem_part, cudnn_part


def flags_from_shell(value: str) -> dict:
    """A THEANO_FLAGS value as a shell line shows it (quotes removed; good enough for device=...)."""
    value = value.strip("'\"")
    flags = {}
    for item in value.split(","):
        key, sep, val = item.partition("=")
        if sep:
            flags[key.strip()] = val.strip()
    return flags


def observe(text: str) -> Observations:
    if "Using gpu device" in text:
        match = _USING.search(text)
        if match is None:
            return NONE
        name, cnmem_part, cudnn_part = split_device_line(match.group(2))
        out: Observations = [("backend", {"name": "theano", "via": None}),
                             ("requested", {"device": "gpu", "raw": "gpu"}),
                             ("gpu_used", {"name": name or None, "device": "gpu" + match.group(1),
                                           "context": None})]
        cnmem = parse_cnmem(cnmem_part) if cnmem_part else None
        if cnmem is not None:
            out.append(("cnmem", cnmem))
        if cudnn_part:
            out.append(("cudnn", {"value": cudnn_part}))
        return out
    if "nvcc compiler not found" in text:
        return [("backend", {"name": "theano", "via": None}), ("requested", {"device": "gpu", "raw": None}),
                ("cpu_fallback", {"reason": NVCC_NOT_FOUND})]
    if "CUDA is installed, but device" in text:
        match = _NOT_AVAILABLE.search(text)
        if match is None:
            return NONE
        raw, error = match.group(1), match.group(2)
        reason = "CUDA is installed, but device %s is not available" % raw
        if error:
            reason += " (error: %s)" % error.strip()
        return [("backend", {"name": "theano", "via": None}),
                ("requested", {"device": device_kind(raw) or "gpu", "raw": raw}),
                ("cpu_fallback", {"reason": reason})]
    if "Initialisation of device" in text:
        match = _INIT_FAILED.search(text)
        if match is None:
            return NONE
        raw = match.group(1)
        return [("backend", {"name": "theano", "via": None}),
                ("requested", {"device": device_kind(raw) or "gpu", "raw": raw}),
                ("init_failed", {"device": raw, "reason": match.group(2).strip() or None})]
    if "No fallback to the cpu or other gpu device" in text or "You forced the use of gpu device" in text:
        return [("requested", {"device": "gpu", "raw": None}), ("no_fallback", {})]
    if "Failed to compile cuda_ndarray.cu" in text:
        return [("backend", {"name": "theano", "via": None}),
                ("reason_hint", {"reason": "Failed to compile cuda_ndarray.cu (see nvcc output)"})]
    if "The cuda backend is deprecated" in text:
        return [("backend", {"name": "theano", "via": None}), ("requested", {"device": "gpu", "raw": None}),
                ("warning", {"text": "Theano's old CUDA backend (device=gpu) is deprecated; "
                                     "use device=cuda (gpuarray)"})]
    if "tring to use the old GPU back-end" in text:
        return [("backend", {"name": "theano", "via": None}), ("requested", {"device": "gpu", "raw": None}),
                ("crash", {"reason": "Theano 1.0 removed the old GPU backend (device=gpu*): use device=cuda*"})]
    if "recognise this flag" in text:
        match = _UNKNOWN_FLAG.search(text)
        if match:
            flag = match.group(1)
            note = " (Theano 1.0 removed it; use gpuarray.preallocate)" if flag == "lib.cnmem" else ""
            return [("warning", {"text": "Theano ignored the unknown flag %s%s" % (flag, note)})]
        return NONE
    if "will be initialized, and used if a GPU is needed" in text:
        return [("warning", {"text": "init_gpu_device: the GPU is initialised but nothing is moved to it"})]
    if "You are probably using an old GPU" in text:
        return [("warning", {"text": "Theano: you are probably using an old GPU that Theano does not support"})]
    if "only support floatX=float32" in text:
        return [("warning", {"text": "Theano's old GPU backend only supports floatX=float32"})]
    if "version is more recent" in text and ("cuDNN" in text or "CuDNN" in text):
        return [("warning", {"text": "cuDNN is more recent than this Theano supports"})]
    if "THEANO_FLAGS=" in text:
        match = _FLAGS.search(text)
        if match is None:
            return NONE
        flags = flags_from_shell(match.group(1))
        raw = flags.get("device") or flags.get("init_gpu_device")
        kind = device_kind(raw) if raw else ("gpu" if flags.get("contexts") else None)
        return [("requested", {"device": kind, "raw": raw, "weak": True})] if kind else NONE
    if text.startswith("Used the "):
        match = _USED_THE.match(text)
        if match:
            return [("used_by_script", {"device": match.group(1)})]
    return NONE
