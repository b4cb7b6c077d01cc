"""The code's shape, checked: who may import whom, one vocabulary, one usage text.

These rules keep ownership visible: commands are option handling and printing over the packages'
public interfaces; the pure core does no I/O; the child-side copy of the backend table matches.
"""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from theanogpu import cli, frameworks

PACKAGE = Path(__file__).resolve().parents[2] / "theanogpu"
COMMAND_MODULES = sorted(p for p in (PACKAGE / "commands").glob("*.py")
                         if p.stem not in ("__init__", "options"))
# PURE: text and values in, values out. Nothing here may start processes, touch the network or
# handle signals (file reading is confined to the edges named in ARCHITECTURE notes of each module).
PURE = ["devices.py", "frameworks.py", "intent.py", "variants.py", "backends.py", "flags/dialect.py",
        "flags/validate.py", "flags/options.py", "flags/quoting.py", "flags/rcfile.py", "logparse/obs.py",
        "logparse/keras.py", "logparse/lines.py", "logparse/run.py", "logparse/tensorflow.py",
        "logparse/theano_old.py", "logparse/theano_gpuarray.py", "logparse/modern.py",
        "logparse/timestamps.py", "report/model.py", "report/cells.py", "report/text.py",
        "report/markdown.py", "report/csv.py", "report/json.py", "report/html.py", "run/plan.py",
        "run/targets.py", "run/slurmstate.py",
        "stacks/target.py", "stacks/toxini.py", "stacks/doctor_checks.py"]
EDGE_MODULES = {"subprocess", "socket", "signal", "shutil", "tempfile", "selectors", "threading"}


def imports(path):
    """(module, names) for every import in *path*; names is () for a plain ``import x``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, tuple(alias.name for alias in node.names)))
    return found


@pytest.mark.parametrize("path", COMMAND_MODULES, ids=lambda p: p.stem)
def test_commands_do_not_import_each_other(path):
    for module, names in imports(path):
        if module == "theanogpu.commands":
            assert set(names) <= {"options"}, "%s imports commands %s" % (path.name, names)
        else:
            assert not module.startswith("theanogpu.commands."), "%s imports %s" % (path.name, module)


@pytest.mark.parametrize("path", COMMAND_MODULES, ids=lambda p: p.stem)
def test_commands_use_the_public_interfaces_of_stacks_and_run(path):
    for package in ("theanogpu.stacks", "theanogpu.run"):
        public = set(importlib.import_module(package).__all__)
        for module, names in imports(path):
            assert not module.startswith(package + "."), "%s reaches into %s" % (path.name, module)
            if module == package:
                assert set(names) <= public, "%s uses %s, not in %s.__all__" % (
                    path.name, set(names) - public, package)


@pytest.mark.parametrize("name", PURE)
def test_the_pure_core_starts_no_process_and_handles_no_signal(name):
    for module, _ in imports(PACKAGE / name):
        assert module.split(".")[0] not in EDGE_MODULES, "%s imports %s" % (name, module)
        assert module not in ("theanogpu.stacks", "theanogpu.run") or name.startswith(("run/", "stacks/"))


def test_the_probe_knows_the_same_backends_as_the_tool():
    sys.path.insert(0, str(PACKAGE / "child"))
    try:
        probe = importlib.import_module("probe")
    finally:
        sys.path.pop(0)
    assert probe.FRAMEWORK_DISTS == {backend.name: backend.distributions for backend in frameworks.MODERN_BACKENDS}


def test_top_level_usage_holds_every_command_usage_line():
    proc = subprocess.run([sys.executable, "-m", "theanogpu", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for command in cli.COMMANDS:
        module = importlib.import_module("theanogpu.commands." + command)
        block = module.__doc__.split("\n\n")[1]
        for line in block.splitlines()[1:]:
            if "(-h | --help)" not in line:
                assert line in proc.stdout, "top-level usage lacks %r" % line
    # Every built-in stack is named where the help lists them.
    assert "keras3-torch" in importlib.import_module("theanogpu.commands.compare").__doc__
