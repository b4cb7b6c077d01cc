"""Stacks: the environments of old (or modern) software that runs are made in.

A stack is one of three kinds (kinds.py), asked the same questions whatever its kind:

* ``PinnedStack``: built by theanogpu from a spec in ``templates/stacks/stacks.ini`` or the user's
  ``stacks.ini`` (an interpreter version plus pins), under the cache; rebuilt when its pins change;
* ``ExistingEnv``: a venv, conda env or interpreter of the user's, given by path, used as it is;
* ``ToxEnv``: env ENV of ./tox.ini (``tox:ENV``), an existing environment whose set_env counts.

Public interface (what the commands use):

* ``get_stack(name)`` -> Stack; ``pinned_stacks()``, ``built_stacks()``; UserError for bad names;
* ``Stack.state()``, ``.ensure(progress)``, ``.remove()`` (pinned), ``.python``, ``.venv``, ``.env``,
  ``.compiledir()``;
* ``resolve_targets(names, build_missing, need_blas, progress)`` -> [StackTarget] for a comparison;
* ``run_probe(python, env, compiledir, timeout)``: child/probe.py inside a stack (doctor);
* ``python_facts(python)``: another interpreter's prefix and installed distributions (config);
* ``stacks_home()``, ``cache_home()``; ``doctor_checks``: probe facts -> findings.
"""

from theanogpu.stacks import doctor_checks
from theanogpu.stacks.inside import python_facts, run_probe
from theanogpu.stacks.interpreters import find_interpreter
from theanogpu.stacks.kinds import EnsureResult, ExistingEnv, PinnedStack, Stack, StackState, ToxEnv
from theanogpu.stacks.locations import cache_home, compiledir, empty_theanorc, stack_python, stacks_home
from theanogpu.stacks.resolve import (
    TOX_PREFIX,
    built_stacks,
    default_stack_names,
    environment_python,
    get_stack,
    pinned_stacks,
    resolve_targets,
    tox_env_dir,
)
from theanogpu.stacks.specs import StackSpec, load_specs, parse_stacks_ini, user_stacks_file
from theanogpu.stacks.steps import Progress, pip_step
from theanogpu.stacks.target import StackTarget, stack_backend

__all__ = [
    "TOX_PREFIX", "EnsureResult", "ExistingEnv", "PinnedStack", "Progress", "Stack", "StackSpec", "StackState",
    "StackTarget", "ToxEnv", "built_stacks", "cache_home", "compiledir", "default_stack_names", "doctor_checks",
    "empty_theanorc", "environment_python", "find_interpreter", "get_stack", "load_specs", "parse_stacks_ini",
    "pinned_stacks", "pip_step", "python_facts", "resolve_targets", "run_probe", "stack_backend", "stack_python",
    "stacks_home", "tox_env_dir", "user_stacks_file",
]
