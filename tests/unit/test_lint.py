"""The code base stays ruff clean (the project's rule), checked where CI checks everything else."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]' brings it)")
    proc = subprocess.run([ruff, "check", "theanogpu", "tests", "benchmarks", "examples", "setup.py"],
                          cwd=str(ROOT), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_clean():
    """Typed records (theanogpu/records.py) catch a misspelt field; mypy.ini says how strict."""
    mypy = shutil.which("mypy") or str(Path(sys.executable).with_name("mypy"))
    if not Path(mypy).exists():
        pytest.skip("mypy is not installed (pip install -e '.[test]' brings it)")
    proc = subprocess.run([mypy, "--config-file", "mypy.ini"], cwd=str(ROOT), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_child_code_compiles_on_old_pythons():
    """Code run inside old stacks must stay Python 2.7/3.6 syntax: compile it with those interpreters."""
    from theanogpu.stacks.interpreters import find_interpreter

    sources = sorted((ROOT / "theanogpu" / "child").glob("*.py")) + sorted((ROOT / "examples").glob("*.py")) \
        + sorted((ROOT / "tests" / "child").glob("*.py"))
    checked = 0
    for version in ("2.7", "3.6"):
        try:
            python = find_interpreter(version)
        except Exception:
            continue
        for source in sources:
            code = "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')"
            proc = subprocess.run([str(python), "-c", code, str(source)], capture_output=True, text=True)
            assert proc.returncode == 0, (version, source, proc.stderr)
            checked += 1
    if not checked:
        pytest.skip("neither Python 2.7 nor 3.6 is available here")
