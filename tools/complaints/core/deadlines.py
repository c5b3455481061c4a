"""The deadline engine: every stage of a case, its clock, its due date and its state.

The rules come from the policy's ``time_limits`` (see policy.yml and the README section
"Time limits and deadlines"); the days come from a :class:`WorkCalendar`.

Conventions, the same for every stage:

* The day the clock starts does not count (民法典 art. 201): a 3-working-day limit started on
  a Monday is due on Thursday; started on a Saturday, it is due on Wednesday.
* ``working_days``: the due date is the limit-th working day after the start.
  ``calendar_days``: the due date is start + limit days; when ``time_limits.roll_forward`` is
  true (the default) and that day is not a working day, the next working day (民法典 art. 203).
* An approved ``extended`` event adds its ``days`` (in the stage's unit) to the limit, within
  the policy's cap (``extension.max_count`` events, ``extension.max_days`` days in total).
  What is over the cap is not applied, and :func:`check_case` reports it.
* A ``paused`` ... ``resumed`` span stops the clock of every pausable stage running then: the
  due date moves by the working days (or calendar days, per unit) in (paused, resumed], i.e.
  the resume day counts as paused, like a start day. While a pause is open the stage is
  ``open`` (never overdue) and its due date is provisional: the pause is counted up to today.
* A stage with ``repeats: true`` (review) starts a new instance at each start event; stop
  events close the open instances in order. Instances are numbered 1, 2, ... in timeline
  order, which keeps the key (case id, stage, instance) of an instance stable as events are
  appended.
* State: a stopped stage is ``done_on_time`` or ``done_late``; an open one is ``overdue`` when
  today is after the due date, ``due_soon`` when at most ``warn_days`` working days are left
  (today itself not counted; 0 on the due date), else ``open``. ``working_days_late`` counts
  the working days in (due, completion or today].
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from complaints.errors import CalendarError, CaseError, ConfigError
from complaints.core.lifecycle import holding
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, DUE_SOON, OPEN, OVERDUE, StageDeadline
from complaints.core.calendar import SpecialDay, WorkCalendar

WORKING_DAYS = "working_days"
CALENDAR_DAYS = "calendar_days"
UNITS = (WORKING_DAYS, CALENDAR_DAYS)
DEFAULT_WARN_DAYS = 2


class HasRaw(Protocol):
    @property
    def raw(self) -> Mapping[str, Any]: ...


PolicyLike = HasRaw | Mapping[str, Any]


# ---- the rules, read from the policy ------------------------------------------------------

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

    def stage(self, key: str) -> StageRule | None:
        for rule in self.stages:
            if rule.key == key:
                return rule
        return None


def policy_mapping(policy: PolicyLike) -> Mapping[str, Any]:
    raw = getattr(policy, "raw", policy)
    if not (isinstance(raw, dict) or isinstance(raw, Mapping)):
        raise ConfigError("policy: expected a mapping")
    return raw


def _kinds(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


# The rules of the section last read, with a copy of it: every case of a run reads the same
# policy, building the rules cost about a tenth of deriving a case's deadlines, and comparing
# the section with the copy (in C) costs almost nothing, yet notices a section edited in place.
_LAST_LIMITS: list[tuple[Any, TimeLimits]] = []


def time_limits(policy: PolicyLike) -> TimeLimits:
    """The ``time_limits`` section of the policy as rules. Raises ConfigError when unusable
    (the policy schema normally catches that first)."""
    section = policy_mapping(policy).get("time_limits")
    if _LAST_LIMITS and _LAST_LIMITS[0][0] == section:
        return _LAST_LIMITS[0][1]
    limits = _time_limits(section)
    import copy

    _LAST_LIMITS[:] = [(copy.deepcopy(section), limits)]
    return limits


def _time_limits(section: Any) -> TimeLimits:
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
    )


# The approvers of the policy last read, with copies of the sections they come from (as for
# _LAST_LIMITS: every case of a run asks, and comparing the sections costs almost nothing).
_LAST_APPROVERS: list[tuple[Any, Any, frozenset[str]]] = []


def _approvers(raw: Mapping[str, Any]) -> frozenset[str]:
    handlers_section, committee = raw.get("handlers"), raw.get("committee")
    if _LAST_APPROVERS and _LAST_APPROVERS[0][0] == handlers_section and _LAST_APPROVERS[0][1] == committee:
        return _LAST_APPROVERS[0][2]
    found = _find_approvers(raw)
    import copy

    _LAST_APPROVERS[:] = [(copy.deepcopy(handlers_section), copy.deepcopy(committee), found)]
    return found


def _find_approvers(raw: Mapping[str, Any]) -> frozenset[str]:
    handlers = raw.get("handlers") or {}
    found = {k for k, v in handlers.items() if isinstance(v, Mapping) and v.get("approver") is True}
    chair = (raw.get("committee") or {}).get("chair")
    if isinstance(chair, str):
        found.add(chair)
    return frozenset(found)


# ---- the explanation of one stage ---------------------------------------------------------

@dataclass(frozen=True)
class PauseSpan:
    paused: dt.date
    resumed: dt.date | None  # None: still paused (counted up to today or the stop)
    counted: int  # days (in the stage's unit) the span added to the due date
    index: int  # timeline index of the paused event

    def to_json(self) -> dict[str, Any]:
        return {
            "paused": self.paused.isoformat(),
            "resumed": self.resumed.isoformat() if self.resumed else None,
            "counted": self.counted,
            "timeline_index": self.index,
        }


@dataclass(frozen=True)
class AppliedExtension:
    date: dt.date
    requested: int
    applied: int  # what the cap allowed
    approver: str | None
    index: int  # timeline index of the extended event
    refused: str = ""  # why less than requested was applied: "" | "cap" | "approver"

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "requested": self.requested,
            "applied": self.applied,
            "approver": self.approver,
            "timeline_index": self.index,
            "refused": self.refused or None,
        }


@dataclass(frozen=True)
class StageExplanation:
    """How one stage instance's due date was found, for a person to check by hand."""

    deadline: StageDeadline
    instance: int
    label: Mapping[str, str]
    limit: int
    unit: str
    limit_from: str  # "default" or the override that matched
    extensions: tuple[AppliedExtension, ...]
    pauses: tuple[PauseSpan, ...]
    total: int  # limit + applied extensions + paused days, in the unit
    rolled_from: dt.date | None  # calendar_days: start + total when that was not a working day
    special_days: tuple[SpecialDay, ...]  # holidays, make-up days, closures in (start, due]
    paused_now: bool  # an open pause: the due date is provisional

    @property
    def key(self) -> str:
        return stage_key(self.deadline)

    def to_json(self) -> dict[str, Any]:
        d = self.deadline
        return {
            "stage": d.stage,
            "instance": self.instance,
            "key": self.key,
            "label": dict(self.label),
            "started": d.started.isoformat(),
            "limit": self.limit,
            "unit": self.unit,
            "limit_from": self.limit_from,
            "extensions": [e.to_json() for e in self.extensions],
            "pauses": [p.to_json() for p in self.pauses],
            "total": self.total,
            "rolled_from": self.rolled_from.isoformat() if self.rolled_from else None,
            "due": d.due.isoformat(),
            "provisional": d.provisional,
            "completed": d.completed.isoformat() if d.completed else None,
            "state": d.state,
            "paused": self.paused_now,
            "working_days_late": d.working_days_late,
            "working_days_left": d.working_days_left,
            "special_days": [s.to_json() for s in self.special_days],
        }


@dataclass(frozen=True)
class CaseDeadlines:
    """Every started stage of one case, explained; plus calendar warnings to show."""

    case_id: str
    path: str
    today: dt.date
    department: str | None
    handler: str | None
    stages: tuple[StageExplanation, ...]
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "path": self.path,
            "today": self.today.isoformat(),
            "department": self.department,
            "handler": self.handler,
            "stages": [s.to_json() for s in self.stages],
            "warnings": list(self.warnings),
        }


def stage_key(deadline: StageDeadline) -> str:
    """A stable key of a stage instance: ``CASE-ID/stage`` for the first (usually only)
    instance, ``CASE-ID/stage#N`` for the N-th instance of a repeating stage (N >= 2)."""
    instance = getattr(deadline, "instance", 1)
    suffix = "" if instance == 1 else f"#{instance}"
    return f"{deadline.case_id}/{deadline.stage}{suffix}"


# ---- reading a timeline ---------------------------------------------------------------------

@dataclass(slots=True)
class _Event:
    # Not frozen: one is built for every event of every case, and a frozen dataclass's
    # initialiser costs several times more.
    index: int
    kind: str
    date: dt.date
    data: Mapping[str, Any]


def _events(case: Mapping[str, Any], path: str) -> list[_Event]:
    timeline = case.get("timeline")
    if not isinstance(timeline, list):
        raise CaseError(f"{path}::$.timeline: missing")
    events = []
    for index, event in enumerate(timeline):
        try:
            kind, date = event["kind"], event["date"]
            day = dt.date.fromisoformat(date if date.__class__ is str else str(date))
            events.append(_Event(index, kind if kind.__class__ is str else str(kind), day, event))
        except (KeyError, TypeError, ValueError):
            raise CaseError(f"{path}::$.timeline[{index}]: needs a kind and a date YYYY-MM-DD") from None
    return events


@dataclass
class _Instance:
    number: int
    start: _Event
    stop: _Event | None = None


def _instances(rule: StageRule, events: Sequence[_Event]) -> list[_Instance]:
    found: list[_Instance] = []
    open_queue: list[_Instance] = []
    for event in events:
        if event.kind in rule.stops and open_queue:
            open_queue.pop(0).stop = event
        elif event.kind in rule.starts and (rule.repeats or not found):
            instance = _Instance(len(found) + 1, event)
            found.append(instance)
            open_queue.append(instance)
    return found


def _running(instance: _Instance, day: dt.date, index: int) -> bool:
    """Whether the instance's clock had started by the event at ``index`` and not yet stopped."""
    if index <= instance.start.index or day < instance.start.date:
        return False
    return instance.stop is None or index < instance.stop.index


def _applies(rule: StageRule, case: Mapping[str, Any]) -> bool:
    if rule.applies_to == "all":
        return True
    complainant = case.get("complainant")
    anonymous = isinstance(complainant, Mapping) and complainant.get("anonymous") is True
    return anonymous if rule.applies_to == "anonymous" else not anonymous


def _extensions(
    rule: StageRule, instance: _Instance, events: Sequence[_Event], approvers: frozenset[str]
) -> list[AppliedExtension]:
    if rule.extension is None:
        return []
    applied: list[AppliedExtension] = []
    used = 0
    for event in events:
        if event.kind != "extended" or event.data.get("stage") != rule.key:
            continue
        if not _running(instance, event.date, event.index):
            continue
        requested = event.data.get("days")
        approver = event.data.get("approver")
        if not isinstance(requested, int) or isinstance(requested, bool) or requested < 1:
            continue
        refused = ""
        if rule.extension.approver_required and approver not in approvers:
            granted, refused = 0, "approver"  # none, or one the policy does not allow
        elif len(applied) >= rule.extension.max_count:
            granted, refused = 0, "cap"
        else:
            granted = max(0, min(requested, rule.extension.max_days - used))
            refused = "cap" if granted < requested else ""
        used += granted
        applied.append(
            AppliedExtension(
                event.date, requested, granted, approver if isinstance(approver, str) else None, event.index, refused
            )
        )
    return applied


def _pauses(
    rule: StageRule, unit: str, instance: _Instance, events: Sequence[_Event], calendar: WorkCalendar, today: dt.date
) -> tuple[list[PauseSpan], bool]:
    if not rule.pausable:
        return [], False
    spans: list[PauseSpan] = []
    open_now = False
    stop_index = instance.stop.index if instance.stop else None
    pending: _Event | None = None
    for event in events:
        if stop_index is not None and event.index > stop_index:
            break
        if event.kind == "paused" and pending is None:
            pending = event
        elif event.kind == "resumed" and pending is not None:
            spans.append(_span(unit, instance, pending, event.date, calendar))
            pending = None
    if pending is not None:
        if instance.stop is not None:
            end = instance.stop.date
        else:
            open_now = True
            end = max(today, pending.date)
        span = _span(unit, instance, pending, end, calendar)
        spans.append(replace(span, resumed=None))
    return [s for s in spans if s.counted > 0 or s.resumed is None], open_now


def _span(unit: str, instance: _Instance, paused: _Event, end: dt.date, calendar: WorkCalendar) -> PauseSpan:
    begin = max(paused.date, instance.start.date)
    if instance.stop is not None:
        end = min(end, instance.stop.date)
    if end <= begin:
        counted = 0
    elif unit == WORKING_DAYS:
        counted = calendar.working_days_between(begin, end)
    else:
        counted = (end - begin).days
    return PauseSpan(paused.date, end, counted, paused.index)


# ---- the engine -----------------------------------------------------------------------------

def explain_case(
    case: Mapping[str, Any],
    path: str,
    policy: PolicyLike,
    calendar: WorkCalendar,
    today: dt.date,
    *,
    warn_days: int | None = None,
) -> CaseDeadlines:
    """Every started stage instance of ``case`` with its due date and how it was found."""
    limits = time_limits(policy)
    approvers = _approvers(policy_mapping(policy))
    warn = limits.warn_days if warn_days is None else warn_days
    events = _events(case, path)
    case_id = str(case.get("id", ""))
    subject = case.get("subject")
    # (dict first: the check against typing's Mapping costs more than most of a stage)
    category = str(subject.get("category", "")) if isinstance(subject, dict) or isinstance(subject, Mapping) else ""
    priority = str(case.get("priority", ""))
    department, handler = holding([e.data for e in events])
    if handler is None and isinstance(case.get("handler"), str):
        handler = case["handler"]

    explained: list[StageExplanation] = []
    for rule in limits.stages:
        if not _applies(rule, case):
            continue
        for instance in _instances(rule, events):
            explained.append(
                _explain(
                    rule, instance, events, calendar, today, warn, limits.roll_forward, approvers,
                    case_id, path, category, priority, department, handler,
                )
            )
    explained.sort(key=lambda s: (s.deadline.started, s.deadline.stage, s.instance))
    return CaseDeadlines(case_id, path, today, department, handler, tuple(explained), calendar.warnings)


def _explain(
    rule: StageRule,
    instance: _Instance,
    events: Sequence[_Event],
    calendar: WorkCalendar,
    today: dt.date,
    warn: int,
    roll_forward: bool,
    approvers: frozenset[str],
    case_id: str,
    path: str,
    category: str,
    priority: str,
    department: str | None,
    handler: str | None,
) -> StageExplanation:
    start = instance.start.date
    limit, unit, limit_from = rule.limit_for(category, priority)
    extensions = _extensions(rule, instance, events, approvers)
    pauses, paused_now = _pauses(rule, unit, instance, events, calendar, today)
    total = limit
    for extension in extensions:
        total += extension.applied
    for pause in pauses:
        total += pause.counted
    rolled_from: dt.date | None = None
    if unit == WORKING_DAYS:
        due = calendar.add_working_days(start, total)
    else:
        raw_due = start + dt.timedelta(days=total)
        due = calendar.next_working_day(raw_due) if roll_forward else raw_due
        if due != raw_due:
            rolled_from = raw_due

    completed = instance.stop.date if instance.stop else None
    late = 0
    left = 0
    if completed is not None:
        state = DONE_LATE if completed > due else DONE_ON_TIME
        if completed > due:
            late = calendar.working_days_between(due, completed)
    elif paused_now:
        state = OPEN
        left = max(0, calendar.working_days_between(today, due))
    elif today > due:
        state = OVERDUE
        late = calendar.working_days_between(due, today)
    else:
        left = calendar.working_days_between(today, due)
        state = DUE_SOON if left <= warn else OPEN

    reach = max(due, completed or today)
    deadline = StageDeadline(
        case_id=case_id,
        path=path,
        stage=rule.key,
        started=start,
        due=due,
        completed=completed,
        state=state,
        working_days_late=late,
        working_days_left=left,
        department=department,
        handler=handler,
        category=category,
        priority=priority,
        instance=instance.number,
        provisional=calendar.is_provisional(start, reach),
    )
    return StageExplanation(
        deadline=deadline,
        instance=instance.number,
        label=rule.label,
        limit=limit,
        unit=unit,
        limit_from=limit_from,
        extensions=tuple(extensions),
        pauses=tuple(pauses),
        total=total,
        rolled_from=rolled_from,
        special_days=tuple(calendar.special_days(start, due)),
        paused_now=paused_now,
    )


def case_deadlines(
    case: Mapping[str, Any],
    path: str,
    policy: PolicyLike,
    calendar: WorkCalendar,
    today: dt.date,
    *,
    warn_days: int | None = None,
) -> list[StageDeadline]:
    """Every started stage instance of ``case`` as a StageDeadline (see :func:`explain_case`)."""
    return [s.deadline for s in explain_case(case, path, policy, calendar, today, warn_days=warn_days).stages]


# ---- validation of extensions ----------------------------------------------------------------

def check_case(case: Mapping[str, Any], policy: PolicyLike, calendar: WorkCalendar | None = None) -> list[tuple[str, str]]:
    """Problems with the case's ``extended`` events, as (field path, message): a stage that
    does not exist, is not extendable or is not running on that date; an extension beyond the
    policy's count or day cap; a missing approver, or one the policy does not mark approver.
    Messages hold keys and numbers only. ``calendar`` is accepted for symmetry with the engine
    and is not needed by the current checks."""
    raw = policy_mapping(policy)
    limits = time_limits(policy)
    approvers = _approvers(raw)
    try:
        events = _events(case, "case")
    except CaseError:
        return []  # the schema check reports a broken timeline
    problems: list[tuple[str, str]] = []
    instances = {rule.key: _instances(rule, events) for rule in limits.stages}
    used: dict[tuple[str, int], tuple[int, int]] = {}  # (stage, instance) -> (count, days)
    for event in events:
        if event.kind != "extended":
            continue
        where = f"timeline[{event.index}]"
        stage = event.data.get("stage")
        rule = limits.stage(stage) if isinstance(stage, str) else None
        if rule is None:
            problems.append((f"{where}.stage", f"{stage!r} is not a stage of the policy's time_limits"))
            continue
        if rule.extension is None:
            problems.append((f"{where}.stage", f"stage {rule.key!r} may not be extended (the policy gives it no extension rule)"))
            continue
        approver = event.data.get("approver")
        if rule.extension.approver_required:
            if not approver:
                problems.append((f"{where}.approver", f"stage {rule.key!r} needs an approver for an extension"))
            elif approver not in approvers:
                problems.append(
                    (f"{where}.approver", f"{approver!r} may not approve extensions (not a handler with approver: true, nor the committee chair)")
                )
        running = [i for i in instances[rule.key] if _running(i, event.date, event.index)]
        if not running:
            problems.append((f"{where}.date", f"stage {rule.key!r} is not running on this date: nothing to extend"))
            continue
        key = (rule.key, running[-1].number)
        count, days = used.get(key, (0, 0))
        requested = event.data.get("days")
        requested = requested if isinstance(requested, int) and not isinstance(requested, bool) else 0
        count += 1
        if count > rule.extension.max_count:
            problems.append(
                (where, f"extension {count} of stage {rule.key!r}; the policy allows at most {rule.extension.max_count}")
            )
        elif days + requested > rule.extension.max_days:
            problems.append(
                (
                    f"{where}.days",
                    f"brings the extensions of stage {rule.key!r} to {days + requested} "
                    f"{rule.unit.replace('_', ' ')}; the policy allows at most {rule.extension.max_days}",
                )
            )
        used[key] = (count, days + requested)
    return problems


# ---- the repository ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RepositoryDeadlines:
    deadlines: tuple[StageDeadline, ...]
    warnings: tuple[str, ...]
    skipped: tuple[str, ...] = ()  # case files left out because they do not pass validation
    provisional_years: tuple[int, ...] = ()  # unconfirmed years some date was computed in


def case_as_of(case: Mapping[str, Any], day: dt.date) -> Mapping[str, Any] | None:
    """The case as it stood at the end of ``day``: its timeline without the events dated
    later, or None when it was received later (it did not exist yet)."""
    timeline = case.get("timeline")
    if not isinstance(timeline, list):
        return case
    kept = []
    for event in timeline:
        # (dict first: the check against typing's Mapping costs more than the rest of the loop)
        when = _event_day(event) if isinstance(event, dict) or isinstance(event, Mapping) else None
        if when is None or when <= day:
            kept.append(event)
    if not kept:
        return None
    if len(kept) == len(timeline):
        return case
    return {**case, "timeline": kept}


def _event_day(event: Mapping[str, Any]) -> dt.date | None:
    value = event.get("date")
    if value.__class__ is str and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


class _Repo(Protocol):
    @property
    def root(self) -> Path: ...

    @property
    def policy(self) -> Any: ...

    def iter_valid_cases(self, today: dt.date | None = None) -> Iterable[tuple[str, dict[str, Any]]]: ...


def provisional_allowed(policy: PolicyLike, accept_unconfirmed: bool = False) -> bool:
    """Whether dates in a year whose official calendar is not known are computed provisionally
    (the policy's ``time_limits.unconfirmed_years``, ``provisional`` unless it says ``error``;
    ``accept_unconfirmed`` overrides an ``error``)."""
    section = policy_mapping(policy).get("time_limits")
    setting = section.get("unconfirmed_years") if isinstance(section, Mapping) else None
    return accept_unconfirmed or setting != "error"


def repository_calendar(repo: Any, accept_unconfirmed: bool = False) -> WorkCalendar:
    """The repository's working-day calendar, unconfirmed years handled as its policy says."""
    return WorkCalendar.load(repo.root, accept_unconfirmed=provisional_allowed(repo.policy, accept_unconfirmed))


def repository_run(
    repo: _Repo,
    today: dt.date,
    *,
    warn_days: int | None = None,
    accept_unconfirmed: bool = False,
    checked_on: dt.date | None = None,
    keep: Callable[[StageDeadline], bool] | None = None,
    skipped: list[str] | None = None,
) -> RepositoryDeadlines:
    """Every started stage of every valid case in the repository, with calendar warnings.

    ``checked_on`` (the real today, when ``today`` is a day in the past) is the day the files
    are validated against: looking back, each case is read as it stood on ``today`` (later
    events ignored, cases received later left out), as a supervisor saw it then. With
    ``keep``, only the stages it accepts (the rest are dropped as they stream past, so a large
    archive's finished stages never fill memory). The invalid case files are listed in
    ``skipped`` when it is given (and in the result's ``skipped`` always)."""
    calendar = repository_calendar(repo, accept_unconfirmed)
    as_of = today if checked_on is not None and checked_on != today else None
    check_day = checked_on if as_of is not None else today
    assert check_day is not None
    found: list[StageDeadline] = []
    records = getattr(repo, "case_records", None)
    from complaints.engine.scan import skipped_warning

    if skipped is None:
        skipped = []
    if records is not None:
        # In worker processes, and from the cache for cases no later day can change (cache.py).
        from complaints.adapters.cache import StageRecords, touch_calendar

        spans = []
        for _path, stages, span in records(check_day, StageRecords(repo.policy, calendar, warn_days, as_of), skipped):
            found.extend(stages if keep is None else [s for s in stages if keep(s)])
            spans.append(span)
        touch_calendar(calendar, spans)
    else:
        for path, case in repo.iter_valid_cases(check_day):
            then = case if as_of is None else case_as_of(case, as_of)
            if then is not None:
                stages = case_deadlines_of(then, path, repo.policy, calendar, today, warn_days=warn_days)
                found.extend(stages if keep is None else [s for s in stages if keep(s)])
    extra = (skipped_warning(skipped),) if skipped else ()
    return RepositoryDeadlines(tuple(found), (*calendar.warnings, *extra), tuple(skipped), calendar.provisional_years)


def case_deadlines_of(
    case: Mapping[str, Any], path: str, policy: PolicyLike, calendar: WorkCalendar, today: dt.date, *, warn_days: int | None = None
) -> list[StageDeadline]:
    """case_deadlines, with the case file named in a calendar error (repository-wide runs
    must say which case needs a year's calendar)."""
    try:
        return case_deadlines(case, path, policy, calendar, today, warn_days=warn_days)
    except CalendarError as exc:
        raise CalendarError(f"{path}: {exc}") from None


def repository_deadlines(
    repo: _Repo, today: dt.date, *, warn_days: int | None = None, accept_unconfirmed: bool = False, skipped: list[str] | None = None
) -> list[StageDeadline]:
    """Every started stage of every valid case in the repository (see :func:`repository_run`
    for the calendar warnings that go with them)."""
    return list(repository_run(repo, today, warn_days=warn_days, accept_unconfirmed=accept_unconfirmed, skipped=skipped).deadlines)


def case_report(
    repo: Any,
    case_id: str,
    today: dt.date,
    *,
    warn_days: int | None = None,
    accept_unconfirmed: bool = False,
    checked_on: dt.date | None = None,
) -> CaseDeadlines:
    """The explained stages of one case, found by id (what `complaints deadlines` shows).
    The case must pass validation (Repository.read_case raises CaseError otherwise); with
    ``checked_on`` (the real today) it is validated then and read as it stood on ``today``."""
    path, case = repo.read_case(case_id, checked_on or today)
    calendar = repository_calendar(repo, accept_unconfirmed)
    then = case_as_of(case, today) if checked_on is not None else case
    if then is None:
        raise CaseError(f"{path}: case {case_id} was received after {today.isoformat()}")
    return explain_case(then, path, repo.policy, calendar, today, warn_days=warn_days)
