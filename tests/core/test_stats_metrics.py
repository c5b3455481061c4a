"""Every metric on a small, hand-computed fixture (threshold 1: nothing withheld), and the
reduction of a real case file to the facts the statistics count."""
from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from complaints.core.deadlines import case_deadlines
from complaints.errors import PublicationError
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, DUE_SOON, OPEN, OVERDUE
from complaints.adapters.config import load_calendar, load_policy
from complaints.core.stats.facts import CaseFacts, StageFact, case_facts
from complaints.core.stats.metrics import METRICS
from complaints.core.stats.periods import Period
from complaints.core.stats.tables import Cell, StatsReport, compute_from_facts
from complaints.adapters.yamlload import load_yaml

from conftest import ROOT, TEST_DATA
from stats_facts import FACTS, Weekdays, fact, policy
# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
DATA = TEST_DATA / "stats"
TODAY = dt.date(2026, 3, 31)


@pytest.fixture(scope="module")
def report() -> StatsReport:
    return compute_from_facts(FACTS, Period.parse("2026-Q1"), TODAY, policy(), Weekdays())


def rows(report: StatsReport, metric: str, month: str | None = None) -> dict[str, Cell]:
    m = report.metric(metric)
    if month is None:
        cells = list(m.rows) + ([m.total] if m.total else [])
    else:
        s = next(s for s in m.trend if s.month == month)
        cells = list(s.rows) + ([s.total] if s.total else [])
    return {c.key: c for c in cells}


def values(report: StatsReport, metric: str, month: str | None = None) -> dict[str, float | None]:
    return {k: c.value for k, c in rows(report, metric, month).items() if c.value != 0}


def test_every_registered_metric_is_reported(report: StatsReport) -> None:
    assert [m.definition.id for m in report.metrics] == list(METRICS)
    assert report.months == ("2026-01", "2026-02", "2026-03")
    assert report.suppressed_cells == 0


def test_volumes(report: StatsReport) -> None:
    # channel: mailbox F1 F4, hotline F2, online_form F3 F5, letter F6 -> 6 cases
    assert values(report, "volume_by_channel") == {"mailbox": 2, "hotline": 1, "online_form": 2, "letter": 1, "total": 6}
    # by month: Jan F1 F2 F3; Feb F4 F5; Mar F6
    assert values(report, "volume_by_channel", "2026-01") == {"mailbox": 1, "hotline": 1, "online_form": 1, "total": 3}
    assert values(report, "volume_by_channel", "2026-03") == {"letter": 1, "total": 1}
    # category: delay F1 F3 F5, attitude F2, shirking F4, other F6
    assert values(report, "volume_by_category") == {"delay": 3, "attitude": 1, "shirking": 1, "other": 1, "total": 6}
    # department pairs: permits F1 F2 F5, registry F2, it F3, finance F4, hr F6 -> 7 pairs
    assert values(report, "volume_by_department") == {"permits": 3, "registry": 1, "it": 1, "finance": 1, "hr": 1, "total": 7}
    assert values(report, "volume_by_priority") == {"normal": 5, "urgent": 1, "total": 6}


def rate(report: StatsReport, metric: str, key: str = "all", month: str | None = None) -> tuple[float | None, int | None, int | None]:
    c = rows(report, metric, month)[key]
    return c.value, c.numerator, c.denominator


def test_the_three_rates(report: StatsReport) -> None:
    # 响应率: acknowledge on time F1 F3 F4 F5 = 4; late F2; F6 open and not due -> 4/5
    assert rate(report, "response_rate") == (80.0, 4, 5)
    # 解决率: resolve done F1 (late) F2 F5 = 3; F4 overdue -> 3/4
    assert rate(report, "resolution_rate") == (75.0, 3, 4)
    # 满意率: followed up F1 satisfied, F5 dissatisfied -> 1/2 (anonymous F2 never followed up)
    assert rate(report, "satisfaction_rate") == (50.0, 1, 2)
    # by month: January acknowledgements F1 F3 on time, F2 late -> 2/3 = 66.7
    assert rate(report, "response_rate", month="2026-01") == (66.7, 2, 3)


def test_on_time_rate_by_stage(report: StatsReport) -> None:
    assert rate(report, "on_time_rate", "acknowledge") == (80.0, 4, 5)
    assert rate(report, "on_time_rate", "decide") == (100.0, 5, 5)  # F6 due soon: left out
    assert rate(report, "on_time_rate", "resolve") == (50.0, 2, 4)  # F2 F5 on time; F1 late, F4 overdue
    assert rate(report, "on_time_rate", "follow_up") == (50.0, 1, 2)  # F1 on time, F5 late
    assert rate(report, "on_time_rate", "review") == (100.0, 1, 1)  # F1; F5 still open, not due


def test_working_day_quantiles(report: StatsReport) -> None:
    med = rows(report, "working_days_median")
    p90 = rows(report, "working_days_p90")
    # acknowledge [1, 1, 2, 2, 7]: median 2; p90 (inclusive) at position 4 * 0.9 = 3.6: 2 + 0.6 * (7 - 2) = 5
    assert (med["acknowledge"].value, med["acknowledge"].observations) == (2, 5)
    assert p90["acknowledge"].value == 5.0
    # decide [1, 2, 2, 2, 3]: median 2; p90 2 + 0.6 * (3 - 2) = 2.6
    assert (med["decide"].value, p90["decide"].value) == (2, 2.6)
    # resolve [8, 12, 25]: median 12; p90 at 2 * 0.9 = 1.8: 12 + 0.8 * 13 = 22.4
    assert (med["resolve"].value, p90["resolve"].value, med["resolve"].observations) == (12, 22.4, 3)
    # follow_up [3, 12]: median 7.5; p90 at 0.9: 3 + 0.9 * 9 = 11.1
    assert (med["follow_up"].value, p90["follow_up"].value) == (7.5, 11.1)
    # review [10]: one observation is its own median and percentile
    assert (med["review"].value, p90["review"].value) == (10, 10)


def test_backlog_by_age(report: StatsReport) -> None:
    # 31 Jan: F1 open (received Mon 5 Jan: 19 weekdays to 30 Jan) -> 11-20; F2, F3 finished 30 Jan.
    assert values(report, "backlog_by_age", "2026-01") == {"11-20": 1, "total": 1}
    # 28 Feb: F4 (10 Feb -> 13 weekdays) 11-20; F5 (25 Feb -> 2) 0-5; F1 finished 10 Feb.
    assert values(report, "backlog_by_age", "2026-02") == {"0-5": 1, "11-20": 1, "total": 2}
    # 31 Mar: F4 35 weekdays -> 21+; F6 (25 Mar -> 4) 0-5; the quarter shows its last month.
    assert values(report, "backlog_by_age", "2026-03") == {"0-5": 1, "21+": 1, "total": 2}
    assert values(report, "backlog_by_age") == {"0-5": 1, "21+": 1, "total": 2}


def test_handling_rates(report: StatsReport) -> None:
    # accepted F1 F2 F4 F5: extended F1, paused F2
    assert rate(report, "extension_rate") == (25.0, 1, 4)
    assert rate(report, "pause_rate") == (25.0, 1, 4)
    # decided F1..F5 (F6 pending): not accepted F3
    assert rate(report, "not_accepted_rate") == (20.0, 1, 5)
    assert values(report, "not_accepted_reasons") == {"out_of_scope": 1, "total": 1}
    # resolved F1 F2 F5; review asked in F1 and F5 -> 2/3
    assert rate(report, "review_rate") == (66.7, 2, 3)
    # answered: F1 upheld (F5 pending)
    assert values(report, "review_outcomes") == {"upheld": 1, "total": 1}
    # measures: F1 correction + talk, F2 apology
    assert values(report, "measures_by_kind") == {"correction": 1, "talk": 1, "apology": 1, "total": 3}
    # suggestions: F1 1 (adopted, rewarded), F2 1, F5 2 (one adopted)
    assert values(report, "suggestions") == {"received": 4, "adopted": 2, "rewarded": 1}


def test_other_periods_are_cut_from_the_same_year() -> None:
    month = compute_from_facts(FACTS, Period.parse("2026-02"), TODAY, policy(), Weekdays())
    year = compute_from_facts(FACTS, Period.parse("2026"), TODAY, policy(), Weekdays())
    assert values(month, "volume_by_channel") == {"mailbox": 1, "online_form": 1, "total": 2}
    assert year.months == ("2026-01", "2026-02", "2026-03")  # months not begun are left out
    assert values(year, "volume_by_channel") == values(compute_from_facts(FACTS, Period.parse("2026-Q1"), TODAY, policy(), Weekdays()), "volume_by_channel")


def test_small_counts_are_withheld_at_the_default_threshold() -> None:
    report = compute_from_facts(FACTS, Period.parse("2026-Q1"), TODAY, policy(5), Weekdays())
    total = rows(report, "volume_by_channel")["total"]
    assert total.value == 6 and not total.suppressed
    for c in rows(report, "volume_by_channel").values():
        assert c.suppressed or c.value is None or c.value == 0 or c.value >= 5
    # every rate here rests on fewer than 5 cases: all withheld, numerator and denominator too
    c = rows(report, "response_rate")["all"]
    assert c.suppressed and c.value is None and c.numerator is None and c.denominator is None


def test_a_period_not_begun_is_refused() -> None:
    with pytest.raises(PublicationError, match="begins after"):
        compute_from_facts(FACTS, Period.parse("2026-05"), TODAY, policy(), Weekdays())


@pytest.mark.parametrize("text", ["2026-13", "26", "2026-Q5", "2026-1", "2026-Q1x"])
def test_bad_periods(text: str) -> None:
    with pytest.raises(ValueError):
        Period.parse(text)


def test_period_parsing() -> None:
    assert Period.parse("2026-Q2").months == ("2026-04", "2026-05", "2026-06")
    assert Period.parse("2026-11").kind == "month"
    assert len(Period.parse("2026").months) == 12


def test_facts_of_a_real_case_through_the_deadline_engine() -> None:
    root = ROOT
    case = load_yaml((DATA / "cases" / "XN-20260305-7K3QH.yml").read_bytes(), "sample")
    calendar = load_calendar(root)
    today = dt.date(2026, 5, 15)
    stages = case_deadlines(case, "cases/2026/XN-20260305-7K3QH.yml", load_policy(root), calendar, today)
    f = case_facts(case, stages, calendar, today)
    assert f.month == "2026-03" and f.channel == "online_form" and f.departments == ("permits",)
    assert f.accepted and f.resolved and f.extended and f.paused and not f.anonymous
    assert f.finished == dt.date(2026, 4, 20)
    assert f.measures == ("correction", "talk") and f.satisfaction == "basically_satisfied"
    assert f.suggestions == ((True, False),)
    by_stage = {s.stage: s for s in f.stages}
    # received Thu 5 Mar, acknowledged Fri 6 Mar: 1 working day; accepted Mon 9 Mar: 2 (Fri, Mon)
    assert (by_stage["acknowledge"].state, by_stage["acknowledge"].working_days) == (DONE_ON_TIME, 1)
    assert (by_stage["decide"].state, by_stage["decide"].working_days) == (DONE_ON_TIME, 2)
    # resolved Mon 20 Apr, followed up Fri 24 Apr: 4 working days
    assert (by_stage["follow_up"].state, by_stage["follow_up"].working_days) == (DONE_ON_TIME, 4)
    # 9 Mar -> 20 Apr is 30 working days less the Qingming holiday Mon 6 Apr: 29
    assert by_stage["resolve"].working_days == 29
    # an event after "today" is not yet known
    early = case_facts(case, [], calendar, dt.date(2026, 3, 7))
    assert not early.accepted and early.finished is None and early.measures == ()


def test_review_outcomes_count_a_not_accepted_complaints_answered_review() -> None:
    """The formula counts every complaint whose review was answered; a not-accepted one too."""
    f7 = fact("2026-02-02", channel="online_form", departments=("it",), accepted=False, not_accepted_reason="out_of_scope",
              finished="2026-02-04", review_requested=True, review_outcome="changed",
              stages=[("acknowledge", DONE_ON_TIME, 1), ("decide", DONE_ON_TIME, 2)])
    rep = compute_from_facts([*FACTS, f7], Period.parse("2026-Q1"), TODAY, policy(), Weekdays())
    assert values(rep, "review_outcomes") == {"upheld": 1, "changed": 1, "total": 2}
    assert values(rep, "review_outcomes", "2026-02") == {"changed": 1, "total": 1}
    # the review rate stays over resolved complaints (F7 was not resolved): 2/3
    assert rate(rep, "review_rate") == (66.7, 2, 3)
    assert METRICS["review_outcomes"].version == 2


def test_outcomes_follow_up_answers_and_department_on_time_resolution() -> None:
    import dataclasses

    outcomes = {0: "substantiated", 1: "partly_substantiated", 4: "not_substantiated"}
    facts = [f._replace(outcome=outcomes.get(i)) for i, f in enumerate(FACTS)]
    rep = compute_from_facts(facts, Period.parse("2026-Q1"), TODAY, policy(), Weekdays())
    # resolved F1 F2 F5, one outcome each; the total is the resolve stages done (3)
    assert values(rep, "outcomes") == {"substantiated": 1, "partly_substantiated": 1, "not_substantiated": 1, "total": 3}
    assert rows(rep, "outcomes")["total"].value == rate(rep, "on_time_rate", "resolve")[1] + 1  # done = on time 2 + late 1
    # followed up F1 satisfied, F5 dissatisfied; the total is the satisfaction rate's denominator
    assert values(rep, "satisfaction_distribution") == {"satisfied": 1, "dissatisfied": 1, "total": 2}
    # resolve on time by department pair: permits F1 late, F2 on time, F5 on time -> 2/3;
    # registry F2 on time -> 1/1; finance F4 overdue -> 0/1
    assert rate(rep, "department_on_time_rate", "permits") == (66.7, 2, 3)
    assert rate(rep, "department_on_time_rate", "registry") == (100.0, 1, 1)
    assert rate(rep, "department_on_time_rate", "finance") == (0.0, 0, 1)


def test_measures_by_category(report: StatsReport) -> None:
    # F1 (delay) correction + talk, F2 (attitude) apology; the total equals measures_by_kind's
    assert values(report, "measures_by_category") == {"delay": 2, "attitude": 1, "total": 3}
    assert rows(report, "measures_by_category")["total"].value == rows(report, "measures_by_kind")["total"].value


def test_department_response_and_satisfaction(report: StatsReport) -> None:
    # acknowledgements by department pair: permits F1 on time, F2 late, F5 on time -> 2/3;
    # registry F2 late -> 0/1; it F3 -> 1/1; hr F6 open, not due: left out
    assert rate(report, "department_response_rate", "permits") == (66.7, 2, 3)
    assert rate(report, "department_response_rate", "registry") == (0.0, 0, 1)
    assert rate(report, "department_response_rate", "it") == (100.0, 1, 1)
    assert rate(report, "department_response_rate", "hr") == (None, 0, 0)
    # follow-ups: permits F1 satisfied, F5 dissatisfied -> 1/2; F2 (anonymous) never followed up
    assert rate(report, "department_satisfaction_rate", "permits") == (50.0, 1, 2)
    assert rate(report, "department_satisfaction_rate", "registry") == (None, 0, 0)


def test_departments_outside_the_policy_count_once_per_case_in_department_performance() -> None:
    # Two departments the policy does not list share one 'unlisted' row: in the volume by
    # department (complaint-department pairs) they count twice, in a department's on-time
    # resolution, response and satisfaction once (the case is about that row once).
    one = fact("2026-01-05", departments=("nowhere", "elsewhere"), resolved=True, satisfaction="satisfied",
               stages=[("acknowledge", DONE_ON_TIME, 1), ("resolve", DONE_LATE, 20)])
    rep = compute_from_facts([one, *FACTS], Period.parse("2026-Q1"), TODAY, policy(), Weekdays())
    assert rows(rep, "volume_by_department")["unlisted"].value == 2
    assert rate(rep, "department_on_time_rate", "unlisted") == (0.0, 0, 1)
    assert rate(rep, "department_response_rate", "unlisted") == (100.0, 1, 1)
    assert rate(rep, "department_satisfaction_rate", "unlisted") == (100.0, 1, 1)


def test_an_empty_follow_up_answer_counts_in_the_answers_total() -> None:
    # An answer recorded as an empty text is an answer: counted in the follow-ups (the
    # satisfaction rate's base) and in the distribution's total, never as a row of its own.
    empty = fact("2026-01-05", resolved=True, satisfaction="")
    base = compute_from_facts(FACTS, Period.parse("2026-Q1"), TODAY, policy(), Weekdays())
    rep = compute_from_facts([empty, *FACTS], Period.parse("2026-Q1"), TODAY, policy(), Weekdays())
    before, after = rows(base, "satisfaction_distribution"), rows(rep, "satisfaction_distribution")
    assert after["total"].value == before["total"].value + 1
    assert "unlisted" not in after and {k: c.value for k, c in after.items() if k != "total"} == {
        k: c.value for k, c in before.items() if k != "total"
    }
    assert rate(rep, "satisfaction_rate")[2] == rate(base, "satisfaction_rate")[2] + 1


def test_a_policy_key_named_unlisted_shares_its_row_with_values_outside_the_policy() -> None:
    # The policy's own 'unlisted' channel and a channel no longer in the policy: one row,
    # each case counted once, and the rows still add up to the total.
    raw = policy()
    raw["channels"] = {**raw["channels"], "unlisted": {"zh": "其他", "en": "Other"}}
    cases = [fact("2026-01-05"), fact("2026-01-06", channel="retired_channel"), fact("2026-01-07", channel="unlisted")]
    rep = compute_from_facts(cases, Period.parse("2026-Q1"), TODAY, raw, Weekdays())
    cells = rep.metric("volume_by_channel").rows
    assert [c.key for c in cells].count("unlisted") == 1
    got = rows(rep, "volume_by_channel")
    assert got["total"].value == 3 and got["unlisted"].value == 2 and got["mailbox"].value == 1
    assert sum(c.value or 0 for c in cells) == got["total"].value
