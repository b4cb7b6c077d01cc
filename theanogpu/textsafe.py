"""PURE: text from logs and results files, made safe for where it is shown.

Variant and stack names, GPU names, error lines, hostnames and paths come from files that anyone
can write (a shared results.json, a log from a stranger's machine). Shown raw they could:

- drive a terminal (``visible``): escape sequences retitle the window, erase lines, move the
  cursor, or hide text; every control character is shown as a Python-style escape instead;
- become Markdown (``markdown``): raw HTML (``<script>``, ``<img onerror=...>``) that a CommonMark
  renderer passes through, links, emphasis, a ``|`` that splits a table cell, a line break that
  starts a new list item;
- become a spreadsheet formula (``csv_cell``): a cell starting with ``=``, ``+``, ``-``, ``@``, a tab
  or a carriage return is evaluated by Excel or LibreOffice (OWASP "CSV injection").
"""

import re

# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Markdown punctuation that can start markup anywhere in a line (CommonMark escapes any of them
# with a backslash; GitHub's tables read \| as a literal bar and $ as the start of math).
_MD_ANYWHERE = re.compile(r"([\\`*_\[\]<>&|~$])")
# ... and what only means something at the start of a block, before a space or the end: a list item
# ("- ", "+ "), a heading ("# "), a thematic break or setext underline ("---", "==="), a numbered list
# ("1. " / "1) ").
_MD_LINE_START = re.compile(r"\A(?:([-+#=])(?=\s|\Z|[-=])|(\d+)([.)])(?=\s|\Z))")
# A cell starting like this is a formula to a spreadsheet (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number is read as a number, never evaluated, so -1.5 stays usable as one.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


def _escape_control(match: "re.Match[str]") -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    return "\\x%02x" % ord(char) if ord(char) < 0x100 else "\\u%04x" % ord(char)


def visible(text: str) -> str:
    """*text* with every control character shown as an escape (``\\x1b``, ``\\n``): one inert line."""
    return _CONTROL.sub(_escape_control, text) if _CONTROL.search(text) else text


def markdown(text: str, block_start: bool = True) -> str:
    """*text* as Markdown inline content that renders as exactly this text, on one line.

    Control characters are shown as escapes first (a line break would end a table row or a list
    item); then every character that could start markup is backslash-escaped. *block_start*: the
    text starts a block (a list item's text), where ``- `` or ``1. `` would open a list; a table
    cell is inline content only.
    """
    text = _MD_ANYWHERE.sub(r"\\\1", visible(text).lstrip())
    if not block_start:
        return text
    return _MD_LINE_START.sub(lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3), text)


def csv_cell(text: str) -> str:
    """*text* as a CSV cell no spreadsheet evaluates: a leading ``'`` before a formula start.

    The quote is what OWASP recommends: spreadsheets show the rest as text. Plain numbers
    (``-1.5``, ``+2``, ``1e-3``) are left alone: they are read as numbers, which run nothing.
    """
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text
