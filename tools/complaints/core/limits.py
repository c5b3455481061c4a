"""The policy's ``time_limits`` section as typed rules: each stage's start and stop events, its
limit and unit, the overrides by category or priority, and the extension cap. Read once, when
the policy is built; the deadline engine, the validator, the reports and the site all use
these rules rather than the section as written.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from complaints.errors import ConfigError

WORKING_DAYS = "working_days"
CALENDAR_DAYS = "calendar_days"
UNITS = (WORKING_DAYS, CALENDAR_DAYS)
DEFAULT_WARN_DAYS = 2


@dataclass(frozen=True)
class ExtensionRule:
    max_count: int
    max_days: int
    approver_required: bool


@dataclass(frozen=True)
class LimitOverride:
    category: str | None
    priority: str | None
    limit: int
    unit: str | None

    def matches(self, category: str, priority: str) -> bool:
        return (self.category is None or self.category == category) and (
            self.priority is None or self.priority == priority
        )

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in (("category", self.category), ("priority", self.priority)) if v]
        return "override " + ", ".join(parts)


@dataclass(frozen=True)
class StageRule:
    key: str
    label: Mapping[str, str]
    starts: tuple[str, ...]
    stops: tuple[str, ...]
    limit: int
    unit: str
    overrides: tuple[LimitOverride, ...] = ()
    applies_to: str = "all"  # all | named | anonymous
    pausable: bool = False
    repeats: bool = False
    extension: ExtensionRule | None = None

    def limit_for(self, category: str, priority: str) -> tuple[int, str, str]:
        """(limit, unit, where it comes from) for a case of this category and priority."""
        for override in self.overrides:
            if override.matches(category, priority):
                return override.limit, override.unit or self.unit, override.describe()
        return self.limit, self.unit, "default"


@dataclass(frozen=True)
class TimeLimits:
    warn_days: int
    roll_forward: bool
    stages: tuple[StageRule, ...]
    # False when the policy says `unconfirmed_years: error`: a date in a year whose official
    # calendar is not known stops the command instead of being computed provisionally.
    provisional_years: bool = True

    def stage(self, key: str) -> StageRule | None:
        for rule in self.stages:
            if rule.key == key:
                return rule
        return None


def _kinds(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def parse_time_limits(section: Any) -> TimeLimits:
    """The ``time_limits`` section as rules. Raises ConfigError when unusable (the policy
    schema normally catches that first)."""
    if not isinstance(section, Mapping):
        raise ConfigError("policy.yml::$.time_limits: missing (the deadline engine needs it)")
    stages = section.get("stages")
    if not isinstance(stages, Mapping):
        raise ConfigError("policy.yml::$.time_limits.stages: missing")
    rules = []
    for key, entry in stages.items():
        where = f"policy.yml::$.time_limits.stages.{key}"
        try:
            unit = str(entry["unit"])
            if unit not in UNITS:
                raise ConfigError(f"{where}.unit: must be one of {', '.join(UNITS)}")
            ext = entry.get("extension")
            rules.append(
                StageRule(
                    key=str(key),
                    label=dict(entry.get("label") or {}),
                    starts=_kinds(entry["starts"]),
                    stops=_kinds(entry["stops"]),
                    limit=int(entry["limit"]),
                    unit=unit,
                    overrides=tuple(
                        LimitOverride(o.get("category"), o.get("priority"), int(o["limit"]), o.get("unit"))
                        for o in entry.get("overrides") or []
                    ),
                    applies_to=str(entry.get("applies_to") or "all"),
                    pausable=entry.get("pausable") is True,
                    repeats=entry.get("repeats") is True,
                    extension=None
                    if not ext
                    else ExtensionRule(int(ext["max_count"]), int(ext["max_days"]), ext.get("approver_required") is not False),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: incomplete stage definition ({exc.__class__.__name__}: {exc})") from None
    warn = section.get("warn_days", DEFAULT_WARN_DAYS)
    return TimeLimits(
        warn_days=int(warn) if isinstance(warn, int) else DEFAULT_WARN_DAYS,
        roll_forward=section.get("roll_forward", True) is not False,
        stages=tuple(rules),
        provisional_years=section.get("unconfirmed_years") != "error",
    )
