"""PURE: what makes a run the run it is, and whether an earlier run in the same --out still counts.

Re-running ``compare`` with the same ``--out`` resumes: a finished run is kept only if it would be
the same run today: the same script (path and content), the same arguments, the same translated
flags and environment, the same interpreter and key package versions. Anything else runs again,
and the user is told why, in one line.
"""

import hashlib
import json
from typing import Any, Dict, List, Mapping, Optional, Sequence

from theanogpu.records import RunEntry
from theanogpu.run.plan import PlannedRun

# Earlier statuses a resume keeps (when the identity matches); the others run again, except:
KEPT = ("ok", "skipped")
# a run whose job a scheduler still holds (a cluster's): a resume re-attaches to that job, never submits twice.
IN_FLIGHT = ("submitted", "running")
_AGAIN = {"failed": "it failed earlier", "timeout": "it timed out earlier",
          "interrupted": "it was interrupted earlier", "cancelled": "its job was cancelled earlier"}
# Component of the identity -> how to name a change of it.
_PARTS = (("script_path", "its script is another file"), ("script_sha256", "its script was edited"),
          ("args", "the script's arguments changed"), ("backend", "the stack's backend changed"),
          ("flags", "the variant's Theano flags changed"), ("env", "the variant's environment changed"),
          ("floatx", "the variant's precision changed"), ("skip", "whether it runs on this stack changed"),
          ("python", "the stack's interpreter changed"), ("versions", "the stack's packages changed"),
          ("where", "where it runs changed (the --on target)"))


def run_identity(planned: PlannedRun, script: str, script_sha256: str, script_args: Sequence[str]) -> Dict[str, Any]:
    """The identity of *planned* run with this script: everything that decides what it measures."""
    stack = planned.stack
    env = dict(stack.env)
    env.update(planned.env)
    found = {
        "script_path": script, "script_sha256": script_sha256, "args": list(script_args),
        "backend": stack.keras_backend, "flags": dict(sorted(planned.flags.items())),
        "env": dict(sorted(env.items())), "floatx": planned.floatx, "skip": planned.skip,
        "python": str(stack.python) if stack.python is not None else None,
        "versions": dict(stack.versions),
    }
    if planned.where is not None:  # only then: a local run's identity (and hash) stays what it was
        found["where"] = "slurm:" + planned.where.spec
    return found


def identity_hash(identity: Mapping[str, Any]) -> str:
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> List[str]:
    """What differs between two identities, in words (``theano 0.8.2 -> 0.9.0`` for packages)."""
    found = []
    for key, words in _PARTS:
        if old.get(key) == new.get(key):
            continue
        if key == "versions" and isinstance(old.get(key), dict):
            before, after = old[key], new.get(key) or {}
            moved = ["%s %s -> %s" % (name, before.get(name, "none"), after.get(name, "none"))
                     for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)]
            words += " (%s)" % ", ".join(moved)
        found.append(words)
    return found


def resume_reason(earlier: Optional[RunEntry], identity: Mapping[str, Any]) -> Optional[str]:
    """None when the *earlier* run counts for the run of this *identity*; else why it runs again.

    "" means it never ran here (nothing to say).
    """
    if earlier is None:
        return ""
    status = earlier.get("status") or ""
    if status in IN_FLIGHT and not reattach(earlier, identity):
        differences = changes(earlier.get("identity") or {}, identity)
        return "its earlier job %s was another run (%s); that job is left to the scheduler" % (
            earlier.get("job_id") or "?", "; ".join(differences) or "no job id recorded")
    if status not in KEPT:
        return _AGAIN.get(status, "it did not finish earlier (%s)" % status)
    recorded = earlier.get("identity")
    if not isinstance(recorded, dict):
        return "the earlier run has no recorded identity (an older theanogpu), so it cannot be trusted as the same"
    differences = changes(recorded, identity)
    if differences:
        return "; ".join(differences)
    return None


def reattach(earlier: Optional[RunEntry], identity: Mapping[str, Any]) -> bool:
    """Whether *earlier* is a job a scheduler still holds for the run of this *identity*: a resume then
    watches that job (its id and directory are in the entry) instead of submitting the run again."""
    if earlier is None or earlier.get("status") not in IN_FLIGHT or not earlier.get("job_id"):
        return False
    recorded = earlier.get("identity")
    return isinstance(recorded, dict) and not changes(recorded, identity)
