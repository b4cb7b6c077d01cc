"""theanogpu: is your Theano/Keras GPU configuration really used, and how much does it gain?

Usage:
  theanogpu config   [--theano=VER] [--device=DEV] [--floatx=TYPE] [--cnmem=AMOUNT] [--cudnn=MODE]
                     [--set=KEY=VALUE]... [--format=FMT] [--write[=PATH]] [--force]
  theanogpu compare  [--matrix=FILE] [--variant=SPEC]... [--stack=NAME]... [--script=PATH]
                     [--epochs=N] [--samples=N] [--data=DIR] [--repeat=N] [--timeout=SECONDS]
                     [--out=DIR] [--baseline=NAME] [--format=FMT] [--dry-run]
  theanogpu parse    [--format=FMT] LOG...
  theanogpu report   [--format=FMT] [--baseline=NAME] [--output=PATH] [--plot=PATH] INPUT...
  theanogpu stack    (list | create NAME... | path NAME | remove NAME...)
  theanogpu doctor   [--stack=NAME]...
  theanogpu (-h | --help | --version)

Commands:
  config    print or --write a .theanorc / THEANO_FLAGS for your Theano version
  compare   run a training script under each config variant and compare epoch times
  parse     read training logs: device really used, GPU, CNMeM, cuDNN, epoch times
  report    one comparison table from results.json files and logs
  stack     manage pinned environments of old software (theano08, theano09, theano10)
  doctor    check each stack: versions, BLAS, nvcc, GPU, known incompatibilities

Run `theanogpu COMMAND --help` for a command's options and examples.

Exit status: 0 success; 1 the work ran but something failed; 2 bad usage or bad input.
"""

import importlib
import os
import sys
from typing import List, Optional

import docopt

from theanogpu import __version__
from theanogpu.errors import UserError, WorkFailed

COMMANDS = ("config", "compare", "parse", "report", "stack", "doctor")


def _fail(message: str, code: int) -> int:
    sys.stderr.write("theanogpu: error: %s\n" % message)
    return code


def main(argv: Optional[List[str]] = None) -> int:
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:
        # `theanogpu compare --help | head` closes the pipe early; that is not an error. Point stdout
        # at /dev/null so that the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: List[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        # Only --help/--version (or a mistake) reach the top-level usage.
        try:
            docopt.docopt(__doc__, argv=argv, version="theanogpu " + __version__)
        except docopt.DocoptExit:
            pass
        if argv:
            return _fail("unknown command %r; choose one of %s (see theanogpu --help)"
                         % (argv[0], ", ".join(COMMANDS)), 2)
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    module = importlib.import_module("theanogpu.commands." + argv[0])
    # docopt has no optional option arguments (`--write[=PATH]`); a command may rewrite argv first.
    normalize = getattr(module, "normalize_argv", None)
    if normalize is not None:
        argv = normalize(argv)
    try:
        args = docopt.docopt(module.__doc__, argv=argv, version="theanogpu " + __version__)
    except docopt.DocoptExit as exc:
        # docopt's own exit code is 1; the contract says bad usage is 2.
        sys.stderr.write(str(exc).strip() + "\n")
        return 2
    try:
        return module.run(args)
    except (UserError, WorkFailed) as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":
    raise SystemExit(main())
