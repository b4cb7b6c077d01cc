# -*- coding: utf-8 -*-
"""Probe a Python environment for Theano/Keras/GPU facts; print ONE JSON object on stdout.

Runs INSIDE a stack with that stack's interpreter: Python 2.7 and 3.6+ syntax, standard library
only (plus what the stack has). It never crashes on a missing or broken package: every failure is
captured as text in the JSON. Keras is never imported (Keras 1.x writes ~/.keras/keras.json when it
is imported); its backend choice is computed the way Keras computes it.

    python probe.py [--device=auto|none|DEVICE]

--device=auto (default) asks Theano for its GPU backend before importing it: device=gpu for Theano
< 1.0 (old CUDA backend), device=cuda for 1.0+ (gpuarray), so the JSON says whether that backend
really activated. --device=none leaves THEANO_FLAGS as it is.
"""
from __future__ import print_function

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback

PROBE_SCHEMA = 1
_DIST_RE = re.compile(r"^([A-Za-z0-9_.]+?)-([0-9][^-]*?)(?:-py\d[^-]*)?(?:-[^-]+)?"
                      r"\.(dist-info|egg-info|egg)$")


def error_text(exc):
    """One line for an exception: its type and message."""
    message = str(exc).strip().splitlines()
    return "%s: %s" % (type(exc).__name__, message[-1] if message else "")


def version_tuple(text):
    parts = []
    for piece in re.split(r"[.+-]", text or ""):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def installed_versions():
    """Distribution name (lower case, '-' for '_') -> version, from the metadata on sys.path."""
    found = {}
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        try:
            names = os.listdir(entry)
        except OSError:
            continue
        for name in names:
            match = _DIST_RE.match(name)
            if match:
                key = match.group(1).lower().replace("_", "-")
                found.setdefault(key, match.group(2))
    return found


def which(program):
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory, program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def run_command(argv, timeout=60):
    """(exit code, output text) of a short command; the code is None if it could not start."""
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as exc:
        return None, error_text(exc)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        output = proc.communicate()[0]
    finally:
        timer.cancel()
    if not isinstance(output, str):
        output = output.decode("utf-8", "replace")
    return proc.returncode, output


class Captured(object):
    """Redirect file descriptors 1 and 2 (C code and subprocesses too) into temporary files."""

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        self.files = [tempfile.TemporaryFile(), tempfile.TemporaryFile()]
        self.saved = [os.dup(1), os.dup(2)]
        os.dup2(self.files[0].fileno(), 1)
        os.dup2(self.files[1].fileno(), 2)
        return self

    def __exit__(self, *exc):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        for fd in self.saved:
            os.close(fd)
        self.stdout = self._read(self.files[0])
        self.stderr = self._read(self.files[1])
        return False

    @staticmethod
    def _read(handle):
        handle.seek(0)
        data = handle.read().decode("utf-8", "replace")
        handle.close()
        return [line.rstrip() for line in data.replace("\r", "\n").split("\n") if line.strip()]


def import_version(module_name):
    """{"version": ..., "error": ...} by importing the module (output captured)."""
    result = {"version": None, "error": None}
    with Captured() as captured:
        try:
            module = __import__(module_name)
            result["version"] = getattr(module, "__version__", None)
        except Exception as exc:
            result["error"] = error_text(exc)
    if captured.stderr:
        result["stderr"] = captured.stderr[-20:]
    return result


def keras_backend(keras_version):
    """Which backend Keras would pick, and why, computed as Keras does (without importing it)."""
    version = version_tuple(keras_version)
    env = os.environ.get("KERAS_BACKEND")
    if env:
        return {"backend": env, "source": "KERAS_BACKEND"}
    if version and version >= (3,):
        return {"backend": "tensorflow", "source": "default (Keras 3 reads KERAS_BACKEND or keras.json)"}
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    directory = os.path.join(base, ".keras")
    if version >= (2, 2) and os.environ.get("KERAS_HOME"):
        directory = os.environ["KERAS_HOME"]
    path = os.path.join(directory, "keras.json")
    if os.path.isfile(path):
        try:
            with open(path) as handle:
                config = json.load(handle)
        except Exception as exc:
            return {"backend": "tensorflow", "source": path, "error": error_text(exc)}
        return {"backend": config.get("backend", "tensorflow"), "source": path}
    return {"backend": "tensorflow", "source": "default"}


def _config_value(config, dotted):
    node = config
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def probe_theano(device, theano_version):
    """Import Theano with the GPU backend requested; report its config and what really activated."""
    result = {"imported": False, "error": None, "device_requested": None, "config": {},
              "config_errors": {}, "gpu_activated": None, "gpu_backend": None}
    if device == "auto":
        if not theano_version:
            device = "none"
        else:
            device = "gpu" if version_tuple(theano_version) < (1, 0) else "cuda"
    if device != "none":
        flags = os.environ.get("THEANO_FLAGS", "")
        os.environ["THEANO_FLAGS"] = (flags + "," if flags else "") + "device=%s,floatX=float32" % device
        result["device_requested"] = device
    result["theano_flags"] = os.environ.get("THEANO_FLAGS", "")
    started = time.time()
    with Captured() as captured:
        try:
            import theano
            result["imported"] = True
            result["version"] = getattr(theano, "__version__", None)
        except BaseException as exc:
            result["error"] = error_text(exc)
            result["traceback"] = traceback.format_exc().splitlines()[-12:]
        if result["imported"]:
            for name in ("device", "floatX", "lib.cnmem", "gpuarray.preallocate", "force_device",
                         "base_compiledir", "compiledir", "cuda.root", "blas.ldflags"):
                try:
                    value = _config_value(theano.config, name)
                    result["config"][name] = value if isinstance(value, (bool, int, float)) else str(value)
                except AttributeError as exc:
                    if name == "blas.ldflags":
                        result["config_errors"][name] = error_text(exc)
                except Exception as exc:
                    result["config_errors"][name] = error_text(exc)
            old = sys.modules.get("theano.sandbox.cuda")
            new = sys.modules.get("theano.gpuarray") or sys.modules.get("theano.sandbox.gpuarray")
            activated = False
            if old is not None and getattr(old, "cuda_enabled", False):
                activated, result["gpu_backend"] = True, "cuda"
            elif new is not None and getattr(new, "pygpu_activated", False):
                activated, result["gpu_backend"] = True, "gpuarray"
            result["gpu_activated"] = activated
    result["import_seconds"] = round(time.time() - started, 2)
    result["stderr"] = captured.stderr[-60:]
    result["stdout"] = captured.stdout[-20:]
    return result


def probe_nvcc():
    path = which("nvcc")
    if path is None and os.environ.get("CUDA_ROOT"):
        candidate = os.path.join(os.environ["CUDA_ROOT"], "bin", "nvcc")
        path = candidate if os.path.isfile(candidate) else None
    if path is None:
        return {"path": None}
    code, output = run_command([path, "--version"])
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    match = re.search(r"release (\d+\.\d+)", output)
    return {"path": path, "exit_code": code, "last_line": lines[-1] if lines else "",
            "release": match.group(1) if match else None}


def probe_nvidia_smi():
    path = which("nvidia-smi")
    if path is None:
        return {"path": None, "gpus": [], "error": "nvidia-smi not found on PATH"}
    code, output = run_command([path, "-L"], timeout=30)
    gpus = [line.strip() for line in output.splitlines() if line.strip().startswith("GPU ")]
    result = {"path": path, "exit_code": code, "gpus": gpus, "output": output.strip().splitlines()[:20]}
    if code != 0:
        result["error"] = (output.strip().splitlines() or ["exit code %s" % code])[-1]
    return result


def main(argv):
    device = "auto"
    for arg in argv:
        if arg.startswith("--device="):
            device = arg.split("=", 1)[1]
        elif arg in ("-h", "--help"):
            print(__doc__)
            return 0
    env = dict((key, os.environ.get(key)) for key in
               ("THEANO_FLAGS", "THEANORC", "KERAS_BACKEND", "KERAS_HOME", "CUDA_ROOT",
                "CUDA_VISIBLE_DEVICES"))
    versions = installed_versions()
    packages = {}
    for name in ("numpy", "scipy", "h5py", "pygpu"):
        packages[name] = import_version(name)
    packages["keras"] = {"version": versions.get("keras"), "error": None if versions.get("keras")
                         else "not installed"}
    theano_version = versions.get("theano")
    packages["theano"] = {"version": theano_version, "error": None if theano_version else "not installed"}
    numpy_distutils = None
    if packages["numpy"]["version"]:
        numpy_distutils = import_version("numpy.distutils")
        numpy_distutils = {"available": numpy_distutils["error"] is None, "error": numpy_distutils["error"]}
    theano = probe_theano(device, theano_version)
    if theano.get("version"):
        packages["theano"] = {"version": theano["version"], "error": None}
    elif theano["error"] and not theano_version:
        packages["theano"]["error"] = theano["error"]
    report = {
        "probe": PROBE_SCHEMA,
        "python": {"version": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
                   "prefix": sys.prefix},
        "packages": packages,
        "numpy_distutils": numpy_distutils,
        "keras_backend": keras_backend(packages["keras"]["version"]),
        "theano": theano,
        "nvcc": probe_nvcc(),
        "nvidia_smi": probe_nvidia_smi(),
        "env": env,
    }
    sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
