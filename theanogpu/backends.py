"""PURE: one variant's intent, spelled for one backend: Theano flags, or a modern framework's environment.

Theano reads ``THEANO_FLAGS``; Keras 3's backends read environment variables at import time, each
its own (the table below). What has no equivalent on a backend is left out and said in a note, so a
matrix written once runs on every stack and the user learns what each stack really got.

============  =========================  ===================================================
backend       device cpu / gpuN          memory: amount / grow / off
============  =========================  ===================================================
theano        ``device`` flag            ``lib.cnmem`` / ``gpuarray.preallocate`` (-1 = off)
torch         ``CUDA_VISIBLE_DEVICES``   none / ``PYTORCH_CUDA_ALLOC_CONF`` /
                                         ``PYTORCH_NO_CUDA_MEMORY_CACHING``
jax           ``JAX_PLATFORMS=cpu``,     ``XLA_PYTHON_CLIENT_MEM_FRACTION`` /
              ``CUDA_VISIBLE_DEVICES``   ``XLA_PYTHON_CLIENT_PREALLOCATE=false`` /
                                         ``XLA_PYTHON_CLIENT_ALLOCATOR=platform``
tensorflow    ``CUDA_VISIBLE_DEVICES``   none / ``TF_FORCE_GPU_ALLOW_GROWTH`` /
                                         ``TF_GPU_ALLOCATOR=cuda_malloc_async``
============  =========================  ===================================================

Threads: ``OMP_NUM_THREADS`` (+ MKL/OpenBLAS) everywhere; TensorFlow also ``TF_NUM_INTRAOP_THREADS``;
JAX only knows "one thread" (``XLA_FLAGS``). Precision: Keras's ``floatx`` (keras.json), and for
``mixed`` the ``mixed_float16`` policy, which ``THEANOGPU_DTYPE_POLICY`` asks the example script to
set (Keras reads no environment variable for it).
"""

from dataclasses import dataclass, field, replace
from typing import Dict, List, Mapping, Optional

from theanogpu.childenv import DTYPE_POLICY_VAR
from theanogpu.flags import flags_for_version
from theanogpu.flags.dialect import format_number
from theanogpu.frameworks import BACKENDS, LABELS, MODERN
from theanogpu.intent import ALL_THREADS, Intent, Memory
from theanogpu.variants import Variant

__all__ = ["BACKENDS", "DTYPE_POLICY_VAR", "MODERN", "BackendTranslation", "for_modern", "for_theano",
           "theano_memory_policy", "thread_env", "translate_variant"]

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# Theano flags that are the intent itself; any other Theano flag has no modern equivalent.
_INTENT_FLAGS = ("device", "floatX", "lib.cnmem", "gpuarray.preallocate")


@dataclass
class BackendTranslation:
    """What one run on one backend gets: Theano flags (theano only), environment, notes."""

    backend: str
    flags: Dict[str, str] = field(default_factory=dict)
    env: Dict[str, str] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    floatx: Optional[str] = None  # keras.json "floatx"


def thread_env(threads: int) -> Dict[str, str]:
    return {name: str(threads) for name in THREAD_VARS}


# ------------------------------------------------------------------------------------------ Theano


def translate_variant(variant: Variant, backend: str, dialect: Optional[str] = None, cpu_count: int = 1) -> \
        BackendTranslation:
    """*variant* for a stack of *backend* (Theano: in *dialect*, "0.8"/"0.9"/"1.0").

    ``threads = all`` becomes *cpu_count*. The variant's raw ``env.*`` variables come last and win
    over anything translated.
    """
    if variant.threads == ALL_THREADS:
        variant = replace(variant, threads=max(1, cpu_count))
    if backend == "theano":
        out = for_theano(variant, dialect)
    else:
        out = for_modern(backend, variant.flags, variant.intent())
    for key, value in variant.env.items():
        if key in out.env and out.env[key] != value:
            out.notes.append("env.%s=%s replaces %s=%s" % (key, value, key, out.env[key]))
        out.env[key] = value
    return out


def for_theano(variant: Variant, dialect: Optional[str]) -> BackendTranslation:
    """Theano flags for *dialect*: the variant's own flags plus the intent keys it spelled out.

    Without a dialect (no Theano found in the stack: a custom script) the flags go as written.
    """
    flags = dict(variant.flags)
    notes: List[str] = []
    precision = variant.precision
    if precision == "mixed":
        notes.append("precision=mixed: Theano has no mixed precision; floatX=float32")
        flags["floatX"] = "float32"
    elif precision is not None:
        flags["floatX"] = str(precision)
    memory = variant.memory
    if memory is not None and memory.policy == "amount":
        flags["lib.cnmem"] = format_number(memory.amount or 0)
    if dialect is not None:
        result = flags_for_version(flags, dialect)
        flags, notes = dict(result.flags), notes + list(result.notes)
    out = BackendTranslation("theano", flags, {}, notes)
    if memory is not None and memory.policy != "amount":
        theano_memory_policy(memory, out.flags, out.notes)
    threads = variant.threads
    if threads is not None:
        out.env.update(thread_env(threads))
        if out.flags.get("openmp") != "True":
            out.notes.append("threads=%d limits the BLAS library; Theano's own C code runs threads only "
                             "with openmp=True" % threads)
    out.floatx = out.flags.get("floatX")
    return out


def theano_memory_policy(memory: Memory, flags: Dict[str, str], notes: List[str]) -> None:
    """``memory = grow`` / ``off`` as Theano flags for the device already in *flags*."""
    device = flags.get("device", "cpu")
    if device == "cpu":
        notes.append("memory=%s left out: it has no effect with device=cpu" % memory.policy)
        return
    if device.startswith(("cuda", "opencl")):
        # gpuarray: 0 keeps its default cache that grows on demand, a negative value disables it.
        flags["gpuarray.preallocate"] = "0" if memory.policy == "grow" else "-1"
    else:
        # The old backend has no cache: without CNMeM every allocation goes to cudaMalloc.
        flags["lib.cnmem"] = "0"
        if memory.policy == "grow":
            notes.append("memory=grow: Theano's old GPU backend has no growing pool; without CNMeM "
                             "(lib.cnmem=0) it allocates on demand")


# ------------------------------------------------------------------------------- Keras 3 backends


def for_modern(backend: str, flags: Mapping[str, str], intent: Intent) -> BackendTranslation:
    """Environment variables for Keras 3 on *backend* (torch, jax, tensorflow)."""
    name = LABELS[backend]
    out = BackendTranslation(backend, env={"KERAS_BACKEND": backend})
    _modern_device(backend, intent, out)
    _modern_precision(intent, out)
    if intent.memory is not None:
        if intent.device == "cpu":
            out.notes.append("memory (%s) left out: it has no effect on the CPU" % intent.memory.describe())
        else:
            _modern_memory(backend, name, intent.memory, out)
    if intent.threads is not None:
        _modern_threads(backend, intent.threads, out)
    for key, value in flags.items():
        if key not in _INTENT_FLAGS:
            out.notes.append("%s=%s is a Theano flag with no %s equivalent; left out" % (key, value, name))
    return out


def _modern_device(backend: str, intent: Intent, out: BackendTranslation) -> None:
    if intent.device == "cpu":
        if backend == "jax":
            out.env["JAX_PLATFORMS"] = "cpu"
        else:
            # An empty list hides every GPU from the CUDA runtime, so the framework cannot pick one.
            out.env["CUDA_VISIBLE_DEVICES"] = ""
        return
    if intent.device_index is not None:
        out.env["CUDA_VISIBLE_DEVICES"] = str(intent.device_index)
    if backend == "jax":
        out.notes.append("device=gpu: JAX_PLATFORMS is left unset so that JAX falls back to the CPU "
                         "(and the report says so) instead of failing when it finds no GPU")


def _modern_precision(intent: Intent, out: BackendTranslation) -> None:
    if intent.precision == "mixed":
        out.floatx = "float32"
        out.env[DTYPE_POLICY_VAR] = "mixed_float16"
        out.notes.append("precision=mixed: %s=mixed_float16 asks the example script to call "
                         "keras.mixed_precision.set_global_policy('mixed_float16'); Keras reads no "
                         "environment variable for it, so a script of your own must do the same"
                         % DTYPE_POLICY_VAR)
    elif intent.precision is not None:
        out.floatx = intent.precision


def _modern_memory(backend: str, name: str, memory: Memory, out: BackendTranslation) -> None:
    env = out.env
    if backend == "jax":
        if memory.policy == "amount" and (memory.amount or 0) <= 1:
            env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "true"
            env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = format_number(memory.amount or 0)
        elif memory.policy == "amount":
            out.notes.append("memory=%s MB: JAX takes only a fraction of GPU memory "
                             "(XLA_PYTHON_CLIENT_MEM_FRACTION); left at its default of 75%%"
                             % format_number(memory.amount or 0))
        elif memory.policy == "grow":
            env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
        else:
            env["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false"
            env["XLA_PYTHON_CLIENT_ALLOCATOR"] = "platform"
    elif backend == "tensorflow":
        if memory.policy == "amount":
            out.notes.append("memory (%s): TensorFlow has no environment variable for it (it is an API "
                             "call, tf.config.set_logical_device_configuration); TensorFlow already "
                             "preallocates most GPU memory by default" % memory.describe())
        elif memory.policy == "grow":
            env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
        else:
            env["TF_GPU_ALLOCATOR"] = "cuda_malloc_async"
            out.notes.append("memory=off: TF_GPU_ALLOCATOR=cuda_malloc_async replaces TensorFlow's own "
                             "pool with CUDA's allocator")
    else:
        if memory.policy == "amount":
            out.notes.append("memory (%s): %s never preallocates; its caching allocator grows on demand "
                             "(a cap is an API call, torch.cuda.set_per_process_memory_fraction)"
                             % (memory.describe(), name))
        elif memory.policy == "grow":
            env["PYTORCH_CUDA_ALLOC_CONF"] = "expandable_segments:True"
        else:
            env["PYTORCH_NO_CUDA_MEMORY_CACHING"] = "1"


def _modern_threads(backend: str, threads: int, out: BackendTranslation) -> None:
    out.env.update(thread_env(threads))
    if backend == "tensorflow":
        out.env["TF_NUM_INTRAOP_THREADS"] = str(threads)
    elif backend == "jax":
        if threads == 1:
            out.env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        else:
            out.notes.append("threads=%d: JAX (XLA) has no setting for a number of CPU threads, only for "
                             "one; it uses every core" % threads)
