"""From bytes or text to the segments a terminal would show: one pass, bounded memory.

A *segment* is the text between two line breaks, where both ``\\n`` and ``\\r`` break: Keras redraws
its progress bar with ``\\r`` (and ``\\b``), so each redraw is a segment of its own. Each segment comes
with ``new_line``: True when it starts a physical line (after ``\\n`` or at the start), False when it
follows a ``\\r`` and so belongs to the same physical line (it inherits that line's timestamp).

Limits that keep memory flat whatever the input is:
- bytes are decoded incrementally (UTF-8, invalid bytes become U+FFFD), in chunks;
- only the first ``MAX_SEGMENT`` characters of a segment are kept; the rest of an over-long segment
  is skipped without being stored; a segment that runs past ``MAX_ENDLESS`` characters is no log
  line (binary data, ``cat /dev/zero``): reading stops there (``Splitter.endless``) instead of
  going on for as long as the input does;
- NUL bytes are dropped, ANSI escape sequences are removed, and ``\\b`` erases the character before
  it (after ANSI removal, as a terminal counts columns).
"""

import codecs
import re
from typing import BinaryIO, Callable, Iterable, Optional

MAX_SEGMENT = 64 * 1024
# No program prints a line this long (a Keras progress bar redraws with \r or \b every few hundred
# characters): past it the input is not a log, and may never end.
MAX_ENDLESS = 256 * 1024 * 1024
CHUNK_SIZE = 1 << 20

_ANSI = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_BACKSPACES = re.compile(r"\x08+")

Sink = Callable[[str, bool], None]


def erase_backspaces(text: str) -> str:
    """Apply ``\\b`` as "erase the previous character" (never past the start of the segment)."""
    # Fast path for Keras's form: a redraw that ends with one run of backspaces.
    body = text.rstrip("\b")
    if "\b" not in body:
        erase = len(text) - len(body)
        return body[:-erase] if erase < len(body) else ""
    kept = []
    size = 0
    pos = 0
    for match in _BACKSPACES.finditer(text):
        piece = text[pos:match.start()]
        kept.append(piece)
        size += len(piece)
        erase = min(match.end() - match.start(), size)
        while erase:
            last = kept[-1]
            if len(last) <= erase:
                kept.pop()
                erase -= len(last)
                size -= len(last)
            else:
                kept[-1] = last[:-erase]
                size -= erase
                erase = 0
        pos = match.end()
    kept.append(text[pos:])
    return "".join(kept)


def clean(segment: str) -> str:
    """What a terminal would show for one segment: no NULs, no ANSI codes, backspaces applied."""
    if "\x00" in segment:
        segment = segment.replace("\x00", "")
    if "\x1b" in segment:
        segment = _ANSI.sub("", segment)
    if "\b" in segment:
        segment = erase_backspaces(segment)
    return segment


class Splitter:
    """Text in (any pieces), ``sink(segment, new_line)`` called for each complete segment.

    Call ``feed`` with consecutive pieces of the text, then ``close`` once for the unfinished end.
    Segments are passed raw (not cleaned) and cut to ``MAX_SEGMENT`` characters.
    """

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._carry = ""          # the unfinished segment
        self._carry_new = True    # it starts a physical line
        self._skipping = False    # the carry was over-long: drop text up to the next break
        self._skipped = 0         # characters of the over-long segment so far
        self.truncated = 0        # how many segments were cut to MAX_SEGMENT
        self.endless = False      # a segment ran past MAX_ENDLESS: stop feeding

    def feed(self, text: str) -> None:
        if self._skipping:
            rest = self._skip(text)
            if rest is None:
                self._skipped += len(text)
                self.endless = self._skipped > MAX_ENDLESS
                return
            text = rest
        if self._carry:
            text = self._carry + text
        lines = text.split("\n")
        carry = lines.pop()
        sink = self._sink
        new = self._carry_new
        if lines and "\r" not in text and max(map(len, lines)) <= MAX_SEGMENT:
            # The common case, without a per-line test: plain lines of sane length.
            following = iter(lines)
            sink(next(following), new)
            for line in following:
                sink(line, True)
            lines = []
            new = True
        for line in lines:
            if len(line) > MAX_SEGMENT and "\r" not in line:
                self.truncated += 1
                line = line[:MAX_SEGMENT]
            if "\r" in line:
                parts = line.split("\r")
                if max(map(len, parts)) > MAX_SEGMENT:
                    self._emit(parts[0], new)
                    for part in parts[1:]:
                        self._emit(part, False)
                else:
                    # A redrawn progress line: many short segments, no per-segment length test.
                    sink(parts[0], new)
                    for index in range(1, len(parts)):
                        sink(parts[index], False)
            else:
                sink(line, new)
            new = True
        self._carry = carry
        self._carry_new = new
        if len(carry) > MAX_SEGMENT:
            self._overlong_carry()

    def close(self) -> None:
        """Pass the unfinished last segment (a truncated file ends without a newline)."""
        carry, self._carry = self._carry, ""
        if self._skipping:
            self._skipping = False
            return
        if not carry:
            return
        parts = carry.split("\r")
        self._emit(parts[0], self._carry_new)
        for part in parts[1:]:
            self._emit(part, False)
        self._carry_new = True

    def _emit(self, segment: str, new_line: bool) -> None:
        if len(segment) > MAX_SEGMENT:
            self.truncated += 1
            segment = segment[:MAX_SEGMENT]
        self._sink(segment, new_line)

    def _overlong_carry(self) -> None:
        carry = self._carry
        if "\r" in carry:
            parts = carry.split("\r")
            carry = parts.pop()
            self._emit(parts[0], self._carry_new)
            for part in parts[1:]:
                self._emit(part, False)
            self._carry_new = False
        if len(carry) > MAX_SEGMENT:
            # Emit what we keep now and drop the rest of this segment as it streams in.
            self.truncated += 1
            self._sink(carry[:MAX_SEGMENT], self._carry_new)
            self._skipped = len(carry)
            carry = ""
            self._skipping = True
        self._carry = carry

    def _skip(self, text: str) -> Optional[str]:
        newline = text.find("\n")
        ret = text.find("\r")
        if newline < 0 and ret < 0:
            return None
        self._skipping = False
        if ret < 0 or (0 <= newline < ret):
            self._carry_new = True
            return text[newline + 1:]
        self._carry_new = False
        return text[ret + 1:]


def feed_binary(splitter: Splitter, binary: BinaryIO, chunk_size: int = CHUNK_SIZE) -> int:
    """Read *binary* to its end in chunks through *splitter*; returns the number of bytes read.

    Stops early when a line proves endless (``Splitter.endless``).
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    total = 0
    read = binary.read
    while not splitter.endless:
        data = read(chunk_size)
        if not data:
            break
        total += len(data)
        splitter.feed(decoder.decode(data))
    tail = decoder.decode(b"", True)
    if tail:
        splitter.feed(tail)
    splitter.close()
    return total


def feed_lines(splitter: Splitter, lines: Iterable[str]) -> None:
    """Feed text lines (each with or without its ``\\n``; ``\\r`` inside is kept as a break)."""
    feed = splitter.feed
    for line in lines:
        if not isinstance(line, str):
            line = bytes(line).decode("utf-8", "replace") if isinstance(line, (bytes, bytearray)) else str(line)
        feed(line if line.endswith("\n") else line + "\n")
    splitter.close()
