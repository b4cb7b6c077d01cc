"""EDGE: a report's inputs (results.json files and raw training logs) read into runs for model.build.

The one reader for `report` (any mix of inputs, each problem named, the others still read) and for
`compare` (its own results.json, reported at the end).
"""

from pathlib import Path
from typing import List, Sequence, Tuple

from theanogpu import fsutil, results
from theanogpu.devices import requested_from_name
from theanogpu.records import ParseResult, ResultsRecord, RunEntry
from theanogpu.report import model


def is_results_file(path: Path) -> bool:
    """results.json by name, or any file whose text starts with ``{`` (logs never do)."""
    if path.suffix.lower() == ".json":
        return True
    with fsutil.open_regular(path) as handle:  # a FIFO or a device is refused, never waited on
        head = handle.read(512)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def results_labels(records: List[Tuple[Path, ResultsRecord]]) -> List[str]:
    """The host of each record, with its date where one host has several records."""
    names = [results.hostname(record) or str(path.parent) for path, record in records]
    short = [name.split(".")[0] if results.hostname(record) else name
             for name, (_, record) in zip(names, records)]
    if len(set(short)) == len(set(names)):  # gpu-node-17.cluster.example.org -> gpu-node-17
        names = short
    labels = []
    for name, (_, record) in zip(names, records):
        if names.count(name) > 1 and isinstance(record.get("created"), str):
            name = "%s %s" % (name, record["created"][:16].replace("T", " "))
        labels.append(name)
    return labels


def _read_one(path: Path, records: List[Tuple[Path, ResultsRecord]],
              logs: List[Tuple[Path, model.LogName, ParseResult]]) -> None:
    if not path.exists():
        raise FileNotFoundError(2, "no such file", str(path))
    if path.is_dir():
        inside = path / "results.json"
        raise results.ResultsError("%s: is a directory; give %s" % (
            path, inside if inside.is_file() else "its results.json or its .log files"))
    fsutil.open_regular(path).close()  # what is not a regular file is refused before anything reads it
    if is_results_file(path):
        records.append((path, results.load(path)))
        return
    from theanogpu.logparse import parse_path  # the parser is only needed for logs

    name = model.split_log_name(path.stem)
    logs.append((path, name, parse_path(str(path), requested_device=requested_from_name(name.name))))


def read_inputs(inputs: Sequence[str]) -> Tuple[List[RunEntry], List[str]]:
    """(runs, problems): every usable run of *inputs*, and one line per input that is not usable."""
    problems: List[str] = []
    records: List[Tuple[Path, ResultsRecord]] = []
    logs: List[Tuple[Path, model.LogName, ParseResult]] = []
    seen = set()
    for text in inputs:
        path = Path(text)
        key = str(path.resolve()) if path.exists() else text
        if key in seen:
            continue
        seen.add(key)
        try:
            _read_one(path, records, logs)
        except results.ResultsError as exc:
            problems.append(str(exc))
        except FileNotFoundError:
            problems.append("%s: no such file" % path)
        except PermissionError:
            problems.append("%s: cannot read it (permission denied)" % path)
        except OSError as exc:
            problems.append("%s: cannot read it (%s)" % (path, exc.strerror or exc))
        except Exception as exc:  # one odd log must not sink the report of the others
            problems.append("%s: could not parse it (%s: %s); please report this with the file"
                            % (path, type(exc).__name__, exc))
    runs: List[RunEntry] = []
    for label, (_, record) in zip(results_labels(records), records):
        runs += model.runs_from_record(record, origin=label)
    dirs = model.short_dir_labels([str(path.parent) for path, _, _ in logs])
    for path, name, parsed in logs:
        run = model.run_from_log(parsed, name, origin=dirs[str(path.parent)])
        run["log"] = path.name
        runs.append(run)
    return runs, problems
