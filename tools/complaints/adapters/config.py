"""The repository's configuration files as typed objects: policy.yml -> :class:`Policy`,
calendar.yml plus the official holiday data -> :class:`WorkCalendar`.

Each file is read as strict YAML, checked against its schema in ``schema/``, then checked for
what a schema cannot say (cross references, a known time zone, dates that exist); every
problem names the file, the line and column, and the field.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

from complaints.errors import ComplaintsError, ConfigError
from complaints.core.calendar import (
    CALENDAR_FILE,
    CLOSURE,
    HOLIDAY,
    MAKEUP_WORKDAY,
    OFFICIAL_SOURCE,
    OVERRIDE_SOURCE,
    HolidaySource,
    SpecialDay,
    WorkCalendar,
)
from complaints.core.policy import POLICY_FILE, Policy
from complaints.core.events import EVENT_KINDS
from complaints.adapters.accepted import schema_accepts
from complaints.adapters.schemas import JsonPath, format_path, load_schema
from complaints.adapters.yamlload import YamlError, compose_yaml, load_yaml, locate

__all__ = ["CALENDAR_FILE", "POLICY_FILE", "load_calendar", "load_policy", "official_calendar"]


# ---- policy.yml ----------------------------------------------------------------------------

def load_policy(root: Path, *, remember: bool = False) -> Policy:
    """Read and check ROOT/policy.yml. Raises ConfigError listing every problem found.
    ``remember``: the schema's verdict may come from, and go to, the cache (adapters/accepted.py)."""
    path = root / POLICY_FILE
    try:
        data = path.read_bytes()
    except OSError:
        raise ConfigError(f"{path}: policy file not found (every case repository needs one)") from None
    try:
        raw = load_yaml(data, str(path))
    except YamlError as exc:
        where = f":{exc.line}" if exc.line else ""
        raise ConfigError(f"{path}{where}: {exc.message}") from None
    if not isinstance(raw, dict):
        load_schema(root, "policy", compiled=False)  # an unusable schema is reported first, as always
        raise ConfigError(f"{path}: the policy must be a mapping")
    accepted = schema_accepts(root, "policy", data, raw, remember=remember)
    problems = [] if accepted else [(p.path, p.message) for p in load_schema(root, "policy", compiled=False).problems(raw)]
    if not problems:
        problems = _cross_references(raw)
    if problems:
        node = compose_yaml(data)
        lines = []
        for p_path, message in problems:
            pos = locate(node, p_path)
            where = f":{pos.line}:{pos.column}" if pos else ""
            lines.append(f"{path}{where}: {format_path(p_path)}: {message}")
        raise ConfigError("the policy file has problems:\n" + "\n".join(lines))
    org = raw["organisation"]
    try:
        ZoneInfo(org["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        pos = locate(compose_yaml(data), ("organisation", "timezone"))
        where = f":{pos.line}:{pos.column}" if pos else ""
        raise ConfigError(f"{path}{where}: $.organisation.timezone: unknown time zone {org['timezone']!r}") from None
    return Policy(raw, path)


def _cross_references(raw: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    departments = set(raw["departments"])
    handlers = set(raw["handlers"])
    for hid, handler in raw["handlers"].items():
        for i, dept in enumerate(handler["departments"]):
            if dept not in departments:
                problems.append((("handlers", hid, "departments", i), f"unknown department {dept!r} (not in departments)"))
    committee = raw["committee"]
    if committee["chair"] not in handlers:
        problems.append((("committee", "chair"), f"unknown handler {committee['chair']!r}"))
    for i, member in enumerate(committee["members"]):
        if member not in handlers:
            problems.append((("committee", "members", i), f"unknown handler {member!r}"))
    channels = set(raw["channels"])
    for channel in raw.get("channel_contacts") or {}:
        if channel not in channels:
            problems.append((("channel_contacts", channel), f"unknown channel {channel!r} (not in channels)"))
    notify = raw.get("notify")
    default = notify.get("default_assignee") if isinstance(notify, dict) else None
    if isinstance(default, str) and default not in handlers:
        problems.append((("notify", "default_assignee"), f"unknown handler {default!r}"))
    stages = raw.get("time_limits", {}).get("stages", {})
    if isinstance(stages, dict):
        for name, stage in stages.items():
            if not isinstance(stage, dict):
                continue
            for key in ("starts",):
                if key in stage and stage[key] not in EVENT_KINDS:
                    problems.append((("time_limits", "stages", name, key), f"unknown event kind {stage[key]!r}"))
            for i, kind in enumerate(stage.get("stops", []) if isinstance(stage.get("stops"), list) else []):
                if kind not in EVENT_KINDS:
                    problems.append((("time_limits", "stages", name, "stops", i), f"unknown event kind {kind!r}"))
    return problems


# ---- the working-day calendar ----------------------------------------------------------------

def official_calendar(*, accept_unconfirmed: bool = False) -> WorkCalendar:
    """The library's calendar alone, without any calendar.yml."""
    return WorkCalendar(_official_days(), _official_confirmed(), accept_unconfirmed=accept_unconfirmed, source=_source())


def load_calendar(root: Path | None, accept_unconfirmed: bool = False, *, remember: bool = False) -> WorkCalendar:
    """The official calendar plus ``root/calendar.yml`` when it exists (validated against
    ``schema/calendar.schema.json``). Raises ConfigError for an unusable file. ``remember``:
    the schema's verdict may come from, and go to, the cache (adapters/accepted.py)."""
    special = _official_days()
    confirmed = _official_confirmed()
    if root is not None and (root / CALENDAR_FILE).is_file():
        overrides = _load_overrides(root / CALENDAR_FILE, remember)
        special.update(overrides.days)
        confirmed |= overrides.complete_years
    return WorkCalendar(special, confirmed, accept_unconfirmed=accept_unconfirmed, source=_source())


def _library_years() -> tuple[int, int]:
    years = {d.year for d in chinese_calendar.holidays}
    return min(years), max(years)


def _official_days() -> dict[dt.date, SpecialDay]:
    days: dict[dt.date, SpecialDay] = {}
    for day, name in chinese_calendar.holidays.items():
        days[day] = SpecialDay(day, HOLIDAY, str(name), OFFICIAL_SOURCE, False)
    for day, name in chinese_calendar.workdays.items():
        days[day] = SpecialDay(day, MAKEUP_WORKDAY, str(name), OFFICIAL_SOURCE, True)
    return days


def statutory_holidays(year: int) -> dict[dt.date, str]:
    """The statutory days off of 全国年节及纪念日放假办法 (as revised on 2024-11-12, in force
    from 2025: 13 days) in ``year``: New Year's Day 1, Spring Festival 4 (除夕 to 正月初三),
    Qingming 1, Labour Day 2, Dragon Boat 1, Mid-Autumn 1, National Day 3. The lunar and solar-
    term dates come from the ``holidays`` package; its own record of a year's bridging days and
    in-lieu days is left out, because only the State Council's notice fixes those."""
    # Imported here: only a run that meets an unconfirmed year pays for loading the package.
    import holidays as holiday_rules

    rules = holiday_rules.country_holidays("CN", years=year, categories=(holiday_rules.PUBLIC,))
    found: dict[dt.date, str] = {}
    for day, names in rules.items():
        kept = [n for n in str(names).split("; ") if _is_statutory(n)]
        if kept:
            found[day] = "; ".join(kept)
    return found


def _is_statutory(name: str) -> bool:
    # The package names a bridging or in-lieu day "Day off (substituted from ...)" or
    # "... (observed)"; the statutory days carry the festival's own name.
    lowered = name.lower()
    return "substituted" not in lowered and "observed" not in lowered and "day off" not in lowered


def _official_confirmed() -> set[int]:
    first, last = _library_years()
    return set(range(first, last + 1))


def _source() -> HolidaySource:
    first, last = _library_years()
    return HolidaySource(f"chinesecalendar {chinese_calendar.__version__} covers {first}-{last}", statutory_holidays)


# ---- calendar.yml -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Overrides:
    days: dict[dt.date, SpecialDay]
    complete_years: set[int]


class _Located:
    """Problems in calendar.yml, each placed at its line and column like a case file's:
    ``calendar.yml:LINE:COL: $.path: message``. The file is composed again only when there
    is something to place."""

    def __init__(self, file: str, raw: bytes) -> None:
        self.file = file
        self.raw = raw

    def error(self, problems: list[tuple[JsonPath, str]], at: list[JsonPath | None] | None = None) -> ConfigError:
        """``at``: where to place each problem when that is not its path (a withheld key)."""
        node = compose_yaml(self.raw)
        lines = []
        for index, (path, message) in enumerate(problems):
            place = at[index] if at is not None else None
            pos = locate(node, place if place is not None else path)
            where = f":{pos.line}:{pos.column}" if pos else ""
            lines.append(f"{self.file}{where}: {format_path(path)}: {message}")
        return ConfigError("\n".join(lines))


def _date(value: Any, where: JsonPath, located: _Located) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise located.error([(where, "not a date in the form YYYY-MM-DD")]) from None


def _expand(entry: Mapping[str, Any], where: JsonPath, located: _Located) -> list[dt.date]:
    if "date" in entry:
        return [_date(entry["date"], (*where, "date"), located)]
    first = _date(entry["from"], (*where, "from"), located)
    last = _date(entry["to"], (*where, "to"), located)
    if last < first:
        raise located.error([((*where, "to"), "`to` is before `from`")])
    if (last - first).days > 366:
        raise located.error([(where, "a range may span at most one year")])
    return [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]


def _load_overrides(path: Path, remember: bool = False) -> _Overrides:
    """Read and check calendar.yml. Raises ConfigError naming the file, the line and column,
    and the field of every problem the schema finds (or of the first rule it breaks)."""
    file = path.name
    try:
        raw_bytes = path.read_bytes()
        data = load_yaml(raw_bytes, file)
    except YamlError as exc:
        where = f":{exc.line}:{exc.column}" if exc.line and exc.column else f":{exc.line}" if exc.line else ""
        raise ConfigError(f"{file}{where}: $: {exc.message}") from None
    except ComplaintsError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be read ({exc.strerror})") from None
    if data is None:
        data = {}
    located = _Located(file, raw_bytes)
    if not schema_accepts(path.parent, "calendar", raw_bytes, data, remember=remember):
        problems = load_schema(path.parent, "calendar", compiled=False).problems(data)
        raise located.error([(p.path, p.message) for p in problems], [p.at for p in problems])

    days: dict[dt.date, SpecialDay] = {}
    complete: set[int] = set()
    seen_years: set[int] = set()
    for y_index, year_entry in enumerate(data.get("years") or []):
        year = int(year_entry["year"])
        ywhere: JsonPath = ("years", y_index)
        if year in seen_years:
            raise located.error([((*ywhere, "year"), f"year {year} appears twice")])
        seen_years.add(year)
        if year_entry.get("complete") is True:
            complete.add(year)
        for key, kind, working in (("holidays", HOLIDAY, False), ("workdays", MAKEUP_WORKDAY, True)):
            for e_index, entry in enumerate(year_entry.get(key) or []):
                entry_at: JsonPath = (*ywhere, key, e_index)
                for day in _expand(entry, entry_at, located):
                    if day.year != year:
                        raise located.error([(entry_at, f"{day.isoformat()} is not in {year}")])
                    if day in days:
                        raise located.error([(entry_at, f"{day.isoformat()} is listed twice")])
                    days[day] = SpecialDay(day, kind, str(entry["name"]), OVERRIDE_SOURCE, working)
    for c_index, entry in enumerate(data.get("closures") or []):
        for day in _expand(entry, ("closures", c_index), located):
            # A closure wins over the official schedule: the office is shut that day.
            days[day] = SpecialDay(day, CLOSURE, str(entry["name"]), OVERRIDE_SOURCE, False)
    return _Overrides(days, complete)
