"""A CPU-bound stand-in for a Keras training run, for measuring the harness's overhead.

It does real numpy work and prints like Keras 1 with verbose=1: a progress bar redrawn with ``\\b``
and ``\\r`` every few milliseconds (the chattiest output Keras produces), then an epoch summary.
"""

import argparse
import sys
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--steps", type=int, default=400)
args = parser.parse_args()

rng = np.random.RandomState(0)
weights = rng.rand(256, 256).astype("float32")
batch = rng.rand(64, 256).astype("float32")
print("Train on %d samples, validate on 0 samples" % (args.steps * 32))
width = 0
for epoch in range(1, args.epochs + 1):
    print("Epoch %d/%d" % (epoch, args.epochs))
    start = time.time()
    for step in range(1, args.steps + 1):
        for _ in range(20):
            batch = np.tanh(batch.dot(weights) * 0.01)
        bar = "%5d/%d [%s>%s] - ETA: %ds - loss: %.4f" % (
            step * 32, args.steps * 32, "=" * (step * 29 // args.steps), "." * (29 - step * 29 // args.steps),
            1, float(batch.mean()))
        sys.stdout.write("\b" * width + "\r" + bar)
        sys.stdout.flush()
        width = len(bar)
    sys.stdout.write("\b" * width + "\r%d/%d [==============================] - %ds - loss: %.4f\n"
                     % (args.steps * 32, args.steps * 32, time.time() - start, float(batch.mean())))
    sys.stdout.flush()
