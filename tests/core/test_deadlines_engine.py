"""The deadline engine on plain case mappings: hand-checked due dates (each computation written
next to it), states, extensions within and beyond the cap, pauses, repeated reviews, and the
validation problems of extensions."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from complaints.adapters.config import official_calendar
from complaints.core.deadlines import check_case, explain_case, case_deadlines, stage_key
from complaints.core.limits import TimeLimits
from complaints.core.policy import Policy
from complaints.errors import CalendarError
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, DUE_SOON, OPEN, OVERDUE, StageDeadline
from complaints.core.calendar import HOLIDAY, MAKEUP_WORKDAY, WorkCalendar
from complaints.adapters.yamlload import load_yaml

# The template repository as shipped, frozen for the tests (never the live policy or cases).
from conftest import TEMPLATE as PROJECT, TEST_DATA
DATA = TEST_DATA / "deadlines"
D = dt.date


@pytest.fixture(scope="module")
def policy() -> Policy:
    """The shipped policy (vocabularies, handlers, approvers) with the frozen test time limits."""
    raw: dict[str, Any] = load_yaml((PROJECT / "policy.yml").read_bytes())
    raw["time_limits"] = load_yaml((DATA / "time_limits.yml").read_bytes())
    return Policy(raw)


def time_limits(raw: dict[str, Any]) -> TimeLimits:
    return Policy(raw).time_limits


@pytest.fixture()
def cal() -> WorkCalendar:
    return official_calendar()


def case(*events: dict[str, Any], priority: str = "normal", anonymous: bool = False) -> dict[str, Any]:
    return {
        "id": "XN-20260101-AAAAA",
        "channel": "online_form",
        "complainant": {"anonymous": anonymous},
        "subject": {"category": "delay", "departments": ["permits"], "summary": "PRIVATE-SUMMARY"},
        "priority": priority,
        "timeline": list(events),
    }


def ev(kind: str, date: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "date": date, **extra}


def stages(c: dict[str, Any], policy: dict[str, Any], cal: WorkCalendar, today: dt.date, **kw: Any) -> dict[str, StageDeadline]:
    return {stage_key(d).split("/", 1)[1]: d for d in case_deadlines(c, "cases/x.yml", policy, cal, today, **kw)}


# ---- working-day stages across the 2026 holidays ---------------------------------------------

def test_spring_festival_working_day_stages(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(ev("received", "2026-02-12"))
    got = stages(c, policy, cal, D(2026, 2, 13))
    # decide, 3 working days from Thu 2-12: Fri 2-13 (1), Sat 2-14 make-up (2), 2-15..2-23
    # Spring Festival, Tue 2-24 (3).
    assert got["decide"].due == D(2026, 2, 24)
    # acknowledge, 5: ... Tue 2-24 (3), Wed 2-25 (4), Thu 2-26 (5).
    assert got["acknowledge"].due == D(2026, 2, 26)
    # Today Fri 2-13: working days in (2-13, 2-24] = Sat 2-14, Tue 2-24 = 2 -> due soon.
    assert got["decide"].state == DUE_SOON and got["decide"].working_days_left == 2
    assert got["acknowledge"].state == OPEN and got["acknowledge"].working_days_left == 4
    assert "resolve" not in got  # not accepted yet: never started, not reported


def test_national_day_states(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(ev("received", "2026-09-28"))
    # decide, 3 from Mon 9-28: Tue 9-29 (1), Wed 9-30 (2), 10-1..10-7 National Day, Thu 10-8 (3).
    before = stages(c, policy, cal, D(2026, 9, 28))["decide"]
    assert before.due == D(2026, 10, 8)
    assert (before.state, before.working_days_left) == (OPEN, 3)  # 9-29, 9-30, 10-8
    on_holiday = stages(c, policy, cal, D(2026, 10, 3))["decide"]
    assert (on_holiday.state, on_holiday.working_days_left) == (DUE_SOON, 1)  # only 10-8 left
    due_day = stages(c, policy, cal, D(2026, 10, 8))["decide"]
    assert (due_day.state, due_day.working_days_left, due_day.working_days_late) == (DUE_SOON, 0, 0)
    # Today Sat 10-10, a make-up working day: late by Fri 10-9 and Sat 10-10 = 2.
    late = stages(c, policy, cal, D(2026, 10, 10))["decide"]
    assert (late.state, late.working_days_late, late.working_days_left) == (OVERDUE, 2, 0)
    # Accepted Mon 10-12: done late by 10-9, 10-10, 10-12 = 3 working days.
    done = stages(case(ev("received", "2026-09-28"), ev("accepted", "2026-10-12")), policy, cal, D(2026, 12, 1))
    assert (done["decide"].state, done["decide"].completed, done["decide"].working_days_late) == (DONE_LATE, D(2026, 10, 12), 3)
    # acknowledge (5) ends at acceptance too: due Mon 9-28 + 5 = 9-29, 9-30, 10-8, 10-9, Sat 10-10.
    assert done["acknowledge"].due == D(2026, 10, 10)
    assert (done["acknowledge"].state, done["acknowledge"].working_days_late) == (DONE_LATE, 1)  # 10-12


def test_year_boundary_working_days(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(ev("received", "2025-12-29"), ev("acknowledged", "2026-01-06"))
    got = stages(c, policy, cal, D(2026, 1, 10))
    # acknowledge, 5 from Mon 2025-12-29: 12-30 (1), 12-31 (2), 1-1..1-3 New Year, Sun 1-4
    # make-up (3), Mon 1-5 (4), Tue 1-6 (5). Done that day: on time.
    assert got["acknowledge"].due == D(2026, 1, 6)
    assert got["acknowledge"].state == DONE_ON_TIME
    # decide, 3: 12-30, 12-31, Sun 1-4 -> due Sunday 2026-01-04; today Sat 1-10 (not a working
    # day): late by Mon 1-5 .. Fri 1-9 = 5 working days.
    assert got["decide"].due == D(2026, 1, 4)
    assert (got["decide"].state, got["decide"].working_days_late) == (OVERDUE, 5)


# ---- calendar-day stages and the roll forward -------------------------------------------------

def test_calendar_days_roll_over_spring_festival(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(ev("received", "2026-01-16"), ev("accepted", "2026-01-17"))
    got = explain_case(c, "cases/x.yml", policy, cal, D(2026, 2, 1)).stages
    resolve = next(s for s in got if s.deadline.stage == "resolve")
    # resolve, 30 calendar days from Sat 1-17: 1-17 + 30 = 2-16 (Mon, Spring Festival), the
    # holiday runs to 2-23, next working day Tue 2-24.
    assert resolve.rolled_from == D(2026, 2, 16)
    assert resolve.deadline.due == D(2026, 2, 24)
    # Today Sun 2-1: working days in (2-1, 2-24] = 2-2..2-6 (5), 2-9..2-13 (10), Sat 2-14 (11),
    # Tue 2-24 (12).
    assert (resolve.deadline.state, resolve.deadline.working_days_left) == (OPEN, 12)


def test_calendar_days_roll_across_the_year_end_to_a_make_up_sunday(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(ev("received", "2025-12-01"), ev("accepted", "2025-12-02"))
    resolve = stages(c, policy, cal, D(2025, 12, 10))["resolve"]
    # 2025-12-02 + 30 = 2026-01-01 (New Year holiday, to Sat 1-3); Sun 1-4 is a make-up working day.
    assert resolve.due == D(2026, 1, 4)


def test_roll_forward_switch(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(ev("received", "2026-01-16"), ev("accepted", "2026-01-17"))
    off = Policy(dict(policy.raw, time_limits=dict(policy.raw["time_limits"], roll_forward=False)))
    # Without the roll: 1-17 + 30 = 2-16, a holiday, stays the due date.
    assert stages(c, off, cal, D(2026, 2, 1))["resolve"].due == D(2026, 2, 16)


def test_priority_override(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(ev("received", "2026-09-21"), ev("accepted", "2026-09-21"), priority="urgent")
    got = explain_case(c, "cases/x.yml", policy, cal, D(2026, 9, 22)).stages
    resolve = next(s for s in got if s.deadline.stage == "resolve")
    # urgent: 10 calendar days from Mon 9-21 = Thu 10-1 (National Day to 10-7) -> Thu 10-8.
    assert (resolve.limit, resolve.limit_from) == (10, "override priority=urgent")
    assert resolve.deadline.due == D(2026, 10, 8)


# ---- extensions -------------------------------------------------------------------------------

BASE = (ev("received", "2026-03-02"), ev("accepted", "2026-03-02"))


def test_extension_within_cap(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(*BASE, ev("extended", "2026-03-20", stage="resolve", days=15, approver="d-zhang", reason="r"))
    # 3-2 + 30 + 15 = 3-2 + 45 = 4-16 (Thu, a working day).
    assert stages(c, policy, cal, D(2026, 3, 21))["resolve"].due == D(2026, 4, 16)
    assert check_case(c, policy, cal) == []


def test_extension_beyond_day_cap_is_capped_and_reported(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(*BASE, ev("extended", "2026-03-20", stage="resolve", days=40, approver="d-zhang", reason="r"))
    got = explain_case(c, "cases/x.yml", policy, cal, D(2026, 3, 21)).stages
    resolve = next(s for s in got if s.deadline.stage == "resolve")
    # Only 30 of 40 apply: 3-2 + 60 = 5-1 (Labour Day holiday 5-1..5-5) -> Wed 5-6.
    assert (resolve.extensions[0].applied, resolve.extensions[0].refused) == (30, "cap")
    assert resolve.rolled_from == D(2026, 5, 1)
    assert resolve.deadline.due == D(2026, 5, 6)
    assert check_case(c, policy, cal) == [
        ("timeline[2].days", "brings the extensions of stage 'resolve' to 40 calendar days; the policy allows at most 30")
    ]


def test_second_extension_beyond_count_is_ignored_and_reported(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(
        *BASE,
        ev("extended", "2026-03-20", stage="resolve", days=20, approver="d-zhang", reason="r"),
        ev("extended", "2026-03-25", stage="resolve", days=5, approver="d-zhang", reason="r"),
    )
    # One extension allowed: 3-2 + 30 + 20 = 3-2 + 50 = 4-21 (Tue).
    assert stages(c, policy, cal, D(2026, 3, 26))["resolve"].due == D(2026, 4, 21)
    assert check_case(c, policy, cal) == [("timeline[3]", "extension 2 of stage 'resolve'; the policy allows at most 1")]


def test_extension_of_working_day_stage_and_count_cap(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(
        *BASE,
        ev("extended", "2026-03-10", stage="investigate", days=4, approver="d-zhang", reason="r"),
        ev("extended", "2026-03-12", stage="investigate", days=8, approver="d-zhang", reason="r"),
    )
    inv = stages(c, policy, cal, D(2026, 3, 12))["investigate"]
    # investigate, 20 working days + 4 + (10 - 4 = 6 of the 8, the day cap) = 30 working days from
    # Mon 3-2: 3-3..3-6 (4), 3-9..13 (9), 16..20 (14), 23..27 (19), 30, 31 (21), 4-1, 4-2, 4-3 (24),
    # 4-4..4-6 Qingming, 4-7..4-10 (28), 4-13 (29), 4-14 (30).
    assert inv.due == D(2026, 4, 14)
    assert check_case(c, policy, cal) == [
        ("timeline[3].days", "brings the extensions of stage 'investigate' to 12 working days; the policy allows at most 10")
    ]


def test_extension_problems(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(
        *BASE,
        ev("extended", "2026-03-05", stage="decide", days=2, approver="d-zhang", reason="r"),
        ev("extended", "2026-03-06", stage="resolve", days=5, approver="h-zhou", reason="r"),
        ev("extended", "2026-03-06", stage="nonsense", days=5, approver="d-zhang", reason="r"),
        ev("resolved", "2026-03-20", outcome="substantiated"),
        ev("extended", "2026-03-21", stage="investigate", days=2, approver="d-zhang", reason="r"),
        ev("extended", "2026-03-22", stage="investigate", days=2, reason="r"),
    )
    assert check_case(c, policy, cal) == [
        ("timeline[2].stage", "stage 'decide' may not be extended (the policy gives it no extension rule)"),
        ("timeline[3].approver", "'h-zhou' may not approve extensions (not a handler with approver: true, nor the committee chair)"),
        ("timeline[4].stage", "'nonsense' is not a stage of the policy's time_limits"),
        ("timeline[6].date", "stage 'investigate' is not running on this date: nothing to extend"),
        ("timeline[7].approver", "stage 'investigate' needs an approver for an extension"),
        ("timeline[7].date", "stage 'investigate' is not running on this date: nothing to extend"),
    ]
    # The extension by a non-approver is not applied: resolve stays 3-2 + 30 = 4-1.
    got = explain_case(c, "cases/x.yml", policy, cal, D(2026, 3, 21)).stages
    resolve = next(s for s in got if s.deadline.stage == "resolve")
    assert resolve.deadline.due == D(2026, 4, 1)
    assert resolve.extensions[0].refused == "approver"


# ---- pauses -----------------------------------------------------------------------------------

def test_pause_moves_a_calendar_day_due_date(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(*BASE, ev("paused", "2026-03-10", reason="r"), ev("resumed", "2026-03-20"))
    got = explain_case(c, "cases/x.yml", policy, cal, D(2026, 3, 25)).stages
    resolve = next(s for s in got if s.deadline.stage == "resolve")
    # Paused 3-10 .. 3-20: 10 days. 3-2 + 30 + 10 = 4-11 (Sat) -> Mon 4-13.
    assert [p.counted for p in resolve.pauses] == [10]
    assert resolve.deadline.due == D(2026, 4, 13)


def test_pause_across_spring_festival_moves_a_working_day_due_date(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(
        ev("received", "2026-02-02"),
        ev("accepted", "2026-02-02"),
        ev("paused", "2026-02-10", reason="r"),
        ev("resumed", "2026-02-26"),
    )
    inv = next(s for s in explain_case(c, "cases/x.yml", policy, cal, D(2026, 2, 27)).stages if s.deadline.stage == "investigate")
    # Working days paused, in (Tue 2-10, Thu 2-26]: 2-11, 2-12, 2-13, Sat 2-14 (make-up), 2-24,
    # 2-25, 2-26 = 7. Due = 20 + 7 = 27 working days after Mon 2-2: 2-3..2-6 (4), 2-9..2-13 (9),
    # Sat 2-14 (10), 2-24..2-27 (14), Sat 2-28 (15), 3-2..3-6 (20), 3-9..3-13 (25), 3-16 (26),
    # 3-17 (27).
    assert [p.counted for p in inv.pauses] == [7]
    assert inv.deadline.due == D(2026, 3, 17)
    kinds = {(d.date, d.kind) for d in inv.special_days}
    assert (D(2026, 2, 14), MAKEUP_WORKDAY) in kinds and (D(2026, 2, 28), MAKEUP_WORKDAY) in kinds
    assert (D(2026, 2, 16), HOLIDAY) in kinds


def test_open_pause_is_open_not_overdue(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(*BASE, ev("paused", "2026-03-10", reason="r"))
    got = explain_case(c, "cases/x.yml", policy, cal, D(2026, 5, 20)).stages
    resolve = next(s for s in got if s.deadline.stage == "resolve")
    # Still paused on 5-20: counted 3-10 .. 5-20 = 71 days so far; 3-2 + 30 + 71 = 3-2 + 101 =
    # 6-11 (Thu), provisional.
    assert resolve.paused_now
    assert resolve.pauses[0].resumed is None and resolve.pauses[0].counted == 71
    assert resolve.deadline.due == D(2026, 6, 11)
    assert resolve.deadline.state == OPEN
    assert resolve.deadline.working_days_late == 0


# ---- instances and applicability ---------------------------------------------------------------

def test_each_review_request_is_its_own_instance(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(
        *BASE,
        ev("resolved", "2026-03-10", outcome="substantiated"),
        ev("review_requested", "2026-03-12"),
        ev("review_answered", "2026-04-01", outcome="upheld"),
        ev("review_requested", "2026-09-01"),
    )
    got = stages(c, policy, cal, D(2026, 10, 9))
    # review #1: 3-12 + 30 = 4-11 (Sat) -> Mon 4-13; answered 4-1: on time.
    assert (got["review"].due, got["review"].state, got["review"].instance) == (D(2026, 4, 13), DONE_ON_TIME, 1)
    # review #2: 9-1 + 30 = 10-1 (National Day) -> Thu 10-8; today Fri 10-9: late by 1.
    assert (got["review#2"].due, got["review#2"].state, got["review#2"].instance) == (D(2026, 10, 8), OVERDUE, 2)
    assert got["review#2"].working_days_late == 1
    assert stage_key(got["review#2"]) == "XN-20260101-AAAAA/review#2"


def test_follow_up_only_for_named_complainants(policy: dict[str, Any], cal: WorkCalendar) -> None:
    events = (*BASE, ev("resolved", "2026-03-10", outcome="substantiated"))
    assert "follow_up" in stages(case(*events), policy, cal, D(2026, 3, 11))
    assert "follow_up" not in stages(case(*events, anonymous=True), policy, cal, D(2026, 3, 11))


def test_not_accepted_case_has_no_resolve_stage(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(ev("received", "2026-03-02"), ev("not_accepted", "2026-03-03", reason="out_of_scope"))
    got = stages(c, policy, cal, D(2026, 3, 4))
    assert set(got) == {"acknowledge", "decide"}
    assert all(d.state == DONE_ON_TIME for d in got.values())


def test_holder_after_transfer(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(
        *BASE,
        ev("assigned", "2026-03-02", department="permits", handler="h-zhou"),
        ev("transferred", "2026-03-04", **{"from": "permits", "to": "finance", "handler": "h-wu", "reason": "r"}),
    )
    d = stages(c, policy, cal, D(2026, 3, 5))["resolve"]
    assert (d.department, d.handler, d.category, d.priority) == ("finance", "h-wu", "delay", "normal")


# ---- unconfirmed years in the engine ------------------------------------------------------------

def test_unconfirmed_year_in_a_case(policy: dict[str, Any]) -> None:
    c = case(ev("received", "2026-12-28"))
    with pytest.raises(CalendarError, match="2027"):
        case_deadlines(c, "cases/x.yml", policy, official_calendar(), D(2026, 12, 29))
    guess = official_calendar(accept_unconfirmed=True)
    report = explain_case(c, "cases/x.yml", policy, guess, D(2026, 12, 29))
    got = {s.deadline.stage: s.deadline for s in report.stages}
    # decide, 3 from Mon 12-28: 12-29, 12-30, 12-31 (all 2026). acknowledge, 5: ... Fri
    # 2027-01-01 (New Year's Day, a statutory holiday even before the notice), Mon 2027-01-04,
    # Tue 2027-01-05: provisional.
    assert got["decide"].due == D(2026, 12, 31) and not got["decide"].provisional
    assert got["acknowledge"].due == D(2027, 1, 5) and got["acknowledge"].provisional
    assert len(report.warnings) == 1 and "2027" in report.warnings[0]


def test_time_limits_of_the_shipped_policy() -> None:
    raw = load_yaml((PROJECT / "policy.yml").read_bytes())
    limits = time_limits(raw)
    assert {r.key for r in limits.stages} >= {"acknowledge", "decide", "resolve", "follow_up", "review"}
    for stage in raw["time_limits"]["stages"].values():
        assert stage["source"]["zh"].strip() and stage["source"]["en"].strip()
    assert limits.stage("review") is not None and limits.stage("review").repeats  # type: ignore[union-attr]


def test_explanation_holds_no_free_text(policy: dict[str, Any], cal: WorkCalendar) -> None:
    c = case(*BASE, ev("paused", "2026-03-10", reason="PRIVATE-REASON", note="PRIVATE-NOTE"), ev("resumed", "2026-03-12"))
    text = repr(explain_case(c, "cases/x.yml", policy, cal, D(2026, 3, 20)).to_json())
    assert "PRIVATE" not in text
