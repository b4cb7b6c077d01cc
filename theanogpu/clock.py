"""The one UTC time format of results.json, stack markers and run records."""

import datetime

UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> str:
    """``2026-12-01T14:38:51Z``: now, in UTC, to the second."""
    return datetime.datetime.now(datetime.timezone.utc).strftime(UTC_FORMAT)
