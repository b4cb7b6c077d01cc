"""Errors that the command line turns into exit codes, never into tracebacks."""


class UserError(Exception):
    """Bad usage or bad input: one clear line (what, where, what to do) and exit status 2."""

    exit_code = 2


class WorkFailed(Exception):
    """The work ran but something failed (a check found a problem): exit status 1."""

    exit_code = 1
