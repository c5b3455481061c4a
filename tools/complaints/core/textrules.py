"""Which characters a case file, and the free text in it, may hold.

A reviewer reads a case file as a diff. Characters that make that diff read differently from
what is stored are refused: bidirectional controls (U+202A-U+202E, U+2066-U+2069 and the marks
U+200E, U+200F, U+061C) reorder what is shown; zero-width characters hide inside words and
numbers; U+0085, U+2028 and U+2029 (and a lone carriage return) are line breaks to YAML but
not to git, so every line number after them would be off; raw control characters and a
byte-order mark after the start have no business in text. The same rules hold for a value
given on the command line (`complaints event --note`), and the case schema's ``text`` says the
same in JSON Schema terms (no control, zero-width, separator or bidi characters; not blank).
"""
from __future__ import annotations

import re

# In the raw file (tab, line feed and CRLF are the only control characters allowed).
# (One character class, no alternation: this runs on every case file, and a class is searched
# several times faster; a lone carriage return is looked for separately.)
_IN_FILE = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufffe\uffff]")
_LONE_CR = re.compile("\r(?!\n)")
# In a text value (after YAML escapes are decoded): tab and line feed only.
_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufffe\uffff]")
# Blank: what the schema's "not blank" pattern does not count as something.
_VISIBLE = re.compile("[^\x00-\x20\x7f-\xa0\u061c\u1680\u2000-\u200f\u2028-\u202f\u205f-\u2069\u3000\ufeff\ufffe\uffff]")


def describe(ch: str) -> str:
    """What is wrong with one refused character; names its code point, never its context."""
    code = f"U+{ord(ch):04X}"
    if ch == "\r":
        return "a carriage return not followed by a line feed; use plain line breaks (LF or CRLF)"
    if ch in "\x85\u2028\u2029":
        return f"a line-separator character ({code}) is not allowed: YAML and git count lines differently with it; use a plain line break"
    if "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069" or ch in "\u061c\u200e\u200f":
        return f"a bidirectional-control character ({code}) is not allowed: it makes the text read differently from what is stored"
    if ch == "\ufeff":
        return "a byte-order mark (U+FEFF) is allowed only once, at the very start of the file"
    if "\u200b" <= ch <= "\u200d" or "\u2060" <= ch <= "\u2064":
        return f"an invisible zero-width character ({code}) is not allowed: it makes the text read differently from what is stored"
    return f"a raw control character ({code}) is not allowed"


def first_refused_in_file(text: str) -> int | None:
    """Offset of the first character a case file may not hold, or None."""
    # Every refused character is one str.isprintable refuses (control, format, separator
    # and unassigned characters), so a text that is printable but for its line feeds needs
    # no character-by-character search.
    if text.replace("\n", "").isprintable():
        return None
    found = _IN_FILE.search(text)
    at = None if found is None else found.start()
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        lone = _LONE_CR.search(text)
        if lone is not None and (at is None or lone.start() < at):
            at = lone.start()
    return at


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be free text in a case (an option's value, say), or None."""
    found = _IN_TEXT.search(value)
    if found is not None:
        return describe(found.group(0)).replace(" at the very start of the file", " at the start of a file")
    if not _VISIBLE.search(value):
        return "is empty or blank"
    return None
