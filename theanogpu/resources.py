"""Where the shipped templates, stack pin lists, example script and child-side code are."""

from importlib import resources
from pathlib import Path


def _package_dir(package: str) -> Path:
    return Path(str(resources.files(package)))


def templates_dir() -> Path:
    return _package_dir("theanogpu.templates")


def stacks_dir() -> Path:
    return _package_dir("theanogpu.templates.stacks")


def examples_dir() -> Path:
    return _package_dir("theanogpu.examples")


def child_dir() -> Path:
    """Code run inside old stacks with their own interpreter (Python 2.7/3.6 compatible)."""
    return _package_dir("theanogpu.child")
