"""Patterns of personal data that must never be published or kept in plaintext.

`scan_text` finds mainland resident ids (18 characters with the ISO 7064 MOD 11-2 check digit,
and the old 15-digit form), mobile numbers (with or without 86/+86/0086), landlines (0 + an area
code + 7-8 digits), e-mail addresses (non-ASCII local parts and internationalised domains
included) and Luhn-valid card numbers (13-19 digits, grouped as cards are written).

People type numbers in many ways, so the text is normalised before matching: every Unicode
decimal digit (full-width, Arabic-Indic, Devanagari, ...) counts as its ASCII digit; zero-width
and other format characters, variation selectors and the keycap mark are dropped; everything
else is NFKC-normalised (full-width ``＠``, ``．``, ``－``). Between the digits of a number any run
of separators is allowed: whitespace of every kind (tabs, newlines, NBSP, U+3000), dots,
slashes, hyphens and the dashes U+2010-U+2015. Offsets refer to the original text.

False positives are kept rare by structure rather than by luck: a mobile number is exactly 11
digits starting 1[3-9]; a resident id needs a real birth date and its check digit; a landline
needs a real area code; a card needs a card-issuer prefix, card-like grouping and the Luhn
digit; digits inside a long token of letters and digits (a hash, a key) are not a number.

Findings carry the kind and where it is, never the matched value, so a caller can report
them without repeating the personal data. The validator calls `scan_text` on every free-text
field of every case, so the common case — text with fewer than 7 digits and no ``@`` — is
answered without running a single regular expression.
"""
from __future__ import annotations

import re
from array import array
from functools import lru_cache
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from complaints.errors import PublicationError

RESIDENT_ID = "resident_id"
MOBILE = "mobile"
LANDLINE = "landline"
EMAIL = "email"
CARD = "card"

MIN_DIGITS = 7  # the shortest pattern (a 7-digit local landline number) has this many digits


@dataclass(frozen=True)
class Finding:
    """One personal-data pattern in a text: its kind and its span in the original text."""

    kind: str
    start: int
    end: int


# Characters that are dropped before matching: they are invisible, so a number that holds them
# reads as the number. Format characters (Cf: zero-width space/joiners, word joiner, BOM, soft
# hyphen, bidi controls, ...), variation selectors, the Mongolian free variation selectors and
# the combining keycap.
INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u20e3\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
# After normalisation, the characters that may stand between the digits of one number.
_S = r"[\s.\-/\u2010-\u2015\u2212\u00b7\u30fb\u3002]"
_SEP = _S + "*+"  # possessive: separators and digits never overlap, so there is no backtracking
_NOT_BEFORE = r"(?<![0-9])(?<![0-9]\.)"  # "10.13812345678" is a dotted number, not a phone
_NOT_AFTER = r"(?![0-9])(?!\.[0-9])"
_D = r"(?:" + _SEP + r"[0-9])"  # one more digit of the same number

_ID18 = re.compile(r"(?<![0-9A-Za-z])(?<![0-9]\.)[1-9]" + _D + "{16}" + _SEP + r"[0-9Xx](?![0-9A-Za-z])" + r"(?!\.[0-9])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])(?<![0-9]\.)[1-9]" + _D + "{14}" + r"(?![0-9A-Za-z])(?!\.[0-9])")
_MOBILE = re.compile(_NOT_BEFORE + r"(?<!\+)(?:(?:\+|00)?86" + _SEP + r")?(?P<body>1" + _SEP + r"[3-9]" + _D + "{9})" + _NOT_AFTER)
_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"
_LANDLINE = re.compile(
    _NOT_BEFORE + r"(?<!\+)(?:(?:\+|00)86" + _SEP + r"(?:\(0?" + _AREA + r"\)|0?" + _AREA + r")|\(0" + _AREA + r"\)|0" + _AREA + r")"
    + _SEP + r"[1-9]" + _D + "{6,7}" + r"(?:" + _SEP + r"(?:ext\.?|转|分机)" + _SEP + r"[0-9]{1,5})?" + _NOT_AFTER
)
_CARD = re.compile(r"(?<![0-9A-Za-z])(?<![0-9]\.)(?:[3-69]|2[2-7])" + _D + "{12,18}" + r"(?![0-9A-Za-z])(?!\.[0-9])")
_EMAIL_LOCAL = re.compile(r"[\w.%+\-]{1,64}\Z")
_EMAIL_DOMAIN = re.compile(r"(?:[\w](?:[\w\-]{0,61}[\w])?\.)+(?:xn--[a-z0-9\-]{1,59}|[^\W\d_]{2,63})(?![\w\-])", re.IGNORECASE)
_SEPARATORS = re.compile(_S + "+")
_BETWEEN = re.compile(r"(?<=[0-9])" + _S + r"+(?=[0-9])")
# How many groups a number may be split into. People split a phone number in three or four
# (138 1234 5678; +86 138 1234 5678), an id in three or four; a run of figures joined by
# separators (chart ticks one per line, coordinates) has many more.
MAX_GROUPS = 4
MAX_GROUP_LENGTH = 14  # an id broken once across lines: 110105194 / 91231002X
MAX_DOTTED_GROUP = 8  # 19491231 in 110105.19491231.002X
_DIGIT_RUNS = re.compile(r"[0-9Xx]+")
_TOKEN_CHAR = re.compile(r"[0-9A-Za-z]")
# A run of ASCII letters and digits this long is a hash, a key or an encoded blob.
LONG_TOKEN = 24
# How cards are written: one block, blocks of four (the last may be shorter), or the
# American Express, Diners and 19-digit UnionPay groupings.
_CARD_GROUPS = frozenset({(4, 6, 5), (4, 6, 4), (6, 13), (6, 12)})
_AT_SIGNS = ("@", "\uff20", "\ufe6b")

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


def _birth_date(yyyy: str, mm: str, dd: str) -> bool:
    return yyyy[:2] in ("18", "19", "20") and 1 <= int(mm) <= 12 and 1 <= int(dd) <= 31


def _worth_scanning(text: str) -> bool:
    if "@" in text or "\uff20" in text or "\ufe6b" in text:
        return True
    # str.isdigit counts full-width and other scripts' digits too; map keeps the loop in C.
    return len(text) >= MIN_DIGITS and sum(map(str.isdigit, text)) >= MIN_DIGITS


_CHAR_MAP: dict[str, str] = {}


def _map_char(ch: str) -> str:
    mapped = _CHAR_MAP.get(ch)
    if mapped is None:
        if _INVISIBLE.match(ch):
            mapped = ""
        else:
            digit = unicodedata.decimal(ch, None)
            mapped = str(digit) if digit is not None else unicodedata.normalize("NFKC", ch)
        if len(_CHAR_MAP) < 65536:
            _CHAR_MAP[ch] = mapped
    return mapped


# Non-ASCII decimal digits: NFKC leaves Arabic-Indic and most other scripts' digits alone.
_FOREIGN_DIGIT = re.compile(r"(?![0-9])\d")


_SLICE = 1 << 16  # characters normalised at a time


def _normalise(text: str) -> tuple[str, Sequence[int]]:
    """The text as matched, with the original offset of every normalised character (a
    range where the text is its own normal form: a list would take 36 bytes a character,
    36 MB for a page of a million)."""
    if text.isascii() or (
        unicodedata.is_normalized("NFKC", text) and not _INVISIBLE.search(text) and not _FOREIGN_DIGIT.search(text)
    ):
        return text, range(len(text) + 1)
    # Built a slice at a time: a list of a million one-character texts would take 8 MB more.
    pieces: list[str] = []
    origin = array("I" if len(text) < 1 << 32 else "Q")  # 4 bytes a character, not a list's 36
    for start in range(0, len(text), _SLICE):
        parts: list[str] = []
        for i, ch in enumerate(text[start : start + _SLICE], start):
            norm = ch if ch.isascii() else _map_char(ch)
            if norm:
                parts.append(norm)
                if len(norm) == 1:
                    origin.append(i)
                else:
                    origin.extend([i] * len(norm))
        pieces.append("".join(parts))
    origin.append(len(text))
    return "".join(pieces), origin


def _digits(s: str) -> str:
    return "".join(ch for ch in s if "0" <= ch <= "9" or ch in "Xx")


def canonical(text: str) -> str:
    """A text as the scanner compares it: normalised, separators removed (so the allowed
    hotline "0571-8888 8888" also allows "0571 88888888")."""
    return _SEPARATORS.sub("", _normalise(text)[0]).strip()


def _in_token(norm: str, start: int, end: int) -> bool:
    """The span lies inside a hash, key or encoded blob: letters on both sides, or a long
    run of ASCII letters and digits around it."""
    before = start > 0 and _TOKEN_CHAR.match(norm, start - 1) is not None
    after = end < len(norm) and _TOKEN_CHAR.match(norm, end) is not None
    if before and after:
        return True
    if not (before or after):
        return False
    left = start
    while left > 0 and norm[left - 1].isascii() and norm[left - 1].isalnum():
        left -= 1
    right = end
    while right < len(norm) and norm[right].isascii() and norm[right].isalnum():
        right += 1
    return right - left >= LONG_TOKEN


def _few_groups(span: str, limit: int = MAX_GROUPS) -> bool:
    """The digits of ``span`` are split into at most ``limit`` groups, or typed one by one
    with the same separator between each (1 3 8 1 2 3 4 5 6 7 8)."""
    runs = _BETWEEN.findall(span)
    if not runs:
        return True
    groups = _DIGIT_RUNS.findall(span)
    if len(groups) <= limit:
        # A long group after a dot is a decimal fraction (368.852260111023), not a part of a
        # number someone split to read it out.
        longest = MAX_DOTTED_GROUP if any("." in run for run in runs) else MAX_GROUP_LENGTH
        return all(len(group) <= longest for group in groups)
    return len(set(runs)) == 1 and all(len(group) == 1 for group in groups)


def _card_grouping(span: str) -> bool:
    groups = tuple(len(g) for g in _SEPARATORS.split(span) if g)
    if len(groups) == 1 or groups in _CARD_GROUPS:
        return True
    return all(g == 4 for g in groups[:-1]) and 1 <= groups[-1] <= 4


def _emails(norm: str) -> Iterator[tuple[int, int]]:
    at = norm.find("@")
    while at != -1:
        local = _EMAIL_LOCAL.search(norm, max(0, at - 64), at)
        domain = _EMAIL_DOMAIN.match(norm, at + 1)
        if local is not None and domain is not None and local.group(0).strip(".") :
            yield local.start(), domain.end()
        at = norm.find("@", at + 1)


def scan_text(text: str) -> list[Finding]:
    """Every personal-data pattern in `text`, in order of position (kinds may overlap)."""
    if not text or not _worth_scanning(text):
        return []
    norm, origin = _normalise(text)
    found: list[tuple[str, int, int]] = []
    id_spans: list[tuple[int, int]] = []  # spans a card number inside them would only repeat
    if "@" in norm:
        for start, end in _emails(norm):
            found.append((EMAIL, start, end))
    for m in _ID18.finditer(norm):
        body = _digits(m.group(0))
        if (
            _birth_date(body[6:10], body[10:12], body[12:14])
            and resident_id_valid(body[:17], body[17])
            and _few_groups(m.group(0))
            and not _in_token(norm, m.start(), m.end())
        ):
            found.append((RESIDENT_ID, m.start(), m.end()))
            id_spans.append((m.start(), m.end()))
    for m in _ID15.finditer(norm):
        body = _digits(m.group(0))
        if 1 <= int(body[8:10]) <= 12 and 1 <= int(body[10:12]) <= 31 and _few_groups(m.group(0)) and not _in_token(norm, m.start(), m.end()):
            found.append((RESIDENT_ID, m.start(), m.end()))
            id_spans.append((m.start(), m.end()))
    for m in _MOBILE.finditer(norm):
        if _few_groups(m.group("body")) and not _in_token(norm, m.start(), m.end()):
            found.append((MOBILE, m.start(), m.end()))
            id_spans.append((m.start(), m.end()))
    mobiles = [(start, end) for kind, start, end in found if kind == MOBILE]
    for m in _LANDLINE.finditer(norm):
        # "+86 139 1234 5678" also reads as a landline; a mobile number is the better name.
        if any(s < m.end() and m.start() < e for s, e in mobiles) or not _few_groups(m.group(0), MAX_GROUPS + 1) or _in_token(norm, m.start(), m.end()):
            continue
        found.append((LANDLINE, m.start(), m.end()))
        id_spans.append((m.start(), m.end()))
    for m in _CARD.finditer(norm):
        if any(s <= m.start() and m.end() <= e for s, e in id_spans):
            continue
        body = _digits(m.group(0))
        if 13 <= len(body) <= 19 and _card_grouping(m.group(0)) and luhn_valid(body):
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
    allowed = {canonical(a) for a in allow}

    # Each node's path is its parent's plus one step (as json_path writes it), so a large
    # document costs one step per node, not one whole path.
    def walk(node: Any, path: str) -> Iterator[tuple[str, str]]:
        if path in skip:
            return
        if isinstance(node, str):
            for f in scan_text(node):
                if canonical(node[f.start : f.end]) not in allowed:
                    yield path, f.kind
        elif isinstance(node, dict):
            for key, value in node.items():
                key_s = str(key)
                child = path + _key_step(key_s)
                for f in scan_text(key_s):
                    if canonical(key_s[f.start : f.end]) not in allowed:
                        yield child, f.kind
                yield from walk(value, child)
        elif isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                yield from walk(item, f"{path}[{i}]")

    yield from walk(data, "$")


@lru_cache(maxsize=4096)
def _key_step(key: str) -> str:
    return json_path((key,))[1:]


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
    allowed = {canonical(a) for a in allow}
    for f in scan_text(text):
        if canonical(text[f.start : f.end]) in allowed:
            continue
        line = text.count("\n", 0, f.start) + 1
        raise PublicationError(f"{source}:{line}: {field}: looks like personal data ({f.kind}); nothing was published")
