""""Today" is the date in the organisation's time zone (Asia/Shanghai), never the machine's:
the date flips at Shanghai midnight, 16:00 UTC, on a machine that runs in UTC."""
from __future__ import annotations

import datetime as dt
import os
import time
import types
from typing import Iterator

import pytest

from complaints.cli import app as cli

UTC = dt.timezone.utc


@pytest.fixture()
def utc_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def freeze(monkeypatch: pytest.MonkeyPatch, instant: dt.datetime) -> None:
    """Make cli's clock read ``instant`` (an aware UTC datetime)."""

    class FrozenDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> FrozenDatetime:  # type: ignore[override]
            moment = instant if tz is None else instant.astimezone(tz)
            return cls.fromtimestamp(moment.timestamp(), tz)

    fake = types.SimpleNamespace(**{name: getattr(dt, name) for name in dir(dt) if not name.startswith("__")})
    fake.datetime = FrozenDatetime
    monkeypatch.setattr(cli, "dt", fake)


@pytest.mark.parametrize(
    ("utc", "shanghai_date"),
    [
        # 15:59 UTC = 23:59 in Shanghai: still the 5th there (and in UTC).
        (dt.datetime(2026, 3, 5, 15, 59, tzinfo=UTC), dt.date(2026, 3, 5)),
        # 16:00 UTC = 00:00 on the 6th in Shanghai, while the UTC machine still says the 5th.
        (dt.datetime(2026, 3, 5, 16, 0, tzinfo=UTC), dt.date(2026, 3, 6)),
        # Year end: 2026-12-31 16:00 UTC is already 2027-01-01 in Shanghai.
        (dt.datetime(2026, 12, 31, 15, 59, tzinfo=UTC), dt.date(2026, 12, 31)),
        (dt.datetime(2026, 12, 31, 16, 0, tzinfo=UTC), dt.date(2027, 1, 1)),
    ],
)
def test_today_flips_at_shanghai_midnight(
    utc_machine: None, monkeypatch: pytest.MonkeyPatch, utc: dt.datetime, shanghai_date: dt.date
) -> None:
    freeze(monkeypatch, utc)
    assert os.environ["TZ"] == "UTC" and time.strftime("%Z") == "UTC"
    assert cli.dt.datetime.now().date() == utc.date()  # the machine's own idea of today
    assert cli.today_in("Asia/Shanghai", None) == shanghai_date


def test_explicit_today_wins(utc_machine: None, monkeypatch: pytest.MonkeyPatch) -> None:
    freeze(monkeypatch, dt.datetime(2026, 3, 5, 16, 0, tzinfo=UTC))
    assert cli.today_in("Asia/Shanghai", dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)
