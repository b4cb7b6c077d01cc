"""The pure doctor rules: probe facts in, findings with fixes out (one test per incompatibility)."""

import copy

import pytest

from theanogpu.doctor_checks import check, exit_status, facts_from_probe, version_tuple

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
    assert "np" not in codes(broken) and "no attribute 'bool'" in codes(broken)["theano-import"].message


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
