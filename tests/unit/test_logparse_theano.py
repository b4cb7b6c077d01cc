"""Theano's device lines, both backends, in the forms Theano's own sources print."""

import pytest

from theanogpu.logparse import parse_lines, parse_text
from theanogpu.logparse.theano_gpuarray import clean_device_name
from theanogpu.logparse.theano_old import parse_cnmem, split_device_line

DEPRECATION = ("WARNING (theano.sandbox.cuda): The cuda backend is deprecated and will be removed in the next "
               "release (v0.10).  Please switch to the gpuarray backend. You can get more information about how "
               "to switch at this URL:\n https://github.com/Theano/Theano/wiki/Converting-to-the-new-gpu-back-end"
               "%28gpuarray%29\n\n")


@pytest.mark.parametrize("line, name, cnmem, cudnn", [
    ("Using gpu device 0: GeForce GTX 980", "GeForce GTX 980", None, None),
    ("Using gpu device 0: GeForce GTX TITAN X (CNMeM is disabled)", "GeForce GTX TITAN X",
     {"enabled": False, "fraction": None, "megabytes": None}, None),
    ("Using gpu device 0: GeForce GTX 980 Ti (CNMeM is enabled with initial size: 80.0% of memory, cuDNN 5005)",
     "GeForce GTX 980 Ti", {"enabled": True, "fraction": 0.8, "megabytes": None}, "5005"),
    ("Using gpu device 1: Tesla K40m (CNMeM is enabled with initial size: 30.0% of memory, CuDNN 5004)",
     "Tesla K40m", {"enabled": True, "fraction": 0.3, "megabytes": None}, "5004"),
    ("Using gpu device 0: GeForce GTX 1060 (CNMeM is enabled with initial size: 2048 MB, cuDNN 5105)",
     "GeForce GTX 1060", {"enabled": True, "fraction": None, "megabytes": 2048.0}, "5105"),
    ("Using gpu device 0: GeForce GTX 1060 (CNMeM is enabled with initial size: 95.0% of memory, "
     "cuDNN not available)", "GeForce GTX 1060", {"enabled": True, "fraction": 0.95, "megabytes": None},
     "not available"),
    ("Using gpu device 0: TITAN X (Pascal) (CNMeM is disabled, cuDNN 5110)", "TITAN X (Pascal)",
     {"enabled": False, "fraction": None, "megabytes": None}, "5110"),
    ("Using gpu device 0: GeForce GT 650M (CNMeM is disabled, cuDNN Version is too old. Update to v5, was 4007.)",
     "GeForce GT 650M", {"enabled": False, "fraction": None, "megabytes": None},
     "Version is too old. Update to v5, was 4007."),
    ("Using gpu device 0: Quadro K620 (CuDNN 4007)", "Quadro K620", None, "4007"),
])
def test_old_backend_device_line_forms(line, name, cnmem, cudnn):
    result = parse_lines(["Using Theano backend.", line])
    assert result["backend"] == "theano"
    assert result["device_used"] == "gpu"
    assert result["device_requested"] == "gpu"
    assert result["gpu_name"] == name
    assert result["cnmem"] == cnmem
    assert result["cudnn"] == cudnn
    assert result["fallback"] is False


def test_multi_line_cudnn_message_keeps_its_first_line():
    result = parse_text("Using gpu device 0: GeForce GTX 980 (CNMeM is disabled, cuDNN Can not compile with cuDNN. "
                        "We got this error:\n/usr/bin/ld: cannot find -lcudnn\ncollect2: error: ld returned 1 exit "
                        "status\n)\n")
    assert result["gpu_name"] == "GeForce GTX 980"
    assert result["cudnn"] == "Can not compile with cuDNN. We got this error:"
    assert result["device_used"] == "gpu"


def test_split_and_cnmem_helpers():
    assert split_device_line("X (CNMeM is disabled, cuDNN 5005)") == ("X", "CNMeM is disabled", "5005")
    assert parse_cnmem("CNMeM is enabled") == {"enabled": True, "fraction": None, "megabytes": None}
    assert parse_cnmem("something else") is None


def test_nvcc_not_found_is_a_cpu_fallback_with_reason():
    result = parse_text(DEPRECATION + "ERROR (theano.sandbox.cuda): nvcc compiler not found on $PATH. Check your "
                        "nvcc installation and try again.\n")
    assert result["device_used"] == "cpu"
    assert result["device_requested"] == "gpu"
    assert result["fallback"] is True
    assert result["fallback_reason"] == "nvcc compiler not found on $PATH"
    assert any("deprecated" in w for w in result["warnings"])


def test_cuda_installed_but_not_available_keeps_the_error():
    result = parse_text("WARNING (theano.sandbox.cuda): CUDA is installed, but device gpu is not available  "
                        "(error: Unable to get the number of gpus available: no CUDA-capable device is detected)\n")
    assert result["device_used"] == "cpu" and result["fallback"] is True
    assert result["fallback_reason"] == ("CUDA is installed, but device gpu is not available (error: Unable to get "
                                         "the number of gpus available: no CUDA-capable device is detected)")


def test_initialisation_failed_then_cpu():
    result = parse_text("ERROR (theano.sandbox.cuda): ERROR: Not using GPU. Initialisation of device gpu failed:\n"
                        "Can't use the GPU, no devices support CUDA\nEpoch 1/1\n 5s - loss: 0.5\n")
    assert result["device_used"] == "cpu"
    assert result["fallback"] is True
    assert result["fallback_reason"] == ("initialisation of device gpu failed: Can't use the GPU, no devices "
                                         "support CUDA")
    assert [e["seconds"] for e in result["epochs"]] == [5.0]


def test_forced_device_without_nvcc_is_an_error_not_a_fallback():
    result = parse_text("Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n"
                        "OSError: You forced the use of gpu device 'gpu', but nvcc was not found. Set it in your "
                        "PATH environment variable or set the Theano flags 'cuda.root' to its directory\n")
    assert result["fallback"] is False
    assert result["device_used"] is None
    assert result["error"].startswith("OSError: You forced the use of gpu device")


def test_theano10_old_backend_value_error_is_a_crash():
    result = parse_text("ValueError: You are tring to use the old GPU back-end. It was removed from Theano. Use "
                        "device=cuda* now. See https://github.com/Theano/Theano/wiki/Converting-to-the-new-gpu-back-"
                        "end%28gpuarray%29 for more information.\n", requested_device="gpu")
    assert result["device_used"] is None and result["fallback"] is False
    assert "removed the old GPU backend" in result["error"]


def test_unknown_flag_warning_for_lib_cnmem_in_theano10():
    result = parse_text("/x/theano/configdefaults.py:1952: UserWarning: Theano does not recognise this flag: "
                        "lib.cnmem\n  warnings.warn('Theano does not recognise this flag: {0}'.format(key))\n")
    assert result["warnings"] == ["Theano ignored the unknown flag lib.cnmem (Theano 1.0 removed it; use "
                                  "gpuarray.preallocate)"]


def test_used_the_cpu_from_theanos_test_script_wins_over_the_init_line():
    result = parse_lines(["Using gpu device 0: GeForce GTX 1060 (CNMeM is disabled, cuDNN 5105)",
                          "[Elemwise{exp,no_inplace}(<TensorType(float64, vector)>)]",
                          "Looping 1000 times took 2.3 seconds", "Used the cpu"])
    assert result["device_used"] == "cpu"
    assert result["fallback"] is True
    assert any("computed on the CPU" in w for w in result["warnings"])


def test_theano_flags_in_a_shell_line_say_what_was_requested():
    result = parse_lines(["$ THEANO_FLAGS='device=cuda0,floatX=float32' python train.py", "Using Theano backend."])
    assert result["device_requested"] == "gpu"
    assert result["device_used"] == "cpu" and result["fallback"] is True


# -- gpuarray -------------------------------------------------------------------------------------

def test_gpuarray_typical_theano10_run():
    result = parse_lines(["Using Theano backend.", "Using cuDNN version 7005 on context None",
                          "Preallocating 4856/6070 Mb (0.800000) on cuda0",
                          "Mapped name None to device cuda0: GeForce GTX 1060 6GB (0000:01:00.0)"])
    assert result["device_used"] == "gpu" and result["fallback"] is False
    assert result["gpu_name"] == "GeForce GTX 1060 6GB"
    assert result["cnmem"] == {"enabled": True, "fraction": 0.8, "megabytes": None}
    assert result["preallocated"] == {"megabytes": 4856, "total_megabytes": 6070}
    assert result["cudnn"] == "7005"


def test_gpuarray_theano08_form_carries_cudnn_in_the_mapped_line():
    result = parse_lines(["Mapped name None to device cuda0: Tesla K80 (cuDNN version 5005)"])
    assert result["gpu_name"] == "Tesla K80" and result["cudnn"] == "5005"
    result = parse_lines(["Mapped name None to device cuda: Tesla K80 (cuDNN not available)"])
    assert result["cudnn"] == "not available"


def test_gpuarray_cannot_use_cudnn_and_disabled_cache():
    result = parse_lines(["Can not use cuDNN on context None: Disabled by dnn.enabled flag",
                          "Disabling allocation cache on cuda0",
                          "Mapped name None to device cuda0: TITAN X (Pascal) "])
    assert result["cudnn"] == "Disabled by dnn.enabled flag"
    assert result["allocation_cache"] is False
    assert result["cnmem"]["enabled"] is False
    assert result["gpu_name"] == "TITAN X (Pascal)"


def test_gpuarray_contexts_list_every_device():
    result = parse_lines(["Mapped name dev0 to device cuda0: GeForce GTX TITAN X (0000:09:00.0)",
                          "Mapped name dev1 to device cuda1: GeForce GTX 980 (0000:06:00.0)"])
    assert [(g["context"], g["device"], g["name"]) for g in result["gpu_devices"]] == [
        ("dev0", "cuda0", "GeForce GTX TITAN X"), ("dev1", "cuda1", "GeForce GTX 980")]


def test_pygpu_import_failure_is_a_cpu_fallback():
    result = parse_lines(["ERROR (theano.gpuarray): pygpu was configured but could not be imported or is too old "
                          "(version 0.7 or higher required)", "NoneType: None"])
    assert result["device_used"] == "cpu" and result["fallback"] is True
    assert result["fallback_reason"] == "pygpu was configured but could not be imported or is too old"


def test_pygpu_init_failure_reason_takes_the_exception_line():
    result = parse_text("ERROR (theano.gpuarray): Could not initialize pygpu, support disabled\n"
                        "Traceback (most recent call last):\n"
                        "  File \"/x/theano/gpuarray/__init__.py\", line 227, in <module>\n    use(config.device)\n"
                        "pygpu.gpuarray.GpuArrayException: b'cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device "
                        "is detected'\n")
    assert result["fallback"] is True
    assert result["fallback_reason"] == ("Could not initialize pygpu, support disabled (pygpu.gpuarray."
                                         "GpuArrayException: b'cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable "
                                         "device is detected')")
    assert result["error"] is None  # the traceback was logged; the run went on


@pytest.mark.parametrize("text, name", [
    ("GeForce GTX 1080 Ti (0000:82:00.0)", "GeForce GTX 1080 Ti"),
    ("TITAN X (Pascal) (0000:01:00.0)", "TITAN X (Pascal)"),
    ("TITAN X (Pascal) ", "TITAN X (Pascal)"),
    ("Tesla V100 (GPU-5a3e07c1-8f6e-2c4b-0e4a-9a7e7d1c2b3a)", "Tesla V100"),
])
def test_device_name_cleanup(text, name):
    assert clean_device_name(text) == name
