"""Option tables and value validation per Theano release (theano/configdefaults.py)."""

import pytest

from theanogpu.errors import UserError
from theanogpu.flags import VERSIONS, canonical_name, check_value, lookup, options_for

COMMON = [
    "device", "init_gpu_device", "force_device", "floatX", "warn_float64", "gpuarray.preallocate",
    "dnn.enabled", "dnn.include_path", "dnn.library_path", "dnn.conv.algo_fwd", "dnn.conv.algo_bwd_data",
    "dnn.conv.algo_bwd_filter", "cuda.root", "blas.ldflags", "openmp", "openmp_elemwise_minsize", "mode",
    "optimizer", "exception_verbosity", "base_compiledir", "compiledir", "compiledir_format", "gcc.cxxflags",
    "cxx", "linker", "print_active_device", "contexts", "allow_gc", "assert_no_cpu_op", "warn.ignore_bug_before",
    "cmodule.preload_cache", "compile.wait", "compile.timeout", "optimizer_including", "optimizer_excluding",
    "on_unused_input", "profile", "cast_policy",
]


@pytest.mark.parametrize("version", VERSIONS)
def test_common_options_exist_in_every_release(version):
    table = options_for(version)
    missing = [name for name in COMMON if name not in table]
    assert not missing


@pytest.mark.parametrize("name,present", [
    ("lib.cnmem", ("0.8", "0.9")),
    ("nvcc.flags", ("0.8", "0.9")),
    ("nvcc.fastmath", ("0.8", "0.9")),
    ("cuda.enabled", ("0.9",)),
    ("dnn.base_path", ("1.0",)),
    ("deterministic", ("1.0",)),
    ("gpuarray.sched", ("0.9", "1.0")),
    ("pycuda.init", ("0.8", "0.9")),
    ("enable_initial_driver_test", ("0.8", "0.9")),
])
def test_options_that_come_and_go(name, present):
    assert tuple(v for v in VERSIONS if name in options_for(v)) == present


def test_defaults_and_sections():
    t08, t10 = options_for("0.8"), options_for("1.0")
    assert t08["optimizer"].default == "fast_run" and t10["optimizer"].default == "o4"
    assert t08["floatX"].default == "float64"
    assert t08["lib.cnmem"].section == "lib" and t08["lib.cnmem"].key == "cnmem"
    assert t10["dnn.conv.algo_fwd"].section == "dnn.conv"
    assert t08["floatX"].section == "global"
    assert not t08["lib.cnmem"].after_import and not t08["device"].after_import
    assert t08["gpuarray.preallocate"].after_import and not t10["gpuarray.preallocate"].after_import


@pytest.mark.parametrize("version,name,value", [
    ("0.8", "device", "gpu"), ("0.8", "device", "gpu1"), ("0.8", "device", "cuda0"), ("0.9", "device", "gpu"),
    ("1.0", "device", "cuda"), ("1.0", "device", "opencl0:1"), ("0.8", "init_gpu_device", ""),
    ("0.8", "floatX", "float16"), ("1.0", "floatX", "32"), ("0.8", "lib.cnmem", "0"), ("0.9", "lib.cnmem", "1.5"),
    ("0.8", "lib.cnmem", "2048"), ("1.0", "gpuarray.preallocate", "-1"), ("0.9", "gpuarray.preallocate", "0.95"),
    ("0.8", "openmp", "true"), ("1.0", "openmp", "0"), ("1.0", "dnn.enabled", "no_check"),
    ("0.8", "dnn.enabled", "False"), ("0.8", "mode", "ProfileMode"), ("1.0", "optimizer", "o1"),
    ("0.8", "nvcc.flags", "-arch=sm_30 --use_fast_math"), ("1.0", "blas.ldflags", ""),
    ("1.0", "cxx", ""), ("0.9", "contexts", "dev0->cuda0;dev1->cuda1"), ("1.0", "compile.wait", "3"),
    ("0.8", "tensor.cmp_sloppy", "2"), ("1.0", "unittests.rseed", "random"),
    ("1.0", "DebugMode.check_preallocated_output", "initial:ALL"), ("1.0", "optdb.position_cutoff", "inf"),
    ("1.0", "gcc.cxxflags", "-O3 -march=native"), ("0.8", "base_compiledir", "/tmp/a#b"),
    ("1.0", "compiledir_format", "compiledir_%(platform)s"), ("0.9", "warn.ignore_bug_before", "0.6"),
])
def test_values_theano_accepts(version, name, value):
    assert check_value(version, name, value) in (value, "float32")


@pytest.mark.parametrize("version,name,value,words", [
    ("1.0", "device", "gpu", "removed"), ("1.0", "device", "gpu0", "cuda"), ("0.8", "device", "tpu", "invalid"),
    ("0.8", "device", "GPU", "invalid"), ("0.8", "device", "cudafoo", "invalid"),
    ("0.8", "init_gpu_device", "cpu", "invalid"), ("0.8", "floatX", "float8", "float16"),
    ("0.8", "floatX", "Float32", "invalid"), ("0.8", "lib.cnmem", "-1", ">= 0"), ("0.8", "lib.cnmem", "abc", "number"),
    ("0.9", "lib.cnmem", "nan", "number"), ("0.9", "lib.cnmem", "inf", "number"),
    ("0.8", "gpuarray.preallocate", "-1", ">= 0"), ("1.0", "gpuarray.preallocate", "inf", "number"),
    ("0.8", "openmp", "yes", "True or False"), ("0.8", "openmp", "FALSE", "invalid"),
    ("0.9", "dnn.enabled", "false", "auto, True, False"), ("0.8", "dnn.enabled", "on", "auto"),
    ("0.9", "mode", "ProfileMode", "invalid"), ("0.8", "optimizer", "o4", "invalid"),
    ("0.8", "nvcc.flags", "--machine 64", "'64'"), ("1.0", "gcc.cxxflags", "-O3 -fopenmp", "openmp"),
    ("0.9", "contexts", "cuda0->cuda0", "context name"), ("0.9", "contexts", "dev0", "malformed"),
    ("0.8", "compile.wait", "0", "> 0"), ("0.8", "compile.wait", "1.5", "integer"),
    ("0.8", "tensor.cmp_sloppy", "3", "0, 1 or 2"), ("0.8", "dnn.conv.workmem", "small", "any"),
    ("1.0", "gpuarray.sync", "False", "non-empty"), ("0.8", "floatX", "float32 ", "spaces"),
    ("0.8", "floatX", "float32\n", "control"), ("0.8", "base_compiledir", "", "empty"),
    ("0.8", "experimental.local_alloc_elemwise", "False", "True"), ("0.8", "floatX", "float32#x", "invalid"),
])
def test_values_theano_rejects_name_the_flag_and_what_is_valid(version, name, value, words):
    with pytest.raises(UserError) as info:
        check_value(version, name, value)
    message = str(info.value)
    assert name in message and "Theano " + version in message and words in message
    assert "\n" not in message


def test_floatx_alias_is_spelled_out():
    assert check_value("0.8", "floatX", "16") == "float16"


@pytest.mark.parametrize("version,name,words", [
    ("1.0", "lib.cnmem", "gpuarray.preallocate"),
    ("1.0", "nvcc.fastmath", "only in Theano 0.8, 0.9"),
    ("0.8", "dnn.base_path", "only in Theano 1.0"),
    ("0.8", "floatx", "write 'floatX'"),
    ("0.8", "global.floatX", "write 'floatX'"),
    ("0.9", "devcie", "did you mean device"),
    ("1.0", "dnn.enable", "dnn.enabled"),
    ("0.8", "gpuarray.preallocat", "gpuarray.preallocate"),
])
def test_unknown_flags_get_a_did_you_mean(version, name, words):
    with pytest.raises(UserError) as info:
        lookup(version, name)
    assert words in str(info.value) and version in str(info.value)


def test_unknown_flag_without_any_close_match():
    with pytest.raises(UserError) as info:
        lookup("0.8", "zzzzqqq")
    assert "unknown Theano 0.8 flag 'zzzzqqq'" in str(info.value) and "did you mean" not in str(info.value)


def test_canonical_name_restores_configparser_lowercase():
    assert canonical_name("floatx") == "floatX"
    assert canonical_name("lib.cnmem") == "lib.cnmem"
    assert canonical_name("debugmode.check_py") == "DebugMode.check_py"
    assert canonical_name("no.such") == "no.such"
