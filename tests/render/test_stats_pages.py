"""The statistics-page sections built from the document: the release line on every page,
years and quarters with year-on-year change, the most frequent categories with measures,
the protection parameters; and their place on the pages."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from complaints.render import stats_pages as statspages
from complaints.render.charts import Series
from complaints.core.stats.history import with_history
from complaints.render.stats import to_json_document
from complaints.core.stats.periods import Period
from complaints.core.stats.tables import compute_from_facts
from stats_facts import FACTS, Weekdays, fact, policy

from conftest import ROOT
TODAY = dt.date(2026, 3, 31)


def _document() -> dict:  # type: ignore[type-arg]
    earlier = [fact("2025-01-10", stages=[("acknowledge", "done_on_time", 1)]), fact("2025-02-10", stages=[("acknowledge", "done_late", 9)])]
    facts = [*earlier, *FACTS]
    report = compute_from_facts(facts, Period.parse("2026"), TODAY, policy(), Weekdays())
    return to_json_document(with_history(report, facts, TODAY, policy(), Weekdays()))


def test_release_line_names_data_as_of_and_next_update() -> None:
    doc = _document()
    assert doc["release"] == {"data_as_of": "2026-03-31", "next_update": "2026-04-01"}
    line = statspages.release_line(doc, "en")
    assert "2026\\-03\\-31" in line and "2026\\-04\\-01" in line and "next update" in line


def test_history_table_and_chart() -> None:
    doc = _document()
    drawn: list[tuple[str, list[str], list[str]]] = []

    def draw(title: str, periods: Sequence[str], series: Sequence[Series]) -> str:
        drawn.append((title, list(periods), [s.name for s in series]))
        return "<figure>history-rates</figure>\n"

    text = statspages.history_section(doc, "zh", draw)
    # 2026 Q1 (complete) against 2025 Q1: 6 complaints against 2 -> +200%
    q1 = next(line for line in text.splitlines() if line.startswith("| 2026\\-Q1"))
    assert "同比 +200.0%" in q1
    assert "**2026（截至统计日）**" in text and "| **2025** |" in text
    # a rate's change is in percentage points: Q1 response 4/5 = 80% against 1/2 = 50%
    assert "80.0% · 同比 +30.0 个百分点" in q1
    # the chart: the three rates over the complete quarters, drawn as the site draws charts
    assert [(t, p[-1], len(n)) for t, p, n in drawn] == [("历年与各季度：三率", "2026-Q1", 3)]
    assert "<figure>history-rates</figure>" in text


def test_top_categories_with_measures_and_protection_parameters() -> None:
    doc = _document()
    text = statspages.top_categories_section(doc, "en")
    first = next(line for line in text.splitlines() if line.startswith("| 1 |"))
    assert "Delay" in first and "| 3 |" in first and "| 2 |" in first  # 3 complaints, 2 measures
    params = statspages.protection_parameters(doc, "en")
    assert "threshold-suppression-with-headline-base" in params and "| Minimum base | 10 |" in params


def test_every_statistics_page_carries_the_release_line() -> None:
    for root in (ROOT / "tests" / "fixtures" / "template" / "site",):
        for lang in ("zh", "en"):
            pages = sorted((root / lang / "statistics").glob("*.md"))
            assert len(pages) == 7
            for page in pages:
                assert f'--8<-- "{lang}/generated/snippets/stats-release.md"' in page.read_text(encoding="utf-8"), page
            methods = (root / lang / "statistics" / "methods.md").read_text(encoding="utf-8")
            assert "{#threat-model}" in methods and "stats-protection.md" in methods
