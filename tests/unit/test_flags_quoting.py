"""THEANO_FLAGS: Theano's own parsing algorithm and a generator it always reads back exactly."""

import shlex
import string
import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from theanogpu.flags import format_theano_flags, parse_theano_flags, quote_flag_value, shell_assignment


def test_parse_matches_the_reference_examples():
    # Every line here was checked against theano/configparser.py's parse_config_string.
    assert parse_theano_flags("x=1\ny=2") == {"x": "1\ny=2"}
    assert parse_theano_flags("nvcc.flags=-arch=sm_30") == {"nvcc.flags": "-arch=sm_30"}
    assert parse_theano_flags("floatX = float32") == {"floatX ": " float32"}
    assert parse_theano_flags('gcc.cxxflags="-O3 -march=native"') == {"gcc.cxxflags": "-O3 -march=native"}
    assert parse_theano_flags('nvcc.flags="-a,-b"') == {"nvcc.flags": "-a,-b"}
    assert parse_theano_flags("contexts='dev0->cuda0;dev1->cuda1'") == {"contexts": "dev0->cuda0;dev1->cuda1"}
    assert parse_theano_flags(r"x=a\,b") == {"x": "a,b"}
    assert parse_theano_flags("base_compiledir=/tmp/a#b,floatX=float32") == {"base_compiledir": "/tmp/a"}
    assert parse_theano_flags("a=1,,b=2,") == {"a": "1", "b": "2"}
    assert parse_theano_flags("cxx=") == {"cxx": ""}
    assert parse_theano_flags("c,a=1") == {"a": "1"}
    assert parse_theano_flags("a=1,a=2") == {"a": "2"}
    assert parse_theano_flags(" device=gpu , floatX=float32 ") == {"device": "gpu", "floatX": "float32"}


def test_quoting_only_when_needed():
    assert quote_flag_value("float32") == "float32"
    assert quote_flag_value("-arch=sm_30") == "-arch=sm_30"
    assert quote_flag_value("") == ""
    assert quote_flag_value("-a,-b") == '"-a,-b"'
    assert quote_flag_value("/tmp/a#b") == '"/tmp/a#b"'
    assert quote_flag_value('say "hi"') == '"say \\"hi\\""'
    assert quote_flag_value("C:\\x") == '"C:\\\\x"'
    assert quote_flag_value("it's") == '"it\'s"'


def test_format_is_joined_with_commas_and_no_spaces():
    text = format_theano_flags({"device": "gpu", "floatX": "float32", "lib.cnmem": "0.8"})
    assert text == "device=gpu,floatX=float32,lib.cnmem=0.8"


def test_format_refuses_what_cannot_round_trip():
    for bad in ({"floatX ": "float32"}, {"a=b": "1"}, {"x": "trailing "}, {"": "1"}):
        try:
            format_theano_flags(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,20}", fullmatch=True)
# Anything a user might put in a value, including every character shlex treats specially; Theano
# strips each item, so values with surrounding whitespace are out of scope (validation refuses them).
values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30).filter(lambda v: v == v.strip())
tricky = st.text(alphabet=string.printable + "\u00e9\u00a0", max_size=30).filter(lambda v: v == v.strip())


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, st.one_of(values, tricky), max_size=6))
def test_parse_of_format_is_identity(flags):
    assert parse_theano_flags(format_theano_flags(flags)) == flags


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(keys, tricky.filter(lambda v: "\x00" not in v), max_size=4))
def test_shell_line_survives_a_real_posix_shell(flags):
    line = shell_assignment(flags)
    # The shell strips its own quoting; what remains must be exactly the THEANO_FLAGS value.
    assert shlex.split(line) == ["THEANO_FLAGS=" + format_theano_flags(flags)]


def test_shell_line_through_sh():
    flags = {"gcc.cxxflags": "-O3 -march=native", "nvcc.flags": "-a,-b", "base_compiledir": "/tmp/it's #1"}
    line = shell_assignment(flags, export=True)
    assert line.startswith("export THEANO_FLAGS=")
    out = subprocess.run(["sh", "-c", line + '; printf %s "$THEANO_FLAGS"'], capture_output=True, text=True)
    assert parse_theano_flags(out.stdout) == flags
