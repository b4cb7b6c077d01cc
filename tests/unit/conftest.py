"""Fixtures shared by the unit tests."""

import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty theanogpu cache ($THEANOGPU_HOME) and no user stacks file.

    (test_config_cli.py has a ``home`` of its own: a HOME directory for `config --write`.)
    """
    monkeypatch.setenv("THEANOGPU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("THEANOGPU_STACKS", raising=False)
    return tmp_path / "home"
