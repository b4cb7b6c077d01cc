"""Theano's configuration options for releases 0.8.2, 0.9.0 and 1.0.5, as data.

The rows were extracted from each release's ``theano/configdefaults.py`` (every ``AddConfigVar``
call; no other module registers options) and then the filter of each option was read by hand, so
that validation here accepts only what Theano's own filters accept:

* ``enum``: Theano's ``EnumStr``: the value must be one of ``choices`` exactly (case matters);
  ``floatX`` also takes the aliases ``16``/``32``/``64``, which Theano converts.
* ``bool``: ``BoolParam``: only ``True true 1 False false 0``.
* ``int`` / ``float``: ``IntParam`` / ``FloatParam`` plus the option's ``is_valid`` lambda (``check``).
* ``str``: ``StrParam`` or a custom filter, named by ``check`` (device prefixes, nvcc flags...).

``default`` is documentation: Theano's default as a string, or ``(auto: ...)`` when Theano
computes it at import. ``after_import`` says whether ``theano.config.X = v`` is allowed later.
"""

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from theanogpu.flags.rcfile import split_name

VERSIONS = ("0.8", "0.9", "1.0")
RELEASES = {"0.8": "0.8.2", "0.9": "0.9.0", "1.0": "1.0.5"}

ALL = ("0.8", "0.9", "1.0")
OLD = ("0.8", "0.9")
NEW = ("0.9", "1.0")
T08 = ("0.8",)
T09 = ("0.9",)
T10 = ("1.0",)
Y, N = True, False

_RUNTIME = "guess_once guess_on_shape_change time_once time_on_shape_change"
_FWD_OLD = "small none large fft fft_tiling winograd " + _RUNTIME
_FWD_10 = "small none large fft fft_tiling winograd winograd_non_fused " + _RUNTIME
_BWD_DATA_OLD = "none deterministic fft fft_tiling winograd " + _RUNTIME
_BWD_DATA_10 = "none deterministic fft fft_tiling winograd winograd_non_fused " + _RUNTIME
_BWD_FILTER_OLD = "none deterministic fft small " + _RUNTIME
_BWD_FILTER_10 = "none deterministic fft small winograd_non_fused fft_tiling " + _RUNTIME
_BUGS_09 = "0.7 None all 0.3 0.4 0.4.1 0.5 0.6 0.8 0.8.1 0.8.2 0.9"
_BUGS_10 = "0.9 None all 0.3 0.4 0.4.1 0.5 0.6 0.7 0.8 0.8.1 0.8.2 0.10 1.0 1.0.1 1.0.2 1.0.3 1.0.4 1.0.5"
_MODES_08 = "Mode ProfileMode DebugMode FAST_RUN NanGuardMode FAST_COMPILE PROFILE_MODE DEBUG_MODE"
_COMPILEDIR_FORMAT = "compiledir_%(short_platform)s-%(processor)s-%(python_version)s-%(python_bitwidth)s"
_BUGWARN = "(auto: warn.ignore_bug_before)"

# (name, releases, kind, choices for enum / check name otherwise, default, allowed after import)
_ROWS = (
    ('floatX', ALL, 'enum', 'float64 float32 float16', 'float64', Y),
    ('warn_float64', ALL, 'enum', 'ignore warn raise pdb', 'ignore', Y),
    ('cast_policy', ALL, 'enum', 'custom numpy+floatX', 'custom', Y),
    ('int_division', ALL, 'enum', 'int raise floatX', 'int', Y),
    ('device', ALL, 'str', 'device', 'cpu', N),
    ('init_gpu_device', ALL, 'str', 'init_device', '', N),
    ('force_device', ALL, 'bool', None, 'False', N),
    ('contexts', ALL, 'str', 'contexts', '', N),
    ('print_active_device', ALL, 'bool', None, 'True', N),
    ('enable_initial_driver_test', OLD, 'bool', None, 'True', N),
    ('cuda.root', ALL, 'str', None, '(auto: $CUDA_ROOT or the nvcc on PATH)', Y),
    ('nvcc.flags', OLD, 'str', 'nvcc_flags', '', Y),
    ('nvcc.compiler_bindir', OLD, 'str', None, '', Y),
    ('nvcc.fastmath', OLD, 'bool', None, 'False', Y),
    ('gpuarray.sync', OLD, 'bool', None, 'False', Y),
    ('gpuarray.sync', T10, 'str', 'forbidden', 'False', N),
    ('gpuarray.preallocate', T08, 'float', 'ge0', '0', Y),
    ('gpuarray.preallocate', NEW, 'float', 'finite', '0', N),
    ('dnn.conv.workmem', ALL, 'str', 'forbidden', '', N),
    ('dnn.conv.workmem_bwd', ALL, 'str', 'forbidden', '', N),
    ('dnn.conv.algo_bwd', ALL, 'str', 'forbidden', '', N),
    ('dnn.conv.algo_fwd', OLD, 'enum', _FWD_OLD, 'small', Y),
    ('dnn.conv.algo_fwd', T10, 'enum', _FWD_10, 'small', Y),
    ('dnn.conv.algo_bwd_data', OLD, 'enum', _BWD_DATA_OLD, 'none', Y),
    ('dnn.conv.algo_bwd_data', T10, 'enum', _BWD_DATA_10, 'none', Y),
    ('dnn.conv.algo_bwd_filter', OLD, 'enum', _BWD_FILTER_OLD, 'none', Y),
    ('dnn.conv.algo_bwd_filter', T10, 'enum', _BWD_FILTER_10, 'none', Y),
    ('dnn.conv.precision', T08, 'enum', 'as_input float16 float32 float64', 'as_input', Y),
    ('dnn.conv.precision', NEW, 'enum', 'as_input_f32 as_input float16 float32 float64', 'as_input_f32', Y),
    ('dnn.include_path', ALL, 'str', None, '(auto: from cuda.root)', Y),
    ('dnn.library_path', ALL, 'str', None, '(auto: from cuda.root)', Y),
    ('dnn.enabled', T08, 'str', 'dnn_enabled_08', 'auto', Y),
    ('dnn.enabled', T09, 'enum', 'auto True False', 'auto', Y),
    ('dnn.enabled', T10, 'enum', 'auto True False no_check', 'auto', Y),
    ('assert_no_cpu_op', ALL, 'enum', 'ignore warn raise pdb', 'ignore', Y),
    ('mode', T08, 'enum', _MODES_08, 'Mode', Y),
    ('mode', T09, 'enum', 'Mode DebugMode FAST_RUN NanGuardMode FAST_COMPILE DEBUG_MODE', 'Mode', Y),
    ('mode', T10, 'enum', 'Mode DebugMode FAST_RUN NanGuardMode FAST_COMPILE DEBUG_MODE', 'Mode', Y),
    ('cxx', ALL, 'str', None, '(auto: g++ if found)', Y),
    ('allow_gc', ALL, 'bool', None, 'True', Y),
    ('optimizer', OLD, 'enum', 'fast_run merge fast_compile None', 'fast_run', Y),
    ('optimizer', T10, 'enum', 'o4 o3 o2 o1 unsafe fast_run fast_compile merge None', 'o4', Y),
    ('optimizer_verbose', ALL, 'bool', None, 'False', Y),
    ('on_opt_error', ALL, 'enum', 'warn raise pdb ignore', 'warn', Y),
    ('home', OLD, 'str', 'forbidden', '', N),
    ('nocleanup', ALL, 'bool', None, 'False', Y),
    ('on_unused_input', ALL, 'enum', 'raise warn ignore', 'raise', Y),
    ('tensor.cmp_sloppy', ALL, 'int', 'in012', '0', N),
    ('tensor.local_elemwise_fusion', ALL, 'bool', None, 'True', Y),
    ('gpu.local_elemwise_fusion', ALL, 'bool', None, 'True', Y),
    ('lib.amdlibm', ALL, 'bool', None, 'False', Y),
    ('gpuelemwise.sync', ALL, 'bool', None, 'True', Y),
    ('traceback.limit', ALL, 'int', None, '8', Y),
    ('experimental.mrg', T08, 'bool', None, 'False', Y),
    ('experimental.unpickle_gpu_on_cpu', ALL, 'bool', None, 'False', Y),
    ('numpy.seterr_all', ALL, 'enum', 'ignore warn raise call print log None', 'ignore', N),
    ('numpy.seterr_divide', ALL, 'enum', 'None ignore warn raise call print log', 'None', N),
    ('numpy.seterr_over', ALL, 'enum', 'None ignore warn raise call print log', 'None', N),
    ('numpy.seterr_under', ALL, 'enum', 'None ignore warn raise call print log', 'None', N),
    ('numpy.seterr_invalid', ALL, 'enum', 'None ignore warn raise call print log', 'None', N),
    ('warn.ignore_bug_before', T08, 'enum', '0.7 None all 0.3 0.4 0.4.1 0.5 0.8 0.8.1 0.8.2', '0.7', N),
    ('warn.ignore_bug_before', T09, 'enum', _BUGS_09, '0.7', N),
    ('warn.ignore_bug_before', T10, 'enum', _BUGS_10, '0.9', N),
    ('warn.argmax_pushdown_bug', ALL, 'bool', None, _BUGWARN, Y),
    ('warn.gpusum_01_011_0111_bug', ALL, 'bool', None, _BUGWARN, Y),
    ('warn.sum_sum_bug', ALL, 'bool', None, _BUGWARN, Y),
    ('warn.sum_div_dimshuffle_bug', ALL, 'bool', None, _BUGWARN, Y),
    ('warn.subtensor_merge_bug', ALL, 'bool', None, _BUGWARN, Y),
    ('warn.gpu_set_subtensor1', ALL, 'bool', None, _BUGWARN, Y),
    ('warn.vm_gc_bug', ALL, 'bool', None, 'False', Y),
    ('warn.signal_conv2d_interface', ALL, 'bool', None, _BUGWARN, Y),
    ('warn.reduce_join', ALL, 'bool', None, _BUGWARN, Y),
    ('warn.inc_set_subtensor1', ALL, 'bool', None, _BUGWARN, Y),
    ('compute_test_value', ALL, 'enum', 'off ignore warn raise pdb', 'off', Y),
    ('print_test_value', ALL, 'bool', None, 'False', Y),
    ('compute_test_value_opt', ALL, 'enum', 'off ignore warn raise pdb', 'off', Y),
    ('unpickle_function', ALL, 'bool', None, 'True', Y),
    ('reoptimize_unpickled_function', ALL, 'bool', None, 'False', Y),
    ('exception_verbosity', ALL, 'enum', 'low high', 'low', Y),
    ('openmp', ALL, 'bool', None, 'False', Y),
    ('openmp_elemwise_minsize', ALL, 'int', None, '200000', Y),
    ('check_input', ALL, 'bool', None, 'True', Y),
    ('cache_optimizations', ALL, 'bool', None, 'False', Y),
    ('unittests.rseed', ALL, 'str', 'seed', '666', Y),
    ('NanGuardMode.nan_is_error', ALL, 'bool', None, 'True', Y),
    ('NanGuardMode.inf_is_error', ALL, 'bool', None, 'True', Y),
    ('NanGuardMode.big_is_error', ALL, 'bool', None, 'True', Y),
    ('NanGuardMode.action', ALL, 'enum', 'raise warn pdb', 'raise', Y),
    ('ProfileMode.n_apply_to_print', T08, 'int', 'gt0', '15', Y),
    ('ProfileMode.n_ops_to_print', T08, 'int', 'gt0', '20', Y),
    ('ProfileMode.min_memory_size', T08, 'int', 'ge0', '1024', Y),
    ('ProfileMode.profile_memory', T08, 'bool', None, 'False', Y),
    ('optimizer_excluding', ALL, 'str', None, '', N),
    ('optimizer_including', ALL, 'str', None, '', N),
    ('optimizer_requiring', ALL, 'str', None, '', N),
    ('DebugMode.patience', ALL, 'int', 'gt0', '10', Y),
    ('DebugMode.check_c', ALL, 'bool', None, '(auto: True if cxx is set)', Y),
    ('DebugMode.check_py', ALL, 'bool', None, 'True', Y),
    ('DebugMode.check_finite', ALL, 'bool', None, 'True', Y),
    ('DebugMode.check_strides', ALL, 'int', 'in012', '0', Y),
    ('DebugMode.warn_input_not_reused', ALL, 'bool', None, 'True', Y),
    ('DebugMode.check_preallocated_output', ALL, 'str', 'prealloc_output', '', Y),
    ('DebugMode.check_preallocated_output_ndim', ALL, 'int', 'gt0', '4', Y),
    ('profiling.time_thunks', ALL, 'bool', None, 'True', Y),
    ('profiling.n_apply', ALL, 'int', 'gt0', '20', Y),
    ('profiling.n_ops', ALL, 'int', 'gt0', '20', Y),
    ('profiling.output_line_width', ALL, 'int', 'gt0', '512', Y),
    ('profiling.min_memory_size', ALL, 'int', 'ge0', '1024', Y),
    ('profiling.min_peak_memory', ALL, 'bool', None, 'False', Y),
    ('profiling.destination', ALL, 'str', None, 'stderr', Y),
    ('profiling.debugprint', ALL, 'bool', None, 'False', Y),
    ('optdb.position_cutoff', ALL, 'float', None, 'inf', Y),
    ('optdb.max_use_ratio', T08, 'float', None, '5', Y),
    ('optdb.max_use_ratio', NEW, 'float', None, '8', Y),
    ('gcc.cxxflags', OLD, 'str', None, '', Y),
    ('gcc.cxxflags', T10, 'str', 'no_fopenmp', '', Y),
    ('cmodule.mac_framework_link', T08, 'bool', None, 'False', Y),
    ('cmodule.warn_no_version', ALL, 'bool', None, 'False', Y),
    ('cmodule.remove_gxx_opt', ALL, 'bool', None, 'False', Y),
    ('cmodule.compilation_warning', ALL, 'bool', None, 'False', Y),
    ('cmodule.preload_cache', ALL, 'bool', None, 'False', N),
    ('blas.ldflags', ALL, 'str', None, '(auto: from numpy.distutils)', Y),
    ('metaopt.verbose', OLD, 'bool', None, 'False', Y),
    ('metaopt.verbose', T10, 'int', None, '0', Y),
    ('profile', ALL, 'bool', None, 'False', Y),
    ('profile_optimizer', ALL, 'bool', None, 'False', Y),
    ('profile_memory', ALL, 'bool', None, 'False', Y),
    ('vm.lazy', ALL, 'enum', 'None False True', 'None', Y),
    ('warn.identify_1pexp_bug', ALL, 'bool', None, _BUGWARN, Y),
    ('on_shape_error', ALL, 'enum', 'warn raise', 'warn', Y),
    ('tensor.insert_inplace_optimizer_validate_nb', ALL, 'int', None, '-1', Y),
    ('experimental.local_alloc_elemwise', ALL, 'bool', 'true_only', 'True', Y),
    ('experimental.local_alloc_elemwise_assert', ALL, 'bool', None, 'True', Y),
    ('scan.allow_gc', ALL, 'bool', None, 'False', Y),
    ('scan.allow_output_prealloc', ALL, 'bool', None, 'True', Y),
    ('pycuda.init', OLD, 'bool', None, 'False', Y),
    ('cublas.lib', OLD, 'str', None, 'cublas', Y),
    ('lib.cnmem', OLD, 'float', 'ge0', '0', N),
    ('compile.wait', ALL, 'int', 'gt0', '5', N),
    ('compile.timeout', ALL, 'int', 'ge0', '(auto: compile.wait * 24)', N),
    ('compiledir_format', ALL, 'str', None, _COMPILEDIR_FORMAT, N),
    ('base_compiledir', ALL, 'str', 'path', '~/.theano', N),
    ('compiledir', ALL, 'str', 'path', '(auto: <base_compiledir>/<compiledir_format>)', N),
    ('linker', ALL, 'enum', 'cvm c|py py c c|py_nogc vm vm_nogc cvm_nogc', 'cvm', Y),
    ('conv.assert_shape', NEW, 'bool', None, 'False', Y),
    ('print_global_stats', NEW, 'bool', None, 'False', Y),
    ('cuda.enabled', T09, 'bool', None, 'True', Y),
    ('nvcc.cudafe', T09, 'enum', 'always heuristic', 'always', Y),
    ('gpuarray.sched', NEW, 'enum', 'default multi single', 'default', Y),
    ('gpuarray.single_stream', NEW, 'bool', None, 'True', Y),
    ('traceback.compile_limit', NEW, 'int', None, '0', Y),
    ('warn.round', NEW, 'bool', None, _BUGWARN, Y),
    ('profiling.ignore_first_call', NEW, 'bool', None, 'False', Y),
    ('cmodule.age_thresh_use', NEW, 'int', None, '2073600', N),
    ('scan.debug', NEW, 'bool', None, 'False', Y),
    ('pickle_test_value', T10, 'bool', None, 'True', Y),
    ('deterministic', T10, 'enum', 'default more', 'default', Y),
    ('cuda.include_path', T10, 'str', None, '(auto: <cuda.root>/include)', Y),
    ('dnn.base_path', T10, 'str', None, '(auto: cuda.root if it has cudnn.h)', Y),
    ('dnn.bin_path', T10, 'str', None, '(auto: from dnn.base_path)', Y),
    ('magma.include_path', T10, 'str', None, '', Y),
    ('magma.library_path', T10, 'str', None, '', Y),
    ('magma.enabled', T10, 'bool', None, 'False', Y),
    ('warn.inc_subtensor1_opt', T10, 'bool', None, _BUGWARN, Y),
    ('cmodule.debug', T10, 'bool', None, 'False', Y),
    ('blas.check_openmp', T10, 'bool', None, 'True', Y),
    ('metaopt.optimizer_excluding', T10, 'str', None, '', Y),
    ('metaopt.optimizer_including', T10, 'str', None, '', Y),
    ('cycle_detection', T10, 'enum', 'regular fast', 'regular', Y),
    ('check_stack_trace', T10, 'enum', 'off log warn raise', 'off', Y),
    ('ctc.root', T10, 'str', None, '', N),
    ('gpuarray.cache_path', T10, 'str', 'path', '(auto: <compiledir>/gpuarray_kernels)', N),
)

# Options that some release knows and another does not: why, and what to use instead.
REMOVED_HINTS = {
    "lib.cnmem": "CNMeM went with the old GPU backend in Theano 1.0; use gpuarray.preallocate (or --cnmem)",
    "nvcc.flags": "nvcc went with the old GPU backend in Theano 1.0; gpuarray compiles with NVRTC",
    "nvcc.fastmath": "nvcc went with the old GPU backend in Theano 1.0",
    "nvcc.compiler_bindir": "nvcc went with the old GPU backend in Theano 1.0",
    "nvcc.cudafe": "nvcc went with the old GPU backend in Theano 1.0",
    "cuda.enabled": "the old GPU backend it switched off is gone in Theano 1.0",
    "cublas.lib": "the old GPU backend is gone in Theano 1.0",
    "pycuda.init": "the old GPU backend is gone in Theano 1.0",
    "enable_initial_driver_test": "the old GPU backend is gone in Theano 1.0",
    "home": "it was already rejected; use base_compiledir",
    "dnn.base_path": "it is new in Theano 1.0; use dnn.include_path and dnn.library_path",
    "deterministic": "it is new in Theano 1.0",
    "gpuarray.sched": "it is new in Theano 0.9",
}


@dataclass(frozen=True)
class Option:
    """One Theano configuration option in one release."""

    name: str
    kind: str  # enum | bool | int | float | str
    choices: Tuple[str, ...]
    check: Optional[str]
    default: str
    after_import: bool

    @property
    def section(self) -> str:
        """The ``.theanorc`` section Theano looks this option up in (``key.rsplit('.', 1)``)."""
        return split_name(self.name)[0]

    @property
    def key(self) -> str:
        return split_name(self.name)[1]

    def describe(self) -> str:
        """Valid values in words, for error messages."""
        if self.kind == "enum":
            extra = " (or 16, 32, 64)" if self.name == "floatX" else ""
            return "one of " + ", ".join(self.choices) + extra
        if self.kind == "bool":
            return "True or False" if self.check != "true_only" else "True (Theano accepts nothing else)"
        bounds = {"gt0": " > 0", "ge0": " >= 0", "in012": " in 0, 1, 2", "finite": ""}
        if self.kind == "int":
            return "an integer" + bounds.get(self.check or "", "")
        if self.kind == "float":
            return "a number" + bounds.get(self.check or "", "")
        return _STR_CHECKS.get(self.check or "", "a string")


_STR_CHECKS = {
    "device": "cpu, gpu, gpuN, cuda, cudaN or openclP:D",
    "init_device": "empty, gpuN, cudaN or openclP:D (not cpu)",
    "contexts": "name->device pairs separated by ';' (names other than cpu, cuda*, opencl*)",
    "nvcc_flags": "space-separated options that each start with '-' (write --machine=64, not --machine 64)",
    "seed": "an integer or 'random'",
    "prealloc_output": "':'-separated items from initial, previous, c_contiguous, f_contiguous, strided, "
    "wrong_size, ALL",
    "no_fopenmp": "compiler flags without -fopenmp (use openmp=True)",
    "path": "a non-empty directory path",
    "forbidden": "nothing (Theano raises an error for any value)",
    "dnn_enabled_08": "auto, True or False",
}


def _build() -> Dict[str, Dict[str, Option]]:
    tables: Dict[str, Dict[str, Option]] = {version: {} for version in VERSIONS}
    for name, releases, kind, spec, default, after_import in _ROWS:
        choices = tuple((spec or "").split()) if kind == "enum" else ()
        check = None if kind == "enum" else spec
        for version in releases:
            if name in tables[version]:
                raise AssertionError("duplicate option row %s for %s" % (name, version))
            tables[version][name] = Option(name, kind, choices, check, default, after_import)
    return tables


_TABLES = _build()


def options_for(version: str) -> Dict[str, Option]:
    """All options of one release ("0.8", "0.9" or "1.0"), by their exact (case-sensitive) name."""
    return _TABLES[version]


def releases_with(name: str) -> Tuple[str, ...]:
    """The releases (of VERSIONS) that know option *name*."""
    return tuple(version for version in VERSIONS if name in _TABLES[version])
