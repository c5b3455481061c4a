"""The official Chinese working-day calendar, with the repository's own overrides.

Sources, in order of precedence (later wins for the same day):

1. ``chinese_calendar`` (PyPI ``chinesecalendar``, pinned): the State Council's yearly
   holiday notices (国务院办公厅关于部分节假日安排的通知) — public holidays and the weekend
   make-up working days (调休) — for every year it ships.
2. ``calendar.yml`` at the repository root: a whole year's official schedule once announced
   (``years``), and the organisation's own closures (``closures``).

A year is *confirmed* when the library ships it or ``calendar.yml`` declares it ``complete``.
Any computation that touches a day in an unconfirmed year raises :class:`CalendarError`
naming the year, unless the calendar was opened with ``accept_unconfirmed=True``; then the
year is *provisional*: weekends plus the statutory holidays of 全国年节及纪念日放假办法 (as
revised in 2024: 13 days, the lunar ones computed by the ``holidays`` package), without the
bridging days and weekend make-up working days that only the State Council's notice fixes, plus
any entries ``calendar.yml`` already has for it. The years so taken are in
:attr:`WorkCalendar.provisional_years`, and a warning for each in :attr:`WorkCalendar.warnings`,
so that every date computed on them can be shown as provisional.

The data (the library's days, calendar.yml) is read by ``adapters/config.py``
(:func:`~complaints.adapters.config.load_calendar`); this module only counts.

Arithmetic: working days are kept as one sorted list of day ordinals over a contiguous span
of years, built a year at a time on first use, with a running count of them for every day of
the span. Adding *n* working days or counting the working days between two dates is two or
three list indexes, whatever *n* is.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from complaints.errors import CalendarError

CALENDAR_FILE = "calendar.yml"

# Kinds of special day, i.e. days on which the calendar differs from plain Monday-to-Friday weeks.
HOLIDAY = "holiday"  # official holiday (放假): a non-working day
MAKEUP_WORKDAY = "makeup_workday"  # official weekend make-up working day (调休上班)
CLOSURE = "closure"  # the organisation's own non-working day

OFFICIAL_SOURCE = "chinesecalendar"
OVERRIDE_SOURCE = CALENDAR_FILE
# A statutory holiday of a year whose official notice is not known yet (see HolidaySource).
PROVISIONAL_SOURCE = "statutory (provisional)"


@dataclass(frozen=True)
class SpecialDay:
    """A day that is not what its weekday suggests, and why."""

    date: dt.date
    kind: str  # HOLIDAY, MAKEUP_WORKDAY or CLOSURE
    name: str  # e.g. "Spring Festival" (from the library) or the label in calendar.yml
    source: str  # OFFICIAL_SOURCE or OVERRIDE_SOURCE
    working: bool  # whether the day is a working day

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "kind": self.kind,
            "name": self.name,
            "source": self.source,
            "working": self.working,
        }


@dataclass(frozen=True)
class HolidaySource:
    """Where the official schedule comes from: what it covers (named in the refusal of an
    unconfirmed year) and the statutory days off of a year it does not cover yet."""

    coverage: str  # e.g. "chinesecalendar 1.10.0 covers 2004-2026"
    statutory: Callable[[int], Mapping[dt.date, str]]


def _no_statutory(year: int) -> Mapping[dt.date, str]:
    return {}


NO_SOURCE = HolidaySource("no official calendar is loaded", _no_statutory)


def _unconfirmed_message(year: int, coverage: str) -> str:
    return (
        f"the official working-day calendar for {year} is not known: {coverage}. "
        f"Add {year} to {CALENDAR_FILE} once the State Council announces it (an entry under "
        f"`years:` with `year: {year}`, `complete: true`, its `holidays` and make-up `workdays`; "
        f"see the README section 'Time limits and deadlines'), or upgrade chinesecalendar, "
        f"or set `unconfirmed_years: provisional` under time_limits in policy.yml to compute "
        f"{year} provisionally (weekends and statutory holidays)"
    )


class WorkCalendar:
    """Working days on the official calendar plus overrides. Built by
    ``adapters/config.py`` (:func:`~complaints.adapters.config.load_calendar`, or
    :func:`~complaints.adapters.config.official_calendar` in tests); then ask
    :meth:`is_working_day`, :meth:`add_working_days`, :meth:`working_days_between`,
    :meth:`special_days`."""

    def __init__(
        self,
        special: Mapping[dt.date, SpecialDay],
        confirmed_years: set[int],
        *,
        accept_unconfirmed: bool = False,
        source: HolidaySource = NO_SOURCE,
    ) -> None:
        self._special = dict(special)
        self._sort_moving()
        self.confirmed_years = frozenset(confirmed_years)
        self.accept_unconfirmed = accept_unconfirmed
        self._source = source
        self._guessed: set[int] = set()
        self._first_year = 0
        self._last_year = -1  # empty span
        self._days: list[int] = []  # ordinals of working days in [_first_year, _last_year]
        # _rank[o - _base]: how many of _days are <= ordinal o, for every day of the span, so
        # that counting and adding working days is an index, not a search.
        self._base = 0
        self._rank: list[int] = []
        self._dates: list[dt.date] = []

    # ---- what the caller shows ----------------------------------------------------------

    @property
    def provisional_years(self) -> tuple[int, ...]:
        """Unconfirmed years that were computed provisionally so far (accept_unconfirmed)."""
        return tuple(sorted(self._guessed))

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(
            f"warning: the official calendar for {year} is not known; dates in {year} are "
            f"provisional (weekends and the statutory holidays, without the bridging days and "
            f"make-up working days the State Council announces). Add {year} to {CALENDAR_FILE} "
            f"once it is announced."
            for year in self.provisional_years
        )

    def is_confirmed(self, year: int) -> bool:
        return year in self.confirmed_years

    def is_provisional(self, start: dt.date, end: dt.date) -> bool:
        """Whether any year from ``start`` to ``end`` (either order) is unconfirmed, i.e. a
        date computed over that span rests on a provisional calendar."""
        low, high = (start.year, end.year) if start.year <= end.year else (end.year, start.year)
        if low == high:  # nearly always: a stage rarely spans a new year
            return low not in self.confirmed_years
        return any(year not in self.confirmed_years for year in range(low, high + 1))

    # ---- the span of built years --------------------------------------------------------

    def _year_days(self, year: int) -> list[int]:
        if not 1 <= year <= 9998:
            raise CalendarError(f"year {year} is out of range")
        if year not in self.confirmed_years:
            if not self.accept_unconfirmed:
                raise CalendarError(_unconfirmed_message(year, self._source.coverage))
            self._add_provisional(year)
        # Building a year walks its days once; every later question is an index.
        first = dt.date(year, 1, 1).toordinal()
        last = dt.date(year, 12, 31).toordinal()
        days = []
        for ordinal in range(first, last + 1):
            info = self._special.get(dt.date.fromordinal(ordinal))
            if info is not None:
                working = info.working
            else:
                working = (ordinal - 1) % 7 < 5  # date.fromordinal(1) is a Monday
            if working:
                days.append(ordinal)
        return days

    def _add_provisional(self, year: int) -> None:
        if year in self._guessed:
            return
        self._guessed.add(year)
        added = False
        for day, name in self._source.statutory(year).items():
            # An entry calendar.yml already has for the year (a closure, a day it knows) wins.
            if day not in self._special:
                self._special[day] = SpecialDay(day, HOLIDAY, name, PROVISIONAL_SOURCE, False)
                added = True
        if added:
            self._sort_moving()

    def _sort_moving(self) -> None:
        # The special days that move a due date (see special_days), in date order.
        self._moving = sorted(
            (info for info in self._special.values() if info.working != (info.date.weekday() < 5)), key=lambda info: info.date
        )
        self._moving_ords = [info.date.toordinal() for info in self._moving]

    def _cover(self, year: int) -> None:
        """Extend the built span so it includes ``year`` (and every year in between)."""
        if self._last_year < self._first_year:
            self._days = self._year_days(year)
            self._first_year = self._last_year = year
            self._index()
            return
        if year > self._last_year:
            while year > self._last_year:
                self._days.extend(self._year_days(self._last_year + 1))
                self._last_year += 1
            self._index()
        if year < self._first_year:
            before: list[int] = []
            for y in range(year, self._first_year):
                before.extend(self._year_days(y))
            self._days = before + self._days
            self._first_year = year
            self._index()

    def _index(self) -> None:
        """Rebuild _rank over the span (a few thousand days, once per year added)."""
        self._base = dt.date(self._first_year, 1, 1).toordinal()
        end = dt.date(self._last_year, 12, 31).toordinal()
        rank: list[int] = []
        count = 0
        days = iter(self._days)
        following = next(days, None)
        for ordinal in range(self._base, end + 1):
            if ordinal == following:
                count += 1
                following = next(days, None)
            rank.append(count)
        self._rank = rank
        # The working days as dates, one object each, so that a due date is an index too.
        self._dates = [dt.date.fromordinal(o) for o in self._days]

    def _rank_of(self, day: dt.date) -> int:
        """How many working days of the span are on or before ``day`` (covering its year)."""
        k = day.toordinal() - self._base
        if not 0 <= k < len(self._rank):
            self._cover(day.year)
            k = day.toordinal() - self._base
        return self._rank[k]

    # ---- questions ----------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        after = self._rank_of(day)
        k = day.toordinal() - self._base
        return after - (self._rank[k - 1] if k else 0) == 1

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (``start`` itself never counts; n >= 0;
        n == 0 gives ``start``)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        if n == 0:
            return start
        k = start.toordinal() - self._base
        if 0 <= k < len(self._rank):
            i = self._rank[k] + n - 1
            if i < len(self._dates):
                return self._dates[i]
        i = self._rank_of(start) + n - 1
        while i >= len(self._days):
            # The answer lies in a later year: cover it (this checks it is confirmed).
            self._cover(self._last_year + 1)
        return self._dates[i]

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself when it is a working day, else the first working day after it."""
        self._rank_of(day)
        k = day.toordinal() - self._base
        i = self._rank[k - 1] if k else 0  # working days before ``day``
        while i >= len(self._days):
            self._cover(self._last_year + 1)
        return self._dates[i]

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: after ``start``, up to and including ``end``.
        Negative (minus the count in (end, start]) when ``end`` is before ``start``."""
        rank = self._rank
        a, b = start.toordinal() - self._base, end.toordinal() - self._base
        if 0 <= a < len(rank) and 0 <= b < len(rank):
            # Both in the built span, and so every year between them: two indexes.
            return rank[b] - rank[a]
        if end < start:
            return -self.working_days_between(end, start)
        if start.year != end.year:
            # Every year in between is built (and checked) before either date is counted.
            self._cover(start.year)
            self._cover(end.year)
        first = self._rank_of(start)
        return self._rank_of(end) - first

    def special_days(self, start: dt.date, end: dt.date) -> list[SpecialDay]:
        """The days in (start, end] on which the calendar differs from plain Monday-to-Friday
        weeks: weekday holidays and closures, weekend make-up working days. These are exactly
        the days that move a working-day due date compared with counting weekdays."""
        lo = bisect_right(self._moving_ords, start.toordinal())
        hi = bisect_right(self._moving_ords, end.toordinal())
        return self._moving[lo:hi]

    def special_day(self, day: dt.date) -> SpecialDay | None:
        return self._special.get(day)
