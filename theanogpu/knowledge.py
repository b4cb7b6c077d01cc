"""PURE: what is known to go wrong with old Theano and today's tools, said once for every place that
explains it (doctor's findings, the parser's fallback reasons, and so the reports)."""

import re
from typing import Any, Mapping, Optional, Tuple

NVCC_FIX = ("put a CUDA <= 10.x toolkit's nvcc first on PATH (or set cuda.root to it), or use Theano 1.0 "
            "with device=cuda and pygpu")


def version_numbers(text: Optional[str]) -> Tuple[int, ...]:
    """``"13.0"`` -> (13, 0); None or junk -> ()."""
    return tuple(int(part) for part in re.findall(r"\d+", text or "")[:3])


def nvcc_unparseable(nvcc_path: Optional[str], release: Optional[str]) -> Optional[str]:
    """Why Theano 0.8/0.9 say "nvcc compiler not found" with this nvcc on PATH, or None if they don't.

    Their old backend reads the *last* line of ``nvcc --version`` as ``..., release X.Y, ...``; from
    CUDA 11 on that line is ``Build cuda_...``, so the parse fails and nvcc counts as missing.
    """
    if not nvcc_path or version_numbers(release) < (11,):
        return None
    return ("nvcc %s (%s) ends its --version output with a 'Build ...' line that Theano 0.8/0.9 cannot parse, "
            "so they report 'nvcc compiler not found on $PATH' although nvcc is there" % (release, nvcc_path))


def misreported_nvcc(run_info: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The true reason behind a "nvcc compiler not found" fallback, from a log's ``theanogpu-run`` line."""
    nvcc = (run_info or {}).get("nvcc")
    if not isinstance(nvcc, dict):
        return None
    why = nvcc_unparseable(nvcc.get("path"), nvcc.get("release"))
    if why is None:
        return None
    stack = (run_info or {}).get("stack")
    return "%s; %s (see `theanogpu doctor%s`)" % (why, NVCC_FIX, " --stack %s" % stack if stack else "")
