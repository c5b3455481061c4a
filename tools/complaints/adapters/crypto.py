"""Complainants' contact details as age ciphertext (https://age-encryption.org), via pyrage.

Plaintext exists only in memory: ``new`` encrypts what it reads from a file or stdin before
anything is written, ``reveal`` decrypts for a handler who holds one of the private keys, and
``rekey`` re-encrypts to the current team. The recipients are the ``age1...`` public keys in
recipients.txt at the repository root; the private keys never enter the repository.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from complaints.adapters.agefile import armour_problem
from complaints.errors import ConfigError, ComplaintsError

RECIPIENTS_FILE = "recipients.txt"
ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = "-----END AGE ENCRYPTED FILE-----"
# recipients.txt says this (in a comment) while it still holds the template's sample key.
PLACEHOLDER_MARK = "PLACEHOLDER"
MAX_CONTACT_BYTES = 4000  # armored, that stays well under the schema's 20,000 characters

_RECIPIENT = re.compile(r"age1[02-9ac-hj-np-z]{58}")
_SECRET_KEY = re.compile(r"AGE-SECRET-KEY-1[0-9A-Z]+")


# pyrage, the native age binding, is imported by each function that needs it: the commands that
# never touch ciphertext (and `--help`) start without loading it.


class DecryptionError(ComplaintsError):
    """None of the given identities opens a ciphertext (or it is not age at all)."""


class NotAddressed(DecryptionError):
    """None of the ciphertext's recipients is one of the given identities."""


@dataclass(frozen=True)
class Recipients:
    """The handling team's public keys, as listed in recipients.txt."""

    keys: tuple[str, ...]
    placeholder: bool  # the file still carries the template's sample key

    def pyrage_recipients(self) -> list[Any]:
        from pyrage import x25519

        return [x25519.Recipient.from_str(key) for key in self.keys]


def parse_recipients(text: str, source: str = RECIPIENTS_FILE) -> Recipients:
    """One ``age1...`` key per line; blank lines and ``#`` comments are ignored."""
    import pyrage
    from pyrage import x25519

    keys: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if _SECRET_KEY.search(raw):
            # Name the line only: the secret itself must not reach a terminal or a CI log.
            raise ConfigError(f"{source}:{number}: this is a PRIVATE key (AGE-SECRET-KEY-1...); remove it and rotate it")
        if not _RECIPIENT.fullmatch(line):
            raise ConfigError(f"{source}:{number}: not an age public key (age1 followed by 58 characters)")
        try:
            x25519.Recipient.from_str(line)
        except pyrage.RecipientError:
            raise ConfigError(f"{source}:{number}: not a valid age public key (bad checksum)") from None
        if line not in keys:
            keys.append(line)
    if _SECRET_KEY.search(text):
        raise ConfigError(f"{source}: contains a PRIVATE key (AGE-SECRET-KEY-1...); remove it and rotate it")
    if not keys:
        raise ConfigError(f"{source}: lists no age public key; add the handling team's keys (age1...)")
    return Recipients(tuple(keys), PLACEHOLDER_MARK in text)


def load_recipients(root: Path) -> Recipients:
    path = root / RECIPIENTS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{RECIPIENTS_FILE}: missing; list the handling team's age public keys there") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{RECIPIENTS_FILE}: cannot be read ({type(exc).__name__})") from None
    return parse_recipients(text)


def parse_identities(text: str, source: str) -> list[Any]:
    """The ``AGE-SECRET-KEY-1...`` lines of an age identity file (as written by age-keygen)."""
    import pyrage
    from pyrage import x25519

    identities: list[Any] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(x25519.Identity.from_str(line))
        except pyrage.IdentityError:
            raise ConfigError(f"{source}:{number}: not an age private key (AGE-SECRET-KEY-1...)") from None
    if not identities:
        raise ConfigError(f"{source}: holds no age private key (AGE-SECRET-KEY-1...)")
    return identities


def load_identities(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the identity file ({type(exc).__name__})") from None
    return parse_identities(text, str(path))


def encrypt_contact(plaintext: bytes, recipients: Recipients) -> str:
    """ASCII-armored age ciphertext of ``plaintext`` to every recipient, with "\\n" line ends."""
    if not plaintext.strip():
        raise ComplaintsError("the contact details are empty; leave them out instead")
    if len(plaintext) > MAX_CONTACT_BYTES:
        raise ComplaintsError(f"the contact details are longer than {MAX_CONTACT_BYTES} bytes")
    import pyrage

    try:
        armored: bytes = pyrage.encrypt(plaintext, recipients.pyrage_recipients(), armored=True)
    except pyrage.EncryptError as exc:  # pragma: no cover - only with unusable recipients
        raise ConfigError(f"{RECIPIENTS_FILE}: encryption failed ({exc})") from None
    return armored.decode("ascii").replace("\r\n", "\n").strip() + "\n"


def decrypt_contact(armored: str, identities: Sequence[Any]) -> bytes:
    """The plaintext behind an armored ciphertext; DecryptionError if no identity opens it."""
    if not is_armored_age(armored) or armour_problem(armored) is not None:
        raise DecryptionError("not an ASCII-armored age ciphertext")
    import pyrage

    try:
        plaintext: bytes = pyrage.decrypt(armored.strip().encode("ascii"), list(identities))
    except pyrage.DecryptError:
        raise DecryptionError("none of the given private keys can decrypt it") from None
    return plaintext


def decrypt_file(data: bytes, identities: Sequence[Any]) -> bytes:
    """The plaintext of an age file (binary or armoured); NotAddressed when none of its
    recipients is one of ``identities``, DecryptionError when it does not authenticate."""
    import pyrage

    try:
        plaintext: bytes = pyrage.decrypt(data, list(identities))
    except pyrage.DecryptError as exc:
        if "no matching keys" in str(exc).lower():
            raise NotAddressed("none of its recipients matches the given private keys") from None
        raise DecryptionError("the ciphertext does not authenticate") from None
    return plaintext


def new_identity() -> tuple[str, str]:
    """A fresh X25519 identity: (its ``AGE-SECRET-KEY-1...`` text, its ``age1...`` public key)."""
    from pyrage import x25519

    identity = x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def is_armored_age(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(ARMOR_BEGIN) and stripped.endswith(ARMOR_END)
