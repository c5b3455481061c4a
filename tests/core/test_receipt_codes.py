"""Receipt codes: generation, normalization, the slow hash, and the published lookup table."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from complaints.commands import receipts
from complaints.core import receipt
from complaints.render.receipts import write_lookup_table
from complaints.cli import cli
from complaints.errors import ConfigError
from complaints.adapters.repository import Repository
from complaints.adapters.schemas import load_schema
from test_writer_support import PROJECT, TEST_ITERATIONS, make_repo


def test_codes_are_80_random_bits_in_four_groups() -> None:
    codes = {receipt.new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code)
    assert receipt.CODE_LENGTH * 5 == 80


@pytest.mark.parametrize("typed", ["7K3Q-HXN2-ABCD-EF01", "7k3q hxn2 abcd ef01", " 7K3QHXN2ABCDEFO1 ", "7K3Q-HXN2-ABCD-EFOl", "７Ｋ３Ｑ－ＨＸＮ２－ＡＢＣＤ－ＥＦ０１"])
def test_typed_codes_normalize_the_same(typed: str) -> None:
    assert receipt.normalize_code(typed) == "7K3QHXN2ABCDEF01"


@pytest.mark.parametrize("typed", ["", "7K3Q-HXN2-ABCD", "7K3Q-HXN2-ABCD-EF01-2", "UUUU-HXN2-ABCD-EF01", "7K3Q-HXN2-ABCD-EF0!"])
def test_malformed_codes_are_refused(typed: str) -> None:
    with pytest.raises(receipt.ReceiptCodeError):
        receipt.normalize_code(typed)


def test_pbkdf2_matches_the_published_test_vector() -> None:
    # RFC 7914 section 11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1 (first 32 bytes)
    assert receipt.derive("passwd", "salt", 1) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"


def test_stored_hash_fits_the_schema_and_matches_only_its_code() -> None:
    settings = receipt.ReceiptSettings("0123456789abcdef0123456789abcdef", TEST_ITERATIONS)
    code = receipt.new_code()
    stored = receipt.receipt_hash(code, settings)
    pattern = load_schema(PROJECT, "case").document["$defs"]["complainant"]["properties"]["receipt_hash"]["pattern"]
    assert re.search(pattern, stored)
    assert receipt.matches(code.lower().replace("-", " "), stored, settings)
    assert not receipt.matches(receipt.new_code(), stored, settings)
    other_site = receipt.ReceiptSettings("fedcba9876543210fedcba9876543210", TEST_ITERATIONS)
    assert not receipt.matches(code, stored, other_site)


def test_policy_settings_are_checked() -> None:
    assert receipt.ReceiptSettings.from_policy({"receipt": {"salt": "x" * 32, "iterations": 600000}}).iterations == 600000
    for bad in ({}, {"receipt": {"salt": "short", "iterations": 600000}}, {"receipt": {"salt": "x" * 32, "iterations": 1000}},
                {"receipt": {"salt": "x" * 32, "iterations": True}}):
        with pytest.raises(ConfigError, match=r"\$\.receipt"):
            receipt.ReceiptSettings.from_policy(bad)
    shipped = Repository.open(PROJECT).policy.raw
    assert receipt.ReceiptSettings.from_policy(shipped).iterations >= 600000


@pytest.mark.parametrize(
    ("kinds", "state"),
    [
        (["received"], "received"),
        (["received", "acknowledged"], "received"),
        (["received", "accepted"], "accepted"),
        (["received", "accepted", "assigned", "paused"], "in_progress"),
        (["received", "accepted", "resolved"], "resolved"),
        (["received", "accepted", "resolved", "followed_up", "protection_check"], "resolved"),
        (["received", "accepted", "resolved", "closed", "review_requested"], "in_progress"),
        (["received", "accepted", "resolved", "closed", "review_requested", "review_answered"], "resolved"),
        (["received", "not_accepted"], "closed"),
        (["received", "accepted", "resolved", "closed"], "closed"),
    ],
)
def test_coarse_state(kinds: list[str], state: str) -> None:
    assert receipt.coarse_state([{"kind": k} for k in kinds]) == state


def record(root: Path, *args: str, today: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--repo", str(root), "--today", today])
    assert result.exit_code == 0, result.output
    return result.output


def new_case(root: Path, received: str) -> tuple[str, str]:
    out = record(root, "new", "--channel", "letter", "--category", "delay", "--department", "permits", "--priority", "normal",
                 "--anonymous", "--received", received, today=received)
    lines = out.splitlines()
    return lines[0].split()[1], lines[2].rsplit(" ", 1)[1]


def _row(row: list[Any]) -> dict[str, Any]:
    """A shard's row as the lookup table gives it: the two flags are written only when one is set."""
    out: dict[str, Any] = {"state": row[0], "next_step_month": row[1]}
    out.update({name: True for name, flag in zip(("overdue", "provisional"), row[2:]) if flag})
    return out


def test_lookup_table_holds_only_coarse_states_and_months(tmp_path: Path) -> None:
    root, _ = make_repo(tmp_path / "repo")
    waiting, waiting_code = new_case(root, "2026-03-02")
    working, working_code = new_case(root, "2026-03-02")
    record(root, "event", working, "accept", "--date", "2026-03-03", today="2026-03-03")
    done, done_code = new_case(root, "2026-03-02")
    record(root, "event", done, "not-accept", "--reason", "out_of_scope", "--date", "2026-03-03", today="2026-03-03")
    record(root, "event", done, "close", "--date", "2026-03-04", today="2026-03-04")
    repo = Repository.open(root)
    settings = receipt.ReceiptSettings.from_policy(repo.policy.raw)
    table = receipts.lookup_table(repo, dt.date(2026, 3, 10))
    digest = {code: receipt.derive(receipt.normalize_code(code), settings.salt, settings.iterations) for code in (waiting_code, working_code, done_code)}
    # 2026-03-02 + 3 working days (decide) = 2026-03-05; accepted + 30 calendar days = 2026-04-02
    # The decision was due 2026-03-05, before the table's day: the page says it is overdue.
    assert table[digest[waiting_code]] == {"state": "received", "next_step_month": "2026-03", "overdue": True}
    assert table[digest[working_code]] == {"state": "accepted", "next_step_month": "2026-04"}
    assert table[digest[done_code]] == {"state": "closed", "next_step_month": None}
    assert list(table) == sorted(table)
    out = write_lookup_table(repo, tmp_path / "public", dt.date(2026, 3, 10))
    document: dict[str, Any] = json.loads(out.read_text())
    assert document["kdf"] == {"name": "PBKDF2", "hash": "SHA-256", "salt": settings.salt, "iterations": [TEST_ITERATIONS], "length": 32}
    assert document["shards"] == {"bits": 0, "folder": "receipts/", "row": ["state", "next_step_month", "overdue", "provisional"]}
    shard = out.parent / "receipts" / "0.json"
    assert sorted(p.name for p in shard.parent.iterdir()) == ["0.json"]
    rows = json.loads(shard.read_text())["cases"]
    assert {d: _row(r) for d, r in rows.items()} == table
    text = out.read_text() + shard.read_text()
    for case_id in (waiting, working, done):
        assert case_id not in text and case_id[-5:] not in text
    assert "2026-03-02" not in text and "permits" not in text


def test_lookup_table_uses_a_supplied_next_step_and_skips_cases_without_hash(tmp_path: Path) -> None:
    root, _ = make_repo(tmp_path / "repo")
    case_id, code = new_case(root, "2026-03-02")
    repo = Repository.open(root)
    path = repo.find_case(case_id)
    table = receipts.lookup_table(repo, dt.date(2026, 3, 3), next_step=lambda case, path, today: dt.date(2027, 1, 9))
    assert [entry["next_step_month"] for entry in table.values()] == ["2027-01"]
    path.write_text("\n".join(line for line in path.read_text().splitlines() if "receipt_hash" not in line) + "\n")
    assert receipts.lookup_table(repo, dt.date(2026, 3, 3)) == {}


def test_shards_follow_the_hash_prefix_and_stay_small() -> None:
    assert receipt.shard_bits(0) == 0 and receipt.shard_bits(2 * receipt.SHARD_ROWS - 1) == 0
    assert receipt.shard_bits(2 * receipt.SHARD_ROWS) == 1
    for rows in (1_000, 100_000, 1_000_000, 10_000_000):
        bits = receipt.shard_bits(rows)
        assert receipt.SHARD_ROWS <= rows / 2**bits < 2 * receipt.SHARD_ROWS
    assert receipt.shard_of("f" * 64, 0) == "0"
    assert receipt.shard_of("ab" + "0" * 62, 8) == "ab"
    assert receipt.shard_of("ab" + "0" * 62, 9) == "156"  # 0xab0 >> 3
    assert receipt.shard_of("0f" + "0" * 62, 5) == "01"


def test_sharded_table_holds_every_row_exactly_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = make_repo(tmp_path / "repo")
    for _ in range(9):
        new_case(root, "2026-03-02")
    repo = Repository.open(root)
    table = receipts.lookup_table(repo, dt.date(2026, 3, 10))
    monkeypatch.setattr(receipt, "SHARD_ROWS", 2)
    out = write_lookup_table(repo, tmp_path / "public", dt.date(2026, 3, 10))
    bits = json.loads(out.read_text())["shards"]["bits"]
    assert bits == 2
    seen: dict[str, Any] = {}
    for shard in sorted((out.parent / "receipts").glob("*.json")):
        rows = json.loads(shard.read_text())["cases"]
        assert all(receipt.shard_of(d, bits) == shard.stem for d in rows)
        seen.update({d: _row(r) for d, r in rows.items()})
    assert seen == table and len(list((out.parent / "receipts").iterdir())) == 4
