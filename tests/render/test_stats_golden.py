"""Golden outputs of `complaints stats` on the shipped sample cases, and the JSON schema.

Refresh after an intended change with `python -m pytest tests/render/test_stats_golden.py --update-golden`
and review the diff."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest

from complaints.adapters.repository import Repository
from complaints.commands.stats import repository_facts
from complaints.core.stats.periods import Period
from complaints.core.stats.tables import StatsReport, compute_from_facts
from complaints.render.stats import render, to_json_document

from conftest import ROOT, TEST_DATA
# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
GOLDEN = TEST_DATA / "stats" / "golden"
TODAY = dt.date(2026, 11, 30)
SCHEMA = json.loads((TEMPLATE / "schema" / "stats.schema.json").read_text(encoding="utf-8"))

CASES = [
    ("2025", "csv", "zh"),
    ("2026", "json", "zh"),
    ("2026-Q3", "json", "zh"),
    ("2026-10", "json", "zh"),
    ("2026", "csv", "zh"),
    ("2026", "markdown", "zh"),
    ("2026", "markdown", "en"),
]


@pytest.fixture(scope="module")
def reports() -> dict[str, StatsReport]:
    repo = Repository.open(TEMPLATE)
    facts, calendar = repository_facts(repo, TODAY)
    assert len(facts) >= 50  # the sample data is there
    return {
        p: compute_from_facts(facts, Period.parse(p), TODAY, repo.policy.raw, calendar, data_commit="unknown")
        for p in {p for p, _, _ in CASES}
    }


@pytest.mark.parametrize("period, fmt, lang", CASES)
def test_golden(reports: dict[str, StatsReport], period: str, fmt: str, lang: str, update_golden: bool) -> None:
    text = render(reports[period], fmt, lang)
    ext = {"json": "json", "csv": "csv", "markdown": "md"}[fmt]
    path = GOLDEN / f"stats-{period}{'.' + lang if fmt == 'markdown' else ''}.{ext}"
    if update_golden:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    assert path.exists(), f"{path} missing: run pytest --update-golden"
    assert text == path.read_bytes().decode("utf-8"), f"{path.name} is stale: run pytest --update-golden and review the diff"


@pytest.mark.parametrize("period", sorted({p for p, _, _ in CASES}))
def test_json_follows_the_schema(reports: dict[str, StatsReport], period: str) -> None:
    doc = to_json_document(reports[period])
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["generated"] == "2026-11-30" and doc["formula_version"] >= 1
    assert all(m["formula"]["version"] >= 1 for m in doc["metrics"])


def test_sample_year_withholds_something_and_publishes_the_total(reports: dict[str, StatsReport]) -> None:
    r = reports["2026"]
    assert r.suppressed_cells > 0
    total = r.metric("volume_by_channel").total
    assert total is not None and not total.suppressed and total.value and total.value >= 5
