"""The fast paths every repository-wide run takes, held to their references on random input:
the deadline engine's compact rows (case_stages) against the explained path (explain_case),
the statistics' facts from those rows against the facts as first written, the calendar's
table look-ups against a walk day by day, and the cache's packed records against themselves
after a round trip (and refused when damaged)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Mapping, Sequence

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from complaints.adapters.config import official_calendar
from complaints.adapters.datacodec import DataFormatError, decode, encode, register
from complaints.adapters.yamlload import load_yaml
from complaints.core import deadlines as engine
from complaints.core.calendar import CLOSURE, HOLIDAY, MAKEUP_WORKDAY, HolidaySource, SpecialDay, WorkCalendar
from complaints.core.deadlines import case_as_of, case_deadlines, case_stages, case_stages_as_of, case_stages_of, explain_case, stage_outcomes
from complaints.core.policy import Policy
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, CaseStages, StageDeadline
from complaints.core.stats.facts import CaseFacts, StageFact, case_facts, case_facts_of, cases_facts_fast
from complaints.errors import CalendarError, CaseError

from conftest import TEMPLATE as PROJECT, TEST_DATA

D = dt.date
KINDS = ("acknowledged", "accepted", "not_accepted", "assigned", "transferred", "extended", "paused", "resumed",
         "resolved", "followed_up", "closed", "review_requested", "review_answered")  # fmt: skip


@pytest.fixture(scope="module", params=["test limits", "odd stages"])
def policy(request: pytest.FixtureRequest) -> Policy:
    """The shipped policy with the test time limits: a pausable working-day stage beside the
    calendar-day one, extension rules, a repeating review, a stage for named complainants;
    and with stages started and stopped by the kinds that also move a case or its clocks
    (assigned, paused, extended), one for anonymous complainants only."""
    raw: dict[str, Any] = load_yaml((PROJECT / "policy.yml").read_bytes())
    raw["time_limits"] = load_yaml((TEST_DATA / "deadlines" / "time_limits.yml").read_bytes())
    if request.param == "odd stages":
        stages = raw["time_limits"]["stages"]
        stages["assign"] = {"label": {"en": "x"}, "starts": "received", "stops": ["assigned", "transferred"], "limit": 2,
                            "unit": "working_days", "pausable": True, "applies_to": "anonymous", "source": "test"}
        stages["hold"] = {"label": {"en": "x"}, "starts": ["paused", "extended"], "stops": ["resumed", "extended"], "repeats": True,
                          "limit": 5, "unit": "calendar_days", "source": "test",
                          "extension": {"max_count": 2, "max_days": 3, "approver_required": False}}
        raw["time_limits"]["roll_forward"] = False
        raw["time_limits"]["warn_days"] = 4
    return Policy(raw)


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], dt.date]:
    """A case whose timeline the engine can read (kinds and dates; the order of the kinds is
    random, so rules meet starts, stops, pauses and extensions in any order), and a today."""
    day = draw(st.dates(min_value=D(2024, 1, 2), max_value=D(2026, 12, 24)))
    events: list[dict[str, Any]] = [{"kind": "received", "date": day.isoformat()}]
    for _ in range(draw(st.integers(0, 12))):
        day += dt.timedelta(days=draw(st.sampled_from((0, 0, 1, 2, 3, 5, 9, 20, 45))))
        kind = draw(st.sampled_from(KINDS))
        event: dict[str, Any] = {"kind": kind, "date": day.isoformat()}
        if kind == "extended":
            event["stage"] = draw(st.sampled_from(("resolve", "investigate", "decide", "hold", "nothing")))
            event["days"] = draw(st.sampled_from((-1, 0, 1, 5, 20, 40, True, "5")))
            approver = draw(st.sampled_from(("d-zhang", "h-chen", None)))
            if approver is not None:
                event["approver"] = approver
        elif kind == "assigned":
            event.update(department=draw(st.sampled_from(("permits", "it"))), handler=draw(st.sampled_from(("h-wu", "h-chen"))))
        elif kind == "transferred":
            event["to"] = "finance"
            if draw(st.booleans()):
                event["handler"] = "h-wu"
        elif kind == "resolved":
            event.update(outcome=draw(st.sampled_from(("substantiated", "unfounded"))), measures=draw(st.sampled_from(([], ["penalty"], ["penalty", "process_change"]))))
        elif kind == "not_accepted":
            event["reason"] = "out_of_scope"
        elif kind == "followed_up":
            event["satisfaction"] = draw(st.sampled_from(("satisfied", "dissatisfied")))
        elif kind == "review_answered":
            event["outcome"] = "upheld"
        events.append(event)
    case = {
        "id": "XN-20260101-AAAAA",
        "channel": "online_form",
        "complainant": {"anonymous": draw(st.booleans())},
        "subject": {"category": draw(st.sampled_from(("delay", "attitude"))), "departments": ["permits"]},
        "priority": draw(st.sampled_from(("normal", "urgent"))),
        "timeline": events,
        "suggestions": draw(st.sampled_from(([], [{"adopted": True, "rewarded": False}]))),
    }
    if draw(st.booleans()):
        case["handler"] = "h-lin"
    today = D.fromisoformat(events[0]["date"]) + dt.timedelta(days=draw(st.integers(-5, 500)))
    return case, today


def _outcome(fn: Any) -> Any:
    try:
        return fn()
    except CalendarError as exc:
        return ("CalendarError", str(exc))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=cases(), warn=st.sampled_from((None, 0, 3)), provisional=st.booleans())
def test_fast_stages_equal_the_explained_ones(policy: Policy, drawn: tuple[dict[str, Any], dt.date], warn: int | None, provisional: bool) -> None:
    case, today = drawn
    fast_cal, slow_cal = official_calendar(accept_unconfirmed=provisional), official_calendar(accept_unconfirmed=provisional)
    fast = _outcome(lambda: case_deadlines(case, "cases/x.yml", policy, fast_cal, today, warn_days=warn))
    slow = _outcome(lambda: [e.deadline for e in explain_case(case, "cases/x.yml", policy, slow_cal, today, warn_days=warn).stages])
    assert fast == slow
    assert fast_cal.provisional_years == slow_cal.provisional_years
    if isinstance(fast, list):
        rows = case_stages(case, "cases/x.yml", policy, fast_cal, today, warn_days=warn)
        assert rows.settled == all(s.completed is not None for s in fast)
        assert rows.span(today) == _span_reference(fast, today)
        assert rows.deadlines(("overdue", "due_soon")) == tuple(s for s in fast if s.state in ("overdue", "due_soon"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=cases(), back=st.integers(-30, 400), odd=st.sampled_from((None, "no date", "2026-02-30", 5)))
def test_a_case_as_it_stood_equals_the_reference(drawn: tuple[dict[str, Any], dt.date], back: int, odd: Any) -> None:
    case, today = drawn
    if odd is not None:  # an event whose date cannot be read is kept, as the reference keeps it
        case = {**case, "timeline": [*case["timeline"], {"kind": "closed", "date": odd}]}
    day = today - dt.timedelta(days=back)
    assert case_as_of(case, day) == _as_of_reference(case, day)
    assert case_as_of({**case, "timeline": []}, day) is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=cases(), back=st.integers(-30, 400), odd=st.sampled_from((None, "no date", "2026-02-30", 5)),
       where=st.integers(0, 30), provisional=st.booleans())  # fmt: skip
def test_stages_as_they_stood_read_once_equal_cut_then_computed(
    policy: Policy, drawn: tuple[dict[str, Any], dt.date], back: int, odd: Any, where: int, provisional: bool
) -> None:
    """Looking back (`overdue --today` a past day) reads a case with no later event once: the
    same stages, or the same error at the same event, as cutting it first and computing after."""
    case, today = drawn
    if odd is not None:  # an event that cannot be read, somewhere among the others
        timeline = list(case["timeline"])
        timeline.insert(where % (len(timeline) + 1), {"kind": "closed", "date": odd})
        case = {**case, "timeline": timeline}
    day = today - dt.timedelta(days=back)

    def reference() -> Any:
        then = case_as_of(case, day)
        return None if then is None else case_stages_of(then, "cases/x.yml", policy, cal_ref, day, warn_days=2)

    def outcome(fn: Any) -> Any:
        try:
            return fn()
        except (CalendarError, CaseError) as exc:
            return (type(exc).__name__, str(exc))

    cal_fast, cal_ref = official_calendar(accept_unconfirmed=provisional), official_calendar(accept_unconfirmed=provisional)
    fast = outcome(lambda: case_stages_as_of(case, "cases/x.yml", policy, cal_fast, day, warn_days=2))
    assert fast == outcome(reference)
    assert cal_fast.provisional_years == cal_ref.provisional_years
    assert case_stages_as_of({**case, "timeline": []}, "cases/x.yml", policy, cal_fast, day) is None


def _as_of_reference(case: dict[str, Any], day: dt.date) -> dict[str, Any] | None:
    kept = []
    for event in case["timeline"]:
        try:
            when: dt.date | None = D.fromisoformat(str(event.get("date")))
        except ValueError:
            when = None
        if when is None or when <= day:
            kept.append(event)
    return {**case, "timeline": kept} if kept else None


def _span_reference(stages: Sequence[StageDeadline], today: dt.date) -> tuple[int, int] | None:
    if not stages:
        return None
    first = min(s.started for s in stages)
    last = max(max(s.due, s.completed or s.due) for s in stages)
    if any(s.completed is None for s in stages):
        last = max(last, today)
    return first.toordinal(), last.toordinal()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=cases())
def test_facts_from_rows_equal_the_facts_as_first_written(policy: Policy, drawn: tuple[dict[str, Any], dt.date]) -> None:
    case, today = drawn
    cal = official_calendar(accept_unconfirmed=True)
    rows = case_stages(case, "cases/x.yml", policy, cal, today)
    expected = _facts_reference(case, rows.deadlines(), cal, today)
    assert case_facts_of(case, rows.stages, cal, today) == expected
    assert case_facts(case, rows.deadlines(), cal, today) == expected
    register(CaseFacts, StageFact, CaseStages)
    # The packed records come back equal from the cache's JSON.
    for record in (expected, rows):
        assert decode(json.loads(json.dumps(encode(record)))) == record


# Found by hypothesis: under "odd stages" a `hold` in calendar days, started and stopped on
# one day of a year the calendar refuses, is computed without the calendar; its facts are not.
_HOLD_IN_2027 = (
    {"id": "XN-20260101-AAAAA", "channel": "online_form", "complainant": {"anonymous": False},
     "subject": {"category": "delay", "departments": ["permits"]}, "priority": "normal",
     "timeline": [{"kind": "received", "date": "2026-09-01"}, {"kind": "acknowledged", "date": "2026-10-16"},
                  {"kind": "extended", "date": "2027-01-14", "stage": "resolve", "days": -1, "approver": "d-zhang"},
                  {"kind": "resumed", "date": "2027-01-14"}],
     "suggestions": []},
    D(2026, 9, 1),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=cases(), provisional=st.booleans())
@example(drawn=_HOLD_IN_2027, provisional=False)
def test_lean_stages_and_facts_equal_the_full_ones(policy: Policy, drawn: tuple[dict[str, Any], dt.date], provisional: bool) -> None:
    """What `stats` and the site build derive (stage_outcomes, cases_facts_fast) equals the
    full path: each row's dates, stage and state as case_stages_of's, the same span, settled
    flag and calendar years looked at, the facts equal to the reference's, and the same
    error (naming the file) for a year the calendar refuses."""
    case, today = drawn
    full_cal, lean_cal = official_calendar(accept_unconfirmed=provisional), official_calendar(accept_unconfirmed=provisional)
    full = _outcome(lambda: case_stages_of(case, "cases/x.yml", policy, full_cal, today))
    dates: list[dt.date] = []
    lean = _outcome(lambda: stage_outcomes(case, "cases/x.yml", policy, lean_cal, today, dates))
    facts = _outcome(lambda: cases_facts_fast([("cases/x.yml", case)], policy, official_calendar(accept_unconfirmed=provisional), today)[0])
    if not isinstance(full, CaseStages):
        assert lean == full and facts == full
        return
    assert isinstance(lean, CaseStages) and isinstance(facts, tuple)
    reference = _outcome(lambda: _facts_reference(case, full.deadlines(), full_cal, today))
    if not isinstance(reference, CaseFacts):
        # The facts count the working days of a stage the stages did not count (one in
        # calendar days, completed in a year the calendar refuses): both refuse that year,
        # the fast facts naming the file as the stages do.
        assert reference[0] == "CalendarError" and facts == ("CalendarError", f"cases/x.yml: {reference[1]}")
        return
    assert [row[:6] for row in lean.stages] == [row[:6] for row in full.stages]
    assert all(row[6:] == (0, 0, False) for row in lean.stages)
    assert (lean.department, lean.handler) == (None, None)
    assert lean.settled_span(today) == full.settled_span(today)
    assert lean_cal.provisional_years == full_cal.provisional_years
    assert dates == [D.fromisoformat(e["date"]) for e in case["timeline"]]
    assert facts[0] == reference
    assert facts[0] == case_facts_of(case, full.stages, full_cal, today)

def _facts_reference(case: Mapping[str, Any], stages: Sequence[StageDeadline], calendar: WorkCalendar, today: dt.date) -> CaseFacts:
    """core.stats.facts.case_facts as it was first written, kept here as the reference."""
    timeline = case.get("timeline", [])
    events = [(e["kind"], e) for e in timeline if D.fromisoformat(e["date"]) <= today]
    kinds = {k for k, _ in events}
    finishing = [D.fromisoformat(e["date"]) for k, e in events if k in ("resolved", "not_accepted", "closed")]
    not_accepted = [e for k, e in events if k == "not_accepted"]
    resolved_events = [e for k, e in events if k == "resolved"]
    measures: list[str] = []
    for e in resolved_events:
        for m in e.get("measures") or ():
            if m not in measures:
                measures.append(m)
    follow = [e for k, e in events if k == "followed_up"]
    answered = [e for k, e in events if k == "review_answered"]
    resolved = any(s.stage == "resolve" and s.state in (DONE_ON_TIME, DONE_LATE) for s in stages)
    return CaseFacts(
        received=D.fromisoformat(timeline[0]["date"]),
        channel=str(case.get("channel")),
        category=str(case["subject"].get("category")),
        priority=str(case.get("priority")),
        departments=tuple(case["subject"].get("departments") or ()),
        anonymous=bool(case["complainant"].get("anonymous")),
        accepted="accepted" in kinds,
        not_accepted_reason=str(not_accepted[-1].get("reason")) if not_accepted and "accepted" not in kinds else None,
        finished=min(finishing) if finishing else None,
        resolved=resolved,
        measures=tuple(measures),
        extended="extended" in kinds,
        paused="paused" in kinds,
        satisfaction=str(follow[-1].get("satisfaction")) if follow else None,
        review_requested="review_requested" in kinds,
        review_outcome=str(answered[-1].get("outcome")) if answered else None,
        suggestions=tuple((bool(s.get("adopted")), bool(s.get("rewarded"))) for s in case.get("suggestions") or ()),
        stages=tuple(
            StageFact(s.stage, s.state, calendar.working_days_between(s.started, s.completed) if s.completed else None) for s in stages
        ),
        outcome=str(resolved_events[-1].get("outcome")) if resolved_events and resolved else None,
    )


# ---- the calendar: table look-ups against a walk day by day -----------------------------------

@st.composite
def calendars(draw: st.DrawFn) -> tuple[dict[dt.date, SpecialDay], set[int], dict[int, dict[dt.date, str]]]:
    """Special days (weekday holidays and closures, weekend make-up days, and entries that
    change nothing) over 2023-2028, the confirmed years, and the statutory days off of each
    year (used for the unconfirmed ones, where a special day wins)."""
    special: dict[dt.date, SpecialDay] = {}
    for _ in range(draw(st.integers(0, 60))):
        day = draw(st.dates(min_value=D(2023, 1, 1), max_value=D(2028, 12, 31)))
        kind = draw(st.sampled_from((HOLIDAY, MAKEUP_WORKDAY, CLOSURE)))
        special[day] = SpecialDay(day, kind, "x", "test", kind == MAKEUP_WORKDAY)
    confirmed = set(draw(st.sets(st.integers(2023, 2028))))
    statutory = {
        year: {D(year, 1, 1): "New Year", D(year, 5, 1): "Labour Day", D(year, 10, 1): "National Day", D(year, 10, 2): "National Day"}
        for year in range(2023, 2029)
    }
    return special, confirmed, statutory


def _working(day: dt.date, special: Mapping[dt.date, SpecialDay], confirmed: set[int], statutory: Mapping[int, Mapping[dt.date, str]]) -> bool:
    if day in special:
        return special[day].working
    if day.year not in confirmed and day in statutory.get(day.year, {}):
        return False
    return day.weekday() < 5


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    drawn=calendars(),
    questions=st.lists(
        st.tuples(st.dates(min_value=D(2023, 1, 1), max_value=D(2027, 12, 31)), st.integers(0, 200), st.integers(-400, 400)),
        min_size=1, max_size=25,
    ),
)
def test_table_arithmetic_equals_a_walk_day_by_day(
    drawn: tuple[dict[dt.date, SpecialDay], set[int], dict[int, dict[dt.date, str]]], questions: list[tuple[dt.date, int, int]]
) -> None:
    special, confirmed, statutory = drawn
    source = HolidaySource("test", lambda year: statutory.get(year, {}))
    cal = WorkCalendar(special, confirmed, accept_unconfirmed=True, source=source)

    def working(day: dt.date) -> bool:
        return _working(day, special, confirmed, statutory)

    for start, n, offset in questions:
        due, left = start, n
        while left:
            due += dt.timedelta(days=1)
            left -= working(due)
        if due.year <= 2028:
            assert cal.add_working_days(start, n) == due
        end = start + dt.timedelta(days=offset)
        low, high = min(start, end), max(start, end)
        count = sum(working(low + dt.timedelta(days=i)) for i in range(1, (high - low).days + 1))
        assert cal.working_days_between(start, end) == (count if end >= start else -count)
        nxt = start
        while not working(nxt):
            nxt += dt.timedelta(days=1)
        assert cal.next_working_day(start) == nxt
        assert cal.is_working_day(start) == working(start)
    # The years guessed are exactly the unconfirmed years some question reached.
    assert set(cal.provisional_years) <= set(range(2021, 2030)) - confirmed


def test_a_refused_year_is_refused_on_the_fast_path_too() -> None:
    cal = official_calendar()
    assert cal.working_days_between(D(2026, 3, 2), D(2026, 12, 31)) > 0  # 2026 built
    with pytest.raises(CalendarError, match="2027"):
        cal.working_days_between(D(2026, 3, 2), D(2027, 1, 4))
    with pytest.raises(CalendarError, match="2027"):
        cal.add_working_days(D(2026, 12, 28), 10)


# ---- packed records: exactly the same back, anything else refused ------------------------------

def _packed(record: Any) -> list[Any]:
    register(CaseFacts, StageFact, CaseStages)
    data = encode(record)
    assert data[:2] == ["p", type(record).__name__]
    return list(data)


def test_packed_stages_round_trip_and_damage_is_refused() -> None:
    row = (D(2026, 3, 2), "resolve", 1, D(2026, 4, 1), None, "overdue", 3, 0, False)
    record = CaseStages("XN-20260302-AAAAA", "cases/2026/x.yml", "it", None, "delay", "normal", (row, (*row[:4], D(2026, 3, 5), "done_on_time", 0, 0, True)))
    data = _packed(record)
    assert decode(json.loads(json.dumps(data))) == record
    assert decode(_packed(record._replace(stages=()))) == record._replace(stages=())
    for damaged in (
        data[:-1],  # a stage cut short
        [*data[:2], *data[3:]],  # a field missing
        [*data[:8], "737000", *data[9:]],  # a date that is text
        [*data[:8], True, *data[9:]],  # a date that is a boolean
        [*data[:2], 5, *data[3:]],  # an id that is a number
        [*data[:-1], 1],  # provisional that is a number
        [*data[:10], ["l", 1], *data[11:]],  # a nested value
        ["p", "NoSuchClass", *data[2:]],
        [*data[:8], 10**9, *data[9:]],  # a day out of range
    ):
        with pytest.raises(DataFormatError):
            decode(damaged)


def test_packed_facts_round_trip_and_damage_is_refused() -> None:
    record = CaseFacts(
        D(2026, 3, 2), "hotline", "delay", "normal", ("it", "hr"), False, True, None, D(2026, 3, 20), True,
        ("penalty",), True, False, "satisfied", False, None, ((True, False),),
        (StageFact("acknowledge", "done_on_time", 1), StageFact("resolve", "done_late", 20), StageFact("review", "open", None)),
        "substantiated",
    )  # fmt: skip
    data = _packed(record)
    assert decode(json.loads(json.dumps(data))) == record
    empty = CaseFacts(D(2026, 3, 2), "hotline", "delay", "normal", (), True, False, "out_of_scope", None, False, (), False, False, None, False, None, ())
    assert decode(_packed(empty)) == empty
    count_at = data.index(2, 17)  # the number of departments
    for damaged in (
        data[:-1],
        [*data, "extra"],
        [*data[:2], "737000", *data[3:]],  # a received date that is text
        [*data[:count_at], 3, *data[count_at + 1 :]],  # a count beyond the values
        [*data[:count_at], -1, *data[count_at + 1 :]],
        [*data[:6], 1, *data[7:]],  # anonymous that is a number
        [*data[:16], 5, *data[17:]],  # an outcome that is a number
        [*data[:-1], "5"],  # working days that are text
    ):
        with pytest.raises(DataFormatError):
            decode(damaged)


def test_a_record_that_does_not_pack_plain_values_is_not_cached() -> None:
    row = (D(2026, 3, 2), "resolve", 1, D(2026, 4, 1), None, "overdue", 3, 0, False)
    record = CaseStages("XN-20260302-AAAAA", "cases/2026/x.yml", {"not": "text"}, None, "delay", "normal", (row,))  # type: ignore[arg-type]
    register(CaseStages)
    with pytest.raises(DataFormatError):
        encode(record)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(drawn=cases())
def test_facts_are_the_same_once_the_memo_of_stage_facts_is_full(
    policy: Policy, drawn: tuple[dict[str, Any], dt.date], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tuples of stage facts are kept for look-up up to a bound (a worker of a large
    # archive meets more than it is worth keeping); past it, each is made afresh, equal.
    from complaints.core.stats import facts as facts_module

    case, today = drawn
    cal = official_calendar(accept_unconfirmed=True)
    rows = case_stages(case, "cases/x.yml", policy, cal, today)
    remembered = case_facts_of(case, rows.stages, cal, today)
    with monkeypatch.context() as patch:
        patch.setattr(facts_module, "_STAGE_FACTS", {})
        patch.setattr(facts_module, "_MAX_STAGE_TUPLES", 0)
        fresh = case_facts_of(case, rows.stages, cal, today)
        assert facts_module._STAGE_FACTS == {}
    assert fresh == remembered and fresh.stages == remembered.stages


def test_the_shape_of_a_timeline_is_kept_apart_for_named_and_anonymous_complainants(monkeypatch: pytest.MonkeyPatch) -> None:
    # The rules a sequence of kinds starts and stops are worked out once per sequence and kept
    # (deadlines._Plan.shape): for the complainant the case has, and the same once nothing is kept.
    raw: dict[str, Any] = load_yaml((PROJECT / "policy.yml").read_bytes())
    raw["time_limits"] = load_yaml((TEST_DATA / "deadlines" / "time_limits.yml").read_bytes())
    raw["time_limits"]["stages"]["assign"] = {"label": {"en": "x"}, "starts": "received", "stops": ["assigned"], "limit": 2,
                                              "unit": "working_days", "applies_to": "anonymous", "source": "test"}  # fmt: skip
    today = D(2026, 3, 31)
    events = [{"kind": "received", "date": "2026-03-02"}, {"kind": "acknowledged", "date": "2026-03-03"},
              {"kind": "assigned", "date": "2026-03-09", "department": "it", "handler": "h-wu"}]  # fmt: skip
    named = {"id": "XN-20260302-AAAAA", "complainant": {"anonymous": False}, "subject": {"category": "delay"}, "priority": "normal",
             "timeline": events}  # fmt: skip
    anonymous = {**named, "complainant": {"anonymous": True}}
    cal = official_calendar(accept_unconfirmed=True)

    def reference(case: dict[str, Any]) -> list[StageDeadline]:
        return [e.deadline for e in explain_case(case, "cases/x.yml", Policy(raw), cal, today).stages]

    expected = {False: reference(named), True: reference(anonymous)}
    assert "assign" in {s.stage for s in expected[True]} and "assign" not in {s.stage for s in expected[False]}
    for kept, longest in ((engine.MAX_SHAPES, engine.MAX_SHAPE_EVENTS), (0, engine.MAX_SHAPE_EVENTS), (engine.MAX_SHAPES, 2)):
        monkeypatch.setattr(engine, "MAX_SHAPES", kept)
        monkeypatch.setattr(engine, "MAX_SHAPE_EVENTS", longest)  # 2: the three events' shape is not kept
        for order in ((named, anonymous), (anonymous, named)):
            policy = Policy(raw)  # a plan of its own, nothing kept yet
            for case in (*order, *order):
                who = case["complainant"]["anonymous"]
                assert case_deadlines(case, "cases/x.yml", policy, cal, today) == expected[who]
                rows = stage_outcomes(case, "cases/x.yml", policy, cal, today, [])
                assert [(r[0], r[1], r[3], r[4], r[5]) for r in rows.stages] == [
                    (s.started, s.stage, s.due, s.completed, s.state) for s in expected[who]
                ]
            assert len(engine._plan_of(policy).shapes) == (2 if kept and longest >= 3 else 0)
