"""theanogpu: is your Theano/Keras GPU configuration really used, and how much does it gain?

The top-level usage is made from each command's own usage (theanogpu/commands/*.py docstrings, read
without importing them), so the two can never disagree.
"""

import ast
import importlib
import importlib.util
import os
import signal
import sys
from typing import List, Optional

import docopt

from theanogpu import __version__
from theanogpu.errors import UserError, WorkFailed
from theanogpu.streams import guarded_std_streams
from theanogpu.textsafe import visible

COMMANDS = ("config", "compare", "parse", "report", "stack", "doctor")
_TAIL = """Run `theanogpu COMMAND --help` for a command's options and examples.

Exit status: 0 success; 1 the work ran but something failed; 2 bad usage or bad input.
"""


def _command_doc(command: str) -> str:
    spec = importlib.util.find_spec("theanogpu.commands." + command)
    assert spec is not None and spec.origin is not None
    with open(spec.origin, encoding="utf-8") as handle:
        return ast.get_docstring(ast.parse(handle.read())) or ""


def usage() -> str:
    """The top-level help: every command's usage lines and one-line summary."""
    lines = ["theanogpu: is your Theano/Keras GPU configuration really used, and how much does it gain?", "",
             "Usage:"]
    summaries = []
    for command in COMMANDS:
        doc = _command_doc(command)
        summary, usage_block = doc.split("\n\n")[:2]
        lines += [line for line in usage_block.splitlines()[1:] if not line.strip().endswith("(-h | --help)")]
        summaries.append("  %-9s %s" % (command, summary.strip().rstrip(".")))
    lines += ["  theanogpu (-h | --help | --version)", "", "Commands:"] + summaries + ["", _TAIL]
    return "\n".join(lines)


def _fail(message: str, code: int) -> int:
    # Messages may quote file content (a name, a line of a matrix): shown, never obeyed by the terminal.
    sys.stderr.write("theanogpu: error: %s\n" % visible(message))
    return code


def main(argv: Optional[List[str]] = None) -> int:
    """Run one command; every way it can end is an exit status and at most one line, never a traceback.

    Ctrl-C is caught here, around everything (the command module's import included): exit 130.
    Files are only ever replaced atomically, so an interrupt leaves each one old or new. A reader that
    goes away (`| head`) only silences output; it never changes what is done or the status.
    """
    with guarded_std_streams():
        try:
            code = _main(list(sys.argv[1:] if argv is None else argv))
            _exiting(argv)
            return code
        except BrokenPipeError:
            # Only a write outside the guarded streams gets here (a library writing to fd 1 itself).
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0
        except KeyboardInterrupt:
            _exiting(argv)
            _forget_the_interrupt()
            return _fail("interrupted", 130)


def _exiting(argv: Optional[List[str]]) -> None:
    """As a program (no *argv*), the process exits next: the work is over, and a Ctrl-C now (a second
    one, or one that just missed) must not print a traceback. Called with *argv* (tests), change nothing."""
    if argv is None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _forget_the_interrupt() -> None:
    """CPython (3.8 and later) remembers a KeyboardInterrupt that left code compiled from a string
    (exec/eval: a dataclass or namedtuple being defined while a module imports) even when it was
    caught afterwards, and at exit kills the process with SIGINT instead of exiting with the status
    we return (seen as -2 instead of 130 for a Ctrl-C in the first fraction of a second). Every
    exec of a string resets that memory first; this one does nothing else."""
    exec("")


def _main(argv: List[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        # Only --help/--version (or a mistake) reach the top-level usage.
        try:
            docopt.docopt(usage(), argv=argv, version="theanogpu " + __version__)
        except docopt.DocoptExit:
            pass
        if argv:
            return _fail("unknown command %r; choose one of %s (see theanogpu --help)"
                         % (argv[0], ", ".join(COMMANDS)), 2)
        sys.stderr.write(usage().split("\n\n")[1] + "\n")
        return 2
    module = importlib.import_module("theanogpu.commands." + argv[0])
    # docopt has no optional option arguments (`--write[=PATH]`); a command may rewrite argv first.
    normalize = getattr(module, "normalize_argv", None)
    if normalize is not None:
        argv = normalize(argv)
    try:
        args = docopt.docopt(module.__doc__ or "", argv=argv, version="theanogpu " + __version__)
    except docopt.DocoptExit as exc:
        # docopt's own exit code is 1; the contract says bad usage is 2.
        sys.stderr.write(str(exc).strip() + "\n")
        return 2
    try:
        return module.run(args)
    except (UserError, WorkFailed) as exc:
        return _fail(str(exc), exc.exit_code)


if __name__ == "__main__":
    raise SystemExit(main())
