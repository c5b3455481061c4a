"""The working-day calendar: hand-checked arithmetic across the 2026 holidays and make-up days,
a year boundary, unconfirmed years, calendar.yml overrides and the cost of a long limit."""
from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.errors import CalendarError, ConfigError
from complaints.adapters.config import load_calendar, official_calendar, statutory_holidays
from complaints.core.calendar import CLOSURE, HOLIDAY, MAKEUP_WORKDAY, PROVISIONAL_SOURCE, WorkCalendar

# The template repository as shipped, frozen for the tests (never the live policy or cases).
from conftest import TEMPLATE as PROJECT
D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return official_calendar()


def naive_add(start: dt.date, n: int) -> dt.date:
    """Reference only: walk day by day with the library's own is_workday."""
    day = start
    while n:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day


# ---- the 2026 official schedule, as the library ships it --------------------------------------

def test_2026_make_up_days_are_working_days(cal: WorkCalendar) -> None:
    # 国办发明电〔2025〕7号 (2026 holidays): make-up working days Sun 1-4, Sat 2-14, Sat 2-28,
    # Sat 5-9, Sun 9-20, Sat 10-10.
    for day in (D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)):
        assert day.weekday() >= 5
        assert cal.is_working_day(day), day
    # An ordinary weekend right next to them is not.
    assert not cal.is_working_day(D(2026, 2, 7))
    assert not cal.is_working_day(D(2026, 10, 11))


def test_2026_holidays_are_not_working_days(cal: WorkCalendar) -> None:
    spring = [D(2026, 2, 15) + dt.timedelta(days=k) for k in range(9)]  # Sun 2-15 .. Mon 2-23
    national = [D(2026, 10, 1) + dt.timedelta(days=k) for k in range(7)]  # Thu 10-1 .. Wed 10-7
    for day in [D(2026, 1, 1), D(2026, 1, 2), *spring, D(2026, 9, 25), *national]:
        assert not cal.is_working_day(day), day
    assert cal.is_working_day(D(2026, 2, 24))  # Tue after Spring Festival
    assert cal.is_working_day(D(2026, 10, 8))  # Thu after National Day


# ---- hand-checked additions --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # Year boundary: Mon 2025-12-29 + 5: Tue 12-30 (1), Wed 12-31 (2), Thu-Sat 1-1..1-3 New
        # Year holiday, Sun 1-4 make-up (3), Mon 1-5 (4), Tue 1-6 (5).
        (D(2025, 12, 29), 5, D(2026, 1, 6)),
        # Spring Festival: Thu 2-12 + 3: Fri 2-13 (1), Sat 2-14 make-up (2), 2-15..2-23 holiday,
        # Tue 2-24 (3).
        (D(2026, 2, 12), 3, D(2026, 2, 24)),
        # Fri 2-13 + 10: Sat 2-14 make-up (1), Tue 2-24 (2), 2-25 (3), 2-26 (4), Fri 2-27 (5),
        # Sat 2-28 make-up (6), Mon 3-2 (7), 3-3 (8), 3-4 (9), Thu 3-5 (10).
        (D(2026, 2, 13), 10, D(2026, 3, 5)),
        # Start on a holiday: Mon 2-16 + 1: next working day is Tue 2-24.
        (D(2026, 2, 16), 1, D(2026, 2, 24)),
        # National Day make-up Sunday: Fri 9-18 + 5: Sat 9-19 no, Sun 9-20 make-up (1), Mon 9-21 (2),
        # 9-22 (3), 9-23 (4), Thu 9-24 (5).
        (D(2026, 9, 18), 5, D(2026, 9, 24)),
        # Wed 9-30 + 3: 10-1..10-7 holiday, Thu 10-8 (1), Fri 10-9 (2), Sat 10-10 make-up (3).
        (D(2026, 9, 30), 3, D(2026, 10, 10)),
        # Mid-autumn then National Day: Thu 9-24 + 5: Fri 9-25 holiday, weekend, Mon 9-28 (1),
        # 9-29 (2), 9-30 (3), 10-1..10-7 holiday, Thu 10-8 (4), Fri 10-9 (5).
        (D(2026, 9, 24), 5, D(2026, 10, 9)),
        # Start on a Saturday: Sat 2026-03-07 + 3: Mon 3-9 (1), Tue 3-10 (2), Wed 3-11 (3).
        (D(2026, 3, 7), 3, D(2026, 3, 11)),
        (D(2026, 3, 7), 0, D(2026, 3, 7)),
    ],
)
def test_add_working_days_hand_checked(cal: WorkCalendar, start: dt.date, n: int, due: dt.date) -> None:
    assert cal.add_working_days(start, n) == due


def test_working_days_between_hand_checked(cal: WorkCalendar) -> None:
    # (Thu 2-12, Wed 2-25]: Fri 2-13, Sat 2-14 make-up, Tue 2-24, Wed 2-25 = 4.
    assert cal.working_days_between(D(2026, 2, 12), D(2026, 2, 25)) == 4
    assert cal.working_days_between(D(2026, 2, 25), D(2026, 2, 12)) == -4
    assert cal.working_days_between(D(2026, 3, 2), D(2026, 3, 2)) == 0
    # (Wed 2025-12-31, Mon 2026-01-05]: Sun 1-4 make-up, Mon 1-5 = 2.
    assert cal.working_days_between(D(2025, 12, 31), D(2026, 1, 5)) == 2


def test_next_working_day(cal: WorkCalendar) -> None:
    assert cal.next_working_day(D(2026, 10, 1)) == D(2026, 10, 8)
    assert cal.next_working_day(D(2026, 1, 3)) == D(2026, 1, 4)  # Sat holiday -> Sun make-up
    assert cal.next_working_day(D(2026, 10, 8)) == D(2026, 10, 8)


def test_special_days_are_those_that_move_a_due_date(cal: WorkCalendar) -> None:
    days = cal.special_days(D(2026, 2, 12), D(2026, 2, 24))
    # Weekday holidays and weekend make-up days only; Sat/Sun 2-21/22 inside the holiday are not
    # listed (plain weekends would not be working days either).
    assert [(d.date.day, d.kind) for d in days] == [
        (14, MAKEUP_WORKDAY), (16, HOLIDAY), (17, HOLIDAY), (18, HOLIDAY), (19, HOLIDAY), (20, HOLIDAY), (23, HOLIDAY),
    ]
    assert {d.name for d in days} == {"Spring Festival"}


# ---- equal to the naive day-by-day walk, at a cost independent of the limit -----------------------

def test_300_working_days_equals_naive_walk(cal: WorkCalendar) -> None:
    for start in (D(2024, 3, 1), D(2025, 1, 27), D(2025, 9, 30), D(2025, 4, 5)):
        assert cal.add_working_days(start, 300) == naive_add(start, 300)


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=D(2005, 1, 1), max_value=D(2024, 12, 31)),
    n=st.integers(min_value=0, max_value=400),
)
def test_add_and_count_agree_with_naive_walk(start: dt.date, n: int) -> None:
    cal = official_calendar()
    due = cal.add_working_days(start, n)
    assert due == naive_add(start, n)
    assert cal.working_days_between(start, due) == n


class CountingList(list[int]):
    reads = 0

    def __getitem__(self, index):  # type: ignore[no-untyped-def,override]
        CountingList.reads += 1
        return super().__getitem__(index)


def test_cost_does_not_grow_with_the_limit() -> None:
    cal = official_calendar()
    cal.add_working_days(D(2020, 1, 1), 1500)  # build 2020-2026 once
    cal._days = CountingList(cal._days)  # type: ignore[assignment]
    size = len(cal._days)
    reads = {}
    for n in (3, 30, 300, 1000):
        CountingList.reads = 0
        cal.add_working_days(D(2020, 3, 2), n)
        cal.working_days_between(D(2020, 3, 2), D(2020, 3, 2) + dt.timedelta(days=n))
        reads[n] = CountingList.reads
    # Three bisections (one to add, two to count) and one index: about 3 log2(size) reads.
    bound = 3 * (math.ceil(math.log2(size)) + 1) + 2
    assert all(r <= bound for r in reads.values()), reads
    assert max(reads.values()) - min(reads.values()) <= 4, reads


# ---- unconfirmed years ------------------------------------------------------------------------

def test_unconfirmed_year_is_an_error_naming_it(cal: WorkCalendar) -> None:
    last = max(d.year for d in chinese_calendar.holidays)
    assert last == 2026, "chinesecalendar now ships another year: update these tests"
    # Mon 2026-12-28 + 3 stays in 2026: Tue 12-29, Wed 12-30, Thu 12-31.
    assert cal.add_working_days(D(2026, 12, 28), 3) == D(2026, 12, 31)
    with pytest.raises(CalendarError) as info:
        cal.add_working_days(D(2026, 12, 28), 4)
    message = str(info.value)
    assert "2027" in message and "calendar.yml" in message and "unconfirmed_years: provisional" in message
    # The library names no command-line option: only the command that prints it knows its own.
    assert "--" not in message
    with pytest.raises(CalendarError, match="2027"):
        cal.is_working_day(D(2027, 3, 1))
    assert cal.warnings == ()


def test_accept_unconfirmed_computes_a_provisional_year_with_a_warning() -> None:
    cal = official_calendar(accept_unconfirmed=True)
    # Mon 2026-12-28 + 5: 12-29, 12-30, 12-31, Fri 2027-01-01 New Year's Day (statutory, so
    # off even before the notice), Mon 2027-01-04, Tue 2027-01-05.
    assert cal.add_working_days(D(2026, 12, 28), 5) == D(2027, 1, 5)
    assert cal.provisional_years == (2027,)
    assert len(cal.warnings) == 1 and "2027" in cal.warnings[0] and "provisional" in cal.warnings[0]
    assert cal.is_provisional(D(2026, 12, 28), D(2027, 1, 5)) and not cal.is_provisional(D(2026, 1, 5), D(2026, 12, 31))
    # Spring Festival 2027: 除夕 Fri 02-05 to 正月初三 Mon 02-08 (lunar dates computed); no
    # make-up working day is assumed. Thu 02-04 + 2: Tue 02-09, Wed 02-10.
    assert cal.add_working_days(D(2027, 2, 4), 2) == D(2027, 2, 10)
    day = cal.special_day(D(2027, 2, 8))
    assert day is not None and day.kind == HOLIDAY and day.source == PROVISIONAL_SOURCE


def test_statutory_holidays_are_the_13_days_of_the_2024_revision() -> None:
    days = statutory_holidays(2027)
    assert len(days) == 13
    assert {D(2027, 1, 1), D(2027, 5, 1), D(2027, 5, 2), D(2027, 10, 1), D(2027, 10, 2), D(2027, 10, 3)} <= set(days)
    # Compared with a confirmed year: 2026's statutory days are all official holidays.
    official = {d for d, _ in chinese_calendar.holidays.items() if d.year == 2026}
    assert len(statutory_holidays(2026)) == 13 and set(statutory_holidays(2026)) <= official


def test_calendar_yml_entries_win_over_the_provisional_days(tmp_path: Path) -> None:
    text = "years:\n  - year: 2027\n    complete: false\n    source: draft\n    workdays:\n      - {date: 2027-01-01, name: Test}\n"
    cal = load_calendar(make_root(tmp_path, text), accept_unconfirmed=True)
    assert cal.is_working_day(D(2027, 1, 1)) and not cal.is_working_day(D(2027, 2, 8))


# ---- calendar.yml ------------------------------------------------------------------------------

def make_root(tmp_path: Path, text: str) -> Path:
    (tmp_path / "schema").mkdir()
    shutil.copy(PROJECT / "schema" / "calendar.schema.json", tmp_path / "schema")
    (tmp_path / "calendar.yml").write_text(text, encoding="utf-8")
    return tmp_path


# A made-up year for the tests: NOT the official 2027 schedule (not announced when written).
FAKE_2027 = """
years:
  - year: 2027
    complete: true
    source: test data, not an official notice
    holidays:
      - {date: 2027-01-01, name: New Year's Day}
      - {from: 2027-02-08, to: 2027-02-12, name: Test holiday}
    workdays:
      - {date: 2027-02-06, name: Test make-up day}
closures:
  - {date: 2026-12-30, name: Office move}
"""


def test_complete_year_in_calendar_yml_is_confirmed(tmp_path: Path) -> None:
    cal = load_calendar(make_root(tmp_path, FAKE_2027))
    assert cal.is_confirmed(2027)
    # Mon 2026-12-28 + 5: Tue 12-29 (1), Wed 12-30 closure, Thu 12-31 (2), Fri 2027-01-01 holiday,
    # Mon 1-4 (3), Tue 1-5 (4), Wed 1-6 (5).
    assert cal.add_working_days(D(2026, 12, 28), 5) == D(2027, 1, 6)
    # Thu 2027-02-04 + 3: Fri 2-5 (1), Sat 2-6 make-up (2), 2-8..2-12 holiday, Mon 2-15 (3).
    assert cal.add_working_days(D(2027, 2, 4), 3) == D(2027, 2, 15)
    kinds = {(d.date, d.kind) for d in cal.special_days(D(2026, 12, 28), D(2027, 1, 6))}
    assert kinds == {(D(2026, 12, 30), CLOSURE), (D(2027, 1, 1), HOLIDAY)}
    assert cal.warnings == ()


def test_incomplete_year_stays_unconfirmed(tmp_path: Path) -> None:
    text = FAKE_2027.replace("complete: true", "complete: false")
    cal = load_calendar(make_root(tmp_path, text))
    with pytest.raises(CalendarError, match="2027"):
        cal.add_working_days(D(2027, 2, 4), 3)


def test_closure_applies_to_a_confirmed_year(tmp_path: Path) -> None:
    cal = load_calendar(make_root(tmp_path, "closures:\n  - {from: 2026-03-02, to: 2026-03-03, name: Audit}\n"))
    # Fri 2026-02-27 + 2: Sat 2-28 make-up (1), Mon 3-2 and Tue 3-3 closed, Wed 3-4 (2).
    assert cal.add_working_days(D(2026, 2, 27), 2) == D(2026, 3, 4)


def test_shipped_calendar_yml_loads() -> None:
    cal = load_calendar(PROJECT)
    assert cal.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("years:\n  - {year: 2027, complete: true}\n", "$.years[0]"),
        ("closures:\n  - {date: 2026-13-01, name: x}\n", "$.closures[0].date"),
        ("closures:\n  - {date: 2026-03-01, from: 2026-03-01, to: 2026-03-02, name: x}\n", "$.closures[0]"),
        ("surprise: 1\n", "$"),
        (
            "years:\n  - year: 2027\n    complete: true\n    source: s\n    holidays:\n      - {date: 2028-01-01, name: x}\n",
            "not in 2027",
        ),
        ("closures:\n  - {from: 2026-03-05, to: 2026-03-01, name: x}\n", "`to` is before `from`"),
        ("closures: [\n", "YAML"),
    ],
)
def test_bad_calendar_yml_is_a_config_error_naming_the_field(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_calendar(make_root(tmp_path, text))
    assert "calendar.yml" in str(info.value)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("years:\n  - {year: 2027, complete: true}\n", "calendar.yml:2:5: $.years[0]: missing required field 'source'"),
        ("closures:\n  - {date: 2026-13-01, name: x}\n", "calendar.yml:2:6: $.closures[0].date: must be a date written YYYY-MM-DD"),
        ("surprise: 1\n", "calendar.yml:1:1: $.surprise: unexpected field 'surprise' (allowed here: closures, years)"),
        (
            "years:\n  - year: 2027\n    complete: true\n    source: s\n    holidays:\n      - {date: 2028-01-01, name: x}\n",
            "calendar.yml:6:9: $.years[0].holidays[0]: 2028-01-01 is not in 2027",
        ),
        ("closures:\n  - {from: 2026-03-05, to: 2026-03-01, name: x}\n", "calendar.yml:2:24: $.closures[0].to: `to` is before `from`"),
        ("closures: [\n", "calendar.yml:2:1: $: YAML syntax: did not find expected node content"),
        ("closures:\n  - {date: 2026-03-01, name: \"a\x07b\"}\n", "calendar.yml:2:32: $: a raw control character (U+0007) is not allowed"),
        ("closures:\n  - {date: 2026-03-01, name: a\u2028b}\n", "calendar.yml:2:31: $: a line-separator character (U+2028) is not allowed: YAML and git count lines differently with it; use a plain line break"),
        (
            "closures:\n  - {date: 2026-03-01, name: x}\n  - {date: 2026-03-02, name: x, '13812345678': y}\n",
            "calendar.yml:3:33: $.closures[1]: unexpected field (a key withheld because it may hold personal data) (allowed here: date, from, name, to)",
        ),
    ],
)
def test_calendar_yml_errors_carry_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_calendar(make_root(tmp_path, text))
    assert str(info.value) == message
    assert "13812345678" not in str(info.value)
