"""`complaints deadlines` and `complaints overdue` on a throw-away repository holding the cases
in tests/data/deadlines/cases (hand computations next to each expected date)."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import Result

from complaints.cli import cli
from complaints.commands.deadlines import repository_deadlines
from complaints.core.deadlines import stage_key
from complaints.core.stages import DUE_SOON, OVERDUE
from complaints.adapters.repository import Repository

# The template repository as shipped, frozen for the tests (never the live policy or cases).
from conftest import TEMPLATE as PROJECT, TEST_DATA, cli_invoke as run
DATA = TEST_DATA / "deadlines"


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(PROJECT / "schema", root / "schema")
    for name in ("policy.yml", "calendar.yml"):
        shutil.copy(PROJECT / name, root / name)
    shutil.copytree(DATA / "cases", root / "cases")
    return root


def assert_no_case_text(result: Result) -> None:
    assert "SECRET" not in result.stdout + result.stderr


def test_deadlines_text(repo: Path) -> None:
    result = run("deadlines", "XN-20260209-AAAA1", "--repo", str(repo), "--today", "2026-04-10")
    assert result.exit_code == 0, result.output
    out = result.stdout
    # resolve: accepted Wed 2-11; 30 + 10 (extension) = 40 calendar days: 2-11 + 40 = 3-23 (Mon).
    # Late on Fri 4-10 by 3-24..3-27 (4), 3-30..4-3 (9), [4-4..4-6 Qingming], 4-7..4-10 (13).
    assert "due        2026-03-23" in out
    assert "state      overdue, 13 working day(s) late" in out
    assert "extension  +10 calendar days, 2026-03-05, approver d-zhang" in out
    # acknowledge: 5 working days from Mon 2-9: 2-10..2-13 (4), Sat 2-14 make-up (5).
    assert "due        2026-02-14" in out
    assert "2026-02-14 Sat  make-up working day: Spring Festival" in out
    assert_no_case_text(result)


def test_deadlines_json(repo: Path) -> None:
    result = run("deadlines", "XN-20260209-AAAA1", "--repo", str(repo), "--today", "2026-04-10", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    by_stage = {s["stage"]: s for s in doc["stages"]}
    assert set(by_stage) == {"acknowledge", "decide", "resolve"}
    resolve = by_stage["resolve"]
    assert (resolve["due"], resolve["state"], resolve["working_days_late"], resolve["total"]) == ("2026-03-23", "overdue", 13, 40)
    assert resolve["key"] == "XN-20260209-AAAA1/resolve"
    assert resolve["extensions"][0]["applied"] == 10
    assert {"date": "2026-02-14", "kind": "makeup_workday"}.items() <= by_stage["acknowledge"]["special_days"][0].items()
    assert doc["department"] == "permits" and doc["handler"] == "h-zhou"
    assert_no_case_text(result)


def test_deadlines_unknown_case(repo: Path) -> None:
    result = run("deadlines", "XN-20260101-ZZZZZ", "--repo", str(repo), "--today", "2026-04-10")
    assert result.exit_code == 1
    assert "XN-20260101-ZZZZZ" in result.stderr


def test_overdue_grouped_text(repo: Path) -> None:
    result = run("overdue", "--repo", str(repo), "--today", "2026-04-16")
    assert result.exit_code == 0, result.output
    out = result.stdout
    # finance / h-wu: XN-20260402-BBBB2 resolve, urgent 10 calendar days from Wed 4-8 = Sat 4-18
    # -> Mon 4-20; on Thu 4-16 left: Fri 4-17, Mon 4-20 = 2 -> due soon.
    # permits / h-zhou: XN-20260209-AAAA1 resolve, due 3-23, late by 13 (to 4-10) + 4-13..4-16 = 17.
    # Worst first: the group with an overdue stage comes before the one with a due-soon stage.
    assert out.index("permits (审批服务科) / h-zhou") < out.index("finance (财务科) / h-wu")
    assert "XN-20260402-BBBB2  resolve (调查办结)  started 2026-04-08  due 2026-04-20  due soon, 2 working day(s) left" in out
    assert "XN-20260209-AAAA1  resolve (调查办结)  started 2026-02-11  due 2026-03-23  OVERDUE by 17 working day(s)" in out
    assert "XN-20260302-CCCC3" not in out
    assert "Total: 1 overdue, 1 due soon." in out
    assert_no_case_text(result)


def test_overdue_json_csv_and_fail_flag(repo: Path) -> None:
    result = run("overdue", "--repo", str(repo), "--today", "2026-04-16", "--format", "json", "--fail-on-overdue")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["overdue"], doc["due_soon"], doc["warn_days"]) == (1, 1, 2)
    assert [(g["department"], g["handler"]) for g in doc["groups"]] == [("permits", "h-zhou"), ("finance", "h-wu")]
    assert doc["groups"][0]["stages"][0]["key"] == "XN-20260209-AAAA1/resolve"

    result = run("overdue", "--repo", str(repo), "--today", "2026-04-16", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["case_id"], r["stage"], r["state"], r["due"]) for r in rows] == [
        ("XN-20260209-AAAA1", "resolve", OVERDUE, "2026-03-23"),
        ("XN-20260402-BBBB2", "resolve", DUE_SOON, "2026-04-20"),
    ]
    assert_no_case_text(result)


def test_warn_days_option(repo: Path) -> None:
    # On Fri 4-10, BBBB2's resolve (due Mon 4-20) has 4-13..4-17, 4-20 = 6 working days left.
    narrow = json.loads(run("overdue", "--repo", str(repo), "--today", "2026-04-10", "--format", "json").stdout)
    wide = json.loads(run("overdue", "--repo", str(repo), "--today", "2026-04-10", "--format", "json", "--warn-days", "6").stdout)
    assert narrow["due_soon"] == 0 and wide["due_soon"] == 1


def test_fail_on_overdue_passes_when_nothing_is_late(repo: Path) -> None:
    result = run("overdue", "--repo", str(repo), "--today", "2026-02-12", "--fail-on-overdue")
    # On Thu 2-12 nothing is late (AAAA1's stages were all met or are not due before 3-23).
    assert result.exit_code == 0, result.output
    assert "Total: 0 overdue" in result.stdout


def test_unconfirmed_year_is_provisional_or_stops_as_the_policy_says(repo: Path) -> None:
    (repo / "cases" / "2026" / "XN-20261228-DDDD4.yml").write_text(
        "id: XN-20261228-DDDD4\nchannel: hotline\ncomplainant: {anonymous: true}\n"
        "subject: {category: delay, departments: [it]}\npriority: normal\n"
        "timeline:\n  - {kind: received, date: 2026-12-28}\n",
        encoding="utf-8",
    )
    # acknowledge: 5 working days from Mon 12-28 reach past 12-31 into 2027, not yet announced:
    # by default a provisional due date (Fri 2027-01-01 is New Year's Day, statutory).
    result = run("overdue", "--repo", str(repo), "--today", "2026-12-31", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "2027" in result.stderr and "provisional" in result.stderr
    document = json.loads(result.stdout)
    rows = [r for g in document["groups"] for r in g["stages"] if r["case_id"] == "XN-20261228-DDDD4"]
    by_stage = {r["stage"]: r for r in rows}
    assert by_stage["acknowledge"]["due"] == "2027-01-05" and by_stage["acknowledge"]["provisional"] is True
    assert by_stage["decide"]["due"] == "2026-12-31" and by_stage["decide"]["provisional"] is False
    assert any("2027" in w for w in document["warnings"])
    text = run("overdue", "--repo", str(repo), "--today", "2026-12-31")
    assert "due 2027-01-05 (provisional)" in text.stdout
    csv_out = run("overdue", "--repo", str(repo), "--today", "2026-12-31", "--format", "csv").stdout
    assert csv_out.splitlines()[0].endswith(",provisional") and "2027-01-05" in csv_out and ",true" in csv_out
    explained = run("deadlines", "XN-20261228-DDDD4", "--repo", str(repo), "--today", "2026-12-31", "--format", "json")
    acknowledge = next(s for s in json.loads(explained.stdout)["stages"] if s["key"].endswith("/acknowledge"))
    assert acknowledge["provisional"] is True and acknowledge["due"] == "2027-01-05"

    # The policy may make it an error; the message offers the option only where the command has it.
    policy = repo / "policy.yml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("  roll_forward: true\n", "  roll_forward: true\n  unconfirmed_years: error\n"), encoding="utf-8")
    result = run("overdue", "--repo", str(repo), "--today", "2026-12-31")
    assert result.exit_code == 1
    assert "2027" in result.stderr and "calendar.yml" in result.stderr and "--accept-unconfirmed" in result.stderr
    result = run("overdue", "--repo", str(repo), "--today", "2026-12-31", "--accept-unconfirmed", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "2027" in result.stderr and "provisional" in result.stderr


def test_repository_deadlines_for_notify(repo: Path) -> None:
    import datetime as dt

    found = repository_deadlines(Repository.open(repo), dt.date(2026, 4, 16))
    keys = {stage_key(d): d.state for d in found}
    assert keys["XN-20260209-AAAA1/resolve"] == OVERDUE
    assert keys["XN-20260402-BBBB2/resolve"] == DUE_SOON
    # CCCC3: accepted Wed 3-4 + 30 = Fri 4-3 (a working day; Qingming starts 4-4); resolved 3-20.
    assert keys["XN-20260302-CCCC3/resolve"] == "done_on_time"
    assert "XN-20260302-CCCC3/follow_up" not in keys  # anonymous: no follow-up stage


@pytest.mark.parametrize("command", ["deadlines", "overdue"])
def test_help_has_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0 and "Example" in result.stdout
