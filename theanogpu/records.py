"""PURE: the records that flow through theanogpu, typed in one place.

variants -> runs -> logs -> ``ParseResult`` (logparse) -> ``RunEntry`` (results.json) ->
``ReportRow`` / ``Report`` (report.model) -> renderers. Each is a TypedDict: at run time a plain dict
(what JSON gives and takes), for mypy a record whose every field is spelled once, here. The JSON and
CSV reports derive their columns from ``ReportRowDoc``.

Records read back from a results.json may come from another version of the tool: readers use
``.get`` for every key that a record declares optional (``total=False``).
"""

from typing import Any, Dict, List, Optional, TypedDict, Union

# --------------------------------------------------------------------------------- parse results


class Cnmem(TypedDict, total=False):
    """The memory pool as the log prints it: CNMeM (0.8/0.9) or gpuarray preallocation (0.9/1.0)."""

    enabled: bool
    fraction: Optional[float]  # 0.8 for "80.0% of memory"
    megabytes: Optional[float]
    preallocated_mb: int
    total_mb: int


class Epoch(TypedDict, total=False):
    epoch: int
    of: Optional[int]
    seconds: Optional[float]  # measured from timestamps when the log has them, else as printed
    metrics: Dict[str, Optional[float]]
    printed_seconds: Optional[float]  # what the progress line said (Keras prints whole seconds)
    seconds_per_step: Optional[float]
    target: Optional[int]  # the N of N/N
    origin: str  # which form the epoch came from (keras, tqdm, loop ...)


class GpuDevice(TypedDict):
    device: str
    context: Optional[str]
    name: Optional[str]


class _ParseCore(TypedDict):
    """The fields `theanogpu parse --format json` promises for every log."""

    source: Optional[str]
    backend: Optional[str]
    device_requested: Optional[str]
    device_used: Optional[str]
    gpu_name: Optional[str]
    cnmem: Optional[Cnmem]
    cudnn: Optional[str]
    fallback: Optional[bool]
    epochs: List[Epoch]
    warnings: List[str]


class ParseResult(_ParseCore, total=False):
    """The parse object plus theanogpu's extra fields (documented in logparse/__init__.py)."""

    fallback_reason: Optional[str]
    error: Optional[str]
    last_exception: Optional[str]
    user_frame: Optional[str]  # the last traceback frame in the user's own code, with its line
    stopped_early: Optional[str]  # "stable": theanogpu stopped the run once its speed was known
    keras_backend: Optional[str]
    gpu_devices: List[GpuDevice]
    preallocated: Optional[Dict[str, Any]]
    allocation_cache: Optional[bool]
    samples: Optional[Dict[str, Any]]
    first_epoch_extra_seconds: Optional[float]
    timestamped: bool
    seconds_before_first_epoch: Optional[float]
    log_seconds: Optional[float]
    device_info: Optional[Dict[str, Any]]
    run_info: Optional[Dict[str, Any]]
    result_info: Optional[Dict[str, Any]]
    data: Optional[Dict[str, Any]]
    synthetic_data: Optional[bool]
    script_seconds: Optional[float]
    script_timing: Optional[str]
    progress: Dict[str, Any]  # from the updates file: count, steady-state estimate, projected s/epoch


# ------------------------------------------------------------------------------- results.json


class Host(TypedDict, total=False):
    """The machine a comparison ran on (hostinfo.collect)."""

    hostname: str
    cpu: str
    gpus: List[str]
    os: str
    python: str


class RunEntry(TypedDict, total=False):
    """One run in results.json (schema 1), and what report.model adds to it."""

    variant: str
    stack: Optional[str]
    repeat: int
    status: str  # ok | failed | timeout | interrupted | skipped | cancelled; in flight: submitted | running
    exit_code: Optional[int]
    wall_seconds: float
    log: Optional[str]
    parsed: Optional[ParseResult]
    flags: Dict[str, str]  # THEANO_FLAGS as set (Theano stacks)
    env: Dict[str, str]  # what the variant set besides THEANO_FLAGS
    variant_keys: Dict[str, str]  # the variant as the matrix wrote it
    backend: str
    requested_device: Optional[str]
    notes: List[str]
    started: Optional[str]  # null for a run that never started (skipped)
    command: Optional[str]  # one shell line that reproduces the run (null: it never ran)
    stopped_early: str  # "stable": --until-stable ended it
    error: List[str]  # a failed run's last lines, its error first
    skip_reason: Optional[str]
    identity: Dict[str, Any]  # what makes it this run (run/identity.py): a resume keeps it only if equal
    identity_hash: str
    datasets: List[str]  # the user's dataset caches the run could read (run/datasets.py)
    dataset_changes: List[str]  # files of those caches that changed during the run
    # Where a cluster ran it (run/slurm.py; absent for a local run): the --on target, the scheduler's job
    # and its own directory, the node and the GPUs the job saw from inside, the scheduler's final state.
    launcher: str  # "slurm"
    target: Optional[str]
    job_id: str
    job_dir: str  # relative to the output directory: unique per submission (job ids restart)
    node: Optional[str]
    job_gpus: List[str]
    job_state: Optional[str]  # COMPLETED, FAILED, TIMEOUT, CANCELLED, OUT_OF_MEMORY, NODE_FAIL ...
    submitted: str
    reason: str  # why it ended as it did, when the status alone does not say (the scheduler's word)
    # Added when a report reads the run: where it came from, and the machine's record.
    origin: Optional[str]
    host: Union[Host, str, None]  # the record's host, or a host name


class ResultsRecord(TypedDict, total=False):
    schema: int
    created: str
    updated: str
    host: Host
    runs: List[RunEntry]


# --------------------------------------------------------------------------------------- report


class Spread(TypedDict):
    over: str  # repeats | epochs
    n: int
    min: float
    max: float
    percent: Optional[float]


class ReportRowDoc(TypedDict):
    """A report row as the JSON report gives it, fields in output order (the contract's first)."""

    name: str
    stack: Optional[str]
    device_requested: Optional[str]
    device_used: Optional[str]
    gpu_name: Optional[str]
    cnmem: Optional[Cnmem]
    cudnn: Optional[str]
    epochs: int
    seconds_per_epoch: Optional[float]
    speedup: Optional[float]
    status: str
    fallback: Optional[bool]
    fastest: bool
    host: Optional[str]
    origin: Optional[str]
    repeats: int
    backend: Optional[str]
    spread: Optional[Spread]
    warmup_seconds: Optional[float]
    fallback_reason: Optional[str]
    error: Optional[List[str]]
    data: Optional[Dict[str, Any]]
    notes: List[str]
    logs: List[str]
    speedup_significant: Optional[bool]  # False: inside the two rows' measured spread; None: can't tell
    measured_speedup: Optional[float]  # the ratio as measured, also for a fallback (CPU vs CPU)
    script_seconds: Optional[float]  # the loop time the script printed itself (median of repeats)
    wall_seconds: Optional[float]  # the run's wall time (median of repeats)
    measured_seconds: Optional[float]  # the report's measure for this row (Report.measure): what speedups use
    speedup_low: Optional[float]  # the speedup's 95 % interval, from both rows' throughputs
    speedup_high: Optional[float]
    seconds_per_epoch_source: Optional[str]  # epochs | projected (from the steady-state throughput)
    throughput: Optional[Dict[str, Any]]  # steady-state rate of the progress updates, with its interval
    target: Optional[str]  # the cluster target (--on) the row's runs were sent to; None: run locally
    node: Optional[str]  # the node they ran on (a row never mixes nodes)
    job_gpus: Optional[List[str]]  # the GPUs the job saw from inside (nvidia-smi in the job)


class ReportRow(ReportRowDoc):
    """One row of the report model: variant x stack x machine, its repeats folded in."""

    skip_reason: Optional[str]


class Fastest(TypedDict):
    name: str
    stack: Optional[str]
    host: str
    clear_of: Optional[bool]
    seconds_per_epoch: Optional[float]
    seconds: Optional[float]  # in the report's measure
    speedup: Optional[float]
    vs_baseline: Optional[str]
    device_used: Optional[str]
    fallback: bool
    indexes: List[int]


class Report(TypedDict):
    baseline: Optional[str]
    baseline_index: Optional[int]
    measure: str  # what speedups compare: epoch (s/epoch), loop (the script's own time) or wall
    rows: List[ReportRow]
    hosts: List[str]
    show_host: bool
    notes: List[str]
    fastest: Optional[Fastest]


ROW_FIELDS = tuple(ReportRowDoc.__annotations__)
