"""Patterns of personal data that must never be published or kept in plaintext.

`scan_text` finds mainland resident ids (18 characters with the ISO 7064 MOD 11-2 check digit,
and the old 15-digit form), mobile numbers (with or without +86/0086, spaces or dashes),
landlines (0 + a 2-3 digit area code + 7-8 digits), e-mail addresses and Luhn-valid card
numbers (13-19 digits). Text is NFKC-normalised first, so full-width digits, full-width
``＠`` and ideographic spaces are caught too; offsets refer to the original text.

Findings carry the kind and where it is, never the matched value, so a caller can report
them without repeating the personal data. The validator calls `scan_text` on every free-text
field of every case, so the common case — text with fewer than 7 digits and no ``@`` — is
answered without running a single regular expression.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from .errors import PublicationError

RESIDENT_ID = "resident_id"
MOBILE = "mobile"
LANDLINE = "landline"
EMAIL = "email"
CARD = "card"
KINDS: tuple[str, ...] = (RESIDENT_ID, MOBILE, LANDLINE, EMAIL, CARD)

MIN_DIGITS = 7  # the shortest pattern (a 7-digit local landline number) has this many digits


@dataclass(frozen=True)
class Finding:
    """One personal-data pattern in a text: its kind and its span in the original text."""

    kind: str
    start: int
    end: int


_SEP = r"[ \-]?"
_ID18 = re.compile(
    r"(?<![0-9A-Za-z])([1-9][0-9]{5})" + _SEP + r"((?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]))"
    + _SEP + r"([0-9]{3}[0-9Xx])(?![0-9A-Za-z])"
)
_ID15 = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9+])(?:(?:\+|00)86[ \-]?)?1[3-9][0-9](?:[ \-]?[0-9]){8}(?![0-9])")
_LANDLINE = re.compile(
    r"(?<![0-9+])(?:(?:\+|00)86[ \-]?(?:\(0?[1-9][0-9]{1,2}\)|0?[1-9][0-9]{1,2})|\(0[1-9][0-9]{1,2}\)|0[1-9][0-9]{1,2})"
    r"[ \-]?[1-9][0-9]{2,3}[ \-]?[0-9]{4}(?:[ \-]?(?:ext\.?|转)[ \-]?[0-9]{1,5})?(?![0-9])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9]){12,18}(?![0-9])")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def resident_id_valid(digits17: str, check: str) -> bool:
    """ISO 7064 MOD 11-2 check digit of an 18-character resident id."""
    total = sum(int(d) * w for d, w in zip(digits17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == check.upper()


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _worth_scanning(text: str) -> bool:
    if "@" in text or "\uff20" in text or "\ufe6b" in text:
        return True
    # str.isdigit counts full-width and other scripts' digits too; map keeps the loop in C.
    return len(text) >= MIN_DIGITS and sum(map(str.isdigit, text)) >= MIN_DIGITS


def _normalise(text: str) -> tuple[str, list[int]]:
    """NFKC, one character at a time, with the original offset of every normalised character."""
    if text.isascii():
        return text, list(range(len(text) + 1))
    parts: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        norm = unicodedata.normalize("NFKC", ch) if not ch.isascii() else ch
        parts.append(norm)
        origin.extend([i] * len(norm))
    origin.append(len(text))
    return "".join(parts), origin


def _digits(s: str) -> str:
    return "".join(ch for ch in s if "0" <= ch <= "9" or ch in "Xx")


def scan_text(text: str) -> list[Finding]:
    """Every personal-data pattern in `text`, in order of position (kinds may overlap)."""
    if not text or not _worth_scanning(text):
        return []
    norm, origin = _normalise(text)
    found: list[tuple[str, int, int]] = []
    id_spans: list[tuple[int, int]] = []  # spans a card number inside them would only repeat
    for m in _ID18.finditer(norm):
        body = _digits(m.group(0))
        if resident_id_valid(body[:17], body[17]):
            found.append((RESIDENT_ID, m.start(), m.end()))
            id_spans.append((m.start(), m.end()))
    for m in _ID15.finditer(norm):
        found.append((RESIDENT_ID, m.start(), m.end()))
        id_spans.append((m.start(), m.end()))
    for m in _MOBILE.finditer(norm):
        found.append((MOBILE, m.start(), m.end()))
        id_spans.append((m.start(), m.end()))
    mobiles = [(start, end) for kind, start, end in found if kind == MOBILE]
    for m in _LANDLINE.finditer(norm):
        # "+86 139 1234 5678" also reads as a landline; a mobile number is the better name.
        if any(s < m.end() and m.start() < e for s, e in mobiles):
            continue
        found.append((LANDLINE, m.start(), m.end()))
        id_spans.append((m.start(), m.end()))
    for m in _EMAIL.finditer(norm):
        found.append((EMAIL, m.start(), m.end()))
    for m in _CARD.finditer(norm):
        if any(s <= m.start() and m.end() <= e for s, e in id_spans):
            continue
        body = _digits(m.group(0))
        if 13 <= len(body) <= 19 and luhn_valid(body):
            found.append((CARD, m.start(), m.end()))
    found.sort(key=lambda f: (f[1], f[2], f[0]))
    return [Finding(kind, origin[start], origin[end - 1] + 1) for kind, start, end in found]


def json_path(parts: Iterable[str | int]) -> str:
    """`$.a[0].b` for ("a", 0, "b")."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += "[" + repr(part) + "]"
    return out


def scan_data(
    data: Any, *, skip: frozenset[str] = frozenset(), allow: frozenset[str] = frozenset()
) -> Iterator[tuple[str, str]]:
    """(path, kind) for every personal-data pattern in the strings of a JSON-like structure,
    mapping keys included. `skip` holds paths (as `json_path` writes them) not to scan;
    `allow` holds exact strings that are public on purpose (the organisation's own hotline)."""
    allowed = {unicodedata.normalize("NFKC", a) for a in allow}

    def walk(node: Any, parts: tuple[str | int, ...]) -> Iterator[tuple[str, str]]:
        path = json_path(parts)
        if path in skip:
            return
        if isinstance(node, str):
            for f in scan_text(node):
                if unicodedata.normalize("NFKC", node[f.start : f.end]).strip() not in allowed:
                    yield path, f.kind
        elif isinstance(node, dict):
            for key, value in node.items():
                key_s = str(key)
                for f in scan_text(key_s):
                    if unicodedata.normalize("NFKC", key_s[f.start : f.end]).strip() not in allowed:
                        yield json_path((*parts, key_s)), f.kind
                yield from walk(value, (*parts, key_s))
        elif isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                yield from walk(item, (*parts, i))

    yield from walk(data, ())


def check_publishable(
    data: Any, source: str, *, skip: frozenset[str] = frozenset(), allow: frozenset[str] = frozenset()
) -> None:
    """Raise PublicationError naming `source` and the field of the first pattern found.
    The message never holds the value."""
    for path, kind in scan_data(data, skip=skip, allow=allow):
        raise PublicationError(
            f"{source}::{path}: looks like personal data ({kind}); nothing was published"
        )


def check_text_publishable(text: str, source: str, field: str = "$", *, allow: frozenset[str] = frozenset()) -> None:
    """Like `check_publishable`, for a rendered text (CSV or Markdown) about to be written."""
    allowed = {unicodedata.normalize("NFKC", a) for a in allow}
    for f in scan_text(text):
        if unicodedata.normalize("NFKC", text[f.start : f.end]).strip() in allowed:
            continue
        line = text.count("\n", 0, f.start) + 1
        raise PublicationError(f"{source}:{line}: {field}: looks like personal data ({f.kind}); nothing was published")
