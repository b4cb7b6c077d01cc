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
  Add your own in ~/.config/theanogpu/stacks.ini (or the file named by $THEANOGPU_STACKS), e.g.
    [mystack]
    python = 3.7                 # or /path/to/python
    requirements = theano==0.9.0 keras==2.0.8 numpy==1.16.6    # or a requirements .txt file
  Anywhere a stack name is accepted, a path to a python interpreter or a venv directory works too;
  theanogpu uses such an environment as it is and never modifies it.

Commands:
  list      every stack: its Python, key packages and state (built, not built, broken, outdated)
  create    build the stacks, or reuse them when already built from the same pins ("up to date").
            Needs the stack's Python (pyenv install 3.6.15 / 3.8.18, or your OS packages).
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
import time
from typing import List, Optional, TextIO

from theanogpu import stacks
from theanogpu.errors import UserError, WorkFailed


def _elapsed(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return "%d:%02d" % (minutes, seconds)


class _Line:
    def __init__(self, display: "ProgressDisplay") -> None:
        self.display = display

    def __rich__(self) -> object:
        from rich.text import Text  # noqa: PLC0415

        text = Text()
        text.append("%s " % _elapsed(time.monotonic() - self.display.started), style="dim")
        text.append(self.display.message)
        return text


class ProgressDisplay:
    """Live progress for long steps: one status line with elapsed time.

    On a terminal it is a rich line updated in place; elsewhere (CI, a pipe) each new step is printed
    once as a plain line, so logs stay readable. Call it with one-line messages (it is a
    ``stacks.Progress``); use it as a context manager around the work.
    """

    def __init__(self, stream: Optional[TextIO] = None, live: Optional[bool] = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.started = time.monotonic()
        self.message = ""
        self._last_plain = ""
        self._live = None

    def __enter__(self) -> "ProgressDisplay":
        self.started = time.monotonic()
        if self.live:
            from rich.console import Console  # noqa: PLC0415
            from rich.live import Live  # noqa: PLC0415
            from rich.spinner import Spinner  # noqa: PLC0415

            self._console = Console(file=self.stream)
            self._live = Live(Spinner("dots", text=_Line(self)), console=self._console,
                              refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def __call__(self, message: str) -> None:
        self.message = message
        if self._live is None and message != self._last_plain:
            self._last_plain = message
            self.stream.write("[%s] %s\n" % (_elapsed(time.monotonic() - self.started), message))
            self.stream.flush()

    def print(self, text: str) -> None:
        """A permanent line (above the live line on a terminal)."""
        if self._live is not None:
            self._console.print(text, highlight=False, markup=False, soft_wrap=True)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()


def _list(fmt: str) -> int:
    if fmt not in ("text", "json"):
        raise UserError("--format=%s: choose text or json" % fmt)
    rows = []
    for spec in stacks.load_specs().values():
        state = stacks.stack_state(spec)
        python = state.marker.get("python") if state.marker else None
        rows.append({"name": spec.name, "python": python or spec.python, "packages": spec.key_packages(),
                     "state": state.state, "detail": state.detail, "path": str(state.venv),
                     "description": spec.description, "source": spec.source})
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    headers = ("NAME", "PYTHON", "PACKAGES", "STATE")
    table = [headers] + [(r["name"], r["python"], r["packages"], r["state"]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    for row in table:
        sys.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
    notes = ["%s: %s" % (r["name"], r["detail"]) for r in rows if r["detail"] and r["state"] != "built"]
    for note in notes:
        sys.stdout.write("  " + note + "\n")
    sys.stdout.write("stacks directory: %s\n" % stacks.stacks_home())
    return 0


def _create(names: List[str], force: bool) -> int:
    specs = [stacks.get_stack(name) for name in names]  # every name checked before any build starts
    with ProgressDisplay() as display:

        def progress(message: str) -> None:
            if not message.endswith(": up to date"):  # said below, with the path
                display(message)

        for spec in specs:
            result = stacks.ensure_stack_result(spec, progress=progress, force=force)
            if result.built:
                display.print("%s: built in %s: %s" % (spec.name, _elapsed(result.seconds), result.venv))
            else:
                display.print("%s: up to date: %s" % (spec.name, result.venv))
    return 0


def _path(name: str) -> int:
    spec = stacks.get_stack(name)
    state = stacks.stack_state(spec)
    if state.state in ("built", "external", "outdated"):
        if state.state == "outdated":
            sys.stderr.write("theanogpu: warning: stack %s is outdated (%s)\n" % (name, state.detail))
        sys.stdout.write("%s\n" % state.venv)
        return 0
    reason = "is not built" if state.state == "not built" else "is broken (%s)" % state.detail
    raise WorkFailed("stack %s %s; build it with `theanogpu stack create %s`" % (name, reason, name))


def _remove(names: List[str]) -> int:
    specs = [stacks.get_stack(name) for name in names]
    for spec in specs:
        if stacks.remove_stack(spec):
            sys.stdout.write("removed %s (%s)\n" % (spec.name, stacks.venv_dir(spec)))
        else:
            sys.stdout.write("%s was not built; nothing to remove\n" % spec.name)
    return 0


def run(args: dict) -> int:
    if args["list"]:
        return _list(args["--format"] or "text")
    if args["create"]:
        return _create(args["NAME"], bool(args["--force"]))
    if args["path"]:
        return _path(args["NAME"][0])
    return _remove(args["NAME"])
