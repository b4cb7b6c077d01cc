"""The shipped templates: Theano can read them, and every flag in them is valid where they say it is."""

import configparser

import pytest

from theanogpu.backends import MODERN
from theanogpu.flags import VERSIONS, canonical_name, check_flags, flags_for_version, read_flags, strict_problem
from theanogpu.resources import templates_dir
from theanogpu.run.plan import StackTarget, plan_runs
from theanogpu.variants import parse_matrix

THEANORCS = sorted(templates_dir().glob("*.theanorc"))
MATRICES = sorted(templates_dir().glob("*.ini"))


def declared_releases(text):
    lines = [line for line in text.splitlines() if line.startswith("# theano:")]
    assert len(lines) == 1, "each template names its releases in one '# theano:' line"
    return lines[0].split(":", 1)[1].split()


def test_the_expected_templates_ship():
    names = {path.name for path in THEANORCS + MATRICES}
    assert {"cpu.theanorc", "gpu.theanorc", "gpu-cnmem.theanorc", "cuda-preallocate.theanorc", "default.ini",
            "cpu-gpu.ini"} <= names


@pytest.mark.parametrize("path", THEANORCS, ids=lambda p: p.name)
def test_theanorc_templates_parse_strictly_and_validate(path):
    text = path.read_text(encoding="utf-8")
    assert text.isascii()
    assert strict_problem(text) is None
    flags = {canonical_name(key): value for key, value in read_flags(text).items()}
    releases = declared_releases(text)
    assert set(releases) <= set(VERSIONS) and releases
    for version in releases:
        assert check_flags(version, flags) == flags
    for version in VERSIONS:
        flags_for_version(flags, version)  # translatable everywhere, raises otherwise


@pytest.mark.parametrize("path", MATRICES, ids=lambda p: p.name)
def test_variant_matrices_parse_strictly_and_translate_for_every_release(path):
    text = path.read_text(encoding="utf-8")
    assert text.isascii() and strict_problem(text) is None
    variants = parse_matrix(text, str(path))
    for version in VERSIONS:
        stack = StackTarget("t", version, "theano", "-lopenblas", "a test BLAS")
        for run in plan_runs(variants, [stack], 1):
            assert not run.skip and check_flags(version, run.flags) == run.flags
    for backend in MODERN:
        for run in plan_runs(variants, [StackTarget("m", None, backend)], 1):
            assert run.skip or run.env["KERAS_BACKEND"] == backend


def test_default_matrix_is_the_contract_one():
    parser = configparser.ConfigParser(strict=True)
    parser.read_string((templates_dir() / "default.ini").read_text())
    variants = {s: {canonical_name(k): parser.get(s, k) for k in parser.options(s)} for s in parser.sections()}
    assert variants == {
        "cpu": {"device": "cpu", "floatX": "float32"},
        "gpu": {"device": "gpu", "floatX": "float32"},
        "gpu-cnmem": {"device": "gpu", "floatX": "float32", "lib.cnmem": "0.8"},
    }
    cpu_gpu = configparser.ConfigParser(strict=True)
    cpu_gpu.read_string((templates_dir() / "cpu-gpu.ini").read_text())
    assert cpu_gpu.sections() == ["cpu", "gpu"]
