# -*- coding: utf-8 -*-
"""Probe a Python environment for Theano/Keras/GPU facts; print ONE JSON object on stdout.

Runs INSIDE a stack with that stack's interpreter: Python 2.7 and 3.6+ syntax, standard library
only (plus what the stack has). It never crashes on a missing or broken package: every failure is
captured as text in the JSON. Keras is never imported (Keras 1.x and 3 write ~/.keras/keras.json when
imported); its backend choice is computed the way Keras computes it.

Modern frameworks (PyTorch, JAX, TensorFlow) are imported only when installed, and report under
"frameworks" what the framework itself says (threads, devices, GPU client options): an oracle that
the environment variables a run was given were really honoured.

    python probe.py [--device=auto|none|DEVICE]

--device=auto (default) asks Theano for its GPU backend before importing it: device=gpu for Theano
< 1.0 (old CUDA backend), device=cuda for 1.0+ (gpuarray), so the JSON says whether that backend
really activated. --device=none leaves THEANO_FLAGS as it is.
"""
from __future__ import print_function

import json
import os
import re
import shutil
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


def failure_text(exc):
    """error_text, called inside `except`; a bare `assert` has no message, so say where it failed."""
    text = error_text(exc)
    if str(exc).strip():
        return text
    frames = traceback.extract_tb(sys.exc_info()[2])
    if not frames:
        return text
    where = frames[-1]
    path, line, code = where[0], where[1], where[3]
    short = "/".join(path.replace(os.sep, "/").split("/")[-3:])
    return "%s(no message) at %s:%s: %s" % (text, short, line, (code or "").strip())


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


def _keras_dir(version):
    """The directory of keras.json, as this Keras version finds it."""
    if version >= (3,) and "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    directory = os.path.join(base, ".keras")
    if (2, 2) <= version < (3,) and os.environ.get("KERAS_HOME"):
        directory = os.environ["KERAS_HOME"]
    return directory


def keras_backend(keras_version):
    """Which backend Keras would pick, and why, computed as Keras does (without importing it).

    All versions: a non-empty KERAS_BACKEND wins, else keras.json's "backend", else tensorflow.
    Keras 3 reads keras.json from $KERAS_HOME (when set at all) or ~/.keras.
    """
    version = version_tuple(keras_version)
    env = os.environ.get("KERAS_BACKEND")
    if env:
        return {"backend": env, "source": "KERAS_BACKEND"}
    path = os.path.join(_keras_dir(version), "keras.json")
    if os.path.isfile(path):
        try:
            with open(path) as handle:
                config = json.load(handle)
        except Exception as exc:
            return {"backend": "tensorflow", "source": path, "error": error_text(exc)}
        if not isinstance(config, dict):
            return {"backend": "tensorflow", "source": path, "error": "not a JSON object"}
        return {"backend": config.get("backend", "tensorflow"), "source": path}
    if version and version >= (3,):
        return {"backend": "tensorflow", "source": "default (Keras 3 reads KERAS_BACKEND or keras.json)"}
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


# ------------------------------------------------------------------------ modern frameworks

# Distributions that provide each framework's module (TensorFlow ships under several names).
FRAMEWORK_DISTS = {
    "torch": ("torch",),
    "jax": ("jax",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel",
                   "tensorflow-macos", "tf-nightly", "tf-nightly-cpu"),
}
_JAX_CUDA_DIST_RE = re.compile(r"^jax-cuda\d*-(plugin|pjrt)$")


def env_values(names):
    """{NAME: value or None}: the variables exactly as this process sees them ("" stays "")."""
    return dict((name, os.environ.get(name)) for name in names)


def jsonable(value):
    """*value* with anything JSON cannot hold (numpy scalars, enums, objects) turned into text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        return dict((str(key), jsonable(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return str(value)


def module_on_path(name):
    """Whether a package directory *name* lies on sys.path (without importing it)."""
    for entry in sys.path:
        if entry and os.path.isfile(os.path.join(entry, name, "__init__.py")):
            return True
    return False


def framework_distribution(name, versions):
    """(distribution, version) that installs framework *name*, or None when it is not installed."""
    for dist in FRAMEWORK_DISTS[name]:
        if dist in versions:
            return dist, versions[dist]
    if module_on_path(name):
        return name, None
    return None


def attempt(result, key, function):
    """result[key] = function(); on failure result[key] = None and result[key + "_error"] = the text."""
    try:
        result[key] = jsonable(function())
    except Exception as exc:
        result[key] = None
        result[key + "_error"] = failure_text(exc)


def probe_torch(result):
    import torch
    result["version"] = str(torch.__version__)
    result["cuda_build"] = getattr(torch.version, "cuda", None)
    # A ROCm build has no CUDA version but does drive a GPU (through torch.cuda, too).
    result["hip_build"] = getattr(torch.version, "hip", None)
    attempt(result, "cuda_available", torch.cuda.is_available)
    attempt(result, "device_count", torch.cuda.device_count)
    attempt(result, "num_threads", torch.get_num_threads)
    attempt(result, "interop_threads", torch.get_num_interop_threads)
    result["env"] = env_values(("CUDA_VISIBLE_DEVICES", "PYTORCH_CUDA_ALLOC_CONF",
                                "PYTORCH_NO_CUDA_MEMORY_CACHING", "OMP_NUM_THREADS"))


def jax_cuda_plugins(versions):
    """["jax-cuda12-plugin 0.4.30", ...]: the CUDA plugins installed next to jaxlib."""
    return sorted("%s %s" % (dist, version) for dist, version in versions.items()
                  if _JAX_CUDA_DIST_RE.match(dist))


def jax_gpu_client_options():
    """The options JAX would create its CUDA client with, computed by JAX's own code, and which code.

    The CUDA plugin takes jaxlib's generate_pjrt_gpu_plugin_options() (XLA_PYTHON_CLIENT_* and
    XLA_CLIENT_* variables) and register_plugin updates them with _options_from_jax_configs("cuda");
    both are plain Python, so they run without a GPU. Same order here, so the same value wins.
    """
    options, sources = {}, []
    from jaxlib import xla_client
    generate = getattr(xla_client, "generate_pjrt_gpu_plugin_options", None)
    if generate is not None:
        options.update(generate())
        sources.append("jaxlib.xla_client.generate_pjrt_gpu_plugin_options()")
    from jax._src import xla_bridge
    from_configs = getattr(xla_bridge, "_options_from_jax_configs", None)
    if from_configs is not None:
        options.update(from_configs("cuda"))
        sources.append('jax._src.xla_bridge._options_from_jax_configs("cuda")')
    if not sources:
        raise RuntimeError("this JAX has neither function that computes the GPU client options")
    return options, sources


def probe_jax(result, versions):
    import jax
    result["version"] = str(getattr(jax, "__version__", None))
    try:
        import jaxlib
        result["jaxlib_version"] = str(getattr(jaxlib, "__version__", None) or versions.get("jaxlib"))
    except Exception as exc:
        result["jaxlib_version"] = None
        result["jaxlib_error"] = failure_text(exc)
    attempt(result, "platforms", lambda: getattr(jax.config, "jax_platforms", None))
    result["cuda_plugin"] = jax_cuda_plugins(versions)
    attempt(result, "devices", lambda: [device.platform for device in jax.devices()])
    attempt(result, "default_backend", jax.default_backend)
    try:
        options, sources = jax_gpu_client_options()
        result["gpu_client_options"] = jsonable(options)
        result["gpu_client_options_from"] = sources
    except Exception as exc:
        result["gpu_client_options"] = None
        result["gpu_client_options_error"] = failure_text(exc)
    result["env"] = env_values(("CUDA_VISIBLE_DEVICES", "JAX_PLATFORMS", "XLA_FLAGS",
                                "XLA_PYTHON_CLIENT_MEM_FRACTION", "XLA_CLIENT_MEM_FRACTION",
                                "XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_ALLOCATOR"))


def probe_tensorflow(result):
    import tensorflow as tf
    result["version"] = str(tf.__version__)
    attempt(result, "built_with_cuda", tf.test.is_built_with_cuda)
    attempt(result, "cuda_version", lambda: tf.sysconfig.get_build_info().get("cuda_version"))
    attempt(result, "gpus", lambda: len(tf.config.list_physical_devices("GPU")))
    # 0 means "TensorFlow chooses"; the TF_NUM_*_THREADS variables are read later, by its C++ runtime.
    attempt(result, "intra_op_threads", tf.config.threading.get_intra_op_parallelism_threads)
    attempt(result, "inter_op_threads", tf.config.threading.get_inter_op_parallelism_threads)


TF_ENV = ("CUDA_VISIBLE_DEVICES", "TF_FORCE_GPU_ALLOW_GROWTH", "TF_GPU_ALLOCATOR", "TF_NUM_INTRAOP_THREADS",
          "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS", "TF_CPP_MIN_LOG_LEVEL")


def probe_framework(name, dist, versions):
    """Import framework *name* (output captured) and report what it says; never raises."""
    result = {"distribution": dist[0], "distribution_version": dist[1], "error": None}
    if name == "tensorflow":
        # Reported as the user set it, before the probe quiets TensorFlow's C++ INFO/WARNING lines.
        result["env"] = env_values(TF_ENV)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.time()
    with Captured() as captured:
        try:
            if name == "torch":
                probe_torch(result)
            elif name == "jax":
                probe_jax(result, versions)
            else:
                probe_tensorflow(result)
        except BaseException as exc:
            result["error"] = failure_text(exc)
            result["traceback"] = traceback.format_exc().splitlines()[-8:]
    result["import_seconds"] = round(time.time() - started, 2)
    if captured.stderr:
        result["stderr"] = captured.stderr[-20:]
    return result


class KerasConfigGuard(object):
    """Keep Keras from writing keras.json while a framework imports it (TensorFlow >= 2.16 does).

    Keras writes keras.json only where none exists; then KERAS_HOME points at a throwaway directory
    for the imports, so Keras still reads no file (as it would) and the user's ~/.keras stays untouched.
    """

    def __init__(self, keras_version):
        self.keras_version = version_tuple(keras_version)
        self.directory = None

    def __enter__(self):
        self.saved = os.environ.get("KERAS_HOME")
        if self.keras_version and not os.path.isfile(os.path.join(_keras_dir(self.keras_version), "keras.json")):
            self.directory = tempfile.mkdtemp(prefix="theanogpu-probe-keras-")
            os.environ["KERAS_HOME"] = self.directory
        return self

    def __exit__(self, *exc):
        if self.directory is not None:
            if self.saved is None:
                os.environ.pop("KERAS_HOME", None)
            else:
                os.environ["KERAS_HOME"] = self.saved
            shutil.rmtree(self.directory, ignore_errors=True)
        return False


def probe_frameworks(versions):
    """{"torch": {...}, "jax": {...}, "tensorflow": {...}} for those installed; {} costs nothing."""
    found = {}
    dists = [(name, framework_distribution(name, versions)) for name in ("torch", "jax", "tensorflow")]
    dists = [(name, dist) for name, dist in dists if dist]
    if not dists:
        return found
    with KerasConfigGuard(versions.get("keras")):
        for name, dist in dists:
            found[name] = probe_framework(name, dist, versions)
    return found


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
        "frameworks": probe_frameworks(versions),
        "env": env,
    }
    sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
