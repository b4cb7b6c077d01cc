"""results.json (schema 1): build, check, save atomically, load, merge.

A results file is the record of one comparison: the machine it ran on and one entry per run
(variant x stack x repeat) with its status and its parse object. `compare` rewrites it after every
run, so it must never be left half-written; `report` reads any number of them, from any machine.
"""

import json
import math
import re
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union, cast

from theanogpu import fsutil, recordcheck
from theanogpu.clock import utc_now
from theanogpu.errors import UserError
from theanogpu.records import Host, ResultsRecord, RunEntry
from theanogpu.textsafe import visible

SCHEMA = 1
# A comparison's record is a few KB per run: even 1000 repeats of a large matrix stay far below this.
MAX_BYTES = 64 * 1000 * 1000
# "cancelled": its cluster job was cancelled by someone else; "submitted"/"running": a cluster job that
# had not ended when the file was written (a resume re-attaches to it).
STATUSES = ("ok", "failed", "timeout", "interrupted", "skipped", "cancelled", "submitted", "running")


class ResultsError(UserError):
    """A results.json that cannot be used; the message names the file."""


def new_results(host: Optional[Dict[str, Any]] = None, created: Optional[str] = None) -> ResultsRecord:
    """An empty schema-1 record; *host* defaults to this machine (see hostinfo.collect)."""
    if host is None:
        from theanogpu import hostinfo  # runs nvidia-smi: only when needed

        host = hostinfo.collect()
    return {"schema": SCHEMA, "created": created or utc_now(), "host": cast(Host, host), "runs": []}


def run_key(run: RunEntry) -> Tuple[Any, ...]:
    """What identifies a run inside one comparison: (variant, stack, repeat, cluster target or None)."""
    return (run.get("variant"), run.get("stack"), run.get("repeat", 1), run.get("target"))


def add_run(record: ResultsRecord, run: RunEntry) -> ResultsRecord:
    """Append *run* to *record* (in place) and return *record*."""
    record["runs"].append(run)
    return record


def replace_run(record: ResultsRecord, run: RunEntry) -> ResultsRecord:
    """Put *run* in place of an earlier run with the same key (a resumed comparison), else append it."""
    key = run_key(run)
    for index, earlier in enumerate(record["runs"]):
        if run_key(earlier) == key:
            record["runs"][index] = run
            return record
    return add_run(record, run)


def json_safe(value: object) -> object:
    """*value* with non-finite floats (a diverged loss: nan) as strings, so the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def dumps(record: Any) -> str:
    return json.dumps(json_safe(record), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def save(path: Union[str, Path], record: ResultsRecord) -> None:
    """Check *record* and write it to *path* atomically (readers see the old or the new file)."""
    validate(record, str(path))
    record["updated"] = utc_now()
    fsutil.atomic_write_text(path, dumps(record))


def validate(record: object, source: str) -> ResultsRecord:
    """*record* if it is a schema-1 results record; otherwise ResultsError naming *source*."""
    if not isinstance(record, dict):
        raise ResultsError("%s: not a theanogpu results file (expected a JSON object, found %s)"
                           % (source, type(record).__name__))
    if "schema" not in record:
        raise ResultsError('%s: not a theanogpu results file (no "schema" key); give results.json files or '
                           "training logs" % source)
    schema = record["schema"]
    if schema != SCHEMA or isinstance(schema, bool):
        newer = isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA
        raise ResultsError("%s: results schema %r, this theanogpu reads schema %d%s"
                           % (source, schema, SCHEMA, "; upgrade theanogpu to read it" if newer else ""))
    runs = record.get("runs")
    if not isinstance(runs, list):
        raise ResultsError('%s: "runs" must be a list of runs' % source)
    for number, run in enumerate(runs, 1):
        _validate_run(run, number, source)
    host = record.get("host")
    if host is not None and not isinstance(host, dict):
        raise ResultsError('%s: "host" must be an object' % source)
    wrong = recordcheck.problem({key: record[key] for key in ("created", "updated", "host") if key in record},
                                ResultsRecord)
    if wrong:
        raise ResultsError("%s: %s; fix or remove that field" % (source, wrong))
    return cast(ResultsRecord, record)


def _validate_run(run: object, number: int, source: str) -> None:
    """Every field of one run has the type records.RunEntry declares (ResultsError naming the field)."""
    if not isinstance(run, dict):
        raise ResultsError("%s: run %d is not a JSON object" % (source, number))
    if not isinstance(run.get("variant"), str) or not run["variant"]:
        raise ResultsError('%s: run %d has no "variant" name' % (source, number))
    name = visible(run["variant"])
    if not isinstance(run.get("status"), str):
        raise ResultsError('%s: run %d (%s) has no "status"' % (source, number, name))
    wrong = recordcheck.problem(run, RunEntry)
    if wrong:
        raise ResultsError("%s: run %d (%s): %s; fix or remove that field" % (source, number, name, wrong))


def _cut_short(text: str, exc: json.JSONDecodeError) -> bool:
    """Whether the JSON error is the text running out (a truncated file) rather than bad text."""
    if exc.msg.startswith("Unterminated string"):  # an open string runs to the end of the text
        return True
    rest = text[exc.pos:].strip()
    # A number or literal cut mid-way ("1.", "2e-", "tru") fails just before the end.
    return not rest or bool(re.fullmatch(r"[.eE][+-]?|[+-]", rest)) or any(
        word.startswith(rest) for word in ("true", "false", "null", "NaN", "Infinity", "-Infinity"))


def loads(text: str, source: str) -> ResultsRecord:
    """Parse and check the text of a results file (pure)."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        if _cut_short(text, exc):
            raise ResultsError("%s: the JSON ends early at line %d (truncated, e.g. by a full disk or a copy "
                               "that stopped); restore it or run the comparison again with the same --out"
                               % (source, exc.lineno)) from None
        raise ResultsError("%s: not valid JSON (line %d, column %d: %s)"
                           % (source, exc.lineno, exc.colno, exc.msg)) from None
    except RecursionError:
        raise ResultsError("%s: not a theanogpu results file (JSON nested too deeply)" % source) from None
    return validate(record, source)


def load(path: Union[str, Path]) -> ResultsRecord:
    """Read and check a results.json; ResultsError (one line naming the file) when it cannot be used.

    Only a regular file of at most MAX_BYTES is read: a FIFO would hang, /dev/zero never ends.
    """
    path = Path(path)
    try:
        text = fsutil.read_limited(path, MAX_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise ResultsError("%s: no such file" % path) from None
    except IsADirectoryError:
        raise ResultsError("%s: is a directory; give the results.json inside it" % path) from None
    except PermissionError:
        raise ResultsError("%s: cannot read it (permission denied)" % path) from None
    except UnicodeDecodeError:
        raise ResultsError("%s: not a theanogpu results file (not UTF-8 text)" % path) from None
    except OSError as exc:
        raise ResultsError("%s: cannot read it (%s)" % (path, exc.strerror or exc)) from None
    return loads(text, str(path))


def load_or_new(path: Union[str, Path], host: Optional[Dict[str, Any]] = None) -> ResultsRecord:
    """The record at *path* (to resume a comparison) or a new one when there is no file yet.

    A file that exists but cannot be read is an error, never silently replaced: it holds finished runs.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return new_results(host)
    return load(path)


def hostname(record: ResultsRecord) -> Optional[str]:
    host = record.get("host") or {}
    name = host.get("hostname") if isinstance(host, dict) else None
    return name if isinstance(name, str) and name else None
