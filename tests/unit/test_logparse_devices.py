"""TensorFlow, PyTorch/JAX and theanogpu's own device lines; what was requested; the fallback rules."""

import json

import pytest

from theanogpu.logparse import parse_lines, requested_from_flags
from theanogpu.logparse.modern import format_device_line

CPU_EPOCH = ["Epoch 1/1", " - 152s - loss: 1.8658 - acc: 0.3048"]


def test_tf_found_device_tf2_form_and_created_device():
    result = parse_lines([
        "2021-01-01 00:00:00.000000: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1716] Found device 0 with "
        "properties: ",
        "pciBusID: 0000:01:00.0 name: GeForce GTX 1080 computeCapability: 6.1",
        "2021-01-01 00:00:01.000000: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1402] Created TensorFlow "
        "device (/job:localhost/replica:0/task:0/device:GPU:0 with 7000 MB memory) -> physical GPU (device: 0, "
        "name: GeForce GTX 1080, pci bus id: 0000:01:00.0, compute capability: 6.1)"])
    assert result["backend"] == "tensorflow"
    assert result["device_used"] == "gpu" and result["fallback"] is False
    assert result["gpu_name"] == "GeForce GTX 1080"


def test_tf_found_but_cuinit_failed_keeps_the_name_and_falls_back():
    result = parse_lines([
        "I tensorflow/core/common_runtime/gpu/gpu_device.cc:1356] Found device 0 with properties: ",
        "name: GeForce GTX 970 major: 5 minor: 2 memoryClockRate(GHz): 1.253",
        "E tensorflow/stream_executor/cuda/cuda_driver.cc:313] failed call to cuInit: CUDA_ERROR_NO_DEVICE: no "
        "CUDA-capable device is detected"])
    assert result["gpu_name"] == "GeForce GTX 970"
    assert result["device_used"] == "cpu" and result["fallback"] is True
    assert result["fallback_reason"] == ("failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is "
                                         "detected")


def test_tf_harmless_tensorrt_dlopen_warning_is_not_a_fallback():
    result = parse_lines([
        "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library "
        "'libnvinfer.so.7'; dlerror: libnvinfer.so.7: cannot open shared object file",
        "I tensorflow/core/common_runtime/gpu/gpu_device.cc:1886] Created device /job:localhost/replica:0/task:0/"
        "device:GPU:0 with 21286 MB memory:  -> device: 0, name: NVIDIA A100-SXM4-40GB, pci bus id: 0000:01:00.0, "
        "compute capability: 8.0"])
    assert result["device_used"] == "gpu" and result["fallback"] is False
    assert result["gpu_name"] == "NVIDIA A100-SXM4-40GB"


def test_tf_missing_cudart_then_skipping_registration():
    result = parse_lines([
        "W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library "
        "'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file",
        "W tensorflow/core/common_runtime/gpu/gpu_device.cc:1850] Cannot dlopen some GPU libraries. Please make sure",
        "Skipping registering GPU devices..."])
    assert result["device_used"] == "cpu" and result["fallback"] is True
    assert "cannot dlopen" in result["fallback_reason"]


def test_theanogpu_device_line_is_the_truth():
    line = format_device_line("torch", "cpu", requested="gpu", name=None, reason="torch.cuda.is_available() is False",
                              torch="2.3.0")
    assert line.startswith('theanogpu-device: {"backend": "torch", "device": "cpu"')
    result = parse_lines(["Using device: cuda", line] + CPU_EPOCH)
    assert result["backend"] == "torch"
    assert result["device_used"] == "cpu"
    assert result["device_requested"] == "gpu"
    assert result["fallback"] is True
    assert result["fallback_reason"] == "torch.cuda.is_available() is False"
    assert result["device_info"]["torch"] == "2.3.0"


def test_theanogpu_device_line_for_a_gpu_run_gives_the_name():
    result = parse_lines([format_device_line("jax", "gpu", requested="gpu", name="NVIDIA H100 80GB HBM3")])
    assert result["device_used"] == "gpu" and result["fallback"] is False
    assert result["gpu_name"] == "NVIDIA H100 80GB HBM3" and result["backend"] == "jax"


def test_theanogpu_device_line_for_theano_keeps_theanos_own_reason():
    result = parse_lines(["ERROR (theano.sandbox.cuda): nvcc compiler not found on $PATH. Check your nvcc "
                          "installation and try again.",
                          format_device_line("theano", "cpu", requested="gpu", reason="cuda_enabled is False")])
    assert result["fallback_reason"] == "nvcc compiler not found on $PATH"


def test_broken_theanogpu_lines_are_ignored():
    result = parse_lines(["theanogpu-device: {not json", "theanogpu-device: [1, 2]", "theanogpu-data: 3"])
    assert result["device_info"] is None and result["data"] is None and result["device_used"] is None


def test_data_line():
    payload = {"synthetic": True, "samples": 2000, "reason": "CIFAR-10 not found in --data"}
    result = parse_lines(["theanogpu-data: " + json.dumps(payload)])
    assert result["data"] == payload and result["synthetic_data"] is True


def test_run_line_gives_the_requested_device():
    result = parse_lines(['theanogpu-run: {"variant": "gpu", "flags": {"device": "gpu", "floatX": "float32"}}',
                          "Using Theano backend."] + CPU_EPOCH)
    assert result["device_requested"] == "gpu"
    assert result["fallback"] is True
    assert result["run_info"]["variant"] == "gpu"


@pytest.mark.parametrize("line, used", [("Using device: cuda", "gpu"), ("Using device: cpu", "cpu"),
                                        ("Using device: cuda:0", "gpu")])
def test_plain_pytorch_device_print(line, used):
    assert parse_lines([line])["device_used"] == used


def test_jax_cpu_fallback_warning():
    result = parse_lines(["WARNING:jax._src.xla_bridge:No GPU/TPU found, falling back to CPU. (Set "
                          "TF_CPP_MIN_LOG_LEVEL=0 and rerun for more info.)"])
    assert result["backend"] == "jax" and result["device_used"] == "cpu" and result["fallback"] is True


# -- what was requested, and the fallback rules ---------------------------------------------------

@pytest.mark.parametrize("requested, fallback", [("gpu", True), ("cuda0", True), ("gpu1", True), ("cpu", False),
                                                 (None, None)])
def test_theano_cpu_run_with_a_requested_device_from_the_caller(requested, fallback):
    result = parse_lines(["Using Theano backend."] + CPU_EPOCH, requested_device=requested)
    assert result["device_used"] == "cpu"
    assert result["fallback"] is fallback
    if fallback:
        assert result["fallback_reason"] == "no GPU was initialised (the log has no GPU device line)"
    else:
        assert result["fallback_reason"] is None


def test_flags_from_compare_decide_the_request():
    result = parse_lines(["Using Theano backend."] + CPU_EPOCH, flags={"device": "gpu", "lib.cnmem": "0.8"})
    assert result["device_requested"] == "gpu" and result["fallback"] is True
    assert requested_from_flags({"device": "cpu", "init_gpu_device": "cuda0"}) == "gpu"
    assert requested_from_flags({"contexts": "dev0->cuda0"}) == "gpu"
    assert requested_from_flags({"device": "cpu"}) == "cpu"
    assert requested_from_flags({"floatX": "float32"}) is None
    assert requested_from_flags(None) is None


def test_caller_request_overrides_the_log():
    result = parse_lines(["Using gpu device 0: GeForce GTX 960 (CNMeM is disabled, cuDNN 5005)"],
                         requested_device="cpu")
    assert result["device_requested"] == "cpu" and result["device_used"] == "gpu" and result["fallback"] is False


def test_unknown_requested_device_string_is_ignored():
    result = parse_lines(["Using Theano backend."], requested_device="tpu")
    assert result["device_requested"] is None


def test_plain_cpu_log_without_any_framework_line_is_unknown():
    result = parse_lines(CPU_EPOCH)
    assert result["device_used"] is None and result["fallback"] is None and result["backend"] is None


def test_lines_exactly_as_examples_cifar10_cnn_prints_them():
    """json.dumps(payload, sort_keys=True), with a detail dict and no reason key."""
    device = {"backend": "theano", "device": "cpu", "name": None, "requested": "gpu",
              "detail": {"theano": "0.9.0", "config_device": "gpu", "floatX": "float32",
                         "old_backend": {"cuda_enabled": False, "device_number": None}}}
    data = {"source": "synthetic", "path": None, "label": "SYNTHETIC data (CIFAR-10 not found locally)", "seed": 1,
            "train": 2000, "test": 500}
    result = parse_lines(["theanogpu-data: " + json.dumps(data, sort_keys=True),
                          "theanogpu-device: " + json.dumps(device, sort_keys=True)] + CPU_EPOCH +
                         ['theanogpu-result: {"epochs": 1, "epoch_seconds": [152.1]}'])
    assert result["synthetic_data"] is True and result["data"]["train"] == 2000
    assert (result["device_used"], result["device_requested"], result["fallback"]) == ("cpu", "gpu", True)
    assert result["fallback_reason"] == "no GPU was initialised (the log has no GPU device line)"
    assert result["result_info"] == {"epochs": 1, "epoch_seconds": [152.1]}
    failed = dict(device, detail={"error": "ImportError: No module named theano"}, device=None)
    result = parse_lines(["theanogpu-device: " + json.dumps(failed)], requested_device="gpu")
    # the probe failed: Theano ran without a GPU line, so the CPU; the probe's error is the reason
    assert (result["device_used"], result["fallback"]) == ("cpu", True)
    assert result["fallback_reason"] == "ImportError: No module named theano"
    data["source"] = "cifar10"
    assert parse_lines(["theanogpu-data: " + json.dumps(data)])["synthetic_data"] is False


def test_tensorflow1_device_description_as_name():
    desc = "device: 0, name: Tesla K80, pci bus id: 0000:00:04.0, compute capability: 3.7"
    result = parse_lines(["theanogpu-device: " + json.dumps({"backend": "tensorflow", "device": "gpu", "name": desc,
                                                             "requested": None, "detail": {}})])
    assert result["gpu_name"] == "Tesla K80"


K520_FOUND = ["I tensorflow/core/common_runtime/gpu/gpu_init.cc:88] Found device 0 with properties: ",
              "name: GRID K520", "major: 3 minor: 0 memoryClockRate (GHz) 0.797", "pciBusID 0000:00:03.0",
              "Total memory: 4.00GiB", "Free memory: 3.95GiB",
              "I tensorflow/core/common_runtime/gpu/gpu_init.cc:112] DMA: 0",
              "I tensorflow/core/common_runtime/gpu/gpu_init.cc:122] 0:   Y"]


@pytest.mark.parametrize("created", [
    "I tensorflow/core/common_runtime/gpu/gpu_device.cc:838] Creating TensorFlow device (/gpu:0) -> (device: 0, "
    "name: GRID K520, pci bus id: 0000:00:03.0)",
    "2018-10-25 18:31:10.305981: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1120] Creating TensorFlow device "
    "(/device:GPU:0) -> (device: 0, name: GRID K520, pci bus id: 0000:00:03.0, compute capability: 3.0)",
    "2018-03-25 19:36:52.454771: I C:\\tf_jenkins\\workspace\\rel-win\\M\\windows-gpu\\PY\\35\\tensorflow\\core\\"
    "common_runtime\\gpu\\gpu_device.cc:993] Creating TensorFlow device (/job:localhost/replica:0/task:0/device:GPU:0 "
    "with 1405 MB memory) -> physical GPU (device: 0, name: GRID K520, pci bus id: 0000:01:00.0, compute "
    "capability: 3.0)",
])
def test_tf0_and_tf1_creating_device_forms(created):
    result = parse_lines(K520_FOUND + [created])
    assert (result["device_used"], result["gpu_name"], result["fallback"]) == ("gpu", "GRID K520", False)
    assert result["gpu_devices"] == [{"device": "GPU:0", "context": None, "name": "GRID K520"}]


def test_tf0_found_device_name_on_its_own_line_is_used_when_nothing_says_otherwise():
    result = parse_lines(K520_FOUND)
    assert (result["backend"], result["device_used"], result["gpu_name"], result["fallback"]) == (
        "tensorflow", "gpu", "GRID K520", False)


def test_a_bare_name_line_is_a_gpu_only_right_under_found_device():
    assert parse_lines(["name: my-experiment", "Epoch 1/1"])["gpu_name"] is None
    assert parse_lines(K520_FOUND[:1] + ["", "", "name: GRID K520"])["gpu_name"] is None


@pytest.mark.parametrize("ignoring", [
    "I tensorflow/core/common_runtime/gpu/gpu_device.cc:611] Ignoring gpu device (device: 0, name: GRID K520, pci "
    "bus id: 0000:00:03.0) with Cuda compute capability 3.0. The minimum required Cuda capability is 3.5.",
    "I c:\\tf_jenkins\\home\\workspace\\release-win\\device\\gpu\\os\\windows\\tensorflow\\core\\common_runtime\\gpu"
    "\\gpu_device.cc:948] Ignoring visible gpu device (device: 0, name: GRID K520, pci bus id: 0000:01:00.0) with "
    "Cuda c",
    " Ignoring gpu device (device: 0, name: GRID K520, pci bus id: 0000:00:03.0) ",
])
def test_tf_ignoring_a_gpu_every_wording_means_cpu(ignoring):
    result = parse_lines(K520_FOUND + [ignoring] * 3 + CPU_EPOCH)
    assert (result["device_used"], result["gpu_name"], result["fallback"]) == ("cpu", "GRID K520", True)
    assert result["fallback_reason"].startswith("TensorFlow ignored GPU GRID K520")
    assert [e["seconds"] for e in result["epochs"]] == [152.0]


def test_tf_one_gpu_created_another_ignored_runs_on_the_first():
    result = parse_lines([
        "I tensorflow/core/common_runtime/gpu/gpu_device.cc:643] Creating TensorFlow device (/gpu:0) -> (device: 0, "
        "name: GeForce GTX 980, pci bus id: 0000:03:00.0)",
        "I tensorflow/core/common_runtime/gpu/gpu_device.cc:611] Ignoring gpu device (device: 1, name: GeForce GTX "
        "470, pci bus id: 0000:02:00.0) with Cuda compute capability 2.0. The minimum required Cuda capability is "
        "3.5."])
    assert (result["device_used"], result["gpu_name"], result["fallback"]) == ("gpu", "GeForce GTX 980", False)


def test_tf_ignoring_by_multiprocessor_count_and_a_name_with_parentheses():
    result = parse_lines([
        "2018-03-06 15:42:43.698472: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1032] Ignoring visible gpu "
        "device (device: 0, name: TITAN X (Pascal), pci bus id: 0000:03:00.0) with Cuda multiprocessor count: 5. "
        "The minimum required count is 8. You can adjust this requirement with the env var "
        "TF_MIN_GPU_MULTIPROCESSOR_COUNT."])
    assert (result["device_used"], result["gpu_name"], result["fallback"]) == ("cpu", "TITAN X (Pascal)", True)
    assert "multiprocessor count: 5" in result["fallback_reason"]


def test_tf_adding_visible_devices_device_mapping_and_num_gpus():
    found = ["2018-11-06 22:16:20.718059: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1432] Found device 0 "
             "with properties: ", "name: GeForce GTX 1080 major: 6 minor: 1 memoryClockRate(GHz): 1.7335"]
    visible = "2018-11-06 22:16:20.718927: I tensorflow/core/common_runtime/gpu/gpu_device.cc:1511] Adding visible " \
              "gpu devices: 0"
    assert parse_lines(found + [visible])["device_used"] == "gpu"
    mapping = parse_lines(["Device mapping:", "/job:localhost/replica:0/task:0/device:GPU:0 -> device: 0, name: "
                           "Tesla K80, pci bus id: 0000:00:1e.0, compute capability: 3.7"])
    assert (mapping["device_used"], mapping["gpu_name"]) == ("gpu", "Tesla K80")
    none = parse_lines(["I tensorflow/core/common_runtime/direct_session.cc:255] Device mapping: no known devices."])
    assert (none["backend"], none["device_used"], none["fallback"]) == ("tensorflow", "cpu", True)
    assert parse_lines(["Num GPUs Available:  0"])["device_used"] == "cpu"
    assert parse_lines(["Num GPUs Available:  2"])["device_used"] == "gpu"


@pytest.mark.parametrize("lines, name", [
    (["/isaac-sim/kit/python/lib/python3.7/site-packages/torch/cuda/__init__.py:104: UserWarning: ",
      "NVIDIA GeForce RTX 3090 with CUDA capability sm_86 is not compatible with the current PyTorch installation.",
      "The current PyTorch install supports CUDA capabilities sm_37 sm_50 sm_60 sm_70 sm_75.",
      "If you want to use the NVIDIA GeForce RTX 3090 GPU with PyTorch, please check the instructions at "
      "https://pytorch.org/get-started/locally/"], "NVIDIA GeForce RTX 3090"),
    (["C:\\Users\\me\\envs\\t\\lib\\site-packages\\torch\\cuda\\__init__.py:104: UserWarning: Quadro RTX 5000 with "
      "Max-Q Design with CUDA capability sm_75 is not compatible with the current PyTorch installation."],
     "Quadro RTX 5000 with Max-Q Design"),
    (["/usr/lib/python3.8/site-packages/torch/cuda/__init__.py:123: UserWarning: ",
      "    Found GPU0 Tesla K40m which is of cuda capability 3.5.",
      "    PyTorch no longer supports this GPU because it is too old.",
      "    The minimum cuda capability supported by this library is 3.7."], "Tesla K40m"),
    (["    Found GPU0 GeForce GTX 770 which requires CUDA_VERSION >= 8000 to", "     work properly, but your PyTorch "
      "was compiled", "     with CUDA_VERSION 8000. Please install the correct PyTorch binary"], "GeForce GTX 770"),
    (["If you want to use the NVIDIA GeForce RTX 5090 GPU with PyTorch, please check the instructions at "
      "https://pytorch.org/get-started/locally/"], "NVIDIA GeForce RTX 5090"),
])
def test_pytorch_warnings_about_a_gpu_it_cannot_use_name_it(lines, name):
    result = parse_lines(lines)
    assert (result["backend"], result["gpu_name"], result["device_used"]) == ("torch", name, None)


def test_pytorch_unsupported_gpu_then_the_script_says_where_it_ran():
    warning = ["NVIDIA GeForce RTX 3090 with CUDA capability sm_86 is not compatible with the current PyTorch "
               "installation."]
    on_cpu = parse_lines(warning + ["Using device: cpu"], requested_device="gpu")
    assert (on_cpu["device_used"], on_cpu["fallback"], on_cpu["gpu_name"]) == ("cpu", True, "NVIDIA GeForce RTX 3090")
    assert "sm_86" in on_cpu["fallback_reason"]
    on_gpu = parse_lines(warning + ["Using device: cuda"])
    assert (on_gpu["device_used"], on_gpu["gpu_name"]) == ("gpu", "NVIDIA GeForce RTX 3090")


@pytest.mark.parametrize("line, used", [("GPU available: True (cuda), used: True", "gpu"),
                                        ("GPU available: True, used: True", "gpu"),
                                        ("GPU available: False, used: False", "cpu"),
                                        ("INFO: GPU available: True (mps), used: False", "cpu")])
def test_lightning_trainer_device_line(line, used):
    assert parse_lines([line])["device_used"] == used


def test_wall_clock_stamps_before_every_line():
    result = parse_lines([
        "2023-11-25T04:06:47.7328312Z Epoch 1/2",
        "2023-11-25T04:06:47.9328312Z  100/1563 [=>............................] - ETA: 12s - loss: 1.5",
        "2023-11-25T04:07:03.7328312Z 1563/1563 [==============================] - 16s 10ms/step - loss: 1.5",
        "[2023-11-25 04:07:03,733] INFO - Epoch 2/2",
        "[2023-11-25 04:07:19,733] INFO - 1563/1563 [==============================] - 15s 10ms/step - loss: 1.4",
        "2021-03-01 12:00:00,123 - INFO - Used the gpu"])
    assert [(e["epoch"], e["seconds"]) for e in result["epochs"]] == [(1, 16.0), (2, 15.0)]
    assert result["device_used"] == "gpu"


@pytest.mark.parametrize("line, used", [
    ("Using cuda device", "gpu"), ("Using cpu device", "cpu"), ("Using mps device", "gpu"),
    ("Default GPU Device: /device:GPU:0", "gpu"), ("Please install GPU version of TF", "cpu"),
    ("[PhysicalDevice(name='/physical_device:GPU:0', device_type='GPU')]", "gpu"),
    ("[PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')]", None),
])
def test_device_checks_from_the_frameworks_own_tutorials(line, used):
    assert parse_lines([line])["device_used"] == used


@pytest.mark.parametrize("line, cudnn", [("__CUDNN VERSION: 7102", "7102"), ("cuDNN version: 8200", "8200"),
                                         ("cuDNN version: Could not collect", None)])
def test_printed_cudnn_version(line, cudnn):
    assert parse_lines([line])["cudnn"] == cudnn
