"""A metric is defined in one place (core/stats/metrics.py): its kind, the lattice cells its
figures are read from, the page that shows it. These tests catch a definition that points at
nothing, so adding a metric fails here first, not on the published pages."""
from __future__ import annotations

import datetime as dt

from complaints.adapters.config import load_policy
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, OVERDUE
from complaints.core.stats.facts import CaseFacts, StageFact
from complaints.core.stats.history import HISTORY_FIGURES
from complaints.core.stats.metrics import DIMENSIONS, METRICS, PAGES, Count, Quantile, Rate
from complaints.core.stats.periods import Period
from complaints.core.stats.tables import _count
from complaints.render import site

from conftest import TEMPLATE
TODAY = dt.date(2026, 3, 31)


class Weekdays:
    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        return sum(1 for i in range(1, (end - start).days + 1) if (start + dt.timedelta(days=i)).weekday() < 5)


def _fact(received: str) -> CaseFacts:
    return CaseFacts(
        received=dt.date.fromisoformat(received), channel="mailbox", category="delay", priority="normal",
        departments=("permits",), anonymous=False, accepted=True, not_accepted_reason=None, finished=None,
        resolved=True, measures=("correction",), extended=False, paused=False, satisfaction="satisfied",
        review_requested=True, review_outcome="upheld", suggestions=((True, False),),
        stages=(StageFact("acknowledge", DONE_ON_TIME, 1), StageFact("decide", DONE_LATE, 9),
                StageFact("resolve", OVERDUE, None)),
    )


def test_every_definition_is_complete() -> None:
    kinds = {Count: "count", Rate: "rate", Quantile: "quantile"}
    for m in METRICS.values():
        assert kinds[type(m.cells)] == m.kind, m.id
        assert m.page in PAGES, m.id
        assert m.dimension is None or m.dimension in DIMENSIONS, m.id
        assert m.overview in (None, "trend", "breakdown"), m.id
        if isinstance(m.cells, Rate):
            assert m.cells.without_stage in ("omit", "blank"), m.id
        if isinstance(m.cells, Quantile):
            assert m.cells.which in ("median", "p90") and m.dimension == "stage", m.id


def test_every_cell_a_definition_names_is_counted() -> None:
    raw = load_policy(TEMPLATE).raw
    counted = _count([_fact("2026-01-05"), _fact("2026-02-10")], Period.parse("2026"), TODAY, raw, Weekdays())
    lat = counted.lat
    for m in METRICS.values():
        keys = [k for k, _ in counted.dims[m.dimension]] if m.dimension else ["all"]
        spec = m.cells
        if isinstance(spec, Count):
            names = [spec.row, *([spec.total] if spec.total else [])]
        elif isinstance(spec, Rate):
            names = [spec.numerator, spec.complement, spec.denominator]
        else:
            names = [spec.observations]
        for name in names:
            for key in keys:
                for period in lat.periods:
                    assert lat.id(name.format(key=key), period) in lat.values, (m.id, name, key, period)


def test_the_site_places_each_metric_by_its_definition() -> None:
    for m in METRICS.values():
        assert site.page_of({"id": m.id}) == m.page
    assert site.STATS_PAGES == PAGES
    assert site.THREE_RATES == ("response_rate", "resolution_rate", "satisfaction_rate")
    assert set(site.OVERVIEW_BREAKDOWNS) == {"on_time_rate", "outcomes"}


def test_history_carries_the_headline_figures_in_order() -> None:
    assert HISTORY_FIGURES == (
        ("volume_by_channel", "total"),
        ("response_rate", "all"),
        ("resolution_rate", "all"),
        ("satisfaction_rate", "all"),
        ("on_time_rate", "acknowledge"),
        ("on_time_rate", "decide"),
        ("on_time_rate", "resolve"),
        ("not_accepted_rate", "all"),
    )
