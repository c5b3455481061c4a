"""Open data: the statistics as a Frictionless Data Package, validated with `frictionless`;
and the history of past years and quarters with the change on a year before."""
from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from frictionless import validate

from complaints.cli import cli
from complaints.adapters.repository import Repository
from complaints.commands.stats import compute
from complaints.core.stats.periods import Period


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import copy_repo

    root = copy_repo(tmp_path_factory.mktemp("repo") / "repo", with_cases=True)
    out = tmp_path_factory.mktemp("pkg")
    result = CliRunner().invoke(
        cli, ["stats", "--repo", str(root), "--today", "2026-11-30", "--format", "datapackage", "--out", str(out), "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    return out


def test_the_package_is_valid_for_frictionless(package: Path) -> None:
    report = validate(str(package / "datapackage.json"))
    assert report.valid, report.flatten(["taskName", "type", "note"])


def test_one_long_file_per_period_with_flags_and_formula_version(package: Path) -> None:
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    paths = [r["path"] for r in descriptor["resources"]]
    expected = ["data/stats-2026.csv", *(f"data/stats-2026-Q{q}.csv" for q in range(1, 5)),
                *(f"data/stats-2026-{m:02d}.csv" for m in range(1, 12)), "data/history.csv"]
    assert paths == expected
    assert descriptor["formula_version"] == 2 and "threshold 5" in descriptor["description"]
    with (package / "data" / "stats-2026-Q3.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["period"] for r in rows} == {"2026-Q3"}
    assert {"suppressed", "rounded", "fallback_period", "formula_version"} <= set(rows[0])
    withheld = [r for r in rows if r["suppressed"] == "true"]
    assert withheld and all(r["value"] == "" for r in withheld)
    rates = [r for r in rows if r["unit"] == "percent" and r["value"]]
    assert rates and all(r["rounded"] == "true" for r in rates)
    # a month's withheld rate shown as its quarter's carries the quarter
    with (package / "data" / "stats-2026-08.csv").open(encoding="utf-8", newline="") as fh:
        august = list(csv.DictReader(fh))
    fallback = [r for r in august if r["fallback_period"]]
    assert fallback and all(r["fallback_period"] == "2026-Q3" for r in fallback)


def test_datapackage_needs_an_out_folder(make_repo) -> None:  # type: ignore[no-untyped-def]
    root = make_repo(with_cases=True)
    result = CliRunner().invoke(cli, ["stats", "--repo", str(root), "--today", "2026-11-30", "--format", "datapackage"])
    assert result.exit_code == 2 and "--out" in result.stderr


def test_history_has_every_year_and_quarter_with_year_on_year_change(make_repo) -> None:  # type: ignore[no-untyped-def]
    root = make_repo(with_cases=True)
    report = compute(Repository.open(root), Period.parse("2026"), dt.date(2026, 11, 30))
    periods = [h.period for h in report.history]
    assert periods == ["2026", "2026-Q4", "2026-Q3", "2026-Q2", "2026-Q1", "2025", "2025-Q4", "2025-Q3", "2025-Q2", "2025-Q1"]
    by = {h.period: h for h in report.history}
    assert not by["2026"].complete and not by["2026-Q4"].complete and by["2026-Q3"].complete
    q1 = {(f.metric, f.key): f for f in by["2026-Q1"].figures}
    before = {(f.metric, f.key): f for f in by["2025-Q1"].figures}
    received, received_before = q1[("volume_by_channel", "total")], before[("volume_by_channel", "total")]
    assert received.value is not None and received_before.value
    assert received.change == round(100 * (received.value - received_before.value) / received_before.value, 1)
    # a running period is never compared with a complete one
    assert all(f.change is None for f in by["2026"].figures)
    # a rate's change is in percentage points, and only between published figures
    for h in report.history:
        for f in h.figures:
            if f.suppressed:
                assert f.value is None and f.change is None
            if f.metric.endswith("_rate"):
                assert f.change_unit == "points"


def test_a_label_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    """The data package's CSV goes through the one CSV writer: a policy label that begins
    like a spreadsheet formula is written as text, as in `stats --format csv`."""
    from conftest import copy_repo

    root = copy_repo(tmp_path / "repo", with_cases=True)
    policy = root / "policy.yml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("en: Delays and slow handling", 'en: "=HYPERLINK(1)"'), encoding="utf-8")
    out = tmp_path / "pkg"
    result = CliRunner().invoke(
        cli, ["stats", "--repo", str(root), "--today", "2026-11-30", "--format", "datapackage", "--out", str(out), "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    with (out / "data" / "stats-2026.csv").open(encoding="utf-8", newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert "'=HYPERLINK(1)" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
