"""The pure doctor rules: probe facts in, findings with fixes out (one test per incompatibility)."""

import copy

import pytest

from theanogpu.stacks.doctor_checks import check, exit_status, facts_from_probe, version_tuple

# What the probe printed for the real theano08 stack on a machine with CUDA 13 nvcc and no GPU.
T08 = {
    "probe": 1,
    "python": {"version": "3.6.15", "executable": "/s/theano08/bin/python"},
    "packages": {"theano": {"version": "0.8.2"}, "keras": {"version": "1.2.2"},
                 "numpy": {"version": "1.16.6"}, "scipy": {"version": "1.2.3"}, "h5py": {"version": "2.10.0"},
                 "pygpu": {"version": None, "error": "ModuleNotFoundError: No module named 'pygpu'"}},
    "numpy_distutils": {"available": True, "error": None},
    "keras_backend": {"backend": "theano", "source": "KERAS_BACKEND"},
    "theano": {"imported": True, "error": None, "device_requested": "gpu", "gpu_activated": False,
               "config": {"device": "gpu", "floatX": "float32", "blas.ldflags": "-lopenblas"},
               "config_errors": {}, "theano_flags": "base_compiledir=/c,device=gpu,floatX=float32",
               "stderr": ["ERROR (theano.sandbox.cuda): nvcc compiler not found on $PATH. Check your nvcc "
                          "installation and try again."]},
    "nvcc": {"path": "/usr/local/bin/nvcc", "release": "13.0", "last_line": "Build cuda_13.0.r13.0/x"},
    "nvidia_smi": {"path": None, "gpus": [], "error": "nvidia-smi not found on PATH"},
}


def probe(**changes):
    """T08 with dotted-path changes, e.g. probe(**{"python.version": "3.7.16"})."""
    data = copy.deepcopy(T08)
    for dotted, value in changes.items():
        node = data
        keys = dotted.split(".")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return data


def stack(theano, keras, numpy="1.16.6", python="3.6.15"):
    return probe(**{"packages.theano.version": theano, "packages.keras.version": keras,
                    "packages.numpy.version": numpy, "python.version": python})


def codes(data):
    return {finding.code: finding for finding in check(data)}


def test_version_tuple():
    assert version_tuple("1.16.6") == (1, 16, 6)
    assert version_tuple("0.9.0rc1") == (0, 9, 0)
    assert version_tuple("2.10") == (2, 10)
    assert version_tuple(None) == () and version_tuple("abc") == ()


def test_pinned_theano08_on_this_kind_of_machine():
    found = codes(T08)
    assert set(found) == {"no-gpu", "nvcc-version-unparseable"}
    assert found["no-gpu"].message.startswith("No GPU: device=gpu will run on the CPU")
    assert found["no-gpu"].severity == "notice"
    # No GPU here, so the unparseable nvcc is a warning: nothing more is lost than is lost already.
    assert found["nvcc-version-unparseable"].severity == "warning"
    assert "fall back to CPU" in found["nvcc-version-unparseable"].message
    assert exit_status(check(T08)) == 0


def test_with_a_gpu_an_unusable_backend_is_an_error():
    data = probe(**{"nvidia_smi.gpus": ["GPU 0: GeForce GTX 1080 (UUID: GPU-x)"],
                    "nvidia_smi.path": "/bin/smi", "nvidia_smi.error": None})
    found = codes(data)
    assert "no-gpu" not in found
    assert found["nvcc-version-unparseable"].severity == "error"
    assert found["gpu-not-activated"].severity == "error"
    assert "nvcc compiler not found" in found["gpu-not-activated"].message
    assert exit_status(check(data)) == 1


def test_gpu_activated_is_reported_and_fine():
    data = probe(**{"nvidia_smi.gpus": ["GPU 0: Tesla K80"], "theano.gpu_activated": True,
                    "nvcc.release": "8.0"})
    found = codes(data)
    assert set(found) == {"gpu-activated"} and exit_status(check(data)) == 0


def test_theano10_without_pygpu():
    data = stack("1.0.5", "2.3.1", numpy="1.19.5", python="3.8.18")
    data["theano"]["device_requested"] = "cuda"
    found = codes(data)
    assert found["no-gpu"].message.startswith("No GPU: device=cuda will run on the CPU")
    assert found["pygpu-missing"].severity == "warning" and "pygpu" in found["pygpu-missing"].fix
    assert "nvcc-version-unparseable" not in found  # gpuarray does not parse nvcc's version line


@pytest.mark.parametrize("numpy, flags, expected", [
    ("1.21.6", "", None),
    ("1.22.4", "", "numpy-blas-ldflags"),
    ("1.23.5", "device=gpu", "numpy-blas-ldflags"),
    ("1.23.5", "blas.ldflags=-lopenblas,device=gpu", None),
    ("1.23.5", "device=gpu,blas.ldflags=", None),
    ("1.24.4", "", "numpy-1.24"),
    ("1.26.4", "", "numpy-1.24"),
])
def test_numpy_rules(numpy, flags, expected):
    data = probe(**{"packages.numpy.version": numpy, "theano.theano_flags": flags})
    found = codes(data)
    numpy_codes = {code for code in found if code.startswith("numpy")}
    assert numpy_codes == ({expected} if expected else set())
    if expected:
        assert found[expected].severity == "error" and found[expected].fix


def test_numpy_distutils_missing():
    data = probe(**{"numpy_distutils": {"available": False, "error": "ModuleNotFoundError: numpy.distutils"}})
    assert codes(data)["numpy-distutils"].severity == "error"
    predicted = stack("1.0.5", "2.3.1", numpy="1.26.4", python="3.12.1")
    predicted["numpy_distutils"] = None
    assert "numpy-distutils" in codes(predicted)


@pytest.mark.parametrize("theano, python, code, present", [
    ("0.8.2", "3.12.1", "py312-safeconfigparser", True),
    ("0.9.0", "3.12.1", "py312-safeconfigparser", False),
    ("0.8.2", "3.11.7", "py312-safeconfigparser", False),
    ("0.8.2", "3.10.13", "py310-collections", True),
    ("0.9.0", "3.10.13", "py310-collections", True),
    ("1.0.5", "3.10.13", "py310-collections", False),
    ("0.9.0", "3.9.18", "py310-collections", False),
    ("0.8.2", "3.7.16", "py37-scan", True),
    ("0.9.0", "3.9.18", "py37-scan", True),
    ("0.9.0", "3.6.15", "py37-scan", False),
    ("1.0.5", "3.7.16", "py37-scan", False),
    ("1.0.5", "3.11.7", "py311-longintrepr", True),
    ("1.0.5", "3.10.13", "py311-longintrepr", False),
    ("0.9.0", "3.11.7", "py311-longintrepr", False),
])
def test_python_rules(theano, python, code, present):
    keras = "1.2.2" if theano < "0.9" else ("2.0.8" if theano < "1.0" else "2.3.1")
    found = codes(stack(theano, keras, python=python))
    assert (code in found) == present
    if present:
        assert found[code].fix and found[code].message


@pytest.mark.parametrize("theano, keras, code, severity", [
    ("0.8.2", "2.0.8", "keras2-theano08", "error"),
    ("0.8.2", "2.3.1", "keras2-theano08", "error"),
    ("0.8.2", "1.2.2", None, None),
    ("1.0.5", "2.0.8", "keras-ifelse-theano10", "error"),
    ("1.0.5", "2.1.1", "keras-ifelse-theano10", "error"),
    ("1.0.5", "1.2.2", "keras-ifelse-theano10", "error"),
    ("1.0.5", "2.1.2", None, None),
    ("1.0.5", "2.3.1", None, None),
    ("0.9.0", "2.1.6", "keras21-theano09", "warning"),
    ("0.9.0", "2.2.4", "keras21-theano09", "warning"),
    ("0.9.0", "2.0.8", None, None),
    ("0.9.0", "1.2.2", None, None),
])
def test_keras_theano_pairs(theano, keras, code, severity):
    found = codes(stack(theano, keras))
    keras_codes = {c for c in found if c.startswith("keras") and c != "keras-backend"}
    assert keras_codes == ({code} if code else set())
    if code:
        assert found[code].severity == severity


def test_theano_missing_and_import_failure():
    missing = probe(**{"packages.theano": {"version": None, "error": "not installed"},
                       "theano.imported": False, "theano.device_requested": None})
    found = codes(missing)
    assert found["theano-missing"].severity == "error" and "stack create" in found["theano-missing"].fix
    broken = probe(**{"theano.imported": False,
                      "theano.error": "AttributeError: module 'numpy' has no attribute 'bool'"})
    assert not any(code.startswith("numpy") for code in codes(broken))
    assert "no attribute 'bool'" in codes(broken)["theano-import"].message


def test_nvcc_missing_for_old_backend_only():
    data = probe(**{"nvcc": {"path": None}})
    assert "nvcc-missing" in codes(data)
    ten = stack("1.0.5", "2.3.1", python="3.8.18")
    ten["nvcc"] = {"path": None}
    assert "nvcc-missing" not in codes(ten)


def test_keras_backend_and_blas():
    data = probe(**{"keras_backend": {"backend": "tensorflow", "source": "/home/u/.keras/keras.json"}})
    data["theano"]["config"]["blas.ldflags"] = ""
    found = codes(data)
    assert "keras.json" in found["keras-backend"].message
    assert "KERAS_BACKEND=theano" in found["keras-backend"].fix
    assert found["no-blas"].severity == "warning"
    assert exit_status(check(data)) == 0


def test_findings_are_sorted_by_severity():
    data = stack("0.8.2", "2.0.8", python="3.7.16")
    severities = [finding.severity for finding in check(data)]
    order = ["error", "warning", "notice", "info"]
    assert severities == sorted(severities, key=order.index)


def test_facts_tolerate_a_minimal_probe():
    facts = facts_from_probe({"probe": 1})
    assert facts.theano == () and not facts.has_gpu
    assert {finding.code for finding in check({"probe": 1})} == {"theano-missing", "no-gpu"}


# ------------------------------------------------------------------ modern stacks (Keras 3)

NO_SMI_PROBE = {"path": None, "gpus": [], "error": "nvidia-smi not found on PATH"}
A_GPU = {"path": "/usr/bin/nvidia-smi", "gpus": ["GPU 0: NVIDIA H100 (UUID: GPU-x)"], "error": None}


def modern(backend, frameworks, keras="3.15.1", smi=None):
    """A probe of a Keras 3 stack as the real probe prints it (no Theano, one or more frameworks)."""
    return {
        "probe": 1,
        "python": {"version": "3.11.7", "executable": "/s/keras3/bin/python"},
        "packages": {"theano": {"version": None, "error": "not installed"}, "keras": {"version": keras},
                     "numpy": {"version": "2.4.6"}, "pygpu": {"version": None, "error": "No module named 'pygpu'"}},
        "keras_backend": {"backend": backend, "source": "KERAS_BACKEND"},
        "theano": {"imported": False, "error": None, "device_requested": None, "gpu_activated": None,
                   "config": {}, "config_errors": {}, "theano_flags": "", "stderr": []},
        "nvcc": {"path": None},
        "nvidia_smi": copy.deepcopy(smi or NO_SMI_PROBE),
        "frameworks": copy.deepcopy(frameworks),
    }


# What the probe printed in the real keras3-torch, keras3-jax and keras3-tf stacks (CPU builds).
TORCH_CPU = {"distribution": "torch", "distribution_version": "2.13.0+cpu", "error": None, "version": "2.13.0+cpu",
             "cuda_build": None, "cuda_available": False, "device_count": 0, "num_threads": 2,
             "interop_threads": 2, "env": {"CUDA_VISIBLE_DEVICES": None, "PYTORCH_CUDA_ALLOC_CONF": None,
                                           "PYTORCH_NO_CUDA_MEMORY_CACHING": None, "OMP_NUM_THREADS": None}}
JAX_CPU = {"distribution": "jax", "distribution_version": "0.10.2", "error": None, "version": "0.10.2",
           "jaxlib_version": "0.10.2", "platforms": None, "cuda_plugin": [], "devices": ["cpu"],
           "default_backend": "cpu",
           "gpu_client_options": {"platform_name": "cuda", "allocator": "default", "memory_fraction": 0.7,
                                  "preallocate": False, "enable_mock_nccl": False},
           "env": {"CUDA_VISIBLE_DEVICES": None, "JAX_PLATFORMS": None, "XLA_FLAGS": None}}
TF_CPU = {"distribution": "tensorflow-cpu", "distribution_version": "2.21.0", "error": None, "version": "2.21.0",
          "built_with_cuda": False, "cuda_version": None, "gpus": 0, "intra_op_threads": 0, "inter_op_threads": 0,
          "env": {"CUDA_VISIBLE_DEVICES": None, "TF_FORCE_GPU_ALLOW_GROWTH": None}}
# The same frameworks as CUDA builds on a machine whose GPU they see.
TORCH_CUDA = dict(TORCH_CPU, version="2.13.0+cu128", cuda_build="12.8", cuda_available=True, device_count=1)
JAX_CUDA = dict(JAX_CPU, cuda_plugin=["jax-cuda12-plugin 0.10.2", "jax-cuda12-pjrt 0.10.2"], devices=["gpu"],
                default_backend="gpu")
TF_CUDA = dict(TF_CPU, distribution="tensorflow", built_with_cuda=True, cuda_version="12.5.1", gpus=1)

CPU_STACKS = [("torch", TORCH_CPU, "CPU-only build of PyTorch 2.13.0+cpu"),
              ("jax", JAX_CPU, "jaxlib without a CUDA plugin"),
              ("tensorflow", TF_CPU, "tensorflow-cpu 2.21.0, built without CUDA")]


@pytest.mark.parametrize("backend, framework, why", CPU_STACKS)
def test_builtin_keras3_stack_without_gpu_is_healthy_and_says_cpu(backend, framework, why):
    data = modern(backend, {backend: framework})
    found = codes(data)
    assert set(found) == {backend + "-cpu-build", "no-gpu"}
    assert "theano-missing" not in found  # a Keras 3 stack has no Theano, and needs none
    notice = found["no-gpu"]
    assert notice.severity == "notice"
    assert notice.message.startswith("No GPU: device=gpu will run on the CPU (nvidia-smi not found on PATH")
    assert why in notice.message
    build = found[backend + "-cpu-build"]
    # No GPU here: a CPU-only build loses nothing more, so a warning (as pygpu-missing for Theano 1.0).
    assert build.severity == "warning" and why in build.message and "run on the CPU" in build.message
    assert build.fix
    assert exit_status(check(data)) == 0


@pytest.mark.parametrize("backend, framework, why", CPU_STACKS)
def test_cpu_only_build_on_a_gpu_machine_is_an_error(backend, framework, why):
    data = modern(backend, {backend: framework}, smi=A_GPU)
    found = codes(data)
    assert "no-gpu" not in found
    assert found[backend + "-cpu-build"].severity == "error"
    assert exit_status(check(data)) == 1


@pytest.mark.parametrize("backend, framework", [("torch", TORCH_CUDA), ("jax", JAX_CUDA), ("tensorflow", TF_CUDA)])
def test_cuda_build_that_sees_the_gpu(backend, framework):
    data = modern(backend, {backend: framework}, smi=A_GPU)
    found = codes(data)
    assert set(found) == {backend + "-gpu"}
    assert found[backend + "-gpu"].severity == "info" and "sees 1 GPU" in found[backend + "-gpu"].message
    assert exit_status(check(data)) == 0
    # Without nvidia-smi (a container), the framework's own word that it sees a GPU still counts.
    assert "no-gpu" not in codes(modern(backend, {backend: framework}))


def test_cuda_build_with_the_gpu_hidden():
    hidden = dict(TORCH_CUDA, cuda_available=False, device_count=0,
                  env=dict(TORCH_CUDA["env"], CUDA_VISIBLE_DEVICES=""))
    found = codes(modern("torch", {"torch": hidden}, smi=A_GPU))
    assert found["torch-gpu-not-visible"].severity == "error"
    assert "CUDA_VISIBLE_DEVICES=''" in found["torch-gpu-not-visible"].message
    # Same build, GPU not hidden but not found: the driver/CUDA libraries are the suspects.
    lost = dict(hidden, env=TORCH_CUDA["env"])
    assert "driver" in codes(modern("torch", {"torch": lost}, smi=A_GPU))["torch-gpu-not-visible"].message
    # On a machine without a GPU the same facts are only the no-GPU notice.
    assert set(codes(modern("torch", {"torch": hidden}))) == {"no-gpu"}


def test_jax_platforms_naming_a_missing_platform():
    broken = dict(JAX_CPU, platforms="cuda", devices=None, default_backend=None,
                  devices_error="AssertionError: (no message) at jax/_src/xla_bridge.py:857: "
                                "assert _default_backend is not None")
    found = codes(modern("jax", {"jax": broken}))
    assert found["jax-backends"].severity == "error" and "JAX_PLATFORMS" in found["jax-backends"].fix
    assert "xla_bridge.py" in found["jax-backends"].message
    assert exit_status(check(modern("jax", {"jax": broken}))) == 1


def test_framework_that_fails_to_import():
    broken = {"distribution": "tensorflow-cpu", "distribution_version": "2.21.0",
              "error": "ValueError: Unable to import backend : tf"}
    found = codes(modern("tensorflow", {"tensorflow": broken}))
    assert found["tensorflow-import"].severity == "error"
    assert "Unable to import backend" in found["tensorflow-import"].message
    assert "it does not import" in found["no-gpu"].message
    assert "tensorflow-cpu-build" not in found  # nothing is known about a build that did not import


@pytest.mark.parametrize("backend, source, expected", [
    ("tensorflow", "default (Keras 3 reads KERAS_BACKEND or keras.json)", "not installed here"),
    ("jax", "KERAS_BACKEND", "not installed here"),
    ("theano", "/home/u/.keras/keras.json", "which Keras 3 does not have"),
])
def test_keras3_backend_that_is_not_there(backend, source, expected):
    data = modern(backend, {"torch": TORCH_CPU})
    data["keras_backend"]["source"] = source
    found = codes(data)
    assert found["keras3-backend"].severity == "error"
    assert expected in found["keras3-backend"].message and source in found["keras3-backend"].message
    assert "KERAS_BACKEND=torch" in found["keras3-backend"].fix
    # Keras 2's own rule (use Theano) does not apply to Keras 3.
    assert "keras-backend" not in found
    assert "keras3-backend" not in codes(modern("torch", {"torch": TORCH_CPU}))
    assert "keras3-backend" not in codes(modern("numpy", {"torch": TORCH_CPU}))


def test_only_the_keras_backend_decides_gpu_use():
    """keras3-jax with tensorflow-cpu next to it (for data loading): TensorFlow's build does not matter."""
    data = modern("jax", {"jax": JAX_CUDA, "tensorflow": TF_CPU}, smi=A_GPU)
    found = codes(data)
    assert set(found) == {"jax-gpu"} and exit_status(check(data)) == 0
    # Without Keras, every framework present is judged.
    bare = modern("tensorflow", {"jax": JAX_CUDA, "tensorflow": TF_CPU}, keras=None, smi=A_GPU)
    assert {"jax-gpu", "tensorflow-cpu-build"} <= set(codes(bare))


def test_framework_facts_tolerate_partial_entries():
    facts = facts_from_probe({"probe": 1, "frameworks": {"torch": {"error": "ImportError: x"}, "jax": {},
                                                         "tensorflow": "junk"}})
    assert [fw.name for fw in facts.frameworks] == ["torch", "jax"]
    assert facts.frameworks[0].cuda_build is None and facts.frameworks[0].gpus is None
    assert facts.modern and not facts.has_gpu
    found = {finding.code for finding in check({"probe": 1, "frameworks": {"jax": {}}})}
    assert found == {"no-gpu"}


def test_no_blas_on_theano10_warns_that_openmp_aborts():
    ten = stack("1.0.5", "2.3.1", python="3.8.18")
    ten["theano"]["config"]["blas.ldflags"] = ""
    assert "openmp=True" in codes(ten)["no-blas"].message
    old = probe()
    old["theano"]["config"]["blas.ldflags"] = ""
    assert "openmp" not in codes(old)["no-blas"].message
