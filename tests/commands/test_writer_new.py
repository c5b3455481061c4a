"""`complaints new`: options and prompts, placement, ids, receipt codes, encrypted contact."""
from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pyrage
import pytest
from click.testing import CliRunner

from complaints.core import ids

from complaints.core import receipt
from complaints.cli import cli
from complaints.errors import CaseError
from complaints.adapters.repository import Repository
from complaints.adapters.yamlload import load_yaml
from test_writer_support import TEST_ITERATIONS, make_repo
from conftest import cli_invoke

CONTACT = "王小明 / Wang Xiaoming\n+86 139 1234 5678\nwang@example.org\n"
OPTIONS = ["--channel", "hotline", "--category", "delay", "--department", "permits", "--department", "registry",
           "--priority", "urgent", "--handler", "h-zhou", "--received", "2026-03-05"]


@pytest.fixture()
def repo(tmp_path: Path) -> tuple[Path, list[Any]]:
    return make_repo(tmp_path / "repo")


def invoke(root: Path, *args: str, input: str | None = None) -> Any:
    return cli_invoke("new", "--repo", str(root), "--today", "2026-03-06", *args, input=input)


def parse_output(output: str) -> tuple[str, str, str]:
    lines = output.splitlines()
    case_id = lines[0].removeprefix("created ")
    path = lines[1].removeprefix("file: ")
    code = lines[2].rsplit(" ", 1)[1]
    return case_id, path, code


def test_new_with_options_writes_a_valid_encrypted_case(repo: tuple[Path, list[Any]]) -> None:
    root, identities = repo
    result = invoke(root, *OPTIONS, "--named", "--contact-stdin", "--summary", "十个工作日无人答复", input=CONTACT)
    assert result.exit_code == 0, result.output
    case_id, relpath, code = parse_output(result.output)
    assert ids.CASE_ID_PATTERN.fullmatch(case_id) and case_id.startswith("XN-20260305-")
    assert relpath == f"cases/2026/{case_id}.yml"
    raw = (root / relpath).read_bytes()
    # the plaintext never reaches the disk or the terminal (the number as written: three
    # digits alone turn up in a random ciphertext or hash one file in fifty)
    for fragment in ("Wang", "139 1234 5678", "12345678", "example.org", "王小明"):
        assert fragment.encode() not in raw
        assert fragment not in result.output
    case = load_yaml(raw, relpath)
    assert case["id"] == case_id
    assert case["subject"] == {"category": "delay", "departments": ["permits", "registry"], "summary": "十个工作日无人答复"}
    assert case["timeline"] == [{"kind": "received", "date": "2026-03-05"}]
    assert case["priority"] == "urgent" and case["handler"] == "h-zhou" and case["channel"] == "hotline"
    assert pyrage.decrypt(case["complainant"]["contact"].encode(), identities).decode() == CONTACT
    settings = receipt.ReceiptSettings.from_policy(Repository.open(root).policy.raw)
    assert case["complainant"]["receipt_hash"] == receipt.receipt_hash(code, settings)
    assert case["complainant"]["receipt_hash"].startswith(f"pbkdf2-sha256${TEST_ITERATIONS}$")
    assert code not in raw.decode()
    assert raw.startswith(b"# yaml-language-server: $schema=../../schema/case.schema.json\n")
    check = CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", "2026-03-06"])
    assert check.exit_code == 0, check.output


def test_new_from_a_contact_file_and_anonymous(repo: tuple[Path, list[Any]], tmp_path: Path) -> None:
    root, identities = repo
    contact = tmp_path / "contact.txt"
    contact.write_text(CONTACT, encoding="utf-8")
    named = invoke(root, *OPTIONS, "--named", "--contact-file", str(contact))
    assert named.exit_code == 0, named.output
    case = load_yaml((root / parse_output(named.output)[1]).read_bytes(), "x")
    assert pyrage.decrypt(case["complainant"]["contact"].encode(), identities).decode() == CONTACT
    anonymous = invoke(root, *OPTIONS, "--anonymous")
    assert anonymous.exit_code == 0, anonymous.output
    case = load_yaml((root / parse_output(anonymous.output)[1]).read_bytes(), "x")
    assert case["complainant"]["anonymous"] is True and "contact" not in case["complainant"]
    refused = invoke(root, *OPTIONS, "--anonymous", "--contact-file", str(contact))
    assert refused.exit_code == 1 and "anonymous complaint has no contact details" in refused.output


def test_new_asks_for_each_field_with_the_policy_choices(repo: tuple[Path, list[Any]]) -> None:
    root, identities = repo
    answers = "\n".join([
        "fax",  # not a channel: asked again
        "letter", "attitude", "nowhere, finance", "finance, hr", "urgent", "h-wu", "2026-03-04", "n",
        "窗口人员态度生硬", "Zhao Liu, 13912345678",
        "",  # no improvement suggestion
        "y",  # Save? [Y/n]
    ]) + "\n"
    result = invoke(root, "--interactive", input=answers)
    assert result.exit_code == 0, result.output
    # The choices are shown with their labels, and a refusal lists them again.
    assert "Channel [mailbox (投诉信箱), anonymous_box (匿名投诉箱)" in result.output
    assert "error: Channel: not a key of the policy's channels; choose one of: mailbox (投诉信箱)" in result.output
    assert "Zhao Liu" not in result.output  # typed hidden
    case_id = next(line for line in result.output.splitlines() if line.startswith("created ")).split()[1]
    path = Repository.open(root).find_case(case_id)
    case = load_yaml(path.read_bytes(), "x")
    assert case["channel"] == "letter" and case["subject"]["departments"] == ["finance", "hr"]
    assert case["handler"] == "h-wu" and case["timeline"][0]["date"] == "2026-03-04"
    assert pyrage.decrypt(case["complainant"]["contact"].encode(), identities) == b"Zhao Liu, 13912345678"


def test_new_without_a_terminal_needs_every_option(repo: tuple[Path, list[Any]]) -> None:
    root, _ = repo
    result = invoke(root, "--no-interactive", "--channel", "hotline")
    assert result.exit_code == 2
    assert "missing --category, --department, --priority, --anonymous/--named" in result.output
    wrong = invoke(root, *OPTIONS[:2], "--category", "bribery", *OPTIONS[4:], "--anonymous")
    assert wrong.exit_code == 2 and "--category" in wrong.output and "delay" in wrong.output
    assert not list((root / "cases").rglob("*.yml"))


def test_received_in_the_future_is_refused(repo: tuple[Path, list[Any]]) -> None:
    root, _ = repo
    result = invoke(root, *OPTIONS[:-1], "2026-03-07", "--anonymous")
    # A usage error (exit 2), like any other option value that cannot be.
    assert result.exit_code == 2 and "after today" in result.output


def test_placeholder_recipients_are_warned_about(repo: tuple[Path, list[Any]]) -> None:
    root, _ = repo
    text = (root / "recipients.txt").read_text()
    (root / "recipients.txt").write_text("# PLACEHOLDER sample key\n" + text)
    result = CliRunner().invoke(cli, ["new", "--repo", str(root), "--today", "2026-03-06", *OPTIONS, "--named", "--contact-stdin"], input="x")
    assert result.exit_code == 0
    assert "PLACEHOLDER" in result.stderr and "PLACEHOLDER" not in result.stdout


def test_ids_draw_again_when_the_file_exists(tmp_path: Path) -> None:
    taken = tmp_path / ids.case_relpath("XN-20260305-AAAAA")
    taken.parent.mkdir(parents=True)
    taken.write_text("")
    draws = itertools.chain("AAAAA", "BBBBB")
    assert ids.new_case_id(tmp_path, "XN", dt.date(2026, 3, 5), lambda _alphabet: next(draws)) == "XN-20260305-BBBBB"
    with pytest.raises(CaseError, match="after 20 random draws"):
        ids.new_case_id(tmp_path, "XN", dt.date(2026, 3, 5), lambda _alphabet: "A")


def test_ids_are_random_crockford() -> None:
    suffixes = {ids.random_crockford(ids.SUFFIX_LENGTH) for _ in range(2000)}
    assert len(suffixes) > 1990  # 2^25 possibilities: repeats in 2000 draws are rare
    assert set("".join(suffixes)) <= set(ids.CROCKFORD) and not set("ILOU") & set("".join(suffixes))
    assert ids.case_relpath("XN-20260305-7K3QH") == Path("cases/2026/XN-20260305-7K3QH.yml")
