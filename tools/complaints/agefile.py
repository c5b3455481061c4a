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

PROBLEM = (
    "must be an age ciphertext (age-encryption.org/v1: armour around a header with at least one "
    "recipient stanza, the MAC line and the payload), as `complaints new --contact-stdin` writes it"
)


def armour_problem(text: str) -> str | None:
    """Why ``text`` is not an ASCII-armored age v1 file, or None. Never quotes the text."""
    body = _strip_trailing_newlines(text)
    lines = body.split("\n")
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if len(lines) < 3 or lines[0] != BEGIN or lines[-1] != END:
        return "is not armored: it must start with -----BEGIN AGE ENCRYPTED FILE----- and end with -----END AGE ENCRYPTED FILE-----"
    data = lines[1:-1]
    for i, line in enumerate(data):
        last = i == len(data) - 1
        if not _LINE.fullmatch(line) or ("=" in line and not last):
            return "the armour holds characters that are not base64"
        if len(line) > COLUMNS or (not last and len(line) != COLUMNS) or not line:
            return f"the armour's base64 lines must be {COLUMNS} characters (the last one shorter)"
    try:
        decoded = base64.b64decode("".join(data), validate=True)
    except (binascii.Error, ValueError):
        return "the armour is not valid base64"
    return header_problem(decoded)


def _strip_trailing_newlines(text: str) -> str:
    # Exactly what the schema's `(\r?\n)*$` allows after the END line, nothing else.
    while text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    return text


def header_problem(data: bytes) -> str | None:
    """Why decoded ``data`` is not an age v1 file, or None."""
    lines = data.split(b"\n")
    if not lines or lines[0] != VERSION_LINE:
        return "the armour does not hold an age v1 file (no age-encryption.org/v1 header)"
    i = 1
    stanzas = 0
    while i < len(lines) and lines[i].startswith(b"-> "):
        args = lines[i][3:].split(b" ")
        if not args or not all(_ARG.fullmatch(arg) for arg in args):
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
    if i >= len(lines) or not _MAC.fullmatch(lines[i]):
        return "the age header has no MAC line (--- ...)"
    payload = b"\n".join(lines[i + 1 :])
    if i + 1 >= len(lines) or len(payload) < NONCE + TAG:
        return "the age file has no payload after its header"
    return None
