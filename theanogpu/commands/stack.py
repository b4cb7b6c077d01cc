"""Manage stacks: pinned virtual environments of old Theano/Keras/NumPy, built once and reused.

Usage:
  theanogpu stack list [--format=FMT]
  theanogpu stack create [--force] NAME...
  theanogpu stack path NAME
  theanogpu stack remove NAME...
  theanogpu stack (-h | --help)

Built-in stacks:
  theano08  Python 3.6, Theano 0.8.2, Keras 1.2.2, NumPy 1.16.6 (old backend: device=gpu, lib.cnmem)
  theano09  Python 3.6, Theano 0.9.0, Keras 2.0.8, NumPy 1.16.6 (device=gpu or device=cuda)
  theano10  Python 3.8, Theano 1.0.5, Keras 2.3.1, NumPy 1.19.5 (device=cuda, gpuarray.preallocate)
  theano08-py27  Python 2.7, as theano08 (made with a virtualenv<20.22 that theanogpu installs itself)
  Add your own in ~/.config/theanogpu/stacks.ini (or the file named by $THEANOGPU_STACKS), e.g.
    [mystack]
    python = 3.7                 # or /path/to/python
    requirements = theano==0.9.0 keras==2.0.8 numpy==1.16.6    # or a requirements .txt file
  Anywhere a stack name is accepted, a path to a python interpreter or a venv directory works too;
  theanogpu uses such an environment as it is and never modifies it.

Commands:
  list      every stack: its Python, key packages and state (built, not built, broken, outdated)
  create    build the stacks, or reuse them when already built from the same pins ("up to date").
            Needs the stack's Python (pyenv install 3.6.15 / 3.8.18 / 2.7.18, or your OS packages).
            An interrupted build is detected and rebuilt; changed pins are rebuilt.
  path      print the stack's virtual environment directory (its interpreter is bin/python in it);
            exit 1 if it is not built
  remove    delete built stacks (their venvs and build logs)

Options:
  --format=FMT  list output: text or json [default: text]
  --force       rebuild even when the stack is up to date
  -h --help     show this help

Stacks live in $THEANOGPU_HOME/stacks/NAME, or in the user cache directory
(~/.cache/theanogpu/stacks/NAME on Linux). Each build writes NAME.build.log next to it.

Examples:
  theanogpu stack create theano08 theano10
  theanogpu stack list
  $(theanogpu stack path theano10)/bin/python -c "import theano; print(theano.__version__)"
  theanogpu stack remove theano09
"""

import json
import sys
from typing import Any, Dict, List

from theanogpu import stacks
from theanogpu.commands import options
from theanogpu.display import StatusLine, elapsed
from theanogpu.errors import WorkFailed


def _list(fmt: str) -> int:
    rows = []
    for stack in stacks.pinned_stacks():
        spec = stack.spec
        state = stack.state()
        python = state.marker.get("python") if state.marker else None
        rows.append({"name": spec.name, "python": str(python or spec.python), "packages": spec.key_packages(),
                     "state": state.state, "detail": state.detail, "path": str(state.venv),
                     "description": spec.description, "source": spec.source})
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    headers = ("NAME", "PYTHON", "PACKAGES", "STATE")
    table: List[Any] = [headers] + [(r["name"], r["python"], r["packages"], r["state"]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    for row in table:
        sys.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
    notes = ["%s: %s" % (r["name"], r["detail"]) for r in rows if r["detail"] and r["state"] != "built"]
    for note in notes:
        sys.stdout.write("  " + note + "\n")
    sys.stdout.write("stacks directory: %s\n" % stacks.stacks_home())
    return 0


def _create(names: List[str], force: bool) -> int:
    chosen = [stacks.get_stack(name) for name in names]  # every name checked before any build starts
    with StatusLine() as display:

        def progress(message: str) -> None:
            if not message.endswith(": up to date"):  # said below, with the path
                display(message)

        for stack in chosen:
            result = stack.ensure(progress=progress, force=force)
            if result.built:
                display.print("%s: built in %s: %s" % (stack.name, elapsed(result.seconds), result.venv))
            else:
                display.print("%s: up to date: %s" % (stack.name, result.venv))
    return 0


def _path(name: str) -> int:
    state = stacks.get_stack(name).state()
    if not state.usable:
        raise WorkFailed("%s; build it with `theanogpu stack create %s`" % (state.problem(name), name))
    if state.state == "outdated":
        sys.stderr.write("theanogpu: warning: stack %s is outdated (%s)\n" % (name, state.detail))
    sys.stdout.write("%s\n" % state.venv)
    return 0


def _remove(names: List[str]) -> int:
    chosen = [stacks.get_stack(name) for name in names]
    for stack in chosen:
        if stack.remove():
            sys.stdout.write("removed %s (%s)\n" % (stack.name, stack.venv))
        else:
            sys.stdout.write("%s was not built; nothing to remove\n" % stack.name)
    return 0


def run(args: Dict[str, Any]) -> int:
    if args["list"]:
        return _list(options.choice(args, "--format", ("text", "json"), "text"))
    if args["create"]:
        return _create(args["NAME"], bool(args["--force"]))
    if args["path"]:
        return _path(args["NAME"][0])
    return _remove(args["NAME"])
