"""The policy file: the shipped one loads; a broken one gives a ConfigError naming the file, the
line and the field, and `complaints validate` exits 1 with that message (never a traceback)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from complaints.checker.casefile import check_case_bytes
from complaints.cli import cli
from complaints.errors import ConfigError
from complaints.adapters.config import load_policy

from conftest import ROOT
# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
POLICY_TEXT = (TEMPLATE / "policy.yml").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_the_shipped_policy_loads() -> None:
    policy = load_policy(TEMPLATE)
    assert policy.timezone == "Asia/Shanghai" and policy.id_prefix == "XN"
    assert policy.vocab["channels"] == {"mailbox", "anonymous_box", "online_form", "hotline", "in_person", "letter"}
    assert policy.vocab["satisfaction"] == {"satisfied", "basically_satisfied", "dissatisfied"}
    assert {"h-chen", "h-lin", "h-zhou", "h-wu", "d-zhang"} == policy.handlers
    assert "d-zhang" in policy.approvers and "h-wu" not in policy.approvers
    assert policy.stages == {"acknowledge", "decide", "resolve", "follow_up", "review"}
    assert policy.label("channels", "hotline", "en") == "Complaint hotline"
    assert policy.label("handlers", "h-chen", "en") == "Handler Chen (sample)"
    assert policy.label("channels", "nope") == "nope"


# (name, old text, new text, field path, message pattern, the line of the new text)
BROKEN = [
    ("unknown department of a handler", "departments: [finance, hr, it]", "departments: [finance, hr, zzdept]",
     r"\$\.handlers\.h-wu\.departments\[2\]", r"unknown department 'zzdept' \(not in departments\)"),
    ("unknown committee member", "members: [d-zhang, h-chen, h-lin]", "members: [d-zhang, h-chen, zzmember]",
     r"\$\.committee\.members\[2\]", r"unknown handler 'zzmember'"),
    ("unknown committee chair", "  chair: d-zhang", "  chair: zzchair",
     r"\$\.committee\.chair", r"unknown handler 'zzchair'"),
    ("unknown time zone", "timezone: Asia/Shanghai", "timezone: Mars/Olympus_Mons",
     r"\$\.organisation\.timezone", r"unknown time zone 'Mars/Olympus_Mons'"),
    ("malformed time zone", "timezone: Asia/Shanghai", "timezone: ../../etc/passwd",
     r"\$\.organisation\.timezone", r"must be text matching .*"),
    ("unknown stage start", "      starts: accepted", "      starts: zzkind",
     r"\$\.time_limits\.stages\.resolve\.starts", r".*"),
    ("contact details for an unknown channel", "  hotline:\n    phone:", "  zzphone:\n    phone:",
     r"\$\.channel_contacts\.zzphone", r"unknown channel 'zzphone' \(not in channels\)"),
    ("a web address that is not https", "    web: https://complaints.example.org/", "    web: javascript:alert(1)",
     r"\$\.channel_contacts\.online_form\.web", r".*"),
    ("an unknown contact field", '    phone: "0000-0000000"\n', '    fax: "0000"\n    phone: "0000-0000000"\n',
     r"\$\.channel_contacts\.hotline\.fax", r"unexpected field 'fax'"),

    ("a wrong type", "policy_version: 1", "policy_version: one",
     r"\$\.policy_version", r"must be .*found text"),
]


@pytest.mark.parametrize("name, old, new, field, message", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_policy_names_file_line_and_field(make_repo: Callable[..., Path], name: str, old: str, new: str, field: str, message: str) -> None:
    root = make_repo()
    assert old in POLICY_TEXT
    text = POLICY_TEXT.replace(old, new, 1)
    (root / "policy.yml").write_text(text, encoding="utf-8")
    line = line_of(text, new)
    with pytest.raises(ConfigError) as info:
        load_policy(root)
    pattern = rf"{re.escape(str(root / 'policy.yml'))}:{line}:\d+: {field}: {message}"
    assert re.search(pattern, str(info.value)), str(info.value)
    result = CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", "2026-11-28"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and re.search(pattern, result.stderr), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("section", ["channels", "categories", "departments", "handlers", "committee", "organisation", "outcomes"])
def test_a_missing_section(make_repo: Callable[..., Path], section: str) -> None:
    root = make_repo()
    text = re.sub(rf"(?m)^{section}:", f"x_{section}:", POLICY_TEXT, count=1)
    (root / "policy.yml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(root)
    assert f"$: missing required field '{section}'" in str(info.value)
    assert re.search(rf"policy\.yml:\d+:\d+: \$\.x_{section}: unexpected field 'x_{section}'", str(info.value))
    result = CliRunner().invoke(cli, ["validate", "--repo", str(root)])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"missing required field '{section}'" in result.stderr


def test_a_policy_that_is_not_strict_yaml(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    (root / "policy.yml").write_text(POLICY_TEXT.replace("policy_version: 1", "policy_version: 1\npolicy_version: 2"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"policy\.yml:\d+: duplicate key 'policy_version'"):
        load_policy(root)
    (root / "policy.yml").write_bytes(POLICY_TEXT.encode("utf-16"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_policy(root)
    (root / "policy.yml").write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="the policy must be a mapping"):
        load_policy(root)


def test_a_missing_policy_or_schema(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    (root / "schema" / "policy.schema.json").unlink()
    with pytest.raises(ConfigError, match="schema file is missing"):
        load_policy(root)
    result = CliRunner().invoke(cli, ["validate", "--repo", str(root)])
    assert result.exit_code == 1 and "schema file is missing" in result.stderr
    (root / "policy.yml").unlink()
    result = CliRunner().invoke(cli, ["validate", "--repo", str(root)])
    assert result.exit_code == 1 and "no policy.yml" in result.stderr and "Traceback" not in result.stderr


def test_a_vocabulary_key_that_is_not_a_key(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    text = POLICY_TEXT.replace("  letter: {zh: 来信, en: Letter}", "  Letter Box: {zh: 来信, en: Letter}")
    (root / "policy.yml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(root)
    # Placed on the section (the key itself has no path of its own); the key is not quoted.
    assert f"policy.yml:{line_of(text, 'channels:')}:1: $.channels: " in str(info.value)
    assert "Letter Box" not in str(info.value)


def test_the_policy_vocabularies_drive_the_validator(make_repo: Callable[..., Path]) -> None:
    """One source of truth: add a channel to the policy and a case may use it."""
    root = make_repo()
    case = (ROOT / "tests/data/writer/XN-20260305-7K3QH.yml").read_bytes().replace(b"channel: online_form", b"channel: wechat_bot")
    file, today = "cases/2026/XN-20260305-7K3QH.yml", dt.date(2026, 11, 28)
    assert not check_case_bytes(case, file, load_policy(root), today).ok
    (root / "policy.yml").write_text(POLICY_TEXT.replace("  letter: {zh: 来信, en: Letter}", "  letter: {zh: 来信, en: Letter}\n  wechat_bot: {zh: 公众号, en: WeChat}"), encoding="utf-8")
    assert check_case_bytes(case, file, load_policy(root), today).ok


def test_the_time_zone_of_the_policy_is_named_in_future_date_messages(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    (root / "policy.yml").write_text(POLICY_TEXT.replace("timezone: Asia/Shanghai", "timezone: Asia/Urumqi"), encoding="utf-8")
    case = (ROOT / "tests/data/writer/XN-20260305-7K3QH.yml").read_bytes()
    result = check_case_bytes(case, "cases/2026/XN-20260305-7K3QH.yml", load_policy(root), dt.date(2026, 4, 26))
    assert [p.message for p in result.problems] == ["is in the future (today is 2026-04-26 in Asia/Urumqi)"]
