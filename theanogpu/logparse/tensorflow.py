"""TensorFlow's device lines (TF 1.x and 2.x, also under Keras 2 and Keras 3).

GPU used::

    ... gpu_device.cc:1402] Created TensorFlow device (/job:localhost/.../device:GPU:0 with 22016 MB
        memory) -> physical GPU (device: 0, name: Quadro P6000, pci bus id: 0000:05:00.0, ...)
    ... gpu_device.cc:1886] Created device /job:localhost/.../device:GPU:0 with 21286 MB memory:
        -> device: 0, name: NVIDIA GeForce RTX 4090, pci bus id: 0000:01:00.0, compute capability: 8.9
    ... StreamExecutor device (0): NVIDIA GeForce RTX 4090, Compute Capability 8.9

Found but maybe not used: ``Found device 0 with properties:`` followed by ``name: X major: 3 ...``
(1.x) or ``pciBusID: ... name: X computeCapability: ...`` (2.x).

CPU fallback: ``Ignoring visible gpu device (...) with Cuda compute capability 3.0. The minimum
required Cuda capability is 3.5.``, ``Cannot dlopen some GPU libraries`` / ``Skipping registering GPU
devices...``, ``failed call to cuInit: ...``, ``Could not find cuda drivers on your machine``.
"""

import re

from theanogpu.logparse.obs import NONE, Observations

KEYWORDS = ("tensorflow", "Created", "device", "name: ", "dlopen", "Skipping registering GPU",
            "cuInit", "cuDNN version", "cuda drivers", "dynamic library")

_CREATED_NAME = re.compile(r"name: (.+?)(?:, pci bus id|, compute capability|\)\s*$|$)")
_GPU_INDEX = re.compile(r"device:GPU:(\d+)")
_IGNORING = re.compile(r"Ignoring visible gpu device \((.*?)\) with (.*?)\.\s*(The minimum required .*?)\.?\s*$")
_NAME_IN = re.compile(r"name: (.+?), ")
_STREAM_EXECUTOR = re.compile(r"StreamExecutor device \((\d+)\): (.+?), Compute Capability")
_FOUND_NAME = re.compile(r"(?:^|\s)name: (.+?)\s+(?:major: \d|computeCapability: )")
_CUINIT = re.compile(r"failed call to cuInit: (.*)")
_LOADED_CUDNN = re.compile(r"Loaded cuDNN version (\d+)")
_DLOPEN = re.compile(r"Could not (?:dlopen|load dynamic) library '([^']+)'(?:;)?\s*(?:dlerror: )?(.*)")

_TF = ("backend", {"name": "tensorflow", "via": None})
_REQUESTED = ("requested", {"device": "gpu", "raw": None, "weak": True})


def observe(text: str) -> Observations:
    if "Created" in text and "device" in text and ("physical GPU" in text or "device:GPU" in text):
        match = _CREATED_NAME.search(text)
        name = match.group(1).strip() if match else None
        index = _GPU_INDEX.search(text)
        device = "GPU:" + index.group(1) if index else "GPU"
        return [_TF, _REQUESTED, ("gpu_used", {"name": name, "device": device, "context": None})]
    if "Ignoring visible gpu device" in text:
        match = _IGNORING.search(text)
        name = None
        reason = "TensorFlow ignored the visible GPU"
        if match:
            inner = _NAME_IN.search(match.group(1) + ", ")
            name = inner.group(1).strip() if inner else None
            reason = "TensorFlow ignored GPU %s: %s; %s" % (name or "?", match.group(2), match.group(3))
        out: Observations = [_TF, _REQUESTED]
        if name:
            out.append(("gpu_seen", {"name": name}))
        out.append(("cpu_fallback", {"reason": reason}))
        return out
    if "StreamExecutor device" in text:
        match = _STREAM_EXECUTOR.search(text)
        if match:
            return [_TF, ("gpu_used", {"name": match.group(2).strip(), "device": "GPU:" + match.group(1),
                                       "context": None})]
        return NONE
    if "name: " in text and ("major: " in text or "computeCapability: " in text):
        match = _FOUND_NAME.search(text)
        if match:
            return [_TF, ("gpu_seen", {"name": match.group(1).strip()})]
        return NONE
    if "Cannot dlopen some GPU libraries" in text:
        return [_TF, _REQUESTED, ("cpu_fallback", {"reason": "TensorFlow cannot dlopen some GPU libraries "
                                                             "(CUDA/cuDNN missing)"})]
    if "Skipping registering GPU devices" in text:
        return [_TF, _REQUESTED, ("cpu_fallback", {"reason": "TensorFlow skipped registering GPU devices"})]
    if "failed call to cuInit" in text:
        match = _CUINIT.search(text)
        detail = match.group(1).strip() if match else ""
        return [_TF, _REQUESTED, ("cpu_fallback", {"reason": ("failed call to cuInit: " + detail).strip(": ")})]
    if "Could not find cuda drivers" in text:
        return [_TF, _REQUESTED, ("cpu_fallback", {"reason": "TensorFlow could not find CUDA drivers"})]
    if "Loaded cuDNN version" in text:
        match = _LOADED_CUDNN.search(text)
        return [_TF, ("cudnn", {"value": match.group(1)})] if match else NONE
    if "dlopen" in text or "dynamic library" in text:
        match = _DLOPEN.search(text)
        if match and any(lib in match.group(1) for lib in ("cudart", "cudnn", "cublas", "libcuda.")):
            return [_TF, ("reason_hint", {"reason": "could not load %s" % match.group(1)})]
        return NONE
    if "tensorflow/" in text or "WARNING:tensorflow" in text:
        return [_TF]
    return NONE
