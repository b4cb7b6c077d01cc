"""Memory stays flat however big the log: a generated stream (never written to disk) parsed in a child.

The child process reports its peak RSS before and after parsing, so the measurement is not blurred
by whatever the test process itself allocated before.
"""

import json
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(r'''
    import json, resource, sys
    from theanogpu.logparse import parse_stream

    def epoch_block(tty):
        out = ["Epoch 1/1000\n"]
        width = 0
        for seen in range(32, 60000, 32):
            line = "%5d/60000 [%s>%s] - ETA: %ds - loss: 0.%04d - acc: 0.%04d" % (
                seen, "=" * (seen * 29 // 60000), "." * (29 - seen * 29 // 60000), 60 - seen // 1000, seen % 9999, 42)
            if tty:
                out.append("\b" * width + "\r" + line)
                width = len(line)
            else:
                out.append("\n" + line)
        out.append(("\b" * width + "\r" if tty else "\n") + "60000/60000 [==============================] - 20s "
                   "300us/step - loss: 0.1234 - acc: 0.9876 - val_loss: 0.2 - val_acc: 0.95\n")
        out.append("junk \xff\x00 line ignored\n")
        return "".join(out).encode("utf-8", "surrogateescape")

    class Generated:
        """A binary file of *total* bytes, produced on demand."""
        def __init__(self, total):
            head = (b"Using Theano backend.\nUsing gpu device 0: GeForce GTX 1060 (CNMeM is enabled with initial "
                    b"size: 80.0% of memory, cuDNN 5105)\n")
            self.parts = [head, epoch_block(True), b"x" * (8 << 20) + b"\n", epoch_block(False)]
            self.total, self.sent, self.index, self.pos = total, 0, 0, 0
        def read(self, n):
            if self.sent >= self.total:
                return b""
            part = self.parts[self.index]
            data = part[self.pos:self.pos + n]
            self.pos += len(data)
            if self.pos >= len(part):
                self.index = 1 if self.index == 3 else self.index + 1
                if self.index == 2 and self.sent > (1 << 25):
                    self.index = 3   # one giant line early on is enough
                self.pos = 0
            self.sent += len(data)
            return data

    total = int(sys.argv[1])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = parse_stream(Generated(total))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"before_kib": before, "after_kib": after, "epochs": len(result["epochs"]),
                      "gpu": result["gpu_name"], "warnings": result["warnings"]}))
''')


def measure(total):
    proc = subprocess.run([sys.executable, "-c", CHILD, str(total)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def check_flat(total, limit_mib):
    report = measure(total)
    growth_mib = (report["after_kib"] - report["before_kib"]) / 1024.0
    assert report["gpu"] == "GeForce GTX 1060"
    assert report["epochs"] > total // (4 << 20)  # about one epoch per 2 MB of log
    assert any("longer than" in w for w in report["warnings"])  # the 8 MB line was cut, not stored
    assert growth_mib < limit_mib, report
    return growth_mib


def test_memory_is_flat_on_a_generated_64_mb_log():
    check_flat(64 << 20, limit_mib=40)


@pytest.mark.slow
def test_memory_is_flat_on_a_generated_1_gb_log():
    check_flat(1 << 30, limit_mib=40)
