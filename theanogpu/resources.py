"""Where the shipped templates, stack pin lists, example script and child-side code are."""

import importlib
from pathlib import Path


def _package_dir(package: str) -> Path:
    # Every data folder is a regular package (it has an __init__.py), so its __file__ locates it in a
    # checkout, an editable install and a wheel alike, on Python 3.8 too (no importlib.resources.files).
    return Path(str(importlib.import_module(package).__file__)).parent


def templates_dir() -> Path:
    return _package_dir("theanogpu.templates")


def stacks_dir() -> Path:
    return _package_dir("theanogpu.templates.stacks")


def examples_dir() -> Path:
    return _package_dir("theanogpu.examples")


def child_dir() -> Path:
    """Code run inside old stacks with their own interpreter (Python 2.7/3.6 compatible)."""
    return _package_dir("theanogpu.child")
