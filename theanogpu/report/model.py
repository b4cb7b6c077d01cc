"""PURE: runs (from results.json files or parsed logs) -> report rows with medians, spreads, speedups.

A *run* here is one results.json run entry (``variant``, ``stack``, ``repeat``, ``status``,
``parsed``, ``flags``, ``error``...) plus an ``origin``: a label for where it came from (a host and
date, or a log directory), so that runs from different machines never count as repeats of each
other. Runs with the same origin, name and stack are repeats and make one row; on a cluster, also the
same target and node (runs on two nodes are two rows, never repeats of each other).
"""

import re
import statistics
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, TypeVar, cast

from theanogpu import steady
from theanogpu.devices import requested_from_flags, requested_from_name
from theanogpu.errors import UserError
from theanogpu.records import Fastest, ParseResult, Report, ReportRow, ResultsRecord, RunEntry, Spread

T = TypeVar("T")

# What rows are compared on, best first: the first that every finished row has is the report's measure
# (seconds, lower is faster). (row field, table header, words, unit)
MEASURES = {
    "epoch": ("seconds_per_epoch", "s/epoch", "seconds per epoch", "s/epoch"),
    "loop": ("script_seconds", "loop s", "the loop time the scripts printed", "s"),
    "wall": ("wall_seconds", "wall s", "wall time", "s"),
}
# Worst first: a row with repeats that ended differently shows the worst status.
STATUS_ORDER = ("failed", "timeout", "cancelled", "interrupted", "fallback", "submitted", "running", "skipped", "ok")
# Statuses of a finished, measured training that did what its variant asked: only these rows compete
# for "the fastest". A fallback's time is real, but it measures another configuration (the CPU) than
# the row's name says, so naming it the winner would mislead.
FINISHED = ("ok",)
_LOG_NAME = re.compile(r"^(?P<name>.*?)(?:@(?P<stack>[^@#]+))?(?:#(?P<repeat>\d+))?$")


class LogName(NamedTuple):
    """What a log's file stem says: ``gpu-cnmem@theano08#2`` is variant, stack, repeat."""

    name: str
    stack: Optional[str]
    repeat: int


def split_log_name(stem: str) -> LogName:
    """``gpu-cnmem@theano08#2`` -> ("gpu-cnmem", "theano08", 2); ``cpu`` -> ("cpu", None, 1)."""
    match = _LOG_NAME.match(stem)
    name = match.group("name") if match else stem
    if not name or match is None:  # "@theano08" names nothing: keep the stem whole rather than an empty name
        return LogName(stem, None, 1)
    repeat = int(match.group("repeat")) if match.group("repeat") else 1
    return LogName(name, match.group("stack"), max(repeat, 1))


def short_dir_labels(directories: Sequence[str]) -> Dict[str, str]:
    """Each directory's shortest trailing path that no other one shares: a/runs, b/runs -> a/runs, b/runs;
    logs, fixtures/classic -> logs, classic."""
    parts = {d: [p for p in re.split(r"[/\\]+", d) if p not in ("", ".")] or [d] for d in set(directories)}
    labels = {}
    for directory, mine in parts.items():
        for count in range(1, len(mine) + 1):
            tail = mine[-count:]
            if all(other[-count:] != tail for d, other in parts.items() if d != directory):
                break
        labels[directory] = "/".join(tail)
    return labels


def run_from_log(parsed: ParseResult, log_name: LogName, origin: Optional[str] = None) -> RunEntry:
    """A run entry for a raw log: its name comes from the file stem, its status from what it holds."""
    name, stack, repeat = log_name
    # A log has no exit status: it failed only if it says so (an error, a traceback's exception).
    problem = parsed.get("error") or parsed.get("last_exception")
    run: RunEntry = {"variant": name, "stack": stack, "repeat": repeat, "status": "failed" if problem else "ok",
                     "parsed": parsed, "origin": origin, "log": parsed.get("source") or name}
    requested = requested_from_name(name)
    if requested:
        run["requested_device"] = requested
    if problem:
        run["error"] = problem.splitlines() + ([] if epoch_seconds(parsed) else ["no completed epoch in the log"])
    return run


def runs_from_record(record: ResultsRecord, origin: Optional[str] = None) -> List[RunEntry]:
    """The runs of a results record, each tagged with *origin* (unless it has its own)."""
    runs = []
    for run in record.get("runs", []):
        tagged: RunEntry = dict(run)  # type: ignore[assignment]  # checked by results.validate
        tagged.setdefault("host", record.get("host"))
        if tagged.get("origin") is None:
            tagged["origin"] = origin
        runs.append(tagged)
    return runs


def epoch_seconds(parsed: Optional[ParseResult]) -> List[float]:
    """Seconds of each completed epoch that printed a time, in order."""
    seconds = []
    for epoch in (parsed.get("epochs") if parsed else None) or []:
        value = epoch.get("seconds") if isinstance(epoch, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and value >= 0:
            seconds.append(float(value))
    return seconds


def steady_epochs(seconds: Sequence[float]) -> List[float]:
    """The epochs that measure training: all of them, less the first (compilation) when there are 3+."""
    return list(seconds[1:]) if len(seconds) >= 3 else list(seconds)


def seconds_per_epoch(seconds: Sequence[float]) -> Optional[float]:
    """Median over completed epochs, leaving out the first epoch when there are three or more."""
    steady = steady_epochs(seconds)
    return statistics.median(steady) if steady else None


def warmup_seconds(seconds: Sequence[float]) -> Optional[float]:
    """How much longer the first epoch took than the steady ones (compilation, cache warm-up)."""
    if len(seconds) < 3:
        return None
    return seconds[0] - statistics.median(seconds[1:])


def _spread(values: Sequence[float], over: str) -> Optional[Spread]:
    if len(values) < 2:
        return None
    low, high, middle = min(values), max(values), statistics.median(values)
    percent = (high - low) / middle * 100.0 if middle > 0 else None
    return {"over": over, "n": len(values), "min": low, "max": high, "percent": percent}


def _first(values: Iterable[Optional[T]]) -> Optional[T]:
    for value in values:
        if value is not None:
            return value
    return None


def _run_status(run: RunEntry, fallback: Optional[bool]) -> str:
    status = run.get("status") or "ok"
    return "fallback" if status == "ok" and fallback else status


def _run_fallback(parsed: ParseResult, requested: Optional[str], used: Optional[str]) -> Optional[bool]:
    fallback = parsed.get("fallback")
    if fallback is None and requested == "gpu" and used == "cpu":
        return True
    return fallback if isinstance(fallback, bool) else None


@dataclass
class _Facts:
    """One run's facts, as a row needs them."""

    run: RunEntry
    parsed: ParseResult
    requested: Optional[str]
    used: Optional[str]
    fallback: Optional[bool]
    status: str
    seconds: List[float]
    median: Optional[float]  # seconds per epoch: from epochs, else projected from the throughput
    hostname: Optional[str]
    projected: bool = False
    estimate: Optional[Dict[str, Any]] = None  # steady-state throughput (logparse.progress_summary)


def _describe(run: RunEntry) -> _Facts:
    """One run's facts, with the requested device from the log, else the flags, else the name."""
    parsed = cast(ParseResult, run.get("parsed") or {})
    requested = (parsed.get("device_requested") or requested_from_flags(run.get("flags"))
                 or run.get("requested_device"))
    used = parsed.get("device_used")
    fallback = _run_fallback(parsed, requested, used)
    seconds = epoch_seconds(parsed)
    host = run.get("host")
    found = parsed.get("progress")
    progress: Dict[str, Any] = found if isinstance(found, dict) else {}
    estimate = progress.get("estimate") if isinstance(progress.get("estimate"), dict) else None
    median = seconds_per_epoch(seconds)
    # A run --until-stable stopped has few epochs, the first still warm: its steady rate says more.
    early = (run.get("stopped_early") or parsed.get("stopped_early")) == "stable" and estimate is not None
    projected = (median is None or early) and isinstance(progress.get("projected_seconds_per_epoch"), (int, float))
    if projected:
        median = float(progress["projected_seconds_per_epoch"])
    return _Facts(run, parsed, requested, used, fallback, _run_status(run, fallback), seconds, median,
                  host.get("hostname") if isinstance(host, dict) else host, projected, estimate)


def _overhead(facts: _Facts) -> Optional[float]:
    """The epoch's validation and end as a factor on its training (logparse.progress_summary), if known."""
    progress = facts.parsed.get("progress")
    value = progress.get("epoch_overhead") if isinstance(progress, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _group(runs: Sequence[RunEntry]) -> List[List[_Facts]]:
    groups: Dict[Tuple[Any, ...], List[_Facts]] = {}
    for run in runs:
        facts = _describe(run)
        key = (run.get("origin"), facts.hostname, run.get("variant"), run.get("stack"), run.get("target"),
               run.get("node"))
        groups.setdefault(key, []).append(facts)
    return [sorted(group, key=lambda facts: facts.run.get("repeat") or 1) for group in groups.values()]


def _warmup(facts: _Facts) -> Optional[float]:
    extra = facts.parsed.get("first_epoch_extra_seconds")
    if isinstance(extra, (int, float)) and not isinstance(extra, bool):
        return float(extra)
    return warmup_seconds(facts.seconds)


def _cudnn(value: object) -> Optional[str]:
    if value is None:
        return None
    return str(value).strip()


def _row(group: List[_Facts]) -> ReportRow:
    medians = [facts.median for facts in group if facts.median is not None]
    statuses = [facts.status for facts in group]
    status = min(statuses, key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 0)
    fallbacks = [facts.fallback for facts in group]
    fallback = True if True in fallbacks else (False if False in fallbacks else None)
    parsed = [facts.parsed for facts in group]
    first = group[0]
    if len(medians) >= 2:
        spread = _spread(medians, "repeats")
    else:
        steady = next((steady_epochs(facts.seconds) for facts in group if facts.median is not None), [])
        spread = _spread(steady, "epochs")
    warmups = [w for w in (_warmup(facts) for facts in group) if w is not None]
    notes = []
    if len(group) > 1 and len(set(statuses)) > 1:
        notes.append("repeats: " + ", ".join(statuses))
    estimate = _row_estimate(group)
    for facts in group:
        if (facts.run.get("stopped_early") or facts.parsed.get("stopped_early")) == "stable":
            notes.append("stopped early: its speed was known within +-%.1f %%" % (estimate["precision"] * 100)
                         if estimate else "stopped early: epoch times were stable")
            break
    if not any(facts.seconds or facts.projected for facts in group) and status in ("ok", "fallback"):
        notes.append("no completed epoch in the log")
    projected = [facts for facts in group if facts.projected]
    if projected and estimate:
        notes.append("s/epoch projected from %d updates over %.1f s of steady training (+-%.1f %%)%s"
                     % (estimate["updates"], estimate["steady_seconds"], estimate["precision"] * 100,
                        "" if any(_overhead(facts) for facts in projected) else
                        "; training only: no epoch finished, so the epoch's validation is not in it"))
    found: Any = _first(facts.run.get("error") or facts.parsed.get("error")
                        for facts in group if facts.status not in ("ok", "fallback"))
    errors: Optional[List[str]] = found.splitlines() if isinstance(found, str) else found
    return {
        "name": first.run.get("variant") or "",
        "stack": first.run.get("stack"),
        "host": first.hostname,
        "origin": first.run.get("origin"),
        "repeats": len(group),
        "backend": _first(p.get("backend") for p in parsed),
        "device_requested": _first(facts.requested for facts in group),
        "device_used": _first(facts.used for facts in group),
        "gpu_name": _first(p.get("gpu_name") for p in parsed),
        "cnmem": _first(p.get("cnmem") for p in parsed),
        "cudnn": _cudnn(_first(p.get("cudnn") for p in parsed)),
        "epochs": max((len(facts.seconds) for facts in group), default=0),
        "seconds_per_epoch": statistics.median(medians) if medians else None,
        "script_seconds": _median(_number(facts.parsed.get("script_seconds")) for facts in group),
        "wall_seconds": _median(_wall(facts) for facts in group),
        "measured_seconds": None,
        "spread": spread,
        "warmup_seconds": statistics.median(warmups) if warmups else None,
        "speedup": None,
        "speedup_significant": None,
        "measured_speedup": None,
        "speedup_low": None,
        "speedup_high": None,
        "seconds_per_epoch_source": ("projected" if projected and len(projected) == len(medians) else
                                     "epochs" if medians else None),
        "throughput": estimate,
        "fastest": False,
        "status": status,
        "fallback": fallback,
        "fallback_reason": _first(p.get("fallback_reason") for p in parsed) if fallback else None,
        "error": list(errors) if errors else None,
        "skip_reason": _first(facts.run.get("skip_reason") for facts in group),
        "data": _first(p.get("data") for p in parsed),
        "notes": notes,
        "logs": [log for log in (facts.run.get("log") for facts in group) if log],
        "target": first.run.get("target"),
        "node": first.run.get("node"),
        "job_gpus": _first(facts.run.get("job_gpus") or None for facts in group),
    }


def _number(value: object) -> Optional[float]:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None


def _median(values: Iterable[Optional[float]]) -> Optional[float]:
    found = [value for value in values if value is not None]
    return statistics.median(found) if found else None


def _wall(facts: _Facts) -> Optional[float]:
    """The run's wall time: as compare measured it, else the last timestamp of its log (a skipped run
    never ran: none)."""
    if facts.status == "skipped":
        return None
    return _number(facts.run.get("wall_seconds")) if facts.run.get("wall_seconds") is not None else _number(
        facts.parsed.get("log_seconds"))


def measure_value(row: ReportRow, measure: str) -> Optional[float]:
    """The row's seconds in *measure* (a key of MEASURES)."""
    if measure == "loop":
        return row["script_seconds"]
    if measure == "wall":
        return row["wall_seconds"]
    return row["seconds_per_epoch"]


def choose_measure(rows: Sequence[ReportRow]) -> str:
    """What the rows are compared on: the first measure every finished row has (see MEASURES)."""
    finished = [row for row in rows if row["status"] in ("ok", "fallback")]
    for measure in MEASURES:
        if finished and all(measure_value(row, measure) is not None for row in finished):
            return measure
    return "epoch"


def row_name(row: ReportRow) -> str:
    """``name@stack`` (or ``name``): the spelling ``--baseline`` accepts."""
    return "%s@%s" % (row["name"], row["stack"]) if row["stack"] else row["name"]


def _matches(row: ReportRow, name: str) -> bool:
    return name in {row["name"], row_name(row), "%s+%s" % (row_name(row), row.get("target"))}


def choose_baseline(rows: Sequence[ReportRow], name: Optional[str] = None, measure: str = "epoch") -> Optional[int]:
    """Index of the baseline row: the row called *name*, else the first CPU run with the measure."""
    if name:
        for index, row in enumerate(rows):
            if _matches(row, name):
                return index
        known = sorted({row["name"] for row in rows})
        raise UserError("--baseline=%s: no run of that name; choose one of: %s"
                        % (name, ", ".join(known) if known else "(no runs)"))
    timed = [i for i, row in enumerate(rows) if row["measured_seconds"] is not None and not row["fallback"]]
    for index in timed:
        if rows[index]["device_used"] == "cpu":
            return index
    for index in timed:
        if rows[index]["device_used"] is None and rows[index]["device_requested"] == "cpu":
            return index
    return None


def build(runs: Sequence[RunEntry], baseline: Optional[str] = None) -> Report:
    """The report: ``{"baseline", "baseline_index", "rows", "hosts", "show_host", "notes", "fastest"}``.

    Rows keep the order in which their first run appears. Speedup is baseline seconds per epoch
    divided by the row's. Without a CPU run (and no *baseline*) there are no speedups. Each row's
    ``fastest`` and the report's ``fastest`` follow :func:`fastest_indexes`.
    """
    rows = [_row(group) for group in _group(runs)]
    measure = choose_measure(rows)
    words = MEASURES[measure][2]
    for row in rows:
        row["measured_seconds"] = measure_value(row, measure)
    index = choose_baseline(rows, baseline, measure)
    notes = []
    if index is None:
        cpu_rows = [row for row in rows if row["device_used"] == "cpu" and not row["fallback"]]
        notes.append("no CPU run %sto compare with: no speedups (name one with --baseline)"
                     % ("with %s " % words if cpu_rows else ""))
    else:
        base = rows[index]["measured_seconds"]
        if base is None:
            notes.append("baseline %s has no %s: no speedups" % (row_name(rows[index]), words))
        else:
            for position, row in enumerate(rows):
                _set_speedup(row, base, rows[index] if position != index else None, measure == "epoch")
    origins = []
    for row in rows:
        label = origin_label(row)
        if label not in origins:
            origins.append(label)
    winners = fastest_indexes(rows)
    for winner in winners:
        rows[winner]["fastest"] = True
    return {
        "baseline": rows[index]["name"] if index is not None else None,
        "baseline_index": index,
        "measure": measure,
        "rows": rows,
        "hosts": origins,
        "show_host": len(origins) > 1,
        "notes": notes,
        "fastest": fastest_summary(rows, winners, index),
    }


def _row_estimate(group: List[_Facts]) -> Optional[Dict[str, Any]]:
    """The row's steady-state throughput: its repeats' median rate, with the widest precision of them."""
    found = [facts.estimate for facts in group if facts.estimate and facts.estimate.get("rate")]
    if not found:
        return None
    rate = statistics.median(float(estimate["rate"]) for estimate in found)
    precision = max(float(estimate.get("precision") or 0.0) for estimate in found)
    first = found[0]
    return {"rate": rate, "low": rate * (1 - precision), "high": rate * (1 + precision), "precision": precision,
            "updates": sum(int(estimate.get("updates") or 0) for estimate in found),
            "steady_seconds": sum(float(estimate.get("steady_seconds") or 0.0) for estimate in found),
            "warmup_seconds": first.get("warmup_seconds")}


def _set_speedup(row: ReportRow, base: float, baseline: Optional[ReportRow], by_epochs: bool = True) -> None:
    """The row's speedup vs the baseline's seconds per epoch, and whether it is more than noise.

    A fallback's ratio is CPU vs CPU: kept as ``measured_speedup``, never shown as a GPU ``speedup``.
    With both rows' steady-state throughputs known, the speedup gets their combined 95 % interval.
    """
    spe = row["measured_seconds"]
    if not spe:
        return
    row["measured_speedup"] = base / spe
    if not row["fallback"]:
        row["speedup"] = base / spe
    if baseline is None:
        return
    mine, theirs = row.get("throughput"), baseline.get("throughput")
    if mine and theirs and row["speedup"] is not None:
        low, high = steady.ratio_interval(row["speedup"], mine["precision"], theirs["precision"])
        row["speedup_low"], row["speedup_high"] = low, high
        row["speedup_significant"] = not (low <= 1.0 <= high)
    elif by_epochs:  # the spreads are of epoch times: they say nothing of a loop or wall time
        row["speedup_significant"] = significant(row, baseline)


def significant(row: ReportRow, baseline: ReportRow) -> Optional[bool]:
    """Whether two rows' seconds per epoch differ beyond what each measured of its own noise: their
    ranges (min..max over repeats, else over steady epochs) do not overlap. None: too few
    measurements to tell (a row with one timed epoch and one run has no range)."""
    mine, theirs = row["spread"], baseline["spread"]
    if not mine or not theirs:
        return None
    return mine["max"] < theirs["min"] or mine["min"] > theirs["max"]


def fastest_indexes(rows: Sequence[ReportRow]) -> List[int]:
    """Indexes of the rows with the lowest seconds per epoch among finished, timed rows.

    Empty unless at least two rows compete: a lone run is not "the fastest" of anything. All rows
    of an exact tie win, so that the order of the inputs never picks a winner.
    """
    timed = _finished_times(rows)
    if len(timed) < 2:
        return []
    best = min(timed.values())
    return [i for i, seconds in timed.items() if seconds == best]


def _finished_times(rows: Sequence[ReportRow]) -> Dict[int, float]:
    """{index: seconds per epoch} of the rows that compete for "the fastest"."""
    return {i: spe for i, row in enumerate(rows)
            if row["status"] in FINISHED and (spe := row["measured_seconds"]) is not None}


# Without a measured spread, a win by less than this is not told apart from noise.
NOISE_MARGIN = 0.02


def clear_of(rows: Sequence[ReportRow], winners: Sequence[int]) -> Optional[bool]:
    """Whether the winner is faster than the runner-up beyond the noise: their spreads (min..max
    over repeats or epochs) do not overlap, or without spreads, it wins by more than 2 %.
    None when there is no runner-up (a tie of all rows)."""
    times = _finished_times(rows)
    others = {i: seconds for i, seconds in times.items() if i not in winners}
    if not winners or not others or winners[0] not in times:
        return None
    runner_index = min(others, key=lambda i: others[i])
    best, runner = rows[winners[0]], rows[runner_index]
    best_spread, runner_spread = best.get("spread"), runner.get("spread")
    if best_spread and runner_spread:
        return best_spread["max"] < runner_spread["min"]
    return times[winners[0]] < others[runner_index] * (1 - NOISE_MARGIN)


def fastest_summary(rows: Sequence[ReportRow], winners: Sequence[int], baseline: Optional[int]) -> Optional[Fastest]:
    """The winner as the JSON report's top-level ``fastest`` (the first one on a tie), or None.

    ``vs_baseline`` names the row that ``speedup`` is relative to; both are None without one.
    ``indexes`` lists every tied winner; ``fallback`` and ``device_used`` keep a fallback that won
    from reading as a GPU win.
    """
    if not winners:
        return None
    row = rows[winners[0]]
    compared = row["speedup"] is not None and baseline is not None
    summary: Fastest = {
        "name": row["name"],
        "stack": row["stack"],
        "host": origin_label(row),
        "clear_of": clear_of(rows, winners),
        "seconds_per_epoch": row["seconds_per_epoch"],
        "seconds": row["measured_seconds"],
        "speedup": row["speedup"] if compared else None,
        "vs_baseline": row_name(rows[baseline]) if compared and baseline is not None else None,
        "device_used": row["device_used"],
        "fallback": bool(row["fallback"]),
        "indexes": list(winners),
    }
    return summary


def origin_label(row: ReportRow) -> str:
    """What tells a row's machine/date/directory apart from the others' (the "host" column)."""
    return row.get("origin") or row.get("host") or "-"
