"""PURE: probe facts (the JSON of theanogpu/child/probe.py) in, findings with their fixes out.

Each rule encodes one incompatibility, as Theano's, Keras's and NumPy's own sources and issue trackers
show it: which versions it hits,
what the user sees, and what to do. Severity:
  error    the stack cannot do what it is for (Theano fails to import, Keras breaks on common layers,
           or a GPU is present and will not be used)  -> doctor exits 1
  warning  something breaks in some models, or the GPU would not be used (on a machine without one)
  notice   a plain fact the user must not miss (no GPU: device=gpu runs on the CPU)
  info     worth knowing

Modern stacks (Keras 3 on PyTorch, JAX or TensorFlow) are judged on what the framework itself
reported in the probe's "frameworks" section: its build (CUDA or CPU-only), the GPUs it sees, and
whether the backend Keras 3 would pick is installed at all.
"""

import re
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from theanogpu import knowledge
from theanogpu.frameworks import KERAS3_BACKENDS, LABELS, MODERN

SEVERITIES = ("error", "warning", "notice", "info")
Version = Tuple[int, ...]


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    message: str
    fix: str = ""

    def as_dict(self) -> Dict[str, str]:
        return asdict(self)


def version_tuple(text: Optional[str]) -> Version:
    """``"1.16.6"`` → (1, 16, 6); ``"0.9.0rc1"`` → (0, 9, 0); None or junk → ()."""
    parts = []
    for piece in re.split(r"[.+-]", text or ""):
        match = re.match(r"^(\d+)", piece)
        if not match:
            break
        parts.append(int(match.group(1)))
        if match.group(1) != piece:
            break
    return tuple(parts)


@dataclass(frozen=True)
class Framework:
    """What one modern framework said about itself in the probe (its "frameworks" entry)."""

    name: str  # torch | jax | tensorflow
    version: str
    distribution: str  # e.g. tensorflow-cpu
    error: str  # the import failed with this
    cuda_build: Optional[bool]  # None: the probe could not tell
    gpus: Optional[int]  # GPUs the framework itself sees; None: it could not tell
    devices_error: str  # JAX: no backend could be initialised
    visible_devices: Optional[str]  # CUDA_VISIBLE_DEVICES as the framework saw it

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)

    @property
    def hides_gpus(self) -> bool:
        # CUDA reads an empty list or a -1 as "no device at all".
        return self.visible_devices is not None and self.visible_devices.strip() in ("", "-1")

    def cpu_build_text(self) -> str:
        """Why this build cannot use a GPU at all, or "" for a CUDA build (or an unknown one)."""
        if self.cuda_build is not False:
            return ""
        if self.name == "torch":
            return "CPU-only build of PyTorch %s (torch.version.cuda is None)" % self.version
        if self.name == "jax":
            return "jaxlib without a CUDA plugin (no jax-cuda*-plugin installed)"
        return "%s %s, built without CUDA (tf.test.is_built_with_cuda() is False)" % (
            self.distribution, self.version)


def _framework(name: str, data: Dict[str, Any]) -> Framework:
    if name == "torch":
        cuda_build = None if "cuda_build" not in data else (data["cuda_build"] or data.get("hip_build")) is not None
        gpus = data.get("device_count") if data.get("cuda_available") else (
            0 if data.get("cuda_available") is False else None)
    elif name == "jax":
        cuda_build = bool(data["cuda_plugin"]) if isinstance(data.get("cuda_plugin"), list) else None
        devices = data.get("devices")
        gpus = sum(1 for d in devices if d in ("gpu", "cuda", "rocm")) if isinstance(devices, list) else None
    else:
        cuda_build = data.get("built_with_cuda")
        gpus = data.get("gpus")
    return Framework(
        name=name, version=str(data.get("version") or data.get("distribution_version") or "?"),
        distribution=str(data.get("distribution") or name), error=data.get("error") or "",
        cuda_build=cuda_build if isinstance(cuda_build, bool) else None,
        gpus=gpus if isinstance(gpus, int) else None,
        devices_error=data.get("devices_error") or "",
        visible_devices=(data.get("env") or {}).get("CUDA_VISIBLE_DEVICES"))


def frameworks_from_probe(probe: Dict[str, Any]) -> Tuple[Framework, ...]:
    """The modern frameworks the probe found, in a fixed order; () for a Theano-only environment."""
    found = probe.get("frameworks") or {}
    return tuple(_framework(name, found[name]) for name in MODERN if isinstance(found.get(name), dict))


@dataclass(frozen=True)
class Facts:
    """The few facts the rules look at, pulled out of the probe JSON."""

    python: Version
    theano: Version
    keras: Version
    numpy: Version
    theano_installed: bool
    theano_imported: bool
    theano_error: str
    device_requested: Optional[str]
    gpu_activated: Optional[bool]
    blas_ldflags: Optional[str]
    blas_error: str
    blas_explicit: bool
    numpy_distutils: Optional[bool]
    pygpu: Optional[str]
    nvcc_path: Optional[str]
    nvcc_release: Version
    gpus: Tuple[str, ...]
    smi_error: str
    keras_backend: Optional[str]
    keras_backend_source: str
    theano_stderr: Tuple[str, ...]
    frameworks: Tuple[Framework, ...] = ()

    @property
    def has_gpu(self) -> bool:
        """nvidia-smi lists a GPU, or a framework found one (nvidia-smi may be missing in a container)."""
        return bool(self.gpus) or any(fw.gpus for fw in self.frameworks)

    @property
    def modern(self) -> bool:
        """A Keras 3 / PyTorch / JAX / TensorFlow environment rather than a Theano one."""
        return bool(self.frameworks) and not self.theano_installed

    @property
    def gpu_frameworks(self) -> Tuple[Framework, ...]:
        """The frameworks whose GPU use decides a run: Keras 3's backend when installed, else all."""
        if self.keras >= (3,):
            chosen = tuple(fw for fw in self.frameworks if fw.name == self.keras_backend)
            if chosen:
                return chosen
        return self.frameworks

    @property
    def gpu_device_flag(self) -> str:
        return "device=cuda" if self.theano >= (1, 0) else "device=gpu"


def _get(data: Dict[str, Any], *path: str) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def facts_from_probe(probe: Dict[str, Any]) -> Facts:
    packages = probe.get("packages") or {}
    theano = probe.get("theano") or {}
    config = theano.get("config") or {}
    flags = theano.get("theano_flags") or ""
    distutils = probe.get("numpy_distutils")
    return Facts(
        python=version_tuple(_get(probe, "python", "version")),
        theano=version_tuple(_get(packages, "theano", "version")),
        keras=version_tuple(_get(packages, "keras", "version")),
        numpy=version_tuple(_get(packages, "numpy", "version")),
        theano_installed=bool(_get(packages, "theano", "version")),
        theano_imported=bool(theano.get("imported")),
        theano_error=theano.get("error") or "",
        device_requested=theano.get("device_requested"),
        gpu_activated=theano.get("gpu_activated"),
        blas_ldflags=config.get("blas.ldflags"),
        blas_error=(theano.get("config_errors") or {}).get("blas.ldflags", ""),
        blas_explicit=bool(re.search(r"(^|,)\s*blas\.ldflags=", flags)),
        numpy_distutils=distutils.get("available") if isinstance(distutils, dict) else None,
        pygpu=_get(packages, "pygpu", "version"),
        nvcc_path=_get(probe, "nvcc", "path"),
        nvcc_release=version_tuple(_get(probe, "nvcc", "release")),
        gpus=tuple(_get(probe, "nvidia_smi", "gpus") or ()),
        smi_error=_get(probe, "nvidia_smi", "error") or "",
        keras_backend=_get(probe, "keras_backend", "backend"),
        keras_backend_source=_get(probe, "keras_backend", "source") or "",
        theano_stderr=tuple(theano.get("stderr") or ()),
        frameworks=frameworks_from_probe(probe),
    )


def _v(version: Version) -> str:
    return ".".join(str(part) for part in version)


Rule = Callable[[Facts], Optional[Finding]]


def _theano_missing(f: Facts) -> Optional[Finding]:
    if f.theano_installed or f.theano_imported or f.frameworks:
        return None
    return Finding("error", "theano-missing", "Theano is not installed in this environment",
                   "build a pinned stack: theanogpu stack create theano10 (or theano08, theano09)")


def _theano_import_failed(f: Facts) -> Optional[Finding]:
    if not f.theano_installed or f.theano_imported or not f.theano_error:
        return None
    return Finding("error", "theano-import", "import theano fails: %s" % f.theano_error,
                   "see the other findings for the cause; the pinned stacks theano08/09/10 are known to work")


def _numpy_unusable(f: Facts) -> Optional[Finding]:
    if not f.theano_installed or f.numpy < (1, 24):
        return None
    return Finding("error", "numpy-1.24",
                   "NumPy %s is unusable with Theano: NumPy 1.24 removed np.bool and np.complex "
                   "(Theano 0.9/1.0 fail at import; 0.8 imports but treats every constant as non-constant)"
                   % _v(f.numpy),
                   "pin numpy<1.24 (numpy==1.16.6 on Python 3.6, 1.19.5-1.21.6 on 3.7-3.10)")


def _numpy_blas(f: Facts) -> Optional[Finding]:
    if not f.theano_installed or not (1, 22) <= f.numpy < (1, 24) or f.blas_explicit:
        return None
    where = "import theano" if f.theano >= (1, 0) else "the first function that uses BLAS (e.g. dot)"
    return Finding("error", "numpy-blas-ldflags",
                   "NumPy %s removed numpy.distutils' blas_opt_info, so Theano's default blas.ldflags "
                   "detection fails at %s" % (_v(f.numpy), where),
                   "set blas.ldflags explicitly (theanogpu config --set blas.ldflags=-lopenblas, or "
                   "blas.ldflags= for NumPy's own BLAS), or pin numpy<1.22")


def _numpy_distutils(f: Facts) -> Optional[Finding]:
    missing = f.numpy_distutils is False or (f.numpy_distutils is None and f.python >= (3, 12)
                                             and f.numpy >= (1, 26))
    if not f.theano_installed or not missing:
        return None
    return Finding("error", "numpy-distutils",
                   "numpy.distutils is missing (NumPy >= 1.26 on Python >= 3.12, or NumPy 2): Theano's "
                   "gof/cmodule.py imports it, so import theano fails",
                   "use Python <= 3.11 with numpy<1.24 (e.g. the theano10 stack)")


def _safeconfigparser(f: Facts) -> Optional[Finding]:
    if not f.theano_installed or f.theano >= (0, 9) or f.python < (3, 12):
        return None
    return Finding("error", "py312-safeconfigparser",
                   "Theano %s uses configparser.SafeConfigParser, which Python 3.12 removed: import theano "
                   "fails with AttributeError" % _v(f.theano),
                   "use Python <= 3.11 (Python 3.6 for Theano 0.8: the theano08 stack)")


def _mutablemapping(f: Facts) -> Optional[Finding]:
    if not f.theano_installed or f.theano >= (1, 0) or f.python < (3, 10):
        return None
    return Finding("error", "py310-collections",
                   "Theano %s imports collections.MutableMapping, which Python 3.10 removed: import theano "
                   "fails with ImportError" % _v(f.theano),
                   "use Python <= 3.9 (3.6 is the tested one: the theano08/theano09 stacks)")


def _scan_py37(f: Facts) -> Optional[Finding]:
    if not f.theano_installed or f.theano >= (1, 0) or not (3, 7) <= f.python < (3, 10):
        return None
    return Finding("warning", "py37-scan",
                   "Theano %s's bundled scan C code does not compile on Python %d.%d "
                   "(PyThreadState has no member exc_type): models that use scan (RNN, LSTM) fail"
                   % (_v(f.theano), f.python[0], f.python[1]),
                   "use Python 3.6, or THEANO_FLAGS=linker=py (slow pure-Python scan), or Theano 1.0.3+")


def _longintrepr(f: Facts) -> Optional[Finding]:
    if not f.theano_installed or f.theano < (1, 0) or f.python < (3, 11):
        return None
    return Finding("warning", "py311-longintrepr",
                   "Theano %s's scan C code needs longintrepr.h, which Python 3.11 moved: models that use "
                   "scan (RNN, LSTM) fail to compile" % _v(f.theano),
                   "use Python <= 3.10 (the theano10 stack uses 3.8), or THEANO_FLAGS=linker=py (slow)")


def _keras2_theano08(f: Facts) -> Optional[Finding]:
    if not f.keras or not f.theano_installed or f.theano >= (0, 9) or f.keras < (2, 0):
        return None
    return Finding("error", "keras2-theano08",
                   "Keras %s calls pool_2d(ws=...), which Theano %s lacks: every pooling layer fails with "
                   "TypeError" % (_v(f.keras), _v(f.theano)),
                   "pair Theano 0.8 with keras==1.2.2 (stack theano08), or use theano==0.9.0 with "
                   "keras==2.0.8")


def _keras_ifelse(f: Facts) -> Optional[Finding]:
    if not f.keras or f.theano < (1, 0) or f.keras > (2, 1, 1) or f.keras >= (3,):
        return None
    return Finding("error", "keras-ifelse-theano10",
                   "Keras %s uses theano.ifelse without importing it; with Theano %s, Dropout and "
                   "BatchNormalization fail with AttributeError: module 'theano' has no attribute 'ifelse'"
                   % (_v(f.keras), _v(f.theano)),
                   "use keras>=2.1.2 with Theano 1.0 (keras==2.3.1: stack theano10)")


def _keras_num_groups(f: Facts) -> Optional[Finding]:
    if not f.keras or not (0, 9) <= f.theano < (1, 0) or not (2, 1) <= f.keras < (3,):
        return None
    return Finding("warning", "keras21-theano09",
                   "Keras %s passes num_groups= to conv2d, which Theano %s ignores: depthwise and "
                   "separable convolutions compute the wrong thing" % (_v(f.keras), _v(f.theano)),
                   "pair Theano 0.9 with keras==2.0.8 (stack theano09), or use Theano 1.0")


def _gpu_or_cpu_severity(f: Facts) -> str:
    return "error" if f.has_gpu else "warning"


def _nvcc_unparseable(f: Facts) -> Optional[Finding]:
    if not f.theano_installed or f.theano >= (1, 0):
        return None
    why = knowledge.nvcc_unparseable(f.nvcc_path, _v(f.nvcc_release))
    if why is None:
        return None
    return Finding(_gpu_or_cpu_severity(f), "nvcc-version-unparseable",
                   "%s (Theano %s): device=gpu will fall back to CPU" % (why, _v(f.theano)), knowledge.NVCC_FIX)


def _nvcc_missing(f: Facts) -> Optional[Finding]:
    if not f.theano_installed or f.theano >= (1, 0) or f.nvcc_path:
        return None
    return Finding(_gpu_or_cpu_severity(f), "nvcc-missing",
                   "nvcc is not on PATH: Theano %s's old backend compiles its GPU code with it, so "
                   "device=gpu will fall back to CPU" % _v(f.theano),
                   "install a CUDA toolkit (<= 10.x for Theano 0.8/0.9) and put its bin/ on PATH")


def _pygpu_missing(f: Facts) -> Optional[Finding]:
    if not f.theano_installed or f.theano < (1, 0) or f.pygpu:
        return None
    return Finding(_gpu_or_cpu_severity(f), "pygpu-missing",
                   "pygpu (libgpuarray) is not installed: Theano %s's gpuarray backend needs it, so "
                   "device=cuda will fall back to CPU" % _v(f.theano),
                   "install pygpu 0.7.x with libgpuarray (conda install -c conda-forge pygpu=0.7)")


def _no_gpu(f: Facts) -> Optional[Finding]:
    if f.has_gpu:
        return None
    flag = f.gpu_device_flag if f.theano_installed else "device=gpu"
    why = [f.smi_error or "nvidia-smi lists no GPU"]
    why.extend("%s sees none: %s" % (fw.label, no_gpu_reason(fw, f)) for fw in f.gpu_frameworks)
    return Finding("notice", "no-gpu", "No GPU: %s will run on the CPU (%s)" % (flag, "; ".join(why)),
                   "run on a machine with an NVIDIA GPU and driver (nvidia-smi -L must list it)")


def _gpu_not_used(f: Facts) -> Optional[Finding]:
    if not f.has_gpu or not f.theano_imported or not f.device_requested or f.gpu_activated:
        return None
    said = [line for line in f.theano_stderr if "ERROR" in line or "WARNING (theano.sandbox" in line
            or "not available" in line]
    reason = said[0] if said else "no reason printed"
    return Finding("error", "gpu-not-activated",
                   "a GPU is present but Theano fell back to the CPU with device=%s: %s"
                   % (f.device_requested, reason),
                   "fix what Theano said above (the other findings name the usual causes)")


def _gpu_used(f: Facts) -> Optional[Finding]:
    if not f.gpu_activated:
        return None
    return Finding("info", "gpu-activated", "Theano activated the GPU with device=%s" % f.device_requested)


def _keras_backend(f: Facts) -> Optional[Finding]:
    if not f.keras or f.keras >= (3,) or not f.keras_backend or f.keras_backend == "theano":
        return None
    return Finding("warning", "keras-backend",
                   "Keras %s would use the %s backend (%s), not Theano"
                   % (_v(f.keras), f.keras_backend, f.keras_backend_source),
                   "set KERAS_BACKEND=theano or \"backend\": \"theano\" in keras.json for your own runs "
                   "(theanogpu compare sets KERAS_BACKEND=theano itself)")


def _no_blas(f: Facts) -> Optional[Finding]:
    if not f.theano_imported or f.blas_ldflags is None or f.blas_ldflags.strip() or f.blas_explicit:
        return None
    openmp = ""
    if f.theano >= (1, 0) and f.python >= (3, 8):
        # Seen with Theano 1.0.5 on Python 3.8 (the cpu-tuning matrix's openmp variant): the NumPy
        # fallback runs Python C-API calls on OpenMP threads, and the first training step aborts.
        openmp = ("; with openmp=True the first training step then aborts Python (Fatal Python error: "
                  "PyEval_SaveThread: NULL tstate)")
    return Finding("warning", "no-blas",
                   "Theano found no BLAS library to link (blas.ldflags is empty): its CPU code falls back "
                   "to slower NumPy-based paths, so CPU runs are slower than they could be and CPU/GPU "
                   "speedups look larger" + openmp,
                   "install OpenBLAS (apt install libopenblas-dev) or set blas.ldflags=-lopenblas, or link the "
                   "OpenBLAS that NumPy's wheel ships (blas.ldflags = auto in a compare matrix)")


def _blas_error(f: Facts) -> Optional[Finding]:
    if not f.blas_error or (1, 22) <= f.numpy < (1, 24):
        return None
    return Finding("error", "blas-ldflags-error", "reading Theano's blas.ldflags fails: %s" % f.blas_error,
                   "set blas.ldflags explicitly (e.g. -lopenblas), or blas.ldflags= for NumPy's own BLAS")


# --------------------------------------------------------------------- modern frameworks (Keras 3)


def no_gpu_reason(fw: Framework, f: Facts) -> str:
    """Why *fw* sees no GPU, the first cause that applies, in words."""
    if fw.error:
        return "it does not import (%s)" % fw.error
    if fw.cpu_build_text():
        return fw.cpu_build_text()
    if fw.hides_gpus:
        return "CUDA_VISIBLE_DEVICES=%r hides every GPU" % fw.visible_devices
    if fw.devices_error:
        return "no backend initialised (%s)" % fw.devices_error
    if not f.gpus:
        return "no GPU found on this machine"
    if fw.gpus is None:
        return "it could not tell"
    return "its CUDA build does not find the GPU (driver or CUDA libraries too old or missing?)"


def gpu_visibility(fw: Framework, f: Facts) -> str:
    """One phrase for the description: the GPUs *fw* sees, or why none."""
    if fw.gpus:
        return "sees %d GPU(s)" % fw.gpus
    return "no GPU visible: %s" % no_gpu_reason(fw, f)


def _each(rule: Callable[[Framework, Facts], Optional[Finding]]) -> Callable[[Facts], List[Finding]]:
    """A rule over every framework in a stack (several may apply)."""
    def apply(f: Facts) -> List[Finding]:
        return [finding for finding in (rule(fw, f) for fw in f.frameworks) if finding is not None]
    apply.__name__ = rule.__name__
    return apply


def _framework_import(fw: Framework, f: Facts) -> Optional[Finding]:
    if not fw.error:
        return None
    return Finding("error", "%s-import" % fw.name, "import %s fails: %s" % (fw.name, fw.error),
                   "rebuild the environment (theanogpu stack create NAME rebuilds a built-in stack); "
                   "'Unable to import backend' means TensorFlow imported Keras 3, whose KERAS_BACKEND (or "
                   "keras.json) names a backend that is not installed")


_CPU_BUILD_FIXES = {
    "torch": "install a CUDA build of PyTorch that matches your driver "
             "(pip install torch --index-url https://download.pytorch.org/whl/cu126, or cu128 ...)",
    "jax": "pip install 'jax[cuda12]' (or jax[cuda13]) to add the CUDA plugin of the same JAX release",
    "tensorflow": "install tensorflow[and-cuda] (Linux) instead of tensorflow-cpu",
}


def _framework_cpu_build(fw: Framework, f: Facts) -> Optional[Finding]:
    if fw.error or not fw.cpu_build_text() or fw not in f.gpu_frameworks:
        return None
    return Finding(_gpu_or_cpu_severity(f), "%s-cpu-build" % fw.name,
                   "%s: GPU variants run on the CPU with this stack" % fw.cpu_build_text(),
                   _CPU_BUILD_FIXES[fw.name])


def _framework_gpu_hidden(fw: Framework, f: Facts) -> Optional[Finding]:
    if (not f.has_gpu or fw.error or fw.gpus or fw.cpu_build_text() or fw.devices_error
            or fw not in f.gpu_frameworks):
        return None
    return Finding("error", "%s-gpu-not-visible" % fw.name,
                   "a GPU is present but %s %s sees none: %s" % (fw.label, fw.version, no_gpu_reason(fw, f)),
                   "unset CUDA_VISIBLE_DEVICES (or list the GPU's index) and check that the driver "
                   "supports the CUDA version this build needs")


def _framework_gpu_seen(fw: Framework, f: Facts) -> Optional[Finding]:
    if not fw.gpus:
        return None
    return Finding("info", "%s-gpu" % fw.name, "%s %s sees %d GPU(s)" % (fw.label, fw.version, fw.gpus))


def _jax_backends(fw: Framework, f: Facts) -> Optional[Finding]:
    if fw.name != "jax" or fw.error or not fw.devices_error:
        return None
    return Finding("error", "jax-backends", "JAX cannot initialise any backend: %s" % fw.devices_error,
                   "unset JAX_PLATFORMS (JAX then falls back to the CPU) or name a platform this machine "
                   "has (JAX_PLATFORMS=cpu)")


def _keras3_backend(f: Facts) -> Optional[Finding]:
    if f.keras < (3,) or not f.keras_backend or f.keras_backend in ("numpy", "openvino"):
        return None
    installed = [fw.name for fw in f.frameworks]
    if f.keras_backend in installed:
        return None
    if f.keras_backend not in KERAS3_BACKENDS:
        problem = "which Keras 3 does not have (it knows %s)" % ", ".join(KERAS3_BACKENDS)
    else:
        problem = "which is not installed here"
    choose = ("set KERAS_BACKEND=%s" % " or ".join(installed)) if installed else \
        "install torch, jax or tensorflow, and set KERAS_BACKEND to it"
    return Finding("error", "keras3-backend",
                   "Keras %s would use the %s backend (%s), %s: import keras fails"
                   % (_v(f.keras), f.keras_backend, f.keras_backend_source, problem),
                   choose + " (theanogpu compare sets the stack's KERAS_BACKEND itself)")


RULES: Tuple[Rule, ...] = (
    _theano_missing, _theano_import_failed, _numpy_unusable, _numpy_blas, _numpy_distutils,
    _safeconfigparser, _mutablemapping, _scan_py37, _longintrepr, _keras2_theano08, _keras_ifelse,
    _keras_num_groups, _no_gpu, _nvcc_unparseable, _nvcc_missing, _pygpu_missing, _gpu_not_used,
    _gpu_used, _keras_backend, _no_blas, _blas_error, _keras3_backend,
)
# Rules over each modern framework of a stack: each may find something for several frameworks.
FRAMEWORK_RULES = tuple(_each(rule) for rule in (
    _framework_import, _jax_backends, _framework_cpu_build, _framework_gpu_hidden, _framework_gpu_seen))


def check(probe: Dict[str, Any]) -> List[Finding]:
    """Every finding for one probed environment, most severe first (stable within a severity)."""
    return check_facts(facts_from_probe(probe))


def check_facts(facts: Facts) -> List[Finding]:
    """``check`` for facts already pulled out of the probe."""
    findings = [finding for finding in (rule(facts) for rule in RULES) if finding is not None]
    findings.extend(finding for rule in FRAMEWORK_RULES for finding in rule(facts))
    return sorted(findings, key=lambda finding: SEVERITIES.index(finding.severity))


def exit_status(findings: List[Finding]) -> int:
    """1 when any finding breaks use (severity error), else 0."""
    return 1 if any(finding.severity == "error" for finding in findings) else 0
