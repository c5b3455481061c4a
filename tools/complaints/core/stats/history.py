"""Every past year and quarter since the first case, with the change on the same period a
year before: the table evaluators read first (Beijing's 12345 reports, the UK Parliamentary
and Health Service Ombudsman's data pages).

Each year is computed and protected on its own (its own suppression pattern and audit, as
`stats` publishes it); this module only copies published figures and subtracts published
figures, so it reveals nothing the year documents do not. A change is shown only between
two complete periods whose figures are both published.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Mapping, Sequence

from complaints.core.stats.facts import CaseFacts, WorkingDays
from complaints.core.stats.metrics import METRICS
from complaints.core.stats.periods import Period, month_end
from complaints.core.stats.tables import HistoryFigure, HistoryPeriod, StatsReport, as_tally, compute_from_facts
from complaints.core.stats.tally import Tally

# (metric, row key): the organisation-wide headline figures the history table carries
HISTORY_FIGURES: tuple[tuple[str, str], ...] = tuple((m.id, key) for m in METRICS.values() for key in m.history)
# The metrics those figures come from: all a past year's report is computed for here.
HISTORY_METRICS = frozenset(metric_id for metric_id, _ in HISTORY_FIGURES)


def _figures(report: StatsReport, period_id: str) -> dict[tuple[str, str], tuple[float | None, bool, str]]:
    out: dict[tuple[str, str], tuple[float | None, bool, str]] = {}
    for metric_id, key in HISTORY_FIGURES:
        try:
            m = report.metric(metric_id)
        except KeyError:
            continue
        for s in m.periods:
            if s.month != period_id:
                continue
            for c in [*s.rows, *([s.total] if s.total else [])]:
                if c.key == key:
                    out[(metric_id, key)] = (c.value, c.suppressed, m.definition.kind)
    return out


def _change(now: float | None, before: float | None, kind: str) -> float | None:
    if now is None or before is None:
        return None
    if kind == "rate":
        return round(now - before, 1)
    if before == 0:
        return None
    return round(100.0 * (now - before) / before, 1)


def past_years(facts: Sequence[CaseFacts] | Tally, until: int, today: dt.date, policy_raw: Mapping[str, Any]) -> list[int]:
    """The years compute_history reads a report of, in order: from the first case's year to
    `until`, those begun by `today`."""
    tally = as_tally(facts, policy_raw, today)
    years = [y for y in tally.years if y <= until]
    return [y for y in range(years[0], until + 1) if dt.date(y, 1, 1) <= today] if years else []


def year_reports(
    facts: Sequence[CaseFacts] | Tally, years: Sequence[int], today: dt.date, policy_raw: Mapping[str, Any], calendar: WorkingDays
) -> dict[int, StatsReport]:
    """The report of each of `years` as compute_history reads it: the history's metrics alone,
    each year counted and protected as its own report is."""
    return {
        y: compute_from_facts(facts, Period.parse(str(y)), today, policy_raw, calendar, only=HISTORY_METRICS) for y in years
    }


# What the history reads of a year's report: (period id, [(metric, row key, value, withheld,
# kind), ...]) for the year and each of its begun quarters. Plain data: it crosses from the
# process that computed the year (commands/stats.py).
YearFigures = list[tuple[str, list[tuple[str, str, "float | None", bool, str]]]]


def _begun(year: int, today: dt.date) -> list[Period]:
    """The year and its quarters begun by `today`."""
    periods = [Period.parse(pid) for pid in [str(year), *(f"{year}-Q{q}" for q in range(1, 5))]]
    return [p for p in periods if dt.date.fromisoformat(p.months[0] + "-01") <= today]


def year_figures(
    facts: Sequence[CaseFacts] | Tally, years: Sequence[int], today: dt.date, policy_raw: Mapping[str, Any], calendar: WorkingDays
) -> list[tuple[int, YearFigures]]:
    """What compute_history reads of each of `years`' reports (year_reports), each report
    read as soon as it is made and let go."""
    out: list[tuple[int, YearFigures]] = []
    for y in years:
        rep = year_reports(facts, [y], today, policy_raw, calendar)[y]
        out.append((y, [(p.id, [(m, k, *v) for (m, k), v in _figures(rep, p.id).items()]) for p in _begun(y, today)]))
    return out


def compute_history(
    facts: Sequence[CaseFacts] | Tally,
    until: int,
    today: dt.date,
    policy_raw: Mapping[str, Any],
    calendar: WorkingDays,
    *,
    known: Mapping[int, StatsReport] | None = None,
    read: Sequence[tuple[int, YearFigures]] = (),
) -> tuple[HistoryPeriod, ...]:
    """Years (and their begun quarters) from the first case's year to `until`, newest first.
    `known` year reports are reused instead of computed again (year_reports computes them),
    and so are the figures `read` of years (year_figures)."""
    tally = as_tally(facts, policy_raw, today)
    years = past_years(tally, until, today, policy_raw)
    if not years:
        return ()
    known = dict(known or {})
    given = {y: dict(periods) for y, periods in read}
    figures: dict[str, dict[tuple[str, str], tuple[float | None, bool, str]]] = {}
    ids: list[tuple[str, str, bool]] = []
    # A year's report is read for its figures as soon as it is made, and not kept: an archive
    # of fifty years would otherwise hold fifty whole reports (about 100 MB) at once.
    for y in sorted({*known, *given, *years}):
        year_read = given.get(y)
        rep = None
        if year_read is None:
            rep = known.get(y)
            if rep is None:
                rep = year_reports(tally, [y], today, policy_raw, calendar)[y]
        for period in _begun(y, today):
            pid = period.id
            if year_read is not None:
                figures[pid] = {(m, k): (value, withheld, kind) for m, k, value, withheld, kind in year_read.get(pid, ())}
            else:
                assert rep is not None
                figures[pid] = _figures(rep, pid)
            ids.append((pid, period.kind, month_end(period.months[-1]) <= today))
    complete = {pid: c for pid, _, c in ids}
    out = []
    for pid, kind, done in ids:
        before_id = str(int(pid[:4]) - 1) + pid[4:]
        rows = []
        for (metric_id, key), (value, suppressed, mkind) in figures[pid].items():
            prev = figures.get(before_id, {}).get((metric_id, key))
            comparable = done and complete.get(before_id, False) and prev is not None
            change = _change(value, prev[0], mkind) if comparable and prev is not None else None
            rows.append(HistoryFigure(metric_id, key, value, suppressed, change, "points" if mkind == "rate" else "percent"))
        out.append(HistoryPeriod(pid, kind, done, tuple(rows)))
    out.sort(key=lambda h: (h.period[:4], h.kind == "year", h.period), reverse=True)
    return tuple(out)


def with_history(
    report: StatsReport,
    facts: Sequence[CaseFacts] | Tally,
    today: dt.date,
    policy_raw: Mapping[str, Any],
    calendar: WorkingDays,
) -> StatsReport:
    """The report with the history of every year up to its own attached."""
    known = {report.period.year: report} if report.period.kind == "year" else {}
    history = compute_history(facts, report.period.year, today, policy_raw, calendar, known=known)
    return dataclasses.replace(report, history=history)
