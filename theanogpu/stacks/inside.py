"""EDGE: running theanogpu's child-side code (theanogpu/child/, Python 2.7/3.6 compatible) inside a
stack with the stack's own interpreter, and reading the one JSON object it prints.
"""

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from theanogpu import childenv
from theanogpu.flags.quoting import quote_flag_value
from theanogpu.frameworks import ALL_BACKENDS, KEY_DISTRIBUTIONS
from theanogpu.resources import child_dir
from theanogpu.stacks import locations

# Asks the probe's own reader for the installed distributions (metadata only, nothing imported: Theano
# would compile, TensorFlow takes seconds) and, when asked, child/blas.py for the best BLAS.
_INSPECT = ("import json, sys; sys.path.insert(0, sys.argv[1]); import probe, blas; "
            "out = {'installed': probe.installed_versions()}; "
            "out['blas'] = blas.find_blas() if sys.argv[2:] == ['blas'] else None; "
            "print(json.dumps(out))")
_DECIDING = set(KEY_DISTRIBUTIONS) | {dist for backend in ALL_BACKENDS for dist in backend.distributions}


def child_json(argv: List[str], timeout: float, env: Optional[Mapping[str, str]] = None,
               cwd: Optional[Path] = None) -> Tuple[Optional[Dict[str, Any]], str]:
    """(the last JSON object the child printed on a line of its own, or None; why there is none)."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout,
                              env=dict(env) if env is not None else childenv.for_interpreter(),
                              cwd=str(cwd) if cwd else None, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, "it did not finish within %g s" % timeout
    except OSError as exc:
        return None, "cannot run %s: %s" % (argv[0], exc.strerror or exc)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                found = json.loads(line)
            except ValueError:
                break
            if isinstance(found, dict):
                return found, ""
            break
    tail = [line for line in (proc.stderr or proc.stdout).splitlines() if line.strip()][-5:]
    return None, "it exited with %s and printed no result: %s" % (proc.returncode, " | ".join(tail) or "no output")


def inspect(python: Path, blas: bool) -> Tuple[Dict[str, str], Tuple[Optional[str], str]]:
    """({distribution: version} of those that decide the backend, (blas ldflags, where from)) in one run."""
    found, problem = child_json([str(python), "-c", _INSPECT, str(child_dir())] + (["blas"] if blas else []), 120)
    if found is None:
        return {}, (None, "could not look for a BLAS library with %s (%s)" % (python, problem))
    installed = found.get("installed") or {}
    versions = {name: str(version) for name, version in installed.items() if name in _DECIDING and version}
    ldflags = found.get("blas") or {}
    return versions, (ldflags.get("ldflags"), str(ldflags.get("source") or ""))


def find_blas(python: Path) -> Tuple[Optional[str], str]:
    """(ldflags, where from) of the best BLAS library for Theano in another interpreter."""
    return inspect(python, True)[1]


def probe_env(env: Mapping[str, str], compiledir: Path) -> Dict[str, str]:
    """The probe's environment: the user's ~/.theanorc and THEANO_FLAGS kept out, its own compiledir."""
    settings = {"THEANORC": str(locations.empty_theanorc()),
                "THEANO_FLAGS": "base_compiledir=" + quote_flag_value(str(compiledir)),
                "PYTHONUNBUFFERED": "1"}
    settings.update(env)
    return childenv.for_interpreter(settings)


def run_probe(python: Path, env: Mapping[str, str], compiledir: Path, timeout: float) -> Dict[str, Any]:
    """Run child/probe.py with *python*; its JSON, or {"probe_error": ...} when it did not produce any."""
    argv = [str(python), str(child_dir() / "probe.py"), "--device=auto"]
    found, problem = child_json(argv, timeout, probe_env(env, compiledir), locations.cache_home())
    if found is not None:
        return found
    if problem.startswith("it did not finish"):
        return {"probe_error": "the probe did not finish within %g s (raise --timeout)" % timeout}
    return {"probe_error": "the probe " + problem[3:] if problem.startswith("it ") else problem}


# This interpreter's prefix (to tell the tool's own venv apart) and its installed distributions.
_FACTS = ("import json, sys; sys.path.insert(0, sys.argv[1]); import probe; "
          "print(json.dumps({'prefix': sys.prefix, 'executable': sys.executable, "
          "'installed': probe.installed_versions()}))")


def python_facts(python: Path) -> Optional[Dict[str, Any]]:
    """``{"prefix", "executable", "installed": {distribution: version}}`` of another interpreter, or
    None when it does not run as one."""
    found, _ = child_json([str(python), "-c", _FACTS, str(child_dir())], 60)
    return found
