"""The one place that decides which of our environment variables reach another process.

Every child process theanogpu starts (another interpreter asked for its version, pip building a
stack, the probe, a training run) gets this process's environment minus what would make it do
something else than asked. Each kind of child has its own list; they all go through ``scrub``.
"""

import os
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

# Meant for the host interpreter; an older interpreter given them breaks or imports the wrong code.
PYTHON_VARS = ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP")
# Would make pip install somewhere else than the venv being built.
PIP_VARS = PYTHON_VARS + ("PIP_USER", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV", "PYTHONNOUSERSITE")
# What pip should do while building a stack: no questions, no version nagging, line-by-line output.
PIP_SETTINGS = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "PIP_PROGRESS_BAR": "off",
                "PYTHONUNBUFFERED": "1"}
# Variables of the parent that would change what a training run does behind the variant's back. The
# frameworks' own memory and platform switches go too: a variant sets the ones it means. The user's
# thread limits and CUDA_VISIBLE_DEVICES stay, as machine policy (a shared server's).
DTYPE_POLICY_VAR = "THEANOGPU_DTYPE_POLICY"
RUN_VARS = ("THEANO_FLAGS", "THEANORC", "THEANO_GPU_IS_ALREADY_ACTIVE", "KERAS_BACKEND", "KERAS_HOME",
            "VIRTUAL_ENV", "__PYVENV_LAUNCHER__", "JAX_PLATFORMS", "JAX_PLATFORM_NAME",
            "XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION", "XLA_PYTHON_CLIENT_ALLOCATOR",
            "XLA_FLAGS", "TF_FORCE_GPU_ALLOW_GROWTH", "TF_GPU_ALLOCATOR", "PYTORCH_CUDA_ALLOC_CONF",
            "PYTORCH_NO_CUDA_MEMORY_CACHING", DTYPE_POLICY_VAR) + PYTHON_VARS


def scrub(drop: Iterable[str], settings: Optional[Mapping[str, str]] = None,
          parent: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """*parent* (default: this process's environment) without *drop*, then *settings* on top."""
    dropped = set(drop)
    env = {key: value for key, value in (os.environ if parent is None else parent).items() if key not in dropped}
    env.update(settings or {})
    return env


def for_interpreter(settings: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """For running another Python interpreter: our Python variables kept out."""
    return scrub(PYTHON_VARS, settings)


def for_pip() -> Dict[str, str]:
    """For pip building a stack's venv."""
    return scrub(PIP_VARS, PIP_SETTINGS)


def for_virtualenv() -> Dict[str, str]:
    """For virtualenv creating a stack's environment: as pip, and the caller's VIRTUALENV_* defaults kept
    out (tox sets VIRTUALENV_PIP, for one), so a stack is created the same way wherever it is built."""
    defaults = tuple(key for key in os.environ if key.startswith("VIRTUALENV_"))
    return scrub(PIP_VARS + defaults, PIP_SETTINGS)


def for_run(settings: Mapping[str, str],
            parent: Optional[Mapping[str, str]] = None) -> Tuple[Dict[str, str], List[str]]:
    """(environment, names removed) for a training run that gets exactly *settings* on top."""
    source = os.environ if parent is None else parent
    removed = sorted(key for key in RUN_VARS if key in source and key not in settings)
    return scrub(RUN_VARS, settings, source), removed
