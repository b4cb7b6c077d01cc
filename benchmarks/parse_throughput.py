"""Parse throughput and peak memory on a large generated log (figures for the README).

Usage: python benchmarks/parse_throughput.py [--size MB] [--keep]

Writes a realistic log to a temporary file: Theano device lines, then epochs whose progress output
mixes Keras 1.x/2.0 (``\\b``/``\\r`` redraws), Keras 2.2 non-TTY (one line per update), Keras 3 (ANSI
colours, ``━`` bars) and verbose=2 summaries, with stderr warnings in between. It is written twice:
plain, and timestamped as ``compare`` writes it. Each file is parsed once in this process (one
core) and the script prints MB/s, the growth of peak RSS during the parse, and a check that every
epoch was found. Target: >= 50 MB/s.
"""

import argparse
import os
import resource
import sys
import tempfile
import time

from theanogpu.logparse import format_line, parse_path

STEPS = 60000
BATCH = 32


def _bar(seen, total, width=30):
    done = width * seen // total
    return "=" * max(done - 1, 0) + (">" if done < width else "=") + "." * (width - done)


def keras1_epoch(epoch, epochs, seconds):
    out = ["Epoch %d/%d" % (epoch, epochs)]
    line, width = "", 0
    for seen in range(BATCH, STEPS, BATCH):
        text = "%5d/%d [%s] - ETA: %ds - loss: %.4f - acc: %.4f" % (seen, STEPS, _bar(seen, STEPS),
                                                                    (STEPS - seen) // 2000, 2.0 / (1 + seen / 5000),
                                                                    min(0.99, seen / 61000))
        line += "\b" * width + "\r" + text
        width = len(text)
    line += "\b" * width + "\r%d/%d [%s] - %ds - loss: 0.3021 - acc: 0.9102 - val_loss: 0.2811 - val_acc: 0.9188" % (
        STEPS, STEPS, "=" * 30, seconds)
    out.append(line)
    return out


def keras22_epoch(epoch, epochs, seconds):
    out = ["Epoch %d/%d" % (epoch, epochs), ""]
    for seen in range(BATCH, STEPS, BATCH):
        out.append("%5d/%d [%s] - ETA: %ds - loss: %.4f - acc: %.4f" % (seen, STEPS, _bar(seen, STEPS),
                                                                       (STEPS - seen) // 2000,
                                                                       2.0 / (1 + seen / 5000), 0.5))
    out.append("%d/%d [%s] - %ds 330us/step - loss: 0.3021 - acc: 0.9102 - val_loss: 0.2811 - val_acc: 0.9188"
               % (STEPS, STEPS, "=" * 30, seconds))
    out.append("Epoch %05d: val_loss improved from 0.30000 to 0.28110, saving model to weights.h5" % epoch)
    return out


def keras3_epoch(epoch, epochs, seconds):
    steps = STEPS // BATCH
    line, width = "", 0
    for step in range(1, steps, 2):
        done = 20 * step // steps
        text = ("\x1b[1m%4d/%d\x1b[0m \x1b[32m%s\x1b[0m\x1b[37m%s\x1b[0m \x1b[1m%ds\x1b[0m 10ms/step - accuracy: %.4f"
                " - loss: %.4f" % (step, steps, "━" * done, "━" * (20 - done), (steps - step) // 100, 0.5, 1.2))
        line += "\b" * width + "\r" + text
        width = len(text) - 34
    line += ("\b" * width + "\r\x1b[1m%d/%d\x1b[0m \x1b[32m%s\x1b[0m\x1b[37m\x1b[0m \x1b[1m%ds\x1b[0m 10ms/step - "
             "accuracy: 0.9102 - loss: 0.3021 - val_accuracy: 0.9188 - val_loss: 0.2811" % (steps, steps, "━" * 20,
                                                                                           seconds))
    return ["Epoch %d/%d" % (epoch, epochs), line]


HEADER = [("e", "Using Theano backend."),
          ("e", "Using gpu device 0: GeForce GTX 1060 (CNMeM is enabled with initial size: 80.0% of memory, "
                "cuDNN 5105)"),
          ("o", "Train on %d samples, validate on 10000 samples" % STEPS)]
STYLES = (keras1_epoch, keras22_epoch, keras3_epoch)


def write_log(path, size, timestamped):
    epochs = 0
    t = 0.0
    with open(path, "w", encoding="utf-8", newline="") as out:
        for stream, text in HEADER:
            out.write((format_line(t, stream, text) if timestamped else text) + "\n")
        blocks = {}
        while out.tell() < size:
            epochs += 1
            style = STYLES[epochs % len(STYLES)]
            seconds = 20 + epochs % 3
            if style not in blocks or timestamped:
                lines = style(epochs, 0, seconds)
                blocks[style] = lines
            lines = blocks[style]
            if epochs % 7 == 0:
                lines = lines + ["/x/theano/tensor/nnet/conv.py:98: UserWarning: this is a warning on stderr"]
            for line in lines:
                if timestamped:
                    t += seconds / len(lines)
                    out.write(format_line(t, "o", line) + "\n")
                else:
                    out.write(line + "\n")
    return epochs


def measure(path, expected_epochs):
    size = os.path.getsize(path)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    cpu_start = time.process_time()
    result = parse_path(path)
    cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - start
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    found = len(result["epochs"])
    return {"mb": size / 1e6, "wall": wall, "cpu": cpu, "mb_per_s": size / 1e6 / cpu,
            "rss_growth_mib": (rss_after - rss_before) / 1024.0, "rss_peak_mib": rss_after / 1024.0,
            "epochs_ok": found == expected_epochs, "epochs": found, "gpu": result["gpu_name"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="size of each generated log in MB (default 256)")
    parser.add_argument("--keep", action="store_true", help="keep the generated logs")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="theanogpu-bench-")
    status = 0
    for timestamped in (False, True):
        path = os.path.join(tmp, "timestamped.log" if timestamped else "plain.log")
        started = time.perf_counter()
        epochs = write_log(path, args.size * 1000 * 1000, timestamped)
        generated = time.perf_counter() - started
        figures = measure(path, epochs)
        print("%-12s %7.1f MB (generated in %.0f s): %6.1f MB/s (%.1f s CPU, one core); peak RSS +%.1f MiB "
              "(%.0f MiB in all); %d epochs %s"
              % ("timestamped" if timestamped else "plain", figures["mb"], generated, figures["mb_per_s"],
                 figures["cpu"], figures["rss_growth_mib"], figures["rss_peak_mib"], figures["epochs"],
                 "found" if figures["epochs_ok"] else "EXPECTED %d" % epochs))
        if not figures["epochs_ok"] or figures["mb_per_s"] < 50:
            status = 1
        if not args.keep:
            os.remove(path)
    if args.keep:
        print("logs kept in", tmp)
    else:
        os.rmdir(tmp)
    return status


if __name__ == "__main__":
    sys.exit(main())
