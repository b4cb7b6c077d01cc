"""Progress updates out of raw output (updates.py) and the steady-state throughput from them (steady.py),
on recorded real streams of Keras 1, 2.3, 3 and tqdm, and on generated ones with known answers."""

import json
import random
import statistics
from pathlib import Path

import pytest

from theanogpu.logparse import UPDATES_SUFFIX, parse_path
from theanogpu.logparse.timestamps import format_line
from theanogpu.report.model import build
from theanogpu.steady import Estimate, estimate, ratio_interval, stable, warmup_blocks
from theanogpu.updates import Point, Tracker, format_point, points_of, read_point

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "updates"


def recorded(name):
    return points_of([tuple(json.loads(line)) for line in (FIXTURES / name).read_text().splitlines()])


@pytest.mark.parametrize("name, per_epoch, target", [
    ("keras1_theano08_backspaces.jsonl", 8, 256),
    ("keras23_theano10_pipe_lines.jsonl", None, 256),
    ("keras3_torch_carriage_returns.jsonl", 16, 16),
    ("tqdm_three_epochs.jsonl", None, 40),
])
def test_every_style_gives_dated_updates_per_epoch(name, per_epoch, target):
    points = recorded(name)
    epochs = sorted({p.epoch for p in points})
    assert epochs == ([1, 2] if "tqdm" not in name else [1, 2, 3])
    for epoch in epochs:
        mine = [p for p in points if p.epoch == epoch]
        assert all(p.target == target for p in mine)
        assert [p.done for p in mine] == sorted(p.done for p in mine)  # counts only go up within an epoch
        assert all(a.t <= b.t for a, b in zip(mine, mine[1:]))
        if per_epoch:
            assert len(mine) == per_epoch and mine[-1].done == target


def test_an_update_is_dated_when_its_count_arrives_not_when_its_line_ends():
    """Keras 2 on a pipe: an update's line ends only when the next update begins."""
    points = recorded("keras23_theano10_pipe_lines.jsonl")
    assert points[0] == Point(48.027, 32, 256, 1)  # the chunk that brought " 32/256 [==>..."
    assert points[1].t == 50.983


def test_redraws_are_thinned_to_a_few_per_second_keeping_each_epochs_last():
    found = []
    tracker = Tracker(found.append)
    tracker.feed(0.0, "o", "Epoch 1/1\n")
    for step in range(1, 1001):
        tracker.feed(step * 0.002, "o", "\r%4d/1000 [=====>....] - ETA: 1s - loss: 0.5" % step)
    tracker.feed(2.001, "o", "\n")
    tracker.close()
    assert 9 <= len(found) <= 12 and found[-1].done == 1000
    assert all(b.t - a.t >= 0.2 for a, b in zip(found, found[1:-1]))


def test_a_count_cut_by_a_chunk_boundary_is_never_read_as_one():
    found = []
    tracker = Tracker(found.append)
    tracker.feed(1.0, "o", "\r 12/25")
    tracker.feed(1.1, "o", "6 [===>...] - ETA: 3s")
    assert found == [Point(1.1, 12, 256, 0)]


def test_points_round_trip_through_their_file_lines():
    for point in (Point(12.5, 320, 50000, 3), Point(0.0, 7, None, 1)):
        assert read_point(format_point(point)) == point
    assert read_point("garbage") is None


def steady_stream(warm=30, noise=0.1, seconds_per_update=0.1, epochs=3, updates=200, seed=1):
    rng = random.Random(seed)
    points, t = [], 5.0
    for epoch in range(1, epochs + 1):
        for i in range(1, updates):
            slow = 3.0 if (epoch == 1 and i < warm) else 1.0
            t += seconds_per_update * slow * rng.uniform(1 - noise, 1 + noise)
            points.append(Point(round(t, 3), i * 32, (updates - 1) * 32, epoch))
        t += 2.0  # validation and the next epoch's start: no training
    return points


def test_warmup_is_found_in_the_data_and_left_out():
    found = estimate(steady_stream())
    assert found.rate == pytest.approx(320, rel=0.01)  # 32 per 0.1 s once warm
    assert 8 <= found.warmup_seconds <= 12  # the first 30 updates at a third of the speed
    assert found.low < 320 < found.high and found.precision < 0.01
    no_warmup = estimate(steady_stream(warm=0))
    assert no_warmup.warmup_seconds < 2


def test_mser_cuts_the_slow_start_of_a_series():
    assert warmup_blocks([1, 2, 3] + [10] * 20) == 3
    assert warmup_blocks([10, 10.2, 9.9] * 10) == 0


def test_until_stable_waits_for_precision_and_a_minimum_of_steady_time():
    points = steady_stream()
    assert stable(points[:60], 0.02, 10.0) is None  # still warming up
    early = next(n for n in range(20, len(points)) if stable(points[:n], 0.02, 10.0))
    verdict = stable(points[:early], 0.02, 10.0)
    assert verdict.precision <= 0.02 and verdict.steady_seconds >= 10.0
    assert verdict.rate == pytest.approx(320, rel=0.03)
    assert early < len(points) / 2  # a verdict long before the run's end


def test_a_run_that_never_stabilises_gets_no_verdict():
    rng = random.Random(3)
    points, t = [], 0.0
    for i in range(1, 400):
        t += 0.1 * (0.4 if (i // 20) % 2 else 1.6) * rng.uniform(0.9, 1.1)  # bursts: fast, slow, fast...
        points.append(Point(round(t, 3), i * 32, 400 * 32, 1))
    assert stable(points, 0.02, 10.0) is None
    assert estimate(points).precision > 0.02


def test_too_few_updates_give_no_estimate():
    assert estimate([Point(1.0, 32, 256, 1), Point(2.0, 64, 256, 1)]) is None
    assert estimate([]) is None


def test_ratio_interval_combines_both_uncertainties():
    fast = Estimate(rate=200.0, low=196.0, high=204.0, blocks=10, updates=50, steady_seconds=20, warmup_seconds=1)
    slow = Estimate(rate=100.0, low=97.0, high=103.0, blocks=10, updates=50, steady_seconds=20, warmup_seconds=1)
    ratio = fast.rate / slow.rate
    low, high = ratio_interval(ratio, fast.precision, slow.precision)
    assert ratio == 2.0 and low == pytest.approx(2 * (1 - 0.0361), rel=1e-3) and high > 2.07


def keras_stream(epochs=3, updates=100, validation=3.0, seed=2):
    """Keras 1/2 as they draw it: a point per batch, and the epoch's last one only after the validation
    (``validation`` seconds of no training). Returns the points and each epoch's (start, end) times."""
    rng = random.Random(seed)
    points, spans, t = [], [], 5.0
    target = updates * 32
    for epoch in range(1, epochs + 1):
        start = t
        for i in range(1, updates):
            t += 0.1 * rng.uniform(0.95, 1.05)
            points.append(Point(round(t, 3), i * 32, target, epoch))
        t += 0.1 + validation
        points.append(Point(round(t, 3), target, target, epoch))
        spans.append((start, t))
        t += 0.5
    return points, spans


def test_the_point_drawn_after_the_validation_is_no_training():
    points, _ = keras_stream()
    assert estimate(points).rate == pytest.approx(320, rel=0.01)  # 32 per 0.1 s: the validation left out


def write_run(tmp_path, points, spans, closed):
    """A timestamped log with its .updates file, as compare leaves them: epochs *closed* ended."""
    log = tmp_path / "run.log"
    lines = [format_line(0.0, "o", "Train on %d samples" % points[0].target)]
    for index, (start, end) in enumerate(spans[:closed + 1]):
        lines.append(format_line(start, "o", "Epoch %d/%d" % (index + 1, len(spans))))
        if index < closed:
            lines.append(format_line(end, "o", "%d/%d [==============================] - 13s - loss: 0.5 - "
                                               "val_loss: 0.6" % (points[0].target, points[0].target)))
    log.write_text("\n".join(lines) + "\n")
    shown = [p for p in points if p.epoch <= closed or (p.epoch == closed + 1 and p.done < p.target)]
    (tmp_path / ("run.log" + UPDATES_SUFFIX)).write_text("".join(format_point(p) + "\n" for p in shown))
    return log


def test_projected_epochs_carry_their_validation_once_an_epoch_has_shown_it(tmp_path):
    points, spans = keras_stream(epochs=4)
    epoch_seconds = statistics.median(end - start for start, end in spans)
    # Three epochs ended: the projection is a whole epoch, validation and all.
    progress = parse_path(str(write_run(tmp_path, points, spans, closed=3)))["progress"]
    assert progress["epoch_overhead"] == pytest.approx(epoch_seconds / 10.0, rel=0.03)
    assert progress["projected_seconds_per_epoch"] == pytest.approx(epoch_seconds, rel=0.03)
    # Stopped inside the first epoch: the training part only, and the report says so.
    early = tmp_path / "early"
    early.mkdir()
    progress = parse_path(str(write_run(early, points[:60], spans, closed=0)))["progress"]
    assert progress["epoch_overhead"] is None
    assert progress["projected_seconds_per_epoch"] == pytest.approx(10.0, rel=0.03)
    run = {"variant": "cpu", "stack": "s", "status": "ok", "stopped_early": "stable",
           "parsed": parse_path(str(early / "run.log"), requested_device="cpu")}
    (row,) = build([run])["rows"]
    assert row["seconds_per_epoch_source"] == "projected"
    assert any("training only: no epoch finished" in note for note in row["notes"])
