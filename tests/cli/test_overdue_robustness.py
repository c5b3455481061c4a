"""`complaints overdue` on a repository with a broken case file, and with a case whose deadline
needs a year's calendar that is not known: the user is told which file."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from complaints.cli import cli
from complaints.adapters.yamlload import YamlError, load_yaml

BROKEN = "cases/2026/XN-20261021-1QSN9.yml"  # a sample case that is overdue on 2026-11-28


def test_invalid_case_is_named_in_a_warning(sample_repo: Path) -> None:
    repo = sample_repo
    before = json.loads(CliRunner().invoke(cli, ["overdue", "--repo", str(repo), "--today", "2026-11-28", "--format", "json"]).stdout)
    path = repo / BROKEN
    path.write_text(path.read_text(encoding="utf-8").replace("  category:", "  categroy:"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["overdue", "--repo", str(repo), "--today", "2026-11-28", "--format", "json"])
    assert result.exit_code == 0
    after = json.loads(result.stdout)
    assert after["overdue"] == before["overdue"] - 1
    assert any(BROKEN in w and "complaints validate" in w for w in after["warnings"])
    assert BROKEN in result.stderr


def test_calendar_error_names_the_case(sample_repo: Path) -> None:
    repo = sample_repo
    policy = repo / "policy.yml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("  roll_forward: true\n", "  roll_forward: true\n  unconfirmed_years: error\n"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["overdue", "--repo", str(repo), "--today", "2027-01-05", "--no-cache"])
    assert result.exit_code == 1
    assert "cases/20" in result.stderr and "2027" in result.stderr and "calendar.yml" in result.stderr
    assert "Traceback" not in result.stderr


def test_full_width_colon_after_a_key_gets_a_hint() -> None:
    text = "id: XN-20260305-7K3QH\npriority： normal\nhandler: h-chen\n".encode()
    try:
        load_yaml(text)
    except YamlError as exc:
        assert "full-width colon" in exc.message and exc.line == 2
    else:
        raise AssertionError("a key with a full-width colon was accepted")
    # In a value, a full-width colon is just text.
    assert load_yaml("summary: 说明：内容\n".encode()) == {"summary": "说明：内容"}
