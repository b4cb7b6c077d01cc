"""TensorFlow's device lines (TF 0.x to 2.x, also under Keras 2 and Keras 3).

From tensorflow/core/common_runtime/gpu/gpu_init.cc (0.x) and gpu_device.cc (all later releases),
each line behind glog's ``I tensorflow/...cc:NNN]`` prefix (with a timestamp from 1.1 on; Windows
builds print ``I c:\\tf_jenkins\\...\\gpu_device.cc:NNN]``).

GPU used::

    Creating TensorFlow device (/gpu:0) -> (device: 0, name: GeForce GTX 1060, pci bus id: 0000:01:00.0)
                                                                                        (0.x-1.4)
    Creating TensorFlow device (/device:GPU:0) -> (device: 0, name: ..., compute capability: 6.1)
    Creating TensorFlow device (/job:localhost/.../device:GPU:0 with 1405 MB memory) -> physical GPU (...)
    Created TensorFlow device (/job:localhost/.../device:GPU:0 with 22016 MB memory) -> physical GPU (...)
    Created device /job:localhost/.../device:GPU:0 with 21286 MB memory:  -> device: 0, name: ..., ...
    StreamExecutor device (0): NVIDIA GeForce RTX 4090, Compute Capability 8.9
    /job:localhost/replica:0/task:0/device:GPU:0 -> device: 0, name: Tesla K80, pci bus id: ...
                                                  (the session's "Device mapping:", log_device_placement)

Found, and used unless a later line says otherwise (run.py)::

    Found device 0 with properties:        then on the next lines, in the form of the release:
    name: GRID K520                           0.x-1.4, one property per line, then
    major: 3 minor: 0 memoryClockRate (GHz) 0.797     pciBusID, Total memory, Free memory
    name: GeForce GTX 1070 major: 6 minor: 1 memoryClockRate(GHz): 1.683              1.5-1.15
    pciBusID: 0000:01:00.0 name: GeForce GTX 1060 computeCapability: 6.1              2.x
    Adding visible gpu devices: 0                                                     1.5+

CPU fallback: ``Ignoring gpu device (device: 0, name: GRID K520, pci bus id: ...) with Cuda compute
capability 3.0. The minimum required Cuda capability is 3.5.`` (0.x; ``Ignoring visible gpu device
(...)`` from 0.12, also ``with Cuda multiprocessor count: 5. The minimum required count is 8.``),
``Device mapping: no known devices.``, ``Cannot dlopen some GPU libraries`` / ``Skipping registering
GPU devices...``, ``failed call to cuInit: ...``, ``Could not find cuda drivers on your machine``, and
the TensorFlow guides' own checks: ``Num GPUs Available:  0`` (2.x), ``Default GPU Device:
/device:GPU:0`` or ``Please install GPU version of TF`` (1.x), and a printed
``[PhysicalDevice(name='/physical_device:GPU:0', device_type='GPU')]``.
"""

import re

from theanogpu.logparse.obs import NONE, Observations

KEYWORDS = ("tensorflow", "Created", "device", "name: ", "dlopen", "Skipping registering GPU",
            "cuInit", "cuDNN version", "cuda drivers", "dynamic library", "GPUs Available", "GPU Device",
            "GPU version of TF", "physical_device:GPU")

# Names are captured lazily up to what follows them, 200 characters at most: a lazy capture with no
# bound would try every length at every start on a long line.
_CREATED_NAME = re.compile(r"name: (.{1,200}?)(?:, pci bus id|, compute capability|\)\s*$|$)")
_GPU_INDEX = re.compile(r"device:GPU:(\d+)|/gpu:(\d+)")
# The parentheses hold the device description, whose name may have its own: TITAN X (Pascal).
_IGNORING = re.compile(r"Ignoring (?:visible )?gpu device \(((?:[^()]|\([^()]*\))*)\)\s*"
                       r"(?:with (.*?)\.\s*(The minimum required .*?)\.?\s*$)?")
_IGNORING_ID = re.compile(r"Ignoring visible gpu device (\d+) (.*)")
_FOUND = re.compile(r"Found device (\d+) with properties:?")
_NAME_LINE = re.compile(r"name: (.+?)\s*$")
_MAPPING = re.compile(r"/(?:device:)?gpu:(\d+) -> device: \d+, name: (.{1,200}?)"
                      r"(?:, pci bus id|, compute capability|$)", re.IGNORECASE)
_VISIBLE = re.compile(r"Adding visible gpu devices: *(\d)")
_NUM_GPUS = re.compile(r"Num GPUs Available:\s*(\d+)")
_NAME_IN = re.compile(r"name: (.{1,200}?), ")
_STREAM_EXECUTOR = re.compile(r"StreamExecutor device \((\d+)\): (.{1,200}?), Compute Capability")
_FOUND_NAME = re.compile(r"(?:^|\s)name: (.{1,200}?)\s+(?:major: \d|computeCapability: )")
_CUINIT = re.compile(r"failed call to cuInit: (.*)")
_LOADED_CUDNN = re.compile(r"Loaded cuDNN version (\d+)")
_DLOPEN = re.compile(r"Could not (?:dlopen|load dynamic) library '([^']+)'(?:;)?\s*(?:dlerror: )?(.*)")

_TF = ("backend", {"name": "tensorflow", "via": None})
_REQUESTED = ("requested", {"device": "gpu", "raw": None, "weak": True})


def observe(text: str) -> Observations:
    if "Creat" in text and "device" in text and ("physical GPU" in text or "device:GPU" in text
                                                 or "TensorFlow device (/gpu:" in text):
        return _created(text)
    if "Ignoring" in text and "gpu device" in text:
        return _ignoring(text)
    if "Found device" in text:
        match = _FOUND.search(text)
        if match is None:
            return NONE
        named = _FOUND_NAME.search(text, match.end())
        return [_TF, _REQUESTED, ("gpu_found", {"index": int(match.group(1)),
                                                "name": named.group(1).strip() if named else None})]
    if text.startswith("name: ") and "major: " not in text and "computeCapability: " not in text:
        # 0.x-1.4 print the name alone on the line after "Found device N with properties:".
        named = _NAME_LINE.match(text)
        return [("gpu_name_line", {"name": named.group(1)})] if named else NONE
    if "-> device: " in text and "name: " in text:
        match = _MAPPING.search(text)
        if match:
            return [_TF, _REQUESTED, ("gpu_used", {"name": match.group(2).strip(), "device": "GPU:" + match.group(1),
                                                   "context": None})]
        return NONE
    if "Adding visible gpu devices" in text:
        return [_TF, _REQUESTED, ("gpu_found", {"index": None, "name": None})] if _VISIBLE.search(text) else [_TF]
    if "Device mapping: no known devices" in text:
        return [_TF, _REQUESTED, ("cpu_fallback", {"reason": "TensorFlow mapped no GPU (Device mapping: no known "
                                                             "devices)"})]
    if "GPUs Available" in text:
        return _num_gpus(text)
    if "Default GPU Device: /device:GPU:" in text or "physical_device:GPU:" in text:
        return [_TF, _REQUESTED, ("gpu_found", {"index": None, "name": None})]
    if "Please install GPU version of TF" in text:
        return [_TF, _REQUESTED, ("cpu_fallback", {"reason": "TensorFlow has no GPU device (gpu_device_name() is "
                                                             "empty)"})]
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


def _created(text: str) -> Observations:
    match = _CREATED_NAME.search(text)
    name = match.group(1).strip() if match else None
    index = _GPU_INDEX.search(text)
    device = "GPU:" + (index.group(1) or index.group(2)) if index else "GPU"
    return [_TF, _REQUESTED, ("gpu_used", {"name": name, "device": device, "context": None})]


def _ignoring(text: str) -> Observations:
    """A GPU TensorFlow will not use; the run is on the CPU unless another GPU is created."""
    match = _IGNORING.search(text)
    name = None
    reason = "TensorFlow ignored the visible GPU"
    if match:
        inner = _NAME_IN.search(match.group(1) + ", ")
        name = inner.group(1).strip() if inner else None
        if match.group(2):
            reason = "TensorFlow ignored GPU %s: %s; %s" % (name or "?", match.group(2), match.group(3))
        else:  # the reason went to the next console line
            reason = "TensorFlow ignored GPU %s" % (name or "?")
    else:
        by_id = _IGNORING_ID.search(text)
        if by_id:
            reason = "TensorFlow ignored visible GPU %s: %s" % by_id.groups()
    out: Observations = [_TF, _REQUESTED]
    if name:
        out.append(("gpu_seen", {"name": name}))
    out.append(("cpu_fallback", {"reason": reason}))
    return out


def _num_gpus(text: str) -> Observations:
    """``print("Num GPUs Available: ", len(tf.config.list_physical_devices('GPU')))`` (TensorFlow's guide)."""
    match = _NUM_GPUS.search(text)
    if match is None:
        return NONE
    if match.group(1) == "0":
        return [_TF, _REQUESTED, ("cpu_fallback", {"reason": "TensorFlow lists no GPU (Num GPUs Available: 0)"})]
    return [_TF, _REQUESTED, ("gpu_found", {"index": None, "name": None})]
