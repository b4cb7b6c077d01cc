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
