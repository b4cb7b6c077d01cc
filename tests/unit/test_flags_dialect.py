"""TheanoRequest -> flags per Theano release: gpu/cuda, lib.cnmem/gpuarray.preallocate, notes."""

import pytest

from theanogpu.errors import UserError
from theanogpu.flags import (
    TheanoRequest,
    flags_for_version,
    parse_cnmem,
    parse_cudnn,
    parse_device,
    parse_floatx,
    parse_theano_version,
    release_dialect,
    request_from_flags,
    spell_request,
)

GPU_80 = TheanoRequest(device="gpu", floatx="float32", cnmem=0.8)


def test_contract_example_for_08_and_09():
    for version in ("0.8", "0.9"):
        result = spell_request(GPU_80, version)
        assert result.flags == {"device": "gpu", "floatX": "float32", "lib.cnmem": "0.8"}


def test_08_has_no_translation_notes():
    assert spell_request(GPU_80, "0.8").notes == []


def test_contract_example_for_10_with_notes():
    result = spell_request(GPU_80, "1.0")
    assert result.flags == {"device": "cuda", "floatX": "float32", "gpuarray.preallocate": "0.8"}
    text = " ".join(result.notes)
    assert "lib.cnmem was removed in Theano 1.0" in text and "gpuarray.preallocate=0.8" in text
    assert "device=gpu -> device=cuda" in text


def test_09_with_cuda_uses_gpuarray():
    result = spell_request(TheanoRequest(device="cuda1", floatx="float32", cnmem=0.5), "0.9")
    assert result.flags == {"device": "cuda1", "floatX": "float32", "gpuarray.preallocate": "0.5"}
    assert any("gpuarray" in note for note in result.notes)


def test_09_old_backend_mentions_deprecation():
    notes = spell_request(TheanoRequest(device="gpu"), "0.9").notes
    assert any("deprecated" in note for note in notes)


def test_08_maps_cuda_to_gpu_with_a_note():
    result = spell_request(TheanoRequest(device="cuda0", cnmem=0.3), "0.8")
    assert result.flags == {"device": "gpu0", "lib.cnmem": "0.3"}
    assert any("experimental" in note for note in result.notes)


def test_10_keeps_the_device_number():
    assert spell_request(TheanoRequest(device="gpu2"), "1.0").flags == {"device": "cuda2"}


@pytest.mark.parametrize("amount,words", [(1.0, "95%"), (0.98, "95%"), (2048, "2048 MB"), (1.5, "1.5 MB")])
def test_memory_amount_notes(amount, words):
    notes = " ".join(spell_request(TheanoRequest(device="gpu", cnmem=amount), "0.8").notes)
    assert words in notes


def test_cnmem_formatting_and_zero():
    assert spell_request(TheanoRequest(device="gpu", cnmem=2048.0), "0.8").flags["lib.cnmem"] == "2048"
    assert spell_request(TheanoRequest(device="gpu", cnmem=0.0), "0.9").flags["lib.cnmem"] == "0"
    assert spell_request(TheanoRequest(device="gpu", cnmem=0.0), "1.0").flags["gpuarray.preallocate"] == "0"


def test_cpu_leaves_out_gpu_only_settings():
    result = spell_request(TheanoRequest(device="cpu", floatx="float32", cnmem=0.8, cudnn="on"), "0.8")
    assert result.flags == {"device": "cpu", "floatX": "float32"}
    assert len(result.notes) == 2


@pytest.mark.parametrize("mode,value", [("auto", "auto"), ("on", "True"), ("off", "False")])
def test_cudnn_modes(mode, value):
    for version in ("0.8", "0.9", "1.0"):
        assert spell_request(TheanoRequest(device="gpu", cudnn=mode), version).flags["dnn.enabled"] == value


def test_float16_on_the_old_09_backend_is_refused():
    with pytest.raises(UserError, match="float16"):
        spell_request(TheanoRequest(device="gpu", floatx="float16"), "0.9")
    assert spell_request(TheanoRequest(device="cuda", floatx="float16"), "0.9").flags["floatX"] == "float16"


@pytest.mark.parametrize("text,value", [("0", 0.0), ("0.8", 0.8), ("1", 1.0), ("2048", 2048.0), (".5", 0.5),
                                        ("1e3", 1000.0)])
def test_parse_cnmem_accepts(text, value):
    assert parse_cnmem(text) == value


@pytest.mark.parametrize("text", ["-1", "abc", "nan", "inf", "-0.5", "", "0.8.1", "1,5"])
def test_parse_cnmem_rejects_naming_the_option_and_range(text):
    with pytest.raises(UserError) as info:
        parse_cnmem(text)
    assert "--cnmem" in str(info.value) and "0 < x <= 1" in str(info.value)


def test_parse_device_floatx_cudnn():
    assert [parse_device(d) for d in ("cpu", "gpu", "gpu1", "cuda", "cuda3")] == ["cpu", "gpu", "gpu1", "cuda", "cuda3"]
    for bad in ("tpu", "GPU", "cuda-1", "opencl0:0", ""):
        with pytest.raises(UserError, match="--device"):
            parse_device(bad)
    assert parse_floatx("32") == "float32" and parse_floatx("float16") == "float16"
    with pytest.raises(UserError, match="--floatx"):
        parse_floatx("float8")
    assert parse_cudnn("ON") == "on" and parse_cudnn("false") == "off"
    with pytest.raises(UserError, match="--cudnn"):
        parse_cudnn("maybe")


@pytest.mark.parametrize("text,version", [("0.8", "0.8"), ("0.8.2", "0.8"), ("0.9.0", "0.9"), ("1.0", "1.0"),
                                          ("1.0.5", "1.0"), ("theano10", "1.0"), ("08", "0.8")])
def test_parse_theano_version(text, version):
    assert parse_theano_version(text) == version


@pytest.mark.parametrize("text", ["0.7", "2.0", "latest", "1.1", ""])
def test_parse_theano_version_rejects(text):
    with pytest.raises(UserError, match="--theano"):
        parse_theano_version(text)


@pytest.mark.parametrize("installed,dialect,noted", [("0.8.2", "0.8", False), ("0.9.0rc1", "0.9", False),
                                                     ("0.10.0beta1", "1.0", False), ("1.0.5", "1.0", False),
                                                     ("0.7.0", "0.8", True)])
def test_release_dialect(installed, dialect, noted):
    got, note = release_dialect(installed)
    assert got == dialect and (note is not None) == noted


def test_variant_flags_are_respelled_per_release():
    variant = {"device": "gpu", "floatX": "float32", "lib.cnmem": "0.8", "blas.ldflags": "-lopenblas"}
    assert flags_for_version(variant, "0.9").flags == variant
    t10 = flags_for_version(variant, "1.0")
    assert t10.flags == {"device": "cuda", "floatX": "float32", "gpuarray.preallocate": "0.8",
                         "blas.ldflags": "-lopenblas"}
    new_style = {"device": "cuda", "gpuarray.preallocate": "0.8"}
    assert flags_for_version(new_style, "0.8").flags == {"device": "gpu", "lib.cnmem": "0.8"}


def test_variant_flags_unknown_in_the_release_are_refused():
    with pytest.raises(UserError, match="nvcc.fastmath"):
        flags_for_version({"device": "gpu", "nvcc.fastmath": "True"}, "1.0")


def test_intent_from_flags_keeps_what_it_does_not_understand():
    intent, rest = request_from_flags({"device": "opencl0:0", "gpuarray.preallocate": "-1", "floatX": "32"})
    assert intent.device is None and intent.cnmem is None and intent.floatx == "float32"
    assert rest == {"device": "opencl0:0", "gpuarray.preallocate": "-1"}


def test_amount_notes_explain_the_surprises():
    from theanogpu.flags.dialect import amount_notes

    assert "1 MB in Theano 0.8" in amount_notes("gpuarray.preallocate", "1", "0.8")[0]
    assert amount_notes("gpuarray.preallocate", "0.5", "0.8") == []
    assert "95%" in amount_notes("gpuarray.preallocate", "1", "1.0")[0]
    assert "allocation cache" in amount_notes("gpuarray.preallocate", "-1", "0.9")[0]
    assert "MB" in amount_notes("lib.cnmem", "512", "0.9")[0]
    assert amount_notes("lib.cnmem", "0.5", "0.9") == []


def test_consistency_notes_flag_pools_the_backend_ignores():
    from theanogpu.flags.dialect import consistency_notes

    assert "gpuarray.preallocate" in consistency_notes({"device": "cuda", "lib.cnmem": "0.8"})[0]
    assert "device=gpu ignores" in consistency_notes({"device": "gpu", "gpuarray.preallocate": "0.8"})[0]
    assert consistency_notes({"device": "gpu", "lib.cnmem": "0.8"}) == []
    assert consistency_notes({"device": "cuda0", "gpuarray.preallocate": "0.8"}) == []
