"""PURE: runs (from results.json files or parsed logs) -> report rows with medians, spreads, speedups.

A *run* here is one results.json run entry (``variant``, ``stack``, ``repeat``, ``status``,
``parsed``, ``flags``, ``error``...) plus an ``origin``: a label for where it came from (a host and
date, or a log directory), so that runs from different machines never count as repeats of each
other. Runs with the same origin, name and stack are repeats and make one row.
"""

import re
import statistics
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence

from theanogpu.devices import requested_from_flags, requested_from_name
from theanogpu.errors import UserError

# Worst first: a row with repeats that ended differently shows the worst status.
STATUS_ORDER = ("failed", "timeout", "interrupted", "fallback", "skipped", "ok")
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


def run_from_log(parsed: dict, log_name: LogName, origin: Optional[str] = None) -> dict:
    """A run entry for a raw log: its name comes from the file stem, its status from what it holds."""
    name, stack, repeat = log_name
    epochs = epoch_seconds(parsed)
    run = {"variant": name, "stack": stack, "repeat": repeat, "status": "ok" if epochs else "failed",
           "parsed": parsed, "origin": origin, "log": parsed.get("source") or name}
    requested = requested_from_name(name)
    if requested:
        run["requested_device"] = requested
    if not epochs:
        problem = parsed.get("error") or parsed.get("last_exception")
        run["error"] = (problem.splitlines() if isinstance(problem, str) else []) + [
            "no completed epoch in the log"]
    return run


def runs_from_record(record: dict, origin: Optional[str] = None) -> List[dict]:
    """The runs of a results record, each tagged with *origin* (unless it has its own)."""
    runs = []
    for run in record.get("runs", []):
        tagged = dict(run)
        tagged.setdefault("host", record.get("host"))
        if tagged.get("origin") is None:
            tagged["origin"] = origin
        runs.append(tagged)
    return runs


def epoch_seconds(parsed: Optional[dict]) -> List[float]:
    """Seconds of each completed epoch that printed a time, in order."""
    seconds = []
    for epoch in (parsed or {}).get("epochs") or []:
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


def _spread(values: Sequence[float], over: str) -> Optional[dict]:
    if len(values) < 2:
        return None
    low, high, middle = min(values), max(values), statistics.median(values)
    percent = (high - low) / middle * 100.0 if middle > 0 else None
    return {"over": over, "n": len(values), "min": low, "max": high, "percent": percent}


def _first(values: Iterable[object]) -> object:
    for value in values:
        if value is not None:
            return value
    return None


def _run_status(run: dict, fallback: Optional[bool]) -> str:
    status = run.get("status") or "ok"
    return "fallback" if status == "ok" and fallback else status


def _run_fallback(parsed: dict, requested: Optional[str], used: Optional[str]) -> Optional[bool]:
    fallback = parsed.get("fallback")
    if fallback is None and requested == "gpu" and used == "cpu":
        return True
    return fallback if isinstance(fallback, bool) else None


def _describe(run: dict) -> dict:
    """One run's facts, with the requested device from the log, else the flags, else the name."""
    parsed = run.get("parsed") or {}
    flags = run.get("flags") or {}
    requested = (parsed.get("device_requested") or requested_from_flags(flags) or run.get("requested_device"))
    used = parsed.get("device_used")
    fallback = _run_fallback(parsed, requested, used)
    seconds = epoch_seconds(parsed)
    host = run.get("host")
    return {
        "run": run, "parsed": parsed, "requested": requested, "used": used, "fallback": fallback,
        "status": _run_status(run, fallback), "seconds": seconds, "median": seconds_per_epoch(seconds),
        "hostname": host.get("hostname") if isinstance(host, dict) else host,
    }


def _group(runs: Sequence[dict]) -> List[List[dict]]:
    groups: Dict[tuple, List[dict]] = {}
    for run in runs:
        info = _describe(run)
        key = (run.get("origin"), info["hostname"], run.get("variant"), run.get("stack"))
        groups.setdefault(key, []).append(info)
    return [sorted(group, key=lambda info: info["run"].get("repeat") or 1) for group in groups.values()]


def _warmup(info: dict) -> Optional[float]:
    extra = info["parsed"].get("first_epoch_extra_seconds")
    if isinstance(extra, (int, float)) and not isinstance(extra, bool):
        return float(extra)
    return warmup_seconds(info["seconds"])


def _cudnn(value: object) -> Optional[str]:
    if value is None:
        return None
    return str(value).strip()


def _row(group: List[dict]) -> dict:
    medians = [info["median"] for info in group if info["median"] is not None]
    statuses = [info["status"] for info in group]
    status = min(statuses, key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 0)
    fallbacks = [info["fallback"] for info in group]
    fallback = True if True in fallbacks else (False if False in fallbacks else None)
    parsed = [info["parsed"] for info in group]
    first = group[0]
    if len(medians) >= 2:
        spread = _spread(medians, "repeats")
    else:
        steady = next((steady_epochs(info["seconds"]) for info in group if info["median"] is not None), [])
        spread = _spread(steady, "epochs")
    warmups = [w for w in (_warmup(info) for info in group) if w is not None]
    notes = []
    if len(group) > 1 and len(set(statuses)) > 1:
        notes.append("repeats: " + ", ".join(statuses))
    for info in group:
        if info["run"].get("stopped_early") == "stable":
            notes.append("stopped early: epoch times were stable")
            break
    errors = _first(info["run"].get("error") or info["parsed"].get("error")
                    for info in group if info["status"] not in ("ok", "fallback"))
    if isinstance(errors, str):
        errors = errors.splitlines()
    return {
        "name": first["run"].get("variant"),
        "stack": first["run"].get("stack"),
        "host": first["hostname"],
        "origin": first["run"].get("origin"),
        "repeats": len(group),
        "backend": _first(p.get("backend") for p in parsed),
        "device_requested": _first(info["requested"] for info in group),
        "device_used": _first(info["used"] for info in group),
        "gpu_name": _first(p.get("gpu_name") for p in parsed),
        "cnmem": _first(p.get("cnmem") for p in parsed),
        "cudnn": _cudnn(_first(p.get("cudnn") for p in parsed)),
        "epochs": max((len(info["seconds"]) for info in group), default=0),
        "seconds_per_epoch": statistics.median(medians) if medians else None,
        "spread": spread,
        "warmup_seconds": statistics.median(warmups) if warmups else None,
        "speedup": None,
        "fastest": False,
        "status": status,
        "fallback": fallback,
        "fallback_reason": _first(p.get("fallback_reason") for p in parsed) if fallback else None,
        "error": list(errors) if errors else None,
        "skip_reason": _first(info["run"].get("skip_reason") for info in group),
        "data": _first(p.get("data") for p in parsed),
        "notes": notes,
        "logs": [info["run"].get("log") for info in group if info["run"].get("log")],
    }


def row_name(row: dict) -> str:
    """``name@stack`` (or ``name``): the spelling ``--baseline`` accepts."""
    return "%s@%s" % (row["name"], row["stack"]) if row["stack"] else row["name"]


def _matches(row: dict, name: str) -> bool:
    return name in {row["name"], row_name(row)}


def choose_baseline(rows: Sequence[dict], name: Optional[str] = None) -> Optional[int]:
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


def build(runs: Sequence[dict], baseline: Optional[str] = None) -> dict:
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
            for row in rows:
                spe = row["seconds_per_epoch"]
                row["speedup"] = base / spe if spe else None
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


def fastest_indexes(rows: Sequence[dict]) -> List[int]:
    """Indexes of the rows with the lowest seconds per epoch among finished, timed rows.

    Empty unless at least two rows compete: a lone run is not "the fastest" of anything. All rows
    of an exact tie win, so that the order of the inputs never picks a winner.
    """
    timed = [i for i, row in enumerate(rows)
             if row["status"] in FINISHED and row["seconds_per_epoch"] is not None]
    if len(timed) < 2:
        return []
    best = min(rows[i]["seconds_per_epoch"] for i in timed)
    return [i for i in timed if rows[i]["seconds_per_epoch"] == best]


# Without a measured spread, a win by less than this is not told apart from noise.
NOISE_MARGIN = 0.02


def clear_of(rows: Sequence[dict], winners: Sequence[int]) -> Optional[bool]:
    """Whether the winner is faster than the runner-up beyond the noise: their spreads (min..max
    over repeats or epochs) do not overlap, or without spreads, it wins by more than 2 %.
    None when there is no runner-up (a tie of all rows)."""
    timed = [i for i, row in enumerate(rows) if row["status"] in FINISHED and row["seconds_per_epoch"] is not None
             and i not in winners]
    if not winners or not timed:
        return None
    best, runner = rows[winners[0]], min((rows[i] for i in timed), key=lambda row: row["seconds_per_epoch"])
    best_spread, runner_spread = best.get("spread"), runner.get("spread")
    if best_spread and runner_spread:
        return best_spread["max"] < runner_spread["min"]
    return best["seconds_per_epoch"] < runner["seconds_per_epoch"] * (1 - NOISE_MARGIN)


def fastest_summary(rows: Sequence[dict], winners: Sequence[int], baseline: Optional[int]) -> Optional[dict]:
    """The winner as the JSON report's top-level ``fastest`` (the first one on a tie), or None.

    ``vs_baseline`` names the row that ``speedup`` is relative to; both are None without one.
    ``indexes`` lists every tied winner; ``fallback`` and ``device_used`` keep a fallback that won
    from reading as a GPU win.
    """
    if not winners:
        return None
    row = rows[winners[0]]
    compared = row["speedup"] is not None and baseline is not None
    return {
        "name": row["name"],
        "stack": row["stack"],
        "host": origin_label(row),
        "clear_of": clear_of(rows, winners),
        "seconds_per_epoch": row["seconds_per_epoch"],
        "speedup": row["speedup"] if compared else None,
        "vs_baseline": row_name(rows[baseline]) if compared else None,
        "device_used": row["device_used"],
        "fallback": bool(row["fallback"]),
        "indexes": list(winners),
    }


def origin_label(row: dict) -> str:
    """What tells a row's machine/date/directory apart from the others' (the "host" column)."""
    return row.get("origin") or row.get("host") or "-"
