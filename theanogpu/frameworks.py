"""PURE: the one table of computing backends a run can use, and of the packages that provide them.

``theano`` is the original; ``torch``, ``jax`` and ``tensorflow`` are the modern frameworks Keras 3
runs on. theanogpu/child/probe.py runs inside old stacks (stdlib only) and keeps its own copy of the
distribution names; a unit test keeps the two equal.
"""

from dataclasses import dataclass
from typing import Dict, Tuple


@dataclass(frozen=True)
class Backend:
    name: str  # what KERAS_BACKEND and the matrix's ``backends`` key say
    label: str  # how people write it
    distributions: Tuple[str, ...]  # pip distributions that install its module


THEANO = Backend("theano", "Theano", ("theano",))
MODERN_BACKENDS = (
    Backend("torch", "PyTorch", ("torch",)),
    Backend("jax", "JAX", ("jax",)),
    # TensorFlow ships under several names; each installs the same module.
    Backend("tensorflow", "TensorFlow", ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel",
                                         "tensorflow-macos", "tf-nightly", "tf-nightly-cpu")),
)
ALL_BACKENDS = (THEANO,) + MODERN_BACKENDS
BACKENDS = tuple(backend.name for backend in ALL_BACKENDS)
MODERN = tuple(backend.name for backend in MODERN_BACKENDS)
LABELS: Dict[str, str] = {backend.name: backend.label for backend in ALL_BACKENDS}
BY_NAME: Dict[str, Backend] = {backend.name: backend for backend in ALL_BACKENDS}
# Keras 3 picks tensorflow when KERAS_BACKEND is unset; without it, the first of these installed.
KERAS3_PREFERENCE = ("tensorflow", "jax", "torch")
# The backends Keras 3 knows; numpy needs nothing more, openvino is not probed.
KERAS3_BACKENDS = ("tensorflow", "jax", "torch", "numpy", "openvino")
# The distributions whose versions say what a stack is (listings, backend choice, resume identity).
KEY_DISTRIBUTIONS = ("theano", "keras", "numpy", "torch", "jax", "tensorflow", "tensorflow-cpu")
