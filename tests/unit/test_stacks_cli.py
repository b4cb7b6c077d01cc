"""`theanogpu stack` on the command line: list, path, remove and bad names (nothing is built here)."""

import json
import os
import subprocess
import sys

import pytest


@pytest.fixture
def env(tmp_path):
    env = dict(os.environ, THEANOGPU_HOME=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    env.pop("THEANOGPU_STACKS", None)
    return env


def stack(env, *args):
    return subprocess.run([sys.executable, "-m", "theanogpu", "stack", *args], capture_output=True,
                          text=True, env=env)


def test_list_shows_every_builtin(env, tmp_path):
    proc = stack(env, "list")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["NAME", "PYTHON", "PACKAGES", "STATE"]
    assert lines[1].split() == ["theano08", "3.6", "theano==0.8.2", "keras==1.2.2", "numpy==1.16.6", "not",
                                "built"]
    assert lines[3].split()[:3] == ["theano10", "3.8", "theano==1.0.5"]
    assert lines[4].split()[:3] == ["theano08-py27", "2.7", "theano==0.8.2"]
    assert str(tmp_path / "cache" / "stacks") in proc.stdout
    rows = json.loads(stack(env, "list", "--format=json").stdout)
    assert [row["name"] for row in rows] == ["theano08", "theano09", "theano10", "theano08-py27", "keras3-torch",
                                             "keras3-jax", "keras3-tf"]
    assert {row["state"] for row in rows} == {"not built"}


def test_contract_form_still_parses(env):
    assert stack(env, "create").returncode == 2  # NAME... is required
    assert stack(env, "path", "theano10").returncode == 1


def test_path_of_unbuilt_stack_is_exit_1_with_the_fix(env):
    proc = stack(env, "path", "theano10")
    assert proc.returncode == 1 and proc.stdout == ""
    assert "theanogpu stack create theano10" in proc.stderr


@pytest.mark.parametrize("args", [["path", "theano1"], ["create", "theano08", "thean09"],
                                  ["remove", "keras3"]])
def test_unknown_names_are_exit_2_with_the_list(env, args):
    proc = stack(env, *args)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "theano08, theano09, theano10" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_name_in_create_builds_nothing(env, tmp_path):
    stack(env, "create", "theano08", "thean09")
    # Names are checked before anything is built: not even the stacks directory is made.
    assert not (tmp_path / "cache" / "stacks").exists()


def test_remove_not_built(env):
    proc = stack(env, "remove", "theano09")
    assert proc.returncode == 0 and "nothing to remove" in proc.stdout


def test_path_accepts_an_existing_environment(env, tmp_path):
    venv = tmp_path / "myvenv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    proc = stack(env, "path", str(venv))
    assert proc.returncode == 0 and proc.stdout == "%s\n" % venv
    assert stack(env, "remove", str(venv)).returncode == 2 and venv.exists()


def test_bad_format(env):
    assert stack(env, "list", "--format=xml").returncode == 2
