""".theanorc text: rendering, Theano-compatible strictness and a merge that loses nothing (pure)."""

import configparser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theanogpu.errors import UserError
from theanogpu.flags import merge_theanorc, options_for, read_flags, render_theanorc, strict_problem

USER_FILE = """\
# my settings -- keep this comment
[global]
floatx = float64
; device picked per machine
device=cpu
openmp = True

[blas]
ldflags = -lopenblas

# compile cache
[nvcc]
fastmath = True
"""


def theano_view(text):
    """What Theano's ConfigParser sees: lower-cased keys, %% interpolation."""
    parser = configparser.ConfigParser(strict=True)
    parser.read_string(text)
    return {(s, k): parser.get(s, k) for s in parser.sections() for k in parser.options(s)}


def test_render_one_section_per_prefix_global_first():
    text = render_theanorc({"lib.cnmem": "0.8", "device": "gpu", "floatX": "float32",
                            "dnn.conv.algo_fwd": "time_once"}, ["made by a test"])
    assert text == ("# made by a test\n\n[global]\ndevice = gpu\nfloatX = float32\n\n[lib]\ncnmem = 0.8\n\n"
                    "[dnn.conv]\nalgo_fwd = time_once\n")
    assert strict_problem(text) is None


def test_render_escapes_percent_and_reads_back():
    flags = {"compiledir_format": "compiledir_%(platform)s", "cxx": "", "gcc.cxxflags": "-O3 #not-a-comment"}
    text = render_theanorc(flags)
    assert "compiledir_%%(platform)s" in text and "cxx =\n" in text
    assert theano_view(text)[("global", "compiledir_format")] == "compiledir_%(platform)s"
    assert read_flags(text) == {"compiledir_format": "compiledir_%(platform)s", "cxx": "",
                                "gcc.cxxflags": "-O3 #not-a-comment"}


def test_render_refuses_python2_inline_comment():
    with pytest.raises(UserError, match="Python 2"):
        render_theanorc({"gcc.cxxflags": "-O3 ;x"})


def test_merge_keeps_comments_order_and_unrelated_sections():
    merge = merge_theanorc(USER_FILE, {"device": "gpu", "floatX": "float32", "lib.cnmem": "0.8"})
    assert merge.text == USER_FILE.replace("floatx = float64", "floatx = float32").replace(
        "device=cpu", "device=gpu") + "\n[lib]\ncnmem = 0.8\n"
    view = theano_view(merge.text)
    assert view[("global", "floatx")] == "float32" and view[("global", "device")] == "gpu"
    assert view[("blas", "ldflags")] == "-lopenblas" and view[("lib", "cnmem")] == "0.8"
    assert sorted(merge.updated) == ["device: cpu -> gpu", "floatX: float64 -> float32"]
    assert merge.added == ["lib.cnmem = 0.8"]


def test_merge_adds_missing_key_at_the_end_of_its_section():
    merge = merge_theanorc(USER_FILE, {"blas.check_openmp": "False", "print_active_device": "True"})
    lines = merge.text.splitlines()
    assert lines[lines.index("ldflags = -lopenblas") + 1] == "check_openmp = False"
    assert lines[lines.index("openmp = True") + 1] == "print_active_device = True"
    assert strict_problem(merge.text) is None


def test_merge_is_idempotent_and_reports_unchanged():
    flags = {"device": "gpu", "lib.cnmem": "0.8"}
    once = merge_theanorc(USER_FILE, flags).text
    again = merge_theanorc(once, flags)
    assert again.text == once and not again.updated and not again.added
    assert sorted(again.unchanged) == ["device", "lib.cnmem"]


def test_merge_section_names_are_case_sensitive():
    text = "[Lib]\ncnmem = 0.5\n"
    merged = merge_theanorc(text, {"lib.cnmem": "0.8"}).text
    assert merged == "[Lib]\ncnmem = 0.5\n\n[lib]\ncnmem = 0.8\n"


def test_merge_replaces_multiline_values_and_keeps_crlf():
    text = "[gcc]\r\ncxxflags = -O3\r\n    -march=native\r\n# tail\r\n[global]\r\ndevice = cpu\r\n"
    merged = merge_theanorc(text, {"gcc.cxxflags": "-O2", "floatX": "float32"}).text
    assert merged == "[gcc]\r\ncxxflags = -O2\r\n# tail\r\n[global]\r\ndevice = cpu\r\nfloatX = float32\r\n"


def test_merge_into_file_without_final_newline():
    merged = merge_theanorc("[global]\ndevice = cpu", {"floatX": "float32", "lib.cnmem": "1"}).text
    assert merged == "[global]\ndevice = cpu\nfloatX = float32\n\n[lib]\ncnmem = 1\n"


def test_merge_keeps_the_spacing_style_of_each_line():
    text = "[global]\nfloatx=float64\ncxx =\ndevice:cpu\nopenmp =  False\n"
    merged = merge_theanorc(text, {"floatX": "float32", "cxx": "g++", "device": "gpu", "openmp": "True"}).text
    assert merged == "[global]\nfloatx=float32\ncxx = g++\ndevice:gpu\nopenmp =  True\n"


def test_merge_escapes_percent_in_place():
    merged = merge_theanorc("[global]\ncompiledir_format = x\n", {"compiledir_format": "a_%(hostname)s"}).text
    assert theano_view(merged)[("global", "compiledir_format")] == "a_%(hostname)s"


def test_merge_with_duplicates_updates_every_occurrence():
    text = "[global]\nfloatX = float64\nfloatx = float16\n"
    merged = merge_theanorc(text, {"floatX": "float32"}).text
    assert merged == "[global]\nfloatX = float32\nfloatx = float32\n"


@pytest.mark.parametrize("text,words", [
    ("[global]\nfloatX = float32\nfloatx = float64\n", "line 3: option 'floatx' appears twice in [global]"),
    ("[global]\ndevice = gpu\n[global]\nfloatX = float32\n", "line 3: section [global] appears twice"),
    ("device = gpu\n[global]\n", "line 1: 'device = gpu' comes before any [section]"),
    ("[global]\ndevice gpu\n", "line 2: 'device gpu' is neither"),
])
def test_strict_problem_names_the_line(text, words):
    assert words in strict_problem(text)


def test_strict_accepts_what_theano_accepts():
    assert strict_problem(USER_FILE) is None
    assert strict_problem("") is None
    assert strict_problem("[DEFAULT]\nx = 1\n[global]\nopenmp : True\n  continued\n") is None


names = st.sampled_from(sorted(options_for("0.9")))
plain_values = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(names, plain_values, max_size=8))
def test_merge_property_flags_land_and_nothing_else_changes(flags):
    merged = merge_theanorc(USER_FILE, flags).text
    assert strict_problem(merged) is None
    view = theano_view(merged)
    for name, value in flags.items():
        section, key = name.rsplit(".", 1) if "." in name else ("global", name)
        assert view[(section, key.lower())] == value
    before = theano_view(USER_FILE)
    touched = {(n.rsplit(".", 1)[0] if "." in n else "global", n.rsplit(".", 1)[-1].lower()) for n in flags}
    assert {k: v for k, v in before.items() if k not in touched} == {
        k: v for k, v in view.items() if k in before and k not in touched}
    comments = [line for line in USER_FILE.splitlines() if line.startswith(("#", ";", "["))]
    assert [line for line in merged.splitlines() if line in comments] == comments
