"""PURE: where on a cluster a comparison's runs go: ``--on slurm:partition=v100,gres=gpu:1``.

A ``ClusterTarget`` is one ``--on``: a name for the rows and logs, the spec as written (part of each
run's identity: a run on other hardware is another run), and the sbatch options it stands for. The
keys here are the ones that decide *which hardware* a run measures; anything else sbatch takes
(``--account``, ``--qos``, ``--time``) goes through ``--slurm-arg`` and is not part of the identity.
"""

import re
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from theanogpu.errors import UserError

LAUNCHERS = ("local", "slurm")
# key -> the sbatch option it becomes ("" for keys handled here).
KEYS: Dict[str, str] = {
    "partition": "--partition", "gres": "--gres", "gpus": "--gpus", "constraint": "--constraint",
    "nodelist": "--nodelist", "exclude": "--exclude", "cpus": "--cpus-per-task", "mem": "--mem",
    "exclusive": "", "name": "",
}
# A name is part of log file names and of the row: letters, digits and a little punctuation.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Split at the commas that start the next key, so that values keep theirs: nodelist=n1,n2,gres=gpu:1.
_NEXT_KEY = re.compile(r",(?=[a-z]+=)")
_YES = ("yes", "true", "1", "on")
_NO = ("no", "false", "0", "off")
DEFAULT_NAME = "slurm"


@dataclass(frozen=True)
class ClusterTarget:
    """One ``--on`` target."""

    name: str  # what rows, logs and results.json call it
    spec: str  # as written, without "slurm:": part of a run's identity
    options: Tuple[str, ...]  # its sbatch options
    # One node per job for itself (sbatch --exclusive): no other job, ours or anyone's, shares the node
    # while a run is measured. exclusive=no shares it (then ask for one GPU per job with gres=gpu:1).
    exclusive: bool = True

    def sbatch_options(self) -> List[str]:
        return (["--exclusive"] if self.exclusive else []) + list(self.options)


def parse_on(text: str) -> ClusterTarget:
    """``slurm:partition=k80,gres=gpu:1`` -> a target; one clear line (exit 2) for anything else."""
    launcher, colon, spec = text.partition(":")
    if launcher != "slurm":
        raise UserError("--on=%s: say where with slurm:KEY=VALUE,... (keys: %s), or plain slurm for the "
                        "cluster's default partition" % (text, ", ".join(KEYS)))
    values: Dict[str, str] = {}
    for item in _NEXT_KEY.split(spec) if spec else []:
        key, equals, value = item.partition("=")
        if not equals or not value:
            raise UserError("--on=%s: %r is not KEY=VALUE" % (text, item))
        if key not in KEYS:
            raise UserError("--on=%s: unknown key %r; keys: %s (anything else sbatch takes: --slurm-arg)"
                            % (text, key, ", ".join(KEYS)))
        if key in values:
            raise UserError("--on=%s: %s given twice" % (text, key))
        values[key] = value
    exclusive = values.pop("exclusive", "yes").lower()
    if exclusive not in _YES + _NO:
        raise UserError("--on=%s: exclusive=%s: say yes or no" % (text, exclusive))
    name = values.pop("name", None) or values.get("partition") or DEFAULT_NAME
    if not _NAME.match(name):
        raise UserError("--on=%s: name %r: use letters, digits, '_', '.' or '-' (name=... sets it)"
                        % (text, name))
    options = tuple("%s=%s" % (KEYS[key], value) for key, value in values.items())
    return ClusterTarget(name, spec, options, exclusive in _YES)


def parse_targets(specs: Sequence[str]) -> List[ClusterTarget]:
    """Every ``--on``; two targets of one name would make their rows indistinguishable."""
    targets = [parse_on(spec) for spec in specs] or [parse_on("slurm")]
    seen: Dict[str, str] = {}
    for target, spec in zip(targets, specs or ["slurm"]):
        if target.name in seen:
            raise UserError("--on=%s and --on=%s are both called %r; tell them apart with name=..."
                            % (seen[target.name], spec, target.name))
        seen[target.name] = spec
    return targets
