"""Cross-check of the working-day calendar, day by day for 2020-2026, against a second,
independently maintained source: the `holidays` package (pinned in the test extra).

`holidays.China` lists public holidays and, since it models 调休, the weekend make-up working
days (`weekend_workdays`), both transcribed by its maintainers from the State Council notices.
The two sources describe the same days differently, which is why the comparison is on "is this a
working day" and not on the holiday lists themselves:

* chinesecalendar lists every day of a holiday block, weekends inside it included (2026-02-21/22
  are "Spring Festival"); holidays.China lists only the days that would otherwise be working
  days, and names the moved ones "Day off (substituted from MM/DD/YYYY)".
* chinesecalendar names a day by the festival; holidays.China distinguishes the statutory days
  (e.g. 3 for Spring Festival) from the extra days in lieu.

Found when this test was written: no disagreement at all on working days in 2020-2026 (the
COVID-19 extension of Spring Festival 2020, Jan 31-Feb 2, is in both). KNOWN_DISAGREEMENTS
stays the explicit place for any future difference, each with the reason next to it.
"""
from __future__ import annotations

import datetime as dt

import holidays
import pytest

from complaints.adapters.config import official_calendar
from complaints.core.calendar import HOLIDAY, MAKEUP_WORKDAY

YEARS = range(2020, 2027)

# date -> why the two sources differ on whether it is a working day (none found so far).
KNOWN_DISAGREEMENTS: dict[dt.date, str] = {}


@pytest.fixture(scope="module")
def other() -> holidays.HolidayBase:
    return holidays.China(years=YEARS)


def every_day() -> list[dt.date]:
    first, last = dt.date(YEARS[0], 1, 1), dt.date(YEARS[-1], 12, 31)
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def test_working_days_agree_day_by_day(other: holidays.HolidayBase) -> None:
    cal = official_calendar()
    disagreements = {
        day: (cal.is_working_day(day), other.is_working_day(day))
        for day in every_day()
        if cal.is_working_day(day) != other.is_working_day(day)
    }
    assert set(disagreements) == set(KNOWN_DISAGREEMENTS), disagreements


def test_make_up_working_days_agree_both_ways(other: holidays.HolidayBase) -> None:
    cal = official_calendar()
    ours = {
        d.date
        for d in cal.special_days(dt.date(YEARS[0] - 1, 12, 31), dt.date(YEARS[-1], 12, 31))
        if d.kind == MAKEUP_WORKDAY
    }
    theirs = {d for d in other.weekend_workdays if d.year in YEARS}
    assert ours - theirs == set(k for k in KNOWN_DISAGREEMENTS if k in ours)
    assert theirs - ours == set(k for k in KNOWN_DISAGREEMENTS if k in theirs)
    assert len(ours) >= 5 * len(YEARS)  # several make-up days every year: the data is really there


def test_weekday_holidays_agree_both_ways(other: holidays.HolidayBase) -> None:
    cal = official_calendar()
    ours = {
        d.date
        for d in cal.special_days(dt.date(YEARS[0] - 1, 12, 31), dt.date(YEARS[-1], 12, 31))
        if d.kind == HOLIDAY
    }
    theirs = {d for d in other if d.year in YEARS and d.weekday() < 5}
    assert ours ^ theirs == set(KNOWN_DISAGREEMENTS) & (ours ^ theirs)
    assert ours ^ theirs == set(), "explain each difference in KNOWN_DISAGREEMENTS"


def test_the_second_source_really_knows_2026_make_up_days(other: holidays.HolidayBase) -> None:
    # Guards against a silent downgrade of `holidays` that would make the cross-check vacuous.
    assert {dt.date(2026, 2, 14), dt.date(2026, 2, 28), dt.date(2026, 9, 20), dt.date(2026, 10, 10)} <= set(
        other.weekend_workdays
    )
