"""Oracle: what `theanogpu config` generates is exactly what the real Theano reads.

For Theano 0.8 (stacks theano08 and theano08-py27: Python 3.6 and 2.7) and 1.0 (stack theano10) the
real CLI generates a .theanorc and a THEANO_FLAGS value; inside the stack, with only that file
(THEANORC=file, no THEANO_FLAGS) or only that variable (THEANO_FLAGS=value, an empty THEANORC),
`import theano` must report every generated flag back, including values carrying ',' and '#', which
Theano's shlex-based parser would split or cut off if they were not quoted right. Without a GPU Theano
falls back to the CPU but theano.config.device still reads what was asked
(theano/sandbox/cuda/__init__.py), so the device check holds on CPU-only machines too.
"""

import json
import shlex

import pytest

pytestmark = pytest.mark.slow

# theano08-py27: the same Theano 0.8 on Python 2.7, whose own ConfigParser reads a .theanorc differently
# (no strict mode, ';' inline comments stripped); the generated texts must hold there too.
STACKS = [("theano08", "0.8", "gpu", "lib.cnmem"), ("theano10", "1.0", "cuda", "gpuarray.preallocate"),
          ("theano08-py27", "0.8", "gpu", "lib.cnmem")]

READ_BACK = """
import json, sys, theano
out = {}
for name in sys.argv[1:]:
    node = theano.config
    for part in name.split("."):
        node = getattr(node, part)
    out[name] = node if isinstance(node, (bool, int, float)) else str(node)
print(json.dumps(out))
"""


def generate(cli, theano, fmt, *extra):
    proc = cli("config", "--theano", theano, "--cnmem", "0.8", "--format", fmt, *extra, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def flags_value(stdout):
    """The value of the one `THEANO_FLAGS=...` line, unquoted as a POSIX shell would."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert len(lines) == 1, stdout
    (word,) = shlex.split(lines[0].replace("export ", "", 1))
    key, _, value = word.partition("=")
    assert key == "THEANO_FLAGS"
    return value


def same(flag_value, theano_value):
    if isinstance(theano_value, bool):
        return flag_value in (("True", "true", "1") if theano_value else ("False", "false", "0"))
    if isinstance(theano_value, (int, float)):
        return float(flag_value) == float(theano_value)
    return flag_value == theano_value


def read_back(stack_run, name, flags, via, text, tmp_path):
    """theano.config values for *flags* when Theano gets only *text* via 'theanorc' or 'flags'."""
    code = READ_BACK.replace("sys.argv[1:]", repr(sorted(flags)))
    if via == "theanorc":
        rc = tmp_path / ("%s.theanorc" % name)
        rc.write_text(text)
        return stack_run(name, code, env={"THEANORC": str(rc)}, compiledir=False)
    return stack_run(name, code, env={"THEANO_FLAGS": text})


@pytest.mark.parametrize("via", ["theanorc", "flags"])
@pytest.mark.parametrize("name, theano, device, memory_flag", STACKS)
def test_cnmem_request_is_what_theano_reads(cli, stack_run, tmp_path, name, theano, device, memory_flag, via):
    compiledir = str(tmp_path / "compiledir")
    extra = ("--set", "base_compiledir=" + compiledir)
    flags = json.loads(generate(cli, theano, "json", *extra))
    assert flags["theano"] == theano
    assert flags["flags"]["device"] == device and flags["flags"][memory_flag] == "0.8"
    text = generate(cli, theano, "theanorc" if via == "theanorc" else "flags", *extra)
    got = read_back(stack_run, name, flags["flags"], via, text if via == "theanorc" else flags_value(text),
                    tmp_path)
    assert got["device"] == device
    assert got["floatX"] == "float32"
    assert got[memory_flag] == 0.8
    assert got["base_compiledir"] == compiledir
    for key, value in flags["flags"].items():
        assert same(value, got[key]), (key, value, got[key])


@pytest.mark.parametrize("via", ["theanorc", "flags"])
@pytest.mark.parametrize("name, theano, device, memory_flag", STACKS)
def test_commas_and_hashes_survive(cli, stack_run, tmp_path, name, theano, device, memory_flag, via):
    compiledir = str(tmp_path / "dir#with,comma")
    cxxflags = "-O2 -DX=1,2#3"
    extra = ("--set", "base_compiledir=" + compiledir, "--set", "gcc.cxxflags=" + cxxflags)
    text = generate(cli, theano, "theanorc" if via == "theanorc" else "flags", *extra)
    wanted = ["base_compiledir", "gcc.cxxflags", "device", "floatX", memory_flag]
    got = read_back(stack_run, name, wanted, via, text if via == "theanorc" else flags_value(text), tmp_path)
    assert got["base_compiledir"] == compiledir
    assert got["gcc.cxxflags"] == cxxflags
    # Nothing after the '#' was lost: the flags generated after it still arrive.
    assert (got["device"], got["floatX"], got[memory_flag]) == (device, "float32", 0.8)


def test_python2_parser_specifics(cli, stack_run, tmp_path):
    """Python 2's ConfigParser strips a ' ;' comment from a value: the tool refuses such a value for a
    .theanorc and passes it through THEANO_FLAGS intact; a '%' is doubled in the file and read back single."""
    name = "theano08-py27"
    compiledir = ("--set", "base_compiledir=" + str(tmp_path / "compiledir"))
    percent = "-O2 -DRATE=50%"
    text = generate(cli, "0.8", "theanorc", "--set", "gcc.cxxflags=" + percent, *compiledir)
    assert "-DRATE=50%%" in text
    assert read_back(stack_run, name, ["gcc.cxxflags"], "theanorc", text, tmp_path)["gcc.cxxflags"] == percent
    comment = "-O2 ;-DX=1"
    refused = cli("config", "--theano", "0.8", "--set", "gcc.cxxflags=" + comment, timeout=120)
    assert refused.returncode == 2 and "inline comment for Python 2" in refused.stderr
    flags = flags_value(generate(cli, "0.8", "flags", "--set", "gcc.cxxflags=" + comment, *compiledir))
    assert read_back(stack_run, name, ["gcc.cxxflags"], "flags", flags, tmp_path)["gcc.cxxflags"] == comment
    # Why: written into a .theanorc anyway, Python 2 reads only what comes before the ' ;'.
    raw = "[global]\nbase_compiledir = %s\n\n[gcc]\ncxxflags = %s\n" % (tmp_path / "compiledir", comment)
    assert read_back(stack_run, name, ["gcc.cxxflags"], "theanorc", raw, tmp_path)["gcc.cxxflags"] == "-O2"
