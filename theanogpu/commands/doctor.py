"""Check stacks: versions, Keras backend, BLAS, nvcc, GPU, and the known incompatibilities.

Usage:
  theanogpu doctor [--stack=NAME]... [--format=FMT] [--timeout=SECONDS]
  theanogpu doctor (-h | --help)

For each stack, doctor runs a probe with the stack's own interpreter. The probe imports Theano
asking for its GPU backend (device=gpu for Theano 0.8/0.9, device=cuda for 1.0), with your
~/.theanorc kept out and a compile directory of the stack's own, and reports what really happened:
package versions, which backend Keras would pick, blas.ldflags, nvcc, the GPUs nvidia-smi lists,
whether the GPU backend activated, and what Theano printed. Then it names every known
incompatibility that applies (NumPy >= 1.22/1.24, Python 3.7/3.10/3.11/3.12, Keras/Theano pairs,
nvcc >= 11 with the old backend, pygpu) with its fix.

Modern stacks (Keras 3 on PyTorch, JAX or TensorFlow, e.g. keras3-torch, keras3-jax, keras3-tf):
the probe imports the framework and reports what it says itself: its version, whether it is a CUDA
build (a CPU-only torch, a jaxlib without CUDA plugin, tensorflow-cpu), the GPUs it sees and why
none, its threads and (JAX) the GPU memory options it derived from XLA_PYTHON_CLIENT_*.

Which stacks: the --stack options (names, or paths to a python or a venv); by default every built
stack, plus the current interpreter when it can import Theano. With none of those it probes the
current interpreter, which shows the GPU/nvcc facts and says how to build a stack.

Options:
  --stack=NAME         a stack name, or a path to a python interpreter or venv (repeatable)
  --format=FMT         text or json [default: text]
  --timeout=SECONDS    limit for each probe; the first import of Theano may compile C code for a
                       minute or more [default: 900]
  -h --help            show this help

Exit status: 0 no problem found (a machine without a GPU is reported plainly, and is not a
failure); 1 a finding breaks use (Theano or the framework cannot import, a Keras/Theano pair breaks
common layers, Keras 3's backend is not installed, a GPU is present but unused) or a probe failed;
2 bad usage (unknown stack name).

Examples:
  theanogpu doctor
  theanogpu doctor --stack theano08 --stack theano10
  theanogpu doctor --stack keras3-torch --stack keras3-jax --stack keras3-tf
  theanogpu doctor --stack ~/venvs/old-theano --format json
"""

import importlib.util
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from theanogpu import stacks
from theanogpu.commands import options
from theanogpu.display import StatusLine
from theanogpu.stacks import doctor_checks


@dataclass
class Target:
    label: str
    stack: stacks.Stack
    probe: Optional[Dict[str, Any]] = None
    facts: Optional[doctor_checks.Facts] = None  # from the probe, pulled out once
    findings: List[doctor_checks.Finding] = field(default_factory=list)

    @property
    def location(self) -> str:
        return str(self.stack.venv)


def _targets(names: List[str]) -> List[Target]:
    if names:
        chosen = [stacks.get_stack(name) for name in names]  # unknown names: exit 2 before any probe
        return [Target(stack.name, stack) for stack in chosen]
    targets: List[Target] = [Target(stack.name, stack) for stack in stacks.built_stacks()]
    if importlib.util.find_spec("theano") is not None or not targets:
        python = Path(sys.executable)
        targets.append(Target("current interpreter", stacks.ExistingEnv(python, str(python), python)))
    return targets


def _probe_target(target: Target, timeout: float, display: StatusLine) -> None:
    state = target.stack.state()
    if not state.usable:
        target.findings = [doctor_checks.Finding("error", "stack-not-built", state.problem(target.label),
                                   "build it with: theanogpu stack create %s" % target.label)]
        return
    if state.state == "outdated":
        target.findings.append(doctor_checks.Finding("warning", "stack-outdated", "stack %s is outdated: %s"
                                       % (target.label, state.detail),
                                       "theanogpu stack create %s" % target.label))
    display("%s: probing (importing Theano or the Keras 3 backend; a first import may compile C code)"
            % target.label)
    target.probe = stacks.run_probe(target.stack.python, dict(target.stack.env), target.stack.compiledir(), timeout)
    if "probe_error" in target.probe:
        target.findings.append(doctor_checks.Finding("error", "probe-failed", target.probe["probe_error"]))
        return
    target.facts = doctor_checks.facts_from_probe(target.probe)
    target.findings = doctor_checks.check_facts(target.facts) + target.findings
    target.findings.sort(key=lambda finding: doctor_checks.SEVERITIES.index(finding.severity))


def _pkg(probe: Dict[str, Any], name: str) -> str:
    entry = (probe.get("packages") or {}).get(name) or {}
    if entry.get("version"):
        return str(entry["version"])
    error = entry.get("error") or "not installed"
    return "not installed" if "No module named" in error or error == "not installed" else error


def _yes_no(value: Any) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _framework_line(name: str, data: Dict[str, Any]) -> str:
    """The framework's own facts in one line (the GPU phrase follows on the next)."""
    if data.get("error"):
        return "import failed: %s" % data["error"]
    if name == "torch":
        return "%s, CUDA build %s, cuda.is_available() %s, %s GPU(s), threads %s (inter-op %s)" % (
            data.get("version"), data.get("cuda_build") or "no (CPU-only)",
            _yes_no(data.get("cuda_available")), data.get("device_count"),
            data.get("num_threads"), data.get("interop_threads"))
    if name == "jax":
        devices = data.get("devices")
        return "%s (jaxlib %s), CUDA plugin %s, devices %s, default backend %s, JAX_PLATFORMS %s" % (
            data.get("version"), data.get("jaxlib_version"), ", ".join(data.get("cuda_plugin") or []) or "none",
            ", ".join(devices) if isinstance(devices, list) else "none (%s)" % data.get("devices_error"),
            data.get("default_backend"), data.get("platforms") or "unset")
    return "%s (%s), built with CUDA %s, %s GPU(s), threads intra-op %s / inter-op %s (0 = TF chooses)" % (
        data.get("version"), data.get("distribution"), _yes_no(data.get("built_with_cuda")),
        data.get("gpus"), data.get("intra_op_threads"), data.get("inter_op_threads"))


def _gpu_options_line(data: Dict[str, Any]) -> str:
    options = data.get("gpu_client_options")
    if not isinstance(options, dict):
        return "GPU client options: %s" % (data.get("gpu_client_options_error") or "unknown")
    # Left out of the options, XLA uses its defaults: preallocate 75% of GPU memory at start.
    shown = ["memory_fraction=%s" % options.get("memory_fraction", "unset (0.75)"),
             "preallocate=%s" % options.get("preallocate", "unset (True)")]
    shown.extend("%s=%s" % (key, options[key]) for key in ("allocator", "visible_devices") if key in options)
    return "GPU client options (as JAX derives them): %s" % ", ".join(shown)


def _describe_modern(probe: Dict[str, Any], facts: doctor_checks.Facts) -> List[str]:
    """Versions, Keras 3's backend and, per framework, its build and the GPUs it sees (or why none)."""
    keras = probe.get("keras_backend") or {}
    frameworks = probe.get("frameworks") or {}
    lines = ["  Python     %s (%s)" % (probe["python"]["version"], probe["python"]["executable"]),
             "  Keras      %-12s would use backend %s (%s)" % (_pkg(probe, "keras"), keras.get("backend"),
                                                                keras.get("source")),
             "  NumPy      %-12s SciPy %s, h5py %s" % (_pkg(probe, "numpy"), _pkg(probe, "scipy"),
                                                      _pkg(probe, "h5py"))]
    for fw in facts.frameworks:
        data = frameworks.get(fw.name) or {}
        lines.append("  %-10s %s" % (fw.label, _framework_line(fw.name, data)))
        lines.append("  %-10s %s" % ("", doctor_checks.gpu_visibility(fw, facts)))
        if fw.name == "jax" and not fw.error:
            lines.append("  %-10s %s" % ("", _gpu_options_line(data)))
    smi = probe.get("nvidia_smi") or {}
    gpus = smi.get("gpus") or []
    lines.append("  GPUs       %s" % ("; ".join(gpus) if gpus else "none (%s)" % (smi.get("error") or "none listed")))
    if any(fw.gpus for fw in facts.gpu_frameworks):
        lines.append("  Device     GPU variants run on the GPU")
    else:
        lines.append("  Device     GPU variants will run on the CPU on this machine")
    return lines


def _describe(target: Target) -> List[str]:
    lines = ["%s  %s" % (target.label, target.location)]
    probe = target.probe
    if probe and target.facts is not None and target.facts.modern:
        lines.extend(_describe_modern(probe, target.facts))
    elif probe and "probe_error" not in probe:
        theano = probe.get("theano") or {}
        config = theano.get("config") or {}
        keras = probe.get("keras_backend") or {}
        lines.append("  Python    %s (%s)" % (probe["python"]["version"], probe["python"]["executable"]))
        lines.append("  Theano    %-12s Keras %s (would use backend %s: %s)" % (
            _pkg(probe, "theano"), _pkg(probe, "keras"), keras.get("backend"), keras.get("source")))
        lines.append("  NumPy     %-12s SciPy %s, h5py %s, pygpu %s" % (
            _pkg(probe, "numpy"), _pkg(probe, "scipy"), _pkg(probe, "h5py"), _pkg(probe, "pygpu")))
        if "blas.ldflags" in config:
            blas = config["blas.ldflags"] or "(empty: no BLAS library linked, NumPy fallback)"
        else:
            blas = ((theano.get("config_errors") or {}).get("blas.ldflags")
                    or "unknown (Theano did not import)")
        lines.append("  BLAS      blas.ldflags = %s" % blas)
        if theano.get("device_requested"):
            used = "the GPU" if theano.get("gpu_activated") else "the CPU (GPU backend not activated)"
            lines.append("  Device    asked for device=%s: Theano runs on %s; theano.config.device reads %r"
                         % (theano["device_requested"], used, config.get("device")))
        if theano.get("imported"):
            lines.append("  Config    floatX=%s, lib.cnmem=%s, gpuarray.preallocate=%s, compiledir %s" % (
                config.get("floatX"), config.get("lib.cnmem", "n/a"),
                config.get("gpuarray.preallocate", "n/a"), config.get("base_compiledir")))
        nvcc = probe.get("nvcc") or {}
        if nvcc.get("path"):
            lines.append("  nvcc      %s, release %s (%s)" % (nvcc["path"], nvcc.get("release") or "?",
                                                             nvcc.get("last_line")))
        else:
            lines.append("  nvcc      not found on PATH")
        smi = probe.get("nvidia_smi") or {}
        gpus = smi.get("gpus") or []
        lines.append("  GPUs      %s" % ("; ".join(gpus) if gpus
                                         else "none (%s)" % (smi.get("error") or "none listed")))
        said = theano.get("stderr") or []
        if said:
            lines.append("  Theano said:")
            lines.extend("    " + line for line in said[:12])
            if len(said) > 12:
                lines.append("    ... (%d more lines)" % (len(said) - 12))
    if target.findings:
        lines.append("  Findings:")
        for finding in target.findings:
            lines.append("    %-8s %s" % (finding.severity.upper(), finding.message))
            if finding.fix:
                lines.append("    %-8s fix: %s" % ("", finding.fix))
    else:
        lines.append("  No problem found.")
    return lines


def run(args: dict) -> int:
    fmt = options.choice(args, "--format", ("text", "json"), "text")
    timeout = options.seconds(args, "--timeout", 900.0)
    assert timeout is not None
    targets = _targets(args["--stack"])
    with StatusLine() as display:
        for target in targets:
            _probe_target(target, timeout, display)
    findings = [finding for target in targets for finding in target.findings]
    status = doctor_checks.exit_status(findings)
    if fmt == "json":
        payload = {"stacks": [{"stack": t.label, "location": t.location, "probe": t.probe,
                               "findings": [f.as_dict() for f in t.findings]} for t in targets],
                   "exit_status": status}
        sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
        return status
    out: List[str] = []
    no_gpu = [f for f in findings if f.code == "no-gpu"]
    if no_gpu:
        # Said once, on top, in plain words: the one fact users most often get wrong.
        flags = sorted({match.group(0) for f in no_gpu if (match := re.search(r"device=\w+", f.message))},
                       reverse=True)
        out.append("*** No GPU: %s will run on the CPU%s ***" % (
            flags[0], " (and so will %s)" % ", ".join(flags[1:]) if flags[1:] else ""))
        out.append("")
    for target in targets:
        out.extend(_describe(target))
        out.append("")
    counts = {severity: sum(1 for f in findings if f.severity == severity)
              for severity in ("error", "warning")}
    out.append("%d environment(s) checked: %d error(s), %d warning(s)"
               % (len(targets), counts["error"], counts["warning"]))
    sys.stdout.write("\n".join(out) + "\n")
    return status
