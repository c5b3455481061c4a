"""Statistics periods: a month (YYYY-MM), a quarter (YYYY-Qn) or a year (YYYY), and the month
arithmetic the counting and the history table share. A case belongs to the month it was
received (its cohort)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PERIOD = re.compile(r"^([0-9]{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


@dataclass(frozen=True)
class Period:
    """A month (YYYY-MM), a quarter (YYYY-Qn) or a year (YYYY)."""

    id: str
    kind: str
    year: int
    months: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Period:
        """Raises ValueError for anything but YYYY-MM, YYYY-Qn or YYYY."""
        m = _PERIOD.match(text.strip())
        if not m:
            raise ValueError(f"{text!r} is not a period (YYYY-MM, YYYY-Qn or YYYY)")
        year = int(m.group(1))
        if m.group(2):
            return cls(text.strip(), "month", year, (f"{year}-{m.group(2)}",))
        if m.group(3):
            q = int(m.group(3))
            return cls(text.strip(), "quarter", year, tuple(f"{year}-{i:02d}" for i in range(3 * q - 2, 3 * q + 1)))
        return cls(text.strip(), "year", year, tuple(f"{year}-{i:02d}" for i in range(1, 13)))

    @classmethod
    def year_to_date(cls, today: dt.date) -> Period:
        return cls.parse(str(today.year))


def month_of(day: dt.date) -> str:
    return f"{day.year}-{day.month:02d}"


def month_start(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:]), 1)


def month_end(month: str) -> dt.date:
    start = month_start(month)
    nxt = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)
