# -*- coding: utf-8 -*-
"""Child-side tests: run INSIDE a stack, with the stack's own (old) python. tox's stack envs run this.

    python tests/child/run_child_tests.py --stack NAME [--workdir DIR] [--compiledir DIR] [--only CHECK,...]

NAME is a section of templates/stacks/stacks.ini (the same file the built-in stacks come from), so
the expectations here are the stack's own pins. Checks, in order:

  python   this interpreter is the X.Y that stacks.ini asks for
  pins     every requirement line of the stack's pin file is satisfied by what is installed
  probe    theanogpu/child/probe.py prints one JSON object that reports this environment (for
           Keras 3 stacks: the pinned framework imports and reports its own, pinned, version)
  config   (Theano stacks) Theano reads back what `theanogpu config --cnmem 0.8` generates for its
           dialect, once via THEANORC and once via THEANO_FLAGS (texts in expected_config.py)
  example  examples/cifar10_cnn.py trains one tiny epoch on the CPU (skipped while the file is absent)

Every Theano/Keras run gets an empty THEANORC, a HOME under --workdir (Keras writes keras.json
there, never into yours) and a compile directory under --workdir that is kept between runs (or the
--compiledir given: e.g. the stack's own under theanogpu's cache, whose compiled code it then reuses).
Prints one line per check and a closing `N passed, N failed, N skipped` line; exit 1 if any failed.

Python 2.7 and 3.6+, standard library only: this runs in the oldest stacks, with their own python.
"""
from __future__ import print_function

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time

try:
    import configparser
except ImportError:  # Python 2: the same parser under its old name (RawConfigParser is all we use)
    import ConfigParser as configparser

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
STACKS_DIR = os.path.join(ROOT, "templates", "stacks")
PROBE = os.path.join(ROOT, "theanogpu", "child", "probe.py")
EXAMPLE = os.path.join(ROOT, "examples", "cifar10_cnn.py")
CHECKS = ("python", "pins", "probe", "config", "example")
# Importing Theano the first time compiles C code; one tiny epoch compiles the whole model.
IMPORT_TIMEOUT = 900
EXAMPLE_TIMEOUT = 1800
# The environment a run must not inherit: the caller's Theano/Keras setup and Python overrides.
SCRUBBED = ("THEANO_FLAGS", "THEANORC", "KERAS_BACKEND", "KERAS_HOME", "PYTHONPATH", "PYTHONHOME",
            "PYTHONSTARTUP")

sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(PROBE))
import blas  # noqa: E402 (after the path setup)
import expected_config  # noqa: E402
import probe  # noqa: E402

READ_BACK = """
import json, sys, theano
out = {}
for name in %r:
    node = theano.config
    for part in name.split("."):
        node = getattr(node, part)
    out[name] = node if isinstance(node, (bool, int, float)) else str(node)
print(json.dumps(out))
"""


class Failed(Exception):
    pass


class Skipped(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failed(message)


# ------------------------------------------------------------------------------- the stack spec


def requirement_lines(text):
    lines = []
    for raw in text.splitlines():
        line = "" if raw.lstrip().startswith("#") else raw.split(" #")[0].strip()
        if line:
            lines.append(line)
    return lines


def read_stack(name):
    """{"python": "3.6", "requirements": [...], "env": {...}} from stacks.ini (as theanogpu reads it)."""
    # Raw: no interpolation, as theanogpu reads it; only the API that Python 2's parser has too.
    parser = configparser.RawConfigParser()
    parser.read(os.path.join(STACKS_DIR, "stacks.ini"))
    if not parser.has_section(name):
        raise SystemExit("run_child_tests: no stack %r in %s (known: %s)"
                         % (name, os.path.join(STACKS_DIR, "stacks.ini"), ", ".join(parser.sections())))

    def value(key):
        return parser.get(name, key) if parser.has_option(name, key) else ""

    tokens = value("requirements").split()
    if tokens and tokens[0] == "-r":
        tokens = tokens[1:]
    if len(tokens) == 1 and tokens[0].endswith(".txt"):
        with open(os.path.join(STACKS_DIR, tokens[0])) as handle:
            requirements = requirement_lines(handle.read())
    else:
        requirements = tokens
    env = dict(item.split("=", 1) for item in value("env").split() if "=" in item)
    return {"python": value("python").strip(), "requirements": requirements, "env": env}


_REQ_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")
_OPS = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def parse_requirement(line):
    """("numpy", [("==", "1.16.6")]) for "numpy==1.16.6"; specifiers split on commas."""
    match = _REQ_RE.match(line.split(";")[0].strip())
    if not match:
        raise Failed("cannot read requirement line %r" % line)
    specs = []
    for part in match.group(2).split(","):
        part = part.strip()
        if part:
            op = re.match(r"^(==|!=|<=|>=|<|>)\s*(\S+)$", part)
            if not op:
                raise Failed("cannot read version specifier %r in %r" % (part, line))
            specs.append((op.group(1), op.group(2)))
    return match.group(1).lower().replace("_", "-"), specs


def release(version):
    """(1, 16, 6) for "1.16.6" and for "1.16.6+cpu" (a local label does not change the release)."""
    return probe.version_tuple(version.split("+")[0])


def satisfies(version, specs):
    have = release(version)
    for op, wanted in specs:
        want = release(wanted)
        # ==1.2 matches 1.2.0: compare on the longer of the two, padded with zeros.
        width = max(len(have), len(want))
        left, right = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
        if not _OPS[op](left, right):
            return False
    return True


def pinned(stack, name):
    for line in stack["requirements"]:
        req_name, specs = parse_requirement(line)
        if req_name == name:
            return specs
    return None


def theano_dialect(stack):
    """"0.8", "0.9" or "1.0" from the stack's theano pin; None for a stack without Theano."""
    specs = pinned(stack, "theano")
    if not specs:
        return None
    exact = [version for op, version in specs if op == "=="]
    check(exact, "the theano pin %r is not exact; the config oracle needs to know the dialect" % specs)
    major_minor = release(exact[0])[:2]
    return "1.0" if major_minor >= (1, 0) else "%d.%d" % major_minor


# ------------------------------------------------------------------------------------- running


class Runner:
    def __init__(self, stack_name, stack, workdir, compiledir=None):
        self.name = stack_name
        self.stack = stack
        self.workdir = workdir
        self.home = os.path.join(workdir, "home")
        self.compiledir = compiledir or os.path.join(workdir, "theano-compiledir")
        self.empty_rc = os.path.join(workdir, "empty.theanorc")
        for path in (self.home, self.compiledir):
            if not os.path.isdir(path):
                os.makedirs(path)
        with open(self.empty_rc, "w") as handle:
            handle.write("# empty on purpose: keeps ~/.theanorc out of the child tests\n")
        self.dialect = theano_dialect(stack)
        self._probe = None

    def env(self, **changes):
        env = dict((k, v) for k, v in os.environ.items() if k not in SCRUBBED)
        env.update(HOME=self.home, THEANORC=self.empty_rc, PYTHONUNBUFFERED="1",
                   KERAS_BACKEND="theano" if self.dialect else "")
        env.update(self.stack["env"])
        env.update(changes)
        return dict((k, v) for k, v in env.items() if v != "")

    def run(self, argv, env, timeout):
        """(exit code, stdout, stderr) of *argv* with *env*; a timeout is a failure."""
        started = time.time()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                cwd=self.workdir)
        expired = []

        def expire():
            expired.append(True)
            proc.kill()

        # A timer, not communicate(timeout=): Python 2 has no such argument.
        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            out, err = proc.communicate()
        finally:
            timer.cancel()
        if expired:
            raise Failed("%s did not finish within %d s" % (" ".join(argv[:3]), timeout))
        self.last_seconds = time.time() - started
        return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def compiledir_flag(self):
        return "base_compiledir=" + self.compiledir

    # ------------------------------------------------------------------------------- checks

    def check_python(self):
        wanted = self.stack["python"]
        have = "%d.%d.%d" % sys.version_info[:3]
        check(have == wanted or have.startswith(wanted + "."),
              "stacks.ini asks for Python %s for %s, but this is Python %s (%s): tox.ini's base_python "
              "and stacks.ini disagree" % (wanted, self.name, have, sys.executable))
        return "Python %s at %s" % (have, sys.executable)

    def check_pins(self):
        installed = probe.installed_versions()
        wrong = []
        for line in self.stack["requirements"]:
            name, specs = parse_requirement(line)
            version = installed.get(name)
            if version is None or not satisfies(version, specs):
                wrong.append("%s (installed: %s)" % (line, version or "nothing"))
        check(not wrong, "not installed as pinned: " + "; ".join(wrong))
        return "%d requirement lines satisfied" % len(self.stack["requirements"])

    def probe_report(self):
        """The probe's JSON for this stack (run once)."""
        if self._probe is None:
            code, out, err = self.run([sys.executable, PROBE], self.env(THEANO_FLAGS=self.compiledir_flag()),
                                      IMPORT_TIMEOUT)
            check(code == 0, "probe exited %s: %s" % (code, tail(err)))
            lines = [line for line in out.splitlines() if line.strip()]
            check(len(lines) == 1, "probe must print exactly one line (one JSON object), printed %d: %s"
                  % (len(lines), tail(out)))
            self._probe = json.loads(lines[0])
        return self._probe

    def check_probe(self):
        report = self.probe_report()
        check(isinstance(report, dict) and report.get("probe") == 1,
              "not a probe report: %s" % json.dumps(report)[:200])
        python = report["python"]
        check(python["version"] == "%d.%d.%d" % sys.version_info[:3] and python["prefix"] == sys.prefix,
              "probe ran in %s, not in this stack (%s)" % (python, sys.prefix))
        for name in ("theano", "keras", "numpy", "scipy", "h5py"):
            specs = pinned(self.stack, name)
            if specs:
                version = report["packages"][name]["version"]
                check(version and satisfies(version, specs),
                      "probe reports %s %s, the pin is %s" % (name, version, specs))
        backend = report["keras_backend"]["backend"]
        wanted_backend = self.stack["env"].get("KERAS_BACKEND", "theano")
        check(backend == wanted_backend, "probe says Keras would use %s, expected %s" % (backend, wanted_backend))
        summary = "probe schema 1, Keras backend %s" % backend
        frameworks = self.check_frameworks(report)
        if frameworks:
            summary += ", " + frameworks
        if self.dialect:
            theano = report["theano"]
            check(theano["imported"] and not theano["error"],
                  "Theano did not import: %s" % (theano["error"] or tail("\n".join(theano.get("stderr", [])))))
            requested = "gpu" if self.dialect < "1.0" else "cuda"
            check(theano["device_requested"] == requested and theano["config"]["device"] == requested,
                  "probe asked for device %s, Theano reads %s" % (requested, theano["config"].get("device")))
            check(theano["config"]["floatX"] == "float32", "floatX is %s" % theano["config"]["floatX"])
            summary += ", Theano %s imported with device=%s (GPU active: %s)" % (
                theano["version"], requested, theano["gpu_activated"])
        return summary

    def check_frameworks(self, report):
        """Each pinned modern framework is in the probe's "frameworks", imported, at its pinned version."""
        found = report.get("frameworks")
        check(isinstance(found, dict), "the probe reports no frameworks section")
        seen = []
        for name, dists in sorted(probe.FRAMEWORK_DISTS.items()):
            specs = [pinned(self.stack, dist) for dist in dists if pinned(self.stack, dist) is not None]
            if not specs:
                continue
            entry = found.get(name) or {}
            check(entry, "%s is pinned but the probe's frameworks section has no %s entry" % (name, name))
            check(not entry.get("error"), "import %s fails in the probe: %s" % (name, entry.get("error")))
            check(entry.get("version") and satisfies(entry["version"], specs[0]),
                  "%s itself reports version %s, the pin is %s" % (name, entry.get("version"), specs[0]))
            jaxlib = pinned(self.stack, "jaxlib")
            if name == "jax" and jaxlib:
                check(entry.get("jaxlib_version") and satisfies(entry["jaxlib_version"], jaxlib),
                      "jaxlib reports version %s, the pin is %s" % (entry.get("jaxlib_version"), jaxlib))
            seen.append("%s %s" % (name, entry["version"]))
        backend = self.stack["env"].get("KERAS_BACKEND")
        if not self.dialect and backend in probe.FRAMEWORK_DISTS:
            check(backend in found, "Keras 3 would use %s, which the probe did not find installed" % backend)
        if not self.dialect:
            check(not found or seen, "frameworks found but none pinned: %s" % sorted(found))
        return ", ".join(seen)

    def read_back(self, names, theanorc, flags):
        code_text = READ_BACK % (sorted(names),)
        env = self.env(THEANORC=theanorc, THEANO_FLAGS=flags)
        code, out, err = self.run([sys.executable, "-c", code_text], env, IMPORT_TIMEOUT)
        check(code == 0, "import theano failed (THEANORC=%s, THEANO_FLAGS=%s): %s" % (theanorc, flags, tail(err)))
        check("does not recognise this flag" not in err,
              "Theano warned about a flag it does not know: %s" % [line for line in err.splitlines()
                                                                 if "recognise" in line])
        lines = [line for line in out.splitlines() if line.startswith("{")]
        check(lines, "no result printed: %s" % tail(out + err))
        return json.loads(lines[-1])

    def check_config(self):
        if not self.dialect:
            raise Skipped("no Theano in this stack")
        case = expected_config.CASES[self.dialect]
        wanted = case["reads"]
        # 1. the generated .theanorc alone (THEANO_FLAGS only moves the compile directory)
        rc_path = os.path.join(self.workdir, "generated-%s.theanorc" % self.dialect)
        with open(rc_path, "w") as handle:
            handle.write(case["theanorc"])
        got = self.read_back(wanted, rc_path, self.compiledir_flag())
        check(got == wanted, "via THEANORC Theano reads %s, the request was %s" % (got, wanted))
        # 2. the generated THEANO_FLAGS alone (the empty THEANORC), as a shell would pass it
        (word,) = shlex.split(case["flags"])
        key, _, value = word.partition("=")
        check(key == "THEANO_FLAGS", "unexpected flags line %r" % case["flags"])
        got = self.read_back(wanted, self.empty_rc, value + "," + self.compiledir_flag())
        check(got == wanted, "via THEANO_FLAGS Theano reads %s, the request was %s" % (got, wanted))
        return "Theano %s reads %s via THEANORC and via THEANO_FLAGS" % (self.dialect, wanted)

    def check_example(self):
        if not os.path.isfile(EXAMPLE):
            raise Skipped("%s does not exist yet" % os.path.relpath(EXAMPLE, ROOT))
        flags = "device=cpu,floatX=float32," + self.compiledir_flag()
        note = ""
        bundled = self.dialect and blas.bundled_openblas()
        if bundled and self.probe_report()["theano"]["config"].get("blas.ldflags") == "":
            # No system BLAS: Theano 0.8 then has no CPU convolution for border_mode='half' (Keras's
            # 'same'), and 0.9/1.0 fall back to slow NumPy paths. NumPy's wheel ships an OpenBLAS.
            flags += ',blas.ldflags="-L%s -l:%s"' % bundled
            note = ", linked NumPy's bundled OpenBLAS (no system BLAS)"
        argv = [sys.executable, "-u", EXAMPLE, "--epochs", "1", "--samples", "64"]
        code, out, err = self.run(argv, self.env(THEANO_FLAGS=flags), EXAMPLE_TIMEOUT)
        text = out + "\n" + err
        check(code == 0, "%s exited %s:%s" % (" ".join(argv[1:]), code, tail(text, 25)))
        backend = self.stack["env"].get("KERAS_BACKEND", "theano")
        device = example_record(text, "theanogpu-device")
        check(device.get("backend") == backend and device.get("device") == "cpu",
              "asked for backend %s on the CPU, the example reports %s" % (backend, device))
        result = example_record(text, "theanogpu-result")
        check(result.get("epochs") == 1 and len(result.get("epoch_seconds") or []) == 1,
              "the example did not report one finished epoch: %s" % result)
        # Keras's own epoch line (all versions print `loss: <value>` once an epoch is done).
        check(re.search(r"\bloss: [-+0-9.e]+", text), "no completed epoch (loss) in its output:%s" % tail(text, 25))
        return "one epoch of 64 samples on %s/%s in %.0f s (Keras %s%s)" % (
            backend, device.get("device"), self.last_seconds, result.get("keras"), note)


def example_record(text, tag):
    """The JSON object of the example's last ``<tag>: {...}`` line."""
    found = [line.split(":", 1)[1] for line in text.splitlines() if line.startswith(tag + ":")]
    check(found, "the example printed no `%s:` line:%s" % (tag, tail(text, 25)))
    try:
        record = json.loads(found[-1])
    except ValueError:
        record = None
    # Raised outside the except clause: Python 2 has no `raise ... from None`.
    check(record is not None, "the example's %s line is not JSON: %s" % (tag, found[-1][:200]))
    check(isinstance(record, dict), "the example's %s line is not a JSON object" % tag)
    return record


def say(text):
    """Print one line; on Python 2 unicode text goes out as UTF-8 (a pipe's ASCII would fail on it)."""
    if not isinstance(text, str):
        text = text.encode("utf-8", "replace")
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def tail(text, lines=8):
    kept = [line.rstrip() for line in text.replace("\r", "\n").splitlines() if line.strip()]
    return "\n    ".join([""] + kept[-lines:]) if kept else "(no output)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="a section of templates/stacks/stacks.ini")
    parser.add_argument("--workdir", help="for generated files, HOME and Theano's compile directory "
                                          "(default: a new temporary directory)")
    parser.add_argument("--compiledir", help="Theano's base_compiledir for every run (default: one in --workdir)")
    parser.add_argument("--only", default=",".join(CHECKS), help="comma-separated subset of: " + ", ".join(CHECKS))
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in only if name not in CHECKS]
    if unknown:
        parser.error("unknown check(s) %s; choose from %s" % (", ".join(unknown), ", ".join(CHECKS)))
    workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="theanogpu-child-"))
    if not os.path.isdir(workdir):
        os.makedirs(workdir)
    compiledir = os.path.abspath(args.compiledir) if args.compiledir else None
    runner = Runner(args.stack, read_stack(args.stack), workdir, compiledir)
    say("child tests for stack %s in %s (Python %s), workdir %s"
        % (args.stack, sys.prefix, sys.version.split()[0], workdir))
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for name in only:
        started = time.time()
        try:
            detail = getattr(runner, "check_" + name)()
            outcome = "passed"
        except Skipped as exc:
            outcome, detail = "skipped", str(exc)
        except Failed as exc:
            outcome, detail = "failed", str(exc)
        counts[outcome] += 1
        label = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[outcome]
        say("%s %-8s %5.1f s  %s" % (label, name, time.time() - started, detail))
    say("%d passed, %d failed, %d skipped" % (counts["passed"], counts["failed"], counts["skipped"]))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
