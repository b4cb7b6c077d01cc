"""Variants from matrix files and --variant specs, and the plan of runs built from them."""

import pytest

from theanogpu import resources
from theanogpu.errors import UserError
from theanogpu.run.plan import StackTarget, is_stable, plan_runs
from theanogpu.variants import Variant, parse_matrix, parse_variant_spec, select_variants


def default_variants():
    path = resources.templates_dir() / "default.ini"
    return parse_matrix(path.read_text(), str(path))


def test_default_matrix_is_the_contract_three():
    variants = default_variants()
    assert [v.name for v in variants] == ["cpu", "gpu", "gpu-cnmem"]
    assert variants[2].flags == {"device": "gpu", "floatX": "float32", "lib.cnmem": "0.8"}
    assert [v.requested_device for v in variants] == ["cpu", "gpu", "gpu"]


def test_matrix_keys_keep_theano_spelling():
    (variant,) = parse_matrix("[x]\nFLOATX = float64\ndevice = cuda0\n", "m.ini")
    assert variant.flags == {"floatX": "float64", "device": "cuda0"}
    assert variant.requested_device == "gpu"


@pytest.mark.parametrize("text, fragment", [
    ("device = cpu\n", "not a valid matrix file"),
    ("", "no variants"),
    ("[a]\ndevice = cpu\n[a]\ndevice = gpu\n", "not a valid matrix file"),
    ("[bad name]\ndevice = cpu\n", "variant name"),
])
def test_bad_matrix_files_name_the_file(text, fragment):
    with pytest.raises(UserError) as err:
        parse_matrix(text, "my.ini")
    assert "my.ini" in str(err.value) and fragment in str(err.value)


def test_variant_spec_uses_theano_flags_quoting():
    variant = parse_variant_spec('odd:device=cpu,gcc.cxxflags="-O2 -DA=1,2#3"')
    assert variant.flags == {"device": "cpu", "gcc.cxxflags": "-O2 -DA=1,2#3"}


@pytest.mark.parametrize("spec", ["nocolon", ":device=cpu", "x:", 'x:a="open'])
def test_bad_variant_specs(spec):
    with pytest.raises(UserError):
        parse_variant_spec(spec)


def test_variant_specs_add_to_or_replace_the_matrix():
    default = default_variants()
    assert select_variants(None, [], default) == default
    only = select_variants(None, ["c64:device=cpu,floatX=float64"], default)
    assert [v.name for v in only] == ["c64"]
    replaced = select_variants(default, ["gpu:device=gpu,floatX=float16"], default)
    assert [v.name for v in replaced] == ["cpu", "gpu", "gpu-cnmem"]
    assert replaced[1].flags["floatX"] == "float16"


def test_plan_is_interleaved_and_spelled_per_release():
    variants = default_variants()
    stacks = [StackTarget("theano08", "0.8"), StackTarget("theano10", "1.0")]
    runs = plan_runs(variants, stacks, repeats=2)
    assert len(runs) == 12
    assert [r.repeat for r in runs[:6]] == [1] * 6 and [r.repeat for r in runs[6:]] == [2] * 6
    by_label = {r.label: r for r in runs}
    assert by_label["gpu-cnmem@theano08#1"].flags["lib.cnmem"] == "0.8"
    t10 = by_label["gpu-cnmem@theano10#2"]
    assert t10.flags["device"].startswith("cuda") and t10.flags["gpuarray.preallocate"] == "0.8"
    assert "lib.cnmem" not in t10.flags and t10.notes


def test_single_repeat_labels_have_no_suffix_and_paths_are_safe():
    (run,) = plan_runs([Variant("cpu", {"device": "cpu"})], [StackTarget("/opt/venvs/old", "0.9")], 1)
    assert run.label == "cpu@opt_venvs_old"


def test_stability_ignores_the_first_epoch():
    assert not is_stable([60.0, 20.0, 20.1])
    assert is_stable([60.0, 20.0, 20.1, 20.2])
    assert not is_stable([60.0, 20.0, 22.0, 20.2])
