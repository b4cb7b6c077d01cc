"""The timestamped log format that ``compare`` writes and every parser reads.

Each line of a run's log holds one output line of the child process, prefixed with the monotonic
time since the run started and the stream it came from::

    [    12.345 o] 60000/60000 [==============================] - 5s 87us/step - loss: 0.3437
    [    12.346 e] Using gpu device 0: GeForce GTX 1060 (CNMeM is disabled, cuDNN 5105)

- ``[``, the time in seconds with exactly three decimals (milliseconds), right-aligned in 10
  characters (wider when needed; a parser accepts any width and any number of decimals);
- one space and the stream, one lower-case letter: ``o`` stdout, ``e`` stderr, ``m`` a line that
  theanogpu itself wrote (a header, a note);
- ``] `` and then the raw text exactly as decoded, ``\\r`` and ``\\b`` included. Only ``\\n`` ends a
  line, so text holding ``\\n`` is written as several lines with the same prefix.

``split_line(format_line(t, s, x)) == (round(t, 3), s, x)`` for any text *x* without ``\\n``, so the
raw output is always recoverable: ``sed -E 's/^\\[ *[-0-9.]+ [a-z]\\] //'`` strips the prefixes.
"""

import math
import re
from typing import Optional, Tuple

STREAMS = ("o", "e", "m")

# The parser's hot path matches this on every line that starts with "[", so keep it anchored and tight.
PREFIX = re.compile(r"\[ *(-?\d+(?:\.\d+)?) ([a-z])\](?: |$)")


def format_line(t: float, stream: str, text: str) -> str:
    """One log line (several when *text* holds ``\\n``), without the trailing newline."""
    if not isinstance(t, (int, float)) or not math.isfinite(t):
        raise ValueError("timestamp must be a finite number of seconds, not %r" % (t,))
    if len(stream) != 1 or not ("a" <= stream <= "z"):
        raise ValueError("stream must be one lower-case letter such as 'o' or 'e', not %r" % (stream,))
    prefix = "[%10.3f %s] " % (t, stream)
    if "\n" in text:
        return "\n".join(prefix + part for part in text.split("\n"))
    return prefix + text


def split_line(line: str) -> Optional[Tuple[float, str, str]]:
    """``(t, stream, text)`` for a timestamped line, ``None`` for any other line.

    One trailing ``\\n`` is ignored; everything else after the prefix is the raw text.
    """
    if line.endswith("\n"):
        line = line[:-1]
    match = PREFIX.match(line)
    if match is None:
        return None
    return float(match.group(1)), match.group(2), line[match.end():]
