"""The shape of an ASCII-armored age v1 file (https://age-encryption.org/v1), checked without
any key: what `complainant.contact` must hold.

Armour alone proves nothing: ``-----BEGIN AGE ENCRYPTED FILE-----`` around base64 of a phone
number is still the phone number. So the armour is decoded and the age header is read: the
``age-encryption.org/v1`` line, at least one recipient stanza (``-> TYPE ARGS`` and its
base64 body), the ``--- MAC`` line, then a payload at least as long as a nonce and one
authentication tag. The schema's pattern checks the armour and the header's first bytes (their
base64 is fixed); this module checks everything else. Messages never quote the text.
"""
from __future__ import annotations

import base64
import binascii
import re

BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----"
END = "-----END AGE ENCRYPTED FILE-----"
VERSION_LINE = b"age-encryption.org/v1"
# base64 of b"age-encryption.org/v1\n->": the first 32 characters of every armored age file.
HEADER_BASE64 = base64.b64encode(VERSION_LINE + b"\n->").decode("ascii")
COLUMNS = 64
NONCE = 16  # bytes of payload nonce
TAG = 16  # bytes of the authentication tag of the last (possibly empty) chunk

_LINE = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_ARG = re.compile(rb"[\x21-\x7e]+")
_BODY = re.compile(rb"[A-Za-z0-9+/]*")
_MAC = re.compile(rb"--- [A-Za-z0-9+/]{43}")

# The armour: 64-column base64 lines, the last one 1 to 64 columns (padding included; where
# "=" may stand is left to the strict base64 decoder), LF or CRLF line ends.
_ARMOUR = re.compile(
    r"-----BEGIN AGE ENCRYPTED FILE-----\r?\n((?:[A-Za-z0-9+/]{64}\r?\n)*[A-Za-z0-9+/=]{1,64}\r?\n)"
    r"-----END AGE ENCRYPTED FILE-----(?:\r?\n)*"
)


def armour_problem(text: str) -> str | None:
    """Why ``text`` is not an ASCII-armored age v1 file, or None. Never quotes the text."""
    armour = _ARMOUR.fullmatch(text)
    if armour is None:
        return _armour_shape_problem(text)
    try:
        decoded = base64.b64decode(armour.group(1).replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return "the armour is not valid base64"
    return header_problem(decoded)


def _strip_trailing_newlines(text: str) -> str:
    # Exactly what the schema's `(\r?\n)*$` allows after the END line, nothing else.
    while text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    return text


def _armour_shape_problem(text: str) -> str:
    """What is wrong with armour that does not have the expected shape."""
    lines = [line.removesuffix("\r") for line in _strip_trailing_newlines(text).split("\n")]
    if len(lines) < 3 or lines[0] != BEGIN or lines[-1] != END:
        return "is not armored: it must start with -----BEGIN AGE ENCRYPTED FILE----- and end with -----END AGE ENCRYPTED FILE-----"
    if not all(_LINE.fullmatch(line) for line in lines[1:-1]):
        return "the armour holds characters that are not base64"
    return f"the armour's base64 lines must be {COLUMNS} characters (the last one shorter)"


# A well-formed header in one expression (the common case, checked on every named case);
# the step-by-step reading below only runs to say what is wrong.
_HEADER = re.compile(
    rb"age-encryption\.org/v1\n"
    rb"(?:-> [\x21-\x7e]+(?: [\x21-\x7e]+)*\n(?:[A-Za-z0-9+/]{64}\n)*[A-Za-z0-9+/]{0,63}\n)+"
    rb"--- [A-Za-z0-9+/]{43}\n"
)


def header_problem(data: bytes) -> str | None:
    """Why decoded ``data`` is not an age v1 file, or None."""
    matched = _HEADER.match(data)
    if matched is not None and len(data) - matched.end() >= NONCE + TAG:
        return None
    if not data.startswith(VERSION_LINE + b"\n"):
        return "the armour does not hold an age v1 file (no age-encryption.org/v1 header)"
    # The header ends at the MAC line; only the header is split into lines (the payload is binary).
    mac_at = data.find(b"\n--- ")
    lines = data[: mac_at if mac_at != -1 else len(data)].split(b"\n")
    i = 1
    stanzas = 0
    while i < len(lines) and lines[i].startswith(b"-> "):
        args = lines[i][3:].split(b" ")
        if not all(_ARG.fullmatch(arg) for arg in args):
            return "an age recipient stanza is malformed"
        i += 1
        # The body: base64 lines of 64 columns, ended by the first shorter one (maybe empty).
        while True:
            if i >= len(lines) or not _BODY.fullmatch(lines[i]) or len(lines[i]) > COLUMNS:
                return "an age recipient stanza is malformed"
            i += 1
            if len(lines[i - 1]) < COLUMNS:
                break
        stanzas += 1
    if stanzas == 0:
        return "the age header has no recipient stanza"
    if i != len(lines) or mac_at == -1:
        return "the age header has no MAC line (--- ...)" if mac_at == -1 else "an age recipient stanza is malformed"
    line_end = data.find(b"\n", mac_at + 1)
    if line_end == -1 or not _MAC.fullmatch(data, mac_at + 1, line_end):
        return "the age header has no MAC line (--- ...)" if line_end != -1 else "the age file has no payload after its header"
    if len(data) - (line_end + 1) < NONCE + TAG:
        return "the age file has no payload after its header"
    return None
