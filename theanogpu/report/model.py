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

from theanogpu.devices import requested_from_flags, requested_from_name
from theanogpu.errors import UserError
from theanogpu.records import Fastest, ParseResult, Report, ReportRow, ResultsRecord, RunEntry, Spread

T = TypeVar("T")

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
    epochs = epoch_seconds(parsed)
    run: RunEntry = {"variant": name, "stack": stack, "repeat": repeat, "status": "ok" if epochs else "failed",
                     "parsed": parsed, "origin": origin, "log": parsed.get("source") or name}
    requested = requested_from_name(name)
    if requested:
        run["requested_device"] = requested
    if not epochs:
        problem = parsed.get("error") or parsed.get("last_exception")
        run["error"] = (problem.splitlines() if isinstance(problem, str) else []) + [
            "no completed epoch in the log"]
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
    median: Optional[float]
    hostname: Optional[str]


def _describe(run: RunEntry) -> _Facts:
    """One run's facts, with the requested device from the log, else the flags, else the name."""
    parsed = cast(ParseResult, run.get("parsed") or {})
    requested = (parsed.get("device_requested") or requested_from_flags(run.get("flags"))
                 or run.get("requested_device"))
    used = parsed.get("device_used")
    fallback = _run_fallback(parsed, requested, used)
    seconds = epoch_seconds(parsed)
    host = run.get("host")
    return _Facts(run, parsed, requested, used, fallback, _run_status(run, fallback), seconds,
                  seconds_per_epoch(seconds), host.get("hostname") if isinstance(host, dict) else host)


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
    for facts in group:
        if facts.run.get("stopped_early") == "stable":
            notes.append("stopped early: epoch times were stable")
            break
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
        "spread": spread,
        "warmup_seconds": statistics.median(warmups) if warmups else None,
        "speedup": None,
        "speedup_significant": None,
        "measured_speedup": None,
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


def row_name(row: ReportRow) -> str:
    """``name@stack`` (or ``name``): the spelling ``--baseline`` accepts."""
    return "%s@%s" % (row["name"], row["stack"]) if row["stack"] else row["name"]


def _matches(row: ReportRow, name: str) -> bool:
    return name in {row["name"], row_name(row), "%s+%s" % (row_name(row), row.get("target"))}


def choose_baseline(rows: Sequence[ReportRow], name: Optional[str] = None) -> Optional[int]:
    """Index of the baseline row: the row called *name*, else the first CPU run (see module doc)."""
    if name:
        for index, row in enumerate(rows):
            if _matches(row, name):
                return index
        known = sorted({row["name"] for row in rows})
        raise UserError("--baseline=%s: no run of that name; choose one of: %s"
                        % (name, ", ".join(known) if known else "(no runs)"))
    timed = [i for i, row in enumerate(rows) if row["seconds_per_epoch"] is not None and not row["fallback"]]
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
    index = choose_baseline(rows, baseline)
    notes = []
    if index is None:
        notes.append("no CPU run to compare with: no speedups (name one with --baseline)")
    else:
        base = rows[index]["seconds_per_epoch"]
        if base is None:
            notes.append("baseline %s has no epoch time: no speedups" % rows[index]["name"])
        else:
            for position, row in enumerate(rows):
                _set_speedup(row, base, rows[index] if position != index else None)
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
        "rows": rows,
        "hosts": origins,
        "show_host": len(origins) > 1,
        "notes": notes,
        "fastest": fastest_summary(rows, winners, index),
    }


def _set_speedup(row: ReportRow, base: float, baseline: Optional[ReportRow]) -> None:
    """The row's speedup vs the baseline's seconds per epoch, and whether it is more than noise.

    A fallback's ratio is CPU vs CPU: kept as ``measured_speedup``, never shown as a GPU ``speedup``.
    """
    spe = row["seconds_per_epoch"]
    if not spe:
        return
    row["measured_speedup"] = base / spe
    if not row["fallback"]:
        row["speedup"] = base / spe
    if baseline is not None:
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
            if row["status"] in FINISHED and (spe := row["seconds_per_epoch"]) is not None}


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
