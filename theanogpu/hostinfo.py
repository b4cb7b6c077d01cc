"""Which machine a comparison ran on: host name, CPU model and GPUs (what results.json records)."""

import platform
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import List, Optional

_NVIDIA_SMI_GPU = re.compile(r"^GPU \d+: (.+?)(?: \(UUID: [^)]*\))?\s*$")


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name ("AMD EPYC 7B13"), or the best that the platform module knows."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        # x86 says "model name"; some ARM kernels only say "Model" or "Hardware".
        if key.strip() in ("model name", "Model", "Hardware") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def parse_nvidia_smi_list(text: str) -> List[str]:
    """GPU names from `nvidia-smi -L` output (``GPU 0: NVIDIA H100 (UUID: GPU-...)``)."""
    names = []
    for line in text.splitlines():
        match = _NVIDIA_SMI_GPU.match(line.strip())
        if match:
            names.append(match.group(1).strip())
    return names


def gpu_names(timeout: float = 10.0) -> List[str]:
    """The NVIDIA GPUs that `nvidia-smi -L` lists; empty when there is no nvidia-smi or it fails."""
    smi: Optional[str] = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        proc = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_nvidia_smi_list(proc.stdout) if proc.returncode == 0 else []


def collect() -> dict:
    """``{"hostname", "cpu", "gpus", "os", "python"}`` for this machine."""
    return {
        "hostname": socket.gethostname(),
        "cpu": cpu_model(),
        "gpus": gpu_names(),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


_NVCC_RELEASE = re.compile(r"release (\d+(?:\.\d+)*)")


def nvcc_facts(path_variable: Optional[str], timeout: float = 20.0) -> Optional[dict]:
    """``{"path", "release"}`` of the nvcc a run with this PATH finds first, or None when there is none.

    Theano 0.8/0.9 say "nvcc compiler not found" when they cannot parse nvcc's version (CUDA >= 11):
    knowing which nvcc was really there lets the report say what is wrong instead.
    """
    nvcc = shutil.which("nvcc", path=path_variable)
    if nvcc is None:
        return None
    try:
        proc = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return {"path": nvcc, "release": None}
    match = _NVCC_RELEASE.search(proc.stdout)
    return {"path": nvcc, "release": match.group(1) if match else None}
