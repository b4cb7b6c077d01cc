"""EDGE: the output directory of a comparison: chosen, created and checked before anything runs."""

import datetime
import shutil
from pathlib import Path
from typing import Optional

from theanogpu.errors import UserError

RUNS_ROOT = Path("theanogpu-runs")
# A comparison writes logs of a few MB; refuse to start with less than this free.
MIN_FREE_BYTES = 50 * 1024 * 1024


def choose_out(out: Optional[str], resume: bool) -> Path:
    """--out as given; with --resume the newest comparison under theanogpu-runs/; else a new one there."""
    if out:
        return Path(out)
    if resume:
        earlier = sorted(p for p in RUNS_ROOT.glob("*") if (p / "results.json").is_file())
        if not earlier:
            raise UserError("--resume: no earlier comparison under %s/; start one without --resume" % RUNS_ROOT)
        return earlier[-1]
    return RUNS_ROOT / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


def prepare_out(out: Path) -> Path:
    """Create *out* and prove that it takes files and has room, or say why not (exit 2)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".theanogpu-write-test"
        probe.write_bytes(b"x" * 4096)
        probe.unlink()
    except OSError as exc:
        raise UserError("--out=%s: cannot write there (%s); choose a writable directory"
                        % (out, exc.strerror or exc)) from None
    free = shutil.disk_usage(str(out)).free
    if free < MIN_FREE_BYTES:
        raise UserError("--out=%s: only %d MB free on that disk; free some space or choose another --out"
                        % (out, free // (1024 * 1024)))
    return out
