"""`complaints import`: an online submission (as the form's browser script makes it) is
decrypted, checked, shown and recorded as `new` records a case; anything tampered, truncated,
wrongly addressed, replayed or malformed is refused with a clear error and nothing written."""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pyrage
import pytest
from click.testing import CliRunner
from pyrage import x25519

from complaints.adapters import crypto

from complaints.commands import intake

from complaints.commands import receipts
from complaints.core import receipt
from complaints.cli import cli
from complaints.adapters.config import load_policy
from complaints.adapters.repository import Repository
from complaints.adapters.yamlload import load_yaml
from conftest import cli_invoke, copy_repo

CODE = "9RPM-3BRC-MHAB-BBMZ"
TEST_ITERATIONS = receipt.MIN_ITERATIONS  # the smallest work factor allowed; same behaviour, faster
WHAT = "窗口人员让我等了三周，营业执照变更仍未办理。"
CONTACT = "Chen Mei, 13800138000"


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Any, Path]:
    """A case repository from the template, its recipients.txt holding one fresh key pair and
    the handler's identity file outside it."""
    root = copy_repo(tmp_path / "repo")
    (root / "cases").mkdir(exist_ok=True)
    policy = (root / "policy.yml").read_text(encoding="utf-8").replace("iterations: 600000", f"iterations: {TEST_ITERATIONS}")
    (root / "policy.yml").write_text(policy, encoding="utf-8")
    identity = x25519.Identity.generate()
    (root / "recipients.txt").write_text(f"# test\n{identity.to_public()}\n", encoding="utf-8")
    key_file = tmp_path / "key.txt"
    key_file.write_text(f"# created: test\n{identity}\n", encoding="utf-8")
    return root, identity, key_file


def document(root: Path, **changes: Any) -> dict[str, Any]:
    """A submission as site/zh/assets/online-form.js builds it."""
    settings = receipt.ReceiptSettings.from_policy(load_policy(root).raw)
    doc: dict[str, Any] = {
        "format": "complaints-submission",
        "version": 1,
        "lang": "zh",
        "channel": "online_form",
        "category": "delay",
        "departments": ["permits", "registry"],
        "anonymous": False,
        "what_happened": WHAT,
        "request": "尽快办理",
        "contact": CONTACT,
        "consent": True,
        "receipt_hash": receipt.receipt_hash(CODE, settings),
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def seal(payload: dict[str, Any] | bytes, *keys: Any) -> bytes:
    data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode("utf-8")
    armored: bytes = pyrage.encrypt(data, [k.to_public() for k in keys], armored=True)
    return armored


def run_import(root: Path, key_file: Path, data: bytes, *extra: str) -> Any:
    args = ["import", "-", "--identity", str(key_file), "--repo", str(root), "--today", "2026-03-06", *extra]
    return cli_invoke(*args, input=data)


def case_files(root: Path) -> list[Path]:
    return sorted((root / "cases").rglob("*.yml"))


def test_import_records_the_case_as_new_does(repo: tuple[Path, Any, Path]) -> None:
    root, identity, key_file = repo
    result = run_import(root, key_file, seal(document(root), identity), "--yes", "--received", "2026-03-05",
                        "--summary", "Licence change unanswered for three weeks")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert WHAT in result.stdout and "Permits and Approvals (permits)" in result.stdout
    assert CONTACT not in result.output  # the review does not show the contact details
    [path] = case_files(root)
    assert path.name.startswith("XN-20260305-") and f"created {path.stem}" in result.stdout
    case = load_yaml(path.read_bytes(), "x")
    assert case["channel"] == "online_form" and case["subject"]["category"] == "delay"
    assert case["subject"]["departments"] == ["permits", "registry"] and case["priority"] == "normal"
    assert case["complainant"]["anonymous"] is False
    assert receipt.matches(CODE, case["complainant"]["receipt_hash"], receipt.ReceiptSettings.from_policy(load_policy(root).raw))
    assert case["timeline"] == [{"kind": "received", "date": "2026-03-05"}]
    text = path.read_text(encoding="utf-8")
    assert WHAT not in text and "Chen" not in text and "13800138000" not in text  # no plaintext in the repository
    # The contact details were encrypted again, to the current recipients.
    assert crypto.decrypt_contact(case["complainant"]["contact"], [identity]) == CONTACT.encode()
    # The case is valid and found by its receipt code in the lookup table.
    assert CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", "2026-03-06", "--no-cache"]).exit_code == 0
    table = receipts.lookup_table(Repository.open(root), __import__("datetime").date(2026, 3, 6), next_step=lambda *_: None)
    digest = receipt.derive(receipt.normalize_code(CODE), receipt.ReceiptSettings.from_policy(load_policy(root).raw).salt, TEST_ITERATIONS)
    assert table[digest]["state"] == "received"


def test_anonymous_submission_has_no_contact(repo: tuple[Path, Any, Path]) -> None:
    root, identity, key_file = repo
    doc = document(root, anonymous=True, contact=None, request=None, lang="en")
    result = run_import(root, key_file, seal(doc, identity), "--yes", "--priority", "urgent")
    assert result.exit_code == 0, result.output
    case = load_yaml(case_files(root)[0].read_bytes(), "x")
    assert case["complainant"]["anonymous"] is True and "contact" not in case["complainant"]
    assert case["priority"] == "urgent" and case["timeline"][0]["date"] == "2026-03-06"


def test_review_shows_and_writes_nothing(repo: tuple[Path, Any, Path], tmp_path: Path) -> None:
    root, identity, key_file = repo
    submission = tmp_path / "complaint.age"
    submission.write_bytes(seal(document(root), identity))
    result = CliRunner().invoke(cli, ["import", str(submission), "--identity", str(key_file), "--repo", str(root), "--review"])
    assert result.exit_code == 0, result.output
    assert WHAT in result.stdout and case_files(root) == []
    # Without a terminal to ask in, recording needs --yes.
    result = CliRunner().invoke(cli, ["import", str(submission), "--identity", str(key_file), "--repo", str(root)])
    assert result.exit_code == 2 and "--yes" in result.output and case_files(root) == []


def test_the_same_submission_twice_is_refused(repo: tuple[Path, Any, Path]) -> None:
    root, identity, key_file = repo
    sealed = seal(document(root), identity)
    assert run_import(root, key_file, sealed, "--yes").exit_code == 0
    [first] = case_files(root)
    before = first.read_bytes()
    for again in (sealed, seal(document(root, what_happened="Changed text"), identity)):  # replayed, or re-encrypted
        result = run_import(root, key_file, again, "--yes")
        assert result.exit_code == 1
        assert "already imported" in result.output and first.stem in result.output
        assert case_files(root) == [first] and first.read_bytes() == before


def _armor_body(armored: bytes) -> bytes:
    lines = armored.decode().strip().splitlines()
    return base64.b64decode("".join(lines[1:-1]))


def _rearmor(raw: bytes) -> bytes:
    body = base64.b64encode(raw).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("\n".join([crypto.ARMOR_BEGIN, *lines, crypto.ARMOR_END]) + "\n").encode()


def _damaged(root: Path, identity: Any) -> dict[str, tuple[bytes, str]]:
    sealed = seal(document(root), identity)
    raw = _armor_body(sealed)
    flipped = bytearray(raw)
    flipped[-5] ^= 0x01
    lines = sealed.decode().splitlines()
    stranger = x25519.Identity.generate()
    return {
        "tampered payload": (_rearmor(bytes(flipped)), "does not authenticate: the ciphertext was altered or cut short"),
        "tampered armour": (sealed.replace(b"\n", b"\n!", 2), "the armour is damaged"),
        "truncated text": (sealed[: len(sealed) // 2], "truncated: the '-----END AGE ENCRYPTED FILE-----' line is missing"),
        "truncated payload": (_rearmor(raw[:-20]), "does not authenticate: the ciphertext was altered or cut short"),
        "truncated header": ("\n".join(lines[:2] + lines[-1:]).encode(), "truncated"),
        "wrongly addressed": (seal(document(root), stranger), "not addressed to your key"),
        "not age": (b"hello, I want to complain about " + WHAT.encode(), "not an armoured age submission"),
        "empty": (b"", "not an armoured age submission"),
        "two submissions": (sealed + sealed, "more than one age ciphertext"),
        "not json": (seal(b"\xff\xfe not json", identity), "not a submission document (not UTF-8 JSON)"),
        "other json": (seal({"hello": "world"}, identity), "not a submission document"),
        "duplicate key": (seal(b'{"format":"complaints-submission","format":"x"}', identity), "a key appears twice"),
        "future version": (seal(document(root, version=2), identity), "$.version: this version of complaints reads submission version 1 only"),
        "another channel": (seal(document(root, channel="hotline"), identity), "$.channel: not the policy's online channel"),
        "unknown category": (seal(document(root, category="bribery"), identity), "$.category: not a key of the policy's categories"),
        "unknown department": (seal(document(root, departments=["permits", "nowhere"]), identity), "$.departments[1]: not a key of the policy's departments"),
        "no consent": (seal(document(root, consent=False), identity), "$.consent"),
        "named without contact": (seal(document(root, contact=None), identity), "contact"),
        "anonymous with contact": (seal(document(root, anonymous=True), identity), "$"),
        "extra field": (seal(document(root, phone="13800138000"), identity), "phone"),
        "weak hash": (seal(document(root, receipt_hash="pbkdf2-sha256$1000$" + "0" * 64), identity), "fewer than 100000 iterations"),
        "empty text": (seal(document(root, what_happened="   "), identity), "$.what_happened"),
    }


def test_damaged_or_malformed_submissions_are_refused_and_nothing_is_written(repo: tuple[Path, Any, Path]) -> None:
    root, identity, key_file = repo
    for name, (data, expected) in _damaged(root, identity).items():
        result = run_import(root, key_file, data, "--yes")
        assert result.exit_code == 1, (name, result.output)
        assert expected in result.output, (name, result.output)
        assert "Traceback" not in result.output
        # No value from inside the submission reaches the terminal in an error.
        assert WHAT not in result.output and "13800138000" not in result.output and "bribery" not in result.output, name
        assert case_files(root) == [], name
        assert not any(p.name.endswith(".tmp") for p in root.rglob("*")), name


def test_review_makes_control_characters_visible(repo: tuple[Path, Any, Path]) -> None:
    root, identity, key_file = repo
    hostile = "ok\x1b[2J\x1b]0;owned\x07 \u202eevil"
    result = run_import(root, key_file, seal(document(root, what_happened=hostile), identity), "--review")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output and "\\u001b[2J" in result.output


def test_library_refuses_a_duplicate_even_between_review_and_record(repo: tuple[Path, Any, Path]) -> None:
    import datetime as dt

    root, identity, _ = repo
    repository = Repository.open(root)
    submission = intake.read_submission(repository, seal(document(root), identity), "sub.age", [identity])
    intake.record_submission(repository, submission, dt.date(2026, 3, 6), dt.date(2026, 3, 6))
    with pytest.raises(intake.SubmissionError, match="already imported"):
        intake.record_submission(repository, submission, dt.date(2026, 3, 6), dt.date(2026, 3, 6))
    assert len(case_files(root)) == 1


def test_form_config_comes_from_the_policy_and_recipients(repo: tuple[Path, Any, Path]) -> None:
    root, identity, _ = repo
    policy = load_policy(root)
    config = intake.form_config(policy, crypto.load_recipients(root))
    assert config["recipients"] == [str(identity.to_public())] and config["placeholder"] is False
    assert config["receipt"] == {"salt": policy.raw["receipt"]["salt"], "iterations": TEST_ITERATIONS}
    assert config["channel"] == "online_form" and config["send"] == ["copy", "download", "email"]
    assert config["email"] == "complaints@example.org" and config["endpoint"] is None
    snippets = intake.form_snippets(policy, crypto.load_recipients(root), "en")
    assert '<option value="delay">Delays and slow handling</option>' in snippets["online-categories.html"]
    assert "value=\"permits\"> Permits and Approvals" in snippets["online-departments.html"]
    assert "</script>" not in snippets["online-config.html"].removesuffix("</script>\n")


def test_policy_online_intake_rules(repo: tuple[Path, Any, Path]) -> None:
    root, _, _ = repo
    text = (root / "policy.yml").read_text(encoding="utf-8")
    (root / "policy.yml").write_text(text.replace("send: [copy, download, email]", "send: [copy, post]"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", "--repo", str(root), "--no-cache"])
    assert result.exit_code == 1 and "online_intake" in result.output


def test_online_intake_defaults_without_the_section(repo: tuple[Path, Any, Path]) -> None:
    root, _, _ = repo
    text = (root / "policy.yml").read_text(encoding="utf-8")
    start = text.index("online_intake:")
    end = text.index("\n\n", start)
    (root / "policy.yml").write_text(text[:start] + text[end:], encoding="utf-8")
    settings = intake.IntakeSettings.from_policy(load_policy(root))
    assert settings == intake.IntakeSettings("online_form", ("copy", "download"))


def test_summary_follows_the_personal_data_rules(repo: tuple[Path, Any, Path]) -> None:
    root, identity, key_file = repo
    result = run_import(root, key_file, seal(document(root), identity), "--yes", "--summary", "Call her on 13800138000")
    assert result.exit_code == 1 and "nothing was written" in result.output
    assert "13800138000" not in result.output.split("Error:", 1)[1]  # the review shows it; the error does not
    assert case_files(root) == []


def test_in_a_terminal_it_asks_before_recording(repo: tuple[Path, Any, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from complaints.cli import app as cli_module

    root, identity, key_file = repo
    submission = tmp_path / "complaint.age"
    submission.write_bytes(seal(document(root), identity))
    monkeypatch.setattr(cli_module, "_stdin_is_tty", lambda: True)
    args = ["import", str(submission), "--identity", str(key_file), "--repo", str(root), "--today", "2026-03-06"]
    declined = CliRunner().invoke(cli, args, input="n\n")
    assert declined.exit_code == 1 and "Record this complaint?" in declined.output and case_files(root) == []
    accepted = CliRunner().invoke(cli, args, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert len(case_files(root)) == 1
