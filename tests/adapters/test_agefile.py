"""The contact field must hold real age v1 ciphertext: armour around anything else fails, in
the schema and in the checker alike, and nothing of the text is echoed."""
from __future__ import annotations

import base64
import datetime as dt

import pyrage
import pytest
from pyrage import x25519

from complaints.adapters.agefile import HEADER_BASE64, armour_problem
from complaints.checker.casefile import check_case_bytes
from complaints.adapters.config import load_policy
from complaints.adapters.schemas import load_schema
from complaints.adapters.yamlload import load_yaml

from conftest import TEMPLATE


def armour(data: bytes, columns: int = 64) -> str:
    text = base64.b64encode(data).decode("ascii")
    lines = [text[i : i + columns] for i in range(0, len(text), columns)]
    return "-----BEGIN AGE ENCRYPTED FILE-----\n" + "\n".join(lines) + "\n-----END AGE ENCRYPTED FILE-----\n"


STANZA = b"-> X25519 " + b"A" * 43 + b"\n" + b"B" * 43 + b"\n"
MAC = b"--- " + b"C" * 43 + b"\n"


@pytest.mark.parametrize("size", [1, 63, 64, 65, 500, 4000])
@pytest.mark.parametrize("recipients", [1, 3])
def test_real_ciphertext_passes(size: int, recipients: int) -> None:
    keys = [x25519.Identity.generate().to_public() for _ in range(recipients)]
    armored = pyrage.encrypt(b"x" * size, keys, armored=True).decode("ascii")
    assert armored.replace("\r\n", "\n").split("\n")[1].startswith(HEADER_BASE64)
    assert armour_problem(armored) is None
    assert armour_problem(armored.replace("\r\n", "\n")) is None
    assert armour_problem(armored.replace("\r\n", "\n").replace("\n", "\r\n")) is None


@pytest.mark.parametrize(
    "text",
    [
        armour(b"13812345678"),
        armour("someone@example.com 张三".encode()),
        armour(b"age-encryption.org/v1\n"),
        armour(b"age-encryption.org/v1\n" + MAC + b"x" * 40),  # no stanza
        armour(b"age-encryption.org/v1\n" + STANZA + b"x" * 40),  # no MAC
        armour(b"age-encryption.org/v1\n" + STANZA + MAC),  # no payload
        armour(b"age-encryption.org/v1\n-> X25519 abc\n" + MAC + b"x" * 40),  # stanza without body
        armour(b"age-encryption.org/v1\n->  \n\n" + MAC + b"x" * 40),  # stanza without type
        armour(b"age-encryption.org/v1\n" + STANZA + b"--- short\n" + b"x" * 40),  # bad MAC
        armour(b"age-encryption.org/v2\n" + STANZA + MAC + b"x" * 40),
        armour(b"age-encryption.org/v1\n" + STANZA + MAC + b"x" * 40, columns=76),  # not 64 columns
        armour(b"age-encryption.org/v1\n" + STANZA + MAC + b"x" * 40).replace("A", "!", 1),
        armour(b"age-encryption.org/v1\n" + STANZA + MAC + b"x" * 40) + " ",
        armour(b"age-encryption.org/v1\n" + STANZA + MAC + b"x" * 40) + "\x1c",
        armour(b"age-encryption.org/v1\n" + STANZA + MAC + b"x" * 40) + "\x85",
        "13812345678",
        "",
    ],
)
def test_anything_else_is_rejected_without_echo(text: str) -> None:
    problem = armour_problem(text)
    assert problem is not None
    assert "138" not in problem and "example" not in problem


def test_well_formed_header_passes() -> None:
    assert armour_problem(armour(b"age-encryption.org/v1\n" + STANZA + MAC + b"x" * 40)) is None


CASE = (TEMPLATE / "cases" / "2025" / "XN-20250106-Z08CW.yml").read_text(encoding="utf-8")


def with_contact(contact: str) -> bytes:
    start = CASE.index("  contact: |")
    end = CASE.index("  receipt_hash:")
    block = "  contact: |\n" + "".join("    " + line + "\n" for line in contact.rstrip("\n").split("\n"))
    return (CASE[:start] + block + CASE[end:]).encode("utf-8")


@pytest.mark.parametrize(
    "contact, schema_ok",
    [
        (armour(b"13812345678"), False),
        (armour(b"age-encryption.org/v1\n" + MAC + b"x" * 40), False),
        (armour(b"age-encryption.org/v1\n" + STANZA + b"13812345678 Wang"), True),
        (armour(b"age-encryption.org/v1\n" + STANZA + MAC), True),
    ],
)
def test_schema_and_checker_agree(contact: str, schema_ok: bool) -> None:
    """Where the schema's pattern rejects the contact the checker reports that, once; where
    only decoding can tell, the checker rejects it. Either way the file fails."""
    policy = load_policy(TEMPLATE)
    schema = load_schema(TEMPLATE, "case")
    data = with_contact(contact)
    case = load_yaml(data)
    assert schema.is_valid(case) is schema_ok
    assert bool(schema.problems(case)) is not schema_ok
    result = check_case_bytes(data, "cases/2025/XN-20250106-Z08CW.yml", policy, dt.date(2026, 11, 28))
    fields = [p.field for p in result.problems]
    assert fields == ["$.complainant.contact"], result.problems
    assert "138" not in result.problems[0].message


def test_the_template_case_passes_as_is() -> None:
    policy = load_policy(TEMPLATE)
    result = check_case_bytes(CASE.encode(), "cases/2025/XN-20250106-Z08CW.yml", policy, dt.date(2026, 11, 28))
    assert result.ok, result.problems
