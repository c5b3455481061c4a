"""Spreadsheet safety: every CSV the tool writes (stats, overdue, the site's download) turns a
text cell that a spreadsheet would run as a formula into plain text, and numbers stay numbers."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from complaints.cli import cli
from complaints.adapters.csvfile import FORMULA_START, csv_text, safe_cell
from conftest import copy_repo

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
           "\t=1+1", "\r=1+1"]


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_START):
                float(cell)  # only a number may start with + or -


def test_safe_cell() -> None:
    assert [safe_cell(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert [safe_cell(v) for v in (-3, 2.5, "-3", "+1.5", "-0.25", "", None, True, "plain", "a=b")] == \
        [-3, 2.5, "-3", "+1.5", "-0.25", "", "", "true", "plain", "a=b"]
    assert safe_cell("-3 or so") == "'-3 or so" and safe_cell("-1e5") == "'-1e5"


def test_csv_text_quotes_and_neutralises() -> None:
    text = csv_text(["a", "=b"], [["=1+1", -1, 'x","=y']], bom=True)
    assert text.startswith("\ufeff")
    assert cells(text) == [["a", "'=b"], ["'=1+1", "-1", 'x","=y']]


@pytest.fixture
def hostile_repo(tmp_path: Path) -> Path:
    root = copy_repo(tmp_path / "repo", with_cases=True)
    policy = yaml.safe_load((root / "policy.yml").read_text(encoding="utf-8"))
    for vocabulary in ("channels", "categories", "departments", "priorities", "outcomes", "satisfaction"):
        for i, key in enumerate(policy.get(vocabulary) or {}):
            label = HOSTILE[i % len(HOSTILE)]
            policy[vocabulary][key] = {"zh": label, "en": label}
    (root / "policy.yml").write_text(yaml.safe_dump(policy, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def test_hostile_policy_labels_give_no_formula_cell_in_stats_csv(hostile_repo: Path) -> None:
    result = CliRunner().invoke(cli, ["stats", "--repo", str(hostile_repo), "--today", "2026-11-30", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = cells(result.stdout)
    labels = {row[5] for row in rows[1:]}
    assert {"'" + h for h in HOSTILE} & labels, "the hostile labels reached the CSV, neutralised"
    assert_no_formula(rows)
    numbers = [row[8] for row in rows[1:] if row[8]]
    assert numbers and all(float(n) >= 0 for n in numbers)  # values stay plain numbers


def test_overdue_csv_goes_through_the_helper(hostile_repo: Path) -> None:
    result = CliRunner().invoke(cli, ["overdue", "--repo", str(hostile_repo), "--today", "2026-11-30", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = cells(result.stdout)
    assert len(rows) > 1
    assert_no_formula(rows)
