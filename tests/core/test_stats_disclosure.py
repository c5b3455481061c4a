"""Disclosure control as the statistics apply it: over random case data, no published cell of
any metric is small (except organisation-wide headline figures over the minimum base), the
LP audit passes, and no withheld cell can be recovered from the published ones through
any relation of the year (margins, months -> quarters -> year, rate complements, shared
totals)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.core.stages import DONE_LATE, DONE_ON_TIME, OPEN, OVERDUE
from complaints.core.stats.audit import audit, protection_intervals
from complaints.core.stats.facts import CaseFacts, StageFact
from complaints.core.stats.periods import Period
from complaints.core.stats.tables import Cell, MetricResult, compute_from_facts, headline_cells, suppression_audit
from test_disclosure_suppression import recoverable
from stats_facts import Weekdays, policy

TODAY = dt.date(2026, 12, 31)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "disclosure"
STAGES = ("acknowledge", "decide", "resolve", "follow_up", "review")


@st.composite
def facts(draw: st.DrawFn) -> CaseFacts:
    received = dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 364)))
    accepted = draw(st.booleans())
    resolved = accepted and draw(st.booleans())
    stages = tuple(
        StageFact(s, state, draw(st.integers(0, 40)) if state in (DONE_ON_TIME, DONE_LATE) else None)
        for s in STAGES
        if draw(st.booleans())
        for state in [draw(st.sampled_from([DONE_ON_TIME, DONE_LATE, OVERDUE, OPEN]))]
    )
    return CaseFacts(
        received=received,
        channel=draw(st.sampled_from(["mailbox", "hotline", "online_form"])),
        category=draw(st.sampled_from(["delay", "attitude", "other"])),
        priority=draw(st.sampled_from(["normal", "urgent"])),
        departments=tuple(draw(st.sets(st.sampled_from(["permits", "registry", "hr"]), min_size=1))),
        anonymous=draw(st.booleans()),
        accepted=accepted,
        not_accepted_reason=None if accepted else draw(st.sampled_from([None, "out_of_scope", "duplicate"])),
        finished=received + dt.timedelta(days=draw(st.integers(0, 60))) if draw(st.booleans()) else None,
        resolved=resolved,
        measures=tuple(draw(st.sets(st.sampled_from(["apology", "warning"])))) if resolved else (),
        extended=accepted and draw(st.booleans()),
        paused=accepted and draw(st.booleans()),
        satisfaction=draw(st.sampled_from([None, "satisfied", "dissatisfied"])),
        review_requested=resolved and draw(st.booleans()),
        review_outcome=draw(st.sampled_from([None, "upheld", "changed"])),
        suggestions=tuple(draw(st.lists(st.tuples(st.booleans(), st.booleans()).map(lambda t: (t[0], t[0] and t[1])), max_size=2))),
        stages=stages,
    )


@settings(max_examples=25, deadline=None)
@given(st.lists(facts(), min_size=0, max_size=60), st.sampled_from(["2026", "2026-Q2", "2026-07"]))
def test_no_small_cell_published_and_none_recoverable(cases: list[CaseFacts], period_id: str) -> None:
    check_pattern(cases, period_id)


def load_example(name: str) -> tuple[list[CaseFacts], str]:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    cases = []
    for row in data["cases"]:
        row.pop("month", None)
        row["received"] = dt.date.fromisoformat(row["received"])
        row["finished"] = dt.date.fromisoformat(row["finished"]) if row["finished"] else None
        row["stages"] = tuple(StageFact(**s) for s in row["stages"])
        for key in ("departments", "measures"):
            row[key] = tuple(row[key])
        row["suggestions"] = tuple(tuple(s) for s in row["suggestions"])
        cases.append(CaseFacts(**row))
    return cases, data["period"]


def test_zero_complements_that_a_published_zero_determines_are_shown() -> None:
    """A hypothesis find: August shows 0 answers by level, which pins three zero-valued
    complements of August's satisfaction cells; they protected nothing, so they are shown."""
    cases, period_id = load_example("zero-complements-determined.json")
    values, relations, suppression = suppression_audit(cases, Period.parse(period_id), TODAY, policy(5), Weekdays())
    august = {"sat|all@2026-08", "sat|no@2026-08", "satlevel|dissatisfied@2026-08"}
    assert all(values[c] == 0 for c in august)
    assert not august & suppression.cells
    # still protected: the July and September counts of the quarter stay withheld
    assert {"sat|no@2026-07", "sat|no@2026-09"} <= suppression.cells
    check_pattern(cases, period_id)


def test_a_quantile_over_few_stages_is_withheld_even_where_their_count_is_a_headline_figure() -> None:
    """A hypothesis find: 4 resolve stages done, a headline count shown in full (their base,
    the stages due, reaches min_base), had their median working days shown: the median of
    so few is close to one case's own figure."""
    cases, period_id = load_example("quantile-few-observations.json")
    report = compute_from_facts(cases, Period.parse(period_id), TODAY, policy(5), Weekdays())
    done = report.metric("on_time_rate").rows
    resolve = next(c for c in done if c.key == "resolve")
    assert resolve.denominator is not None and resolve.denominator >= 10  # the headline base
    for metric in ("working_days_median", "working_days_p90"):
        cell = next(c for c in report.metric(metric).rows if c.key == "resolve")
        assert cell.suppressed and cell.value is None and cell.observations is None, metric
    check_pattern(cases, period_id)


def check_pattern(cases: list[CaseFacts], period_id: str) -> None:
    raw = policy(5)
    period = Period.parse(period_id)
    values, relations, suppression = suppression_audit(cases, period, TODAY, raw, Weekdays())
    withheld = set(suppression.cells)
    headline = headline_cells(cases, period, TODAY, raw, Weekdays())
    for cell, v in values.items():
        assert cell in withheld or cell in headline or not (1 <= v < 5), cell
    assert recoverable(relations, withheld) == set()
    small = [c for c in withheld if c not in headline]
    assert audit(values, relations, withheld, protection_intervals(values, small, 5)).ok
    # and what the report shows agrees: no shown count or rate base is small
    report = compute_from_facts(cases, period, TODAY, raw, Weekdays())
    min_base = raw["publication"].get("min_base", 10)
    by_id = {m.definition.id: m for m in report.metrics}
    for m in report.metrics:
        for index, (rows, total) in enumerate([(m.rows, m.total), *((s.rows, s.total) for s in m.trend)]):
            for c in [*rows, *([total] if total else [])]:
                if c.suppressed:
                    assert c.value is None and c.numerator is None and c.denominator is None and c.observations is None
                elif not headline_figure(m.definition.id, c, total, by_id, index, min_base):
                    check_not_small(c)


# Organisation-wide figures about the mechanism's own performance whose base reaches
# publication.min_base are published in full (the README's "Statistics" method; stats._headline):
# the rates below over their denominator, the follow-up answers over the answers, the outcomes
# over the resolved cases (the review rate's denominator), the number not accepted over the
# complaints decided (the not-accepted rate's denominator).
HEADLINE_RATES = {"response_rate", "resolution_rate", "on_time_rate", "satisfaction_rate", "not_accepted_rate", "extension_rate", "pause_rate", "review_rate"}


def headline_figure(metric: str, c: Cell, total: Cell | None, by_id: dict[str, MetricResult], index: int, min_base: int) -> bool:
    def base_of(rate: str) -> int:
        if rate not in by_id:
            return 0
        rows = by_id[rate].rows if index == 0 else by_id[rate].trend[index - 1].rows
        return (rows[0].denominator or 0) if rows else 0

    if metric in HEADLINE_RATES:
        return (c.denominator or 0) >= min_base
    if metric == "satisfaction_distribution":
        return total is not None and (total.value or 0) >= min_base
    if metric == "outcomes":
        return base_of("review_rate") >= min_base
    if metric == "not_accepted_reasons":
        return c is total and base_of("not_accepted_rate") >= min_base
    return False


def check_not_small(c: Cell) -> None:
    if c.is_rate:
        assert c.numerator is not None and c.denominator is not None
        assert not 1 <= c.numerator < 5 and not 1 <= c.denominator - c.numerator < 5
    elif c.is_quantile:
        assert c.observations is not None and not 1 <= c.observations < 5
    elif c.value is not None:
        assert not 1 <= c.value < 5
