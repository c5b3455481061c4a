"""The deadline engine: every stage of a case, its clock, its due date and its state.

The rules come from the policy's ``time_limits``, typed once as :class:`~complaints.core.limits.TimeLimits`
(see policy.yml and the README section "Time limits and deadlines"); the days come from a
:class:`WorkCalendar`. This module computes one case at a time from plain mappings; the
repository-wide runs (every case through the cached scan) are in commands/deadlines.py.

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
import sys
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, NamedTuple, Sequence, TypeGuard

from complaints.errors import CalendarError, CaseError
from complaints.core.lifecycle import holding
from complaints.core.limits import CALENDAR_DAYS, WORKING_DAYS, StageRule
from complaints.core.policy import Policy
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, DUE_SOON, OPEN, OVERDUE, CaseStages, StageDeadline, StageRow
from complaints.core.calendar import SpecialDay, WorkCalendar

__all__ = [
    "CALENDAR_DAYS",
    "WORKING_DAYS",
    "AppliedExtension",
    "CaseDeadlines",
    "PauseSpan",
    "StageExplanation",
    "case_as_of",
    "case_deadlines",
    "case_deadlines_of",
    "case_stages",
    "case_stages_as_of",
    "case_stages_of",
    "check_case",
    "explain_case",
    "stage_key",
]


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

class _Event:
    # A plain slotted class: built for every event of every case.
    __slots__ = ("index", "kind", "date", "data")

    def __init__(self, index: int, kind: str, date: dt.date, data: Mapping[str, Any]) -> None:
        self.index, self.kind, self.date, self.data = index, kind, date, data


# Date text -> date: an archive's events fall on a few thousand days, each parsed once per
# process, and the records then share one object per day (smaller to send and to keep).
_DAYS: dict[str, dt.date] = {}
_MAX_DAYS = 100_000


def day_of(value: Any) -> dt.date:
    """``dt.date.fromisoformat(str(value))``, remembered (ValueError as it raises)."""
    text = value if type(value) is str else str(value)
    day = _DAYS.get(text)
    if day is None:
        day = dt.date.fromisoformat(text)
        if len(_DAYS) < _MAX_DAYS:
            _DAYS[text] = day
    return day


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    # A parsed case is made of dicts: the abstract-class check only for anything else.
    return type(value) is dict or isinstance(value, Mapping)


def _shared(value: Any) -> Any:
    # A vocabulary key repeated in every record: one object per process, not one per case.
    return sys.intern(value) if type(value) is str else value


def _events(case: Mapping[str, Any], path: str) -> list[_Event]:
    timeline = case.get("timeline")
    if not isinstance(timeline, list):
        raise CaseError(f"{path}::$.timeline: missing")
    events = []
    for index, event in enumerate(timeline):
        try:
            events.append(_Event(index, str(event["kind"]), day_of(event["date"]), event))
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
    anonymous = _is_mapping(complainant) and complainant.get("anonymous") is True
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

@dataclass(frozen=True)
class _Context:
    """What every stage of one case is computed against: the case's facts, the rules that
    apply to all its stages, the calendar and the day."""

    case_id: str
    path: str
    category: str
    priority: str
    department: str | None
    handler: str | None
    events: Sequence[_Event]
    # The events the extension and pause rules read (the others never change a clock).
    extended: Sequence[_Event]
    pausing: Sequence[_Event]
    approvers: frozenset[str]
    roll_forward: bool
    warn: int
    calendar: WorkCalendar
    today: dt.date


def _context(
    case: Mapping[str, Any], path: str, policy: Policy, calendar: WorkCalendar, today: dt.date, warn_days: int | None
) -> _Context:
    limits = policy.time_limits
    events = _events(case, path)
    subject = case.get("subject")
    if not _is_mapping(subject):
        subject = {}
    department, handler = holding([e.data for e in events])
    if handler is None and isinstance(case.get("handler"), str):
        handler = case["handler"]
    return _Context(
        case_id=str(case.get("id", "")),
        path=path,
        category=_shared(str(subject.get("category", ""))),
        priority=_shared(str(case.get("priority", ""))),
        department=_shared(department),
        handler=_shared(handler),
        events=events,
        extended=[e for e in events if e.kind == "extended"],
        pausing=[e for e in events if e.kind == "paused" or e.kind == "resumed"],
        approvers=policy.approvers,
        roll_forward=limits.roll_forward,
        warn=limits.warn_days if warn_days is None else warn_days,
        calendar=calendar,
        today=today,
    )


def explain_case(
    case: Mapping[str, Any],
    path: str,
    policy: Policy,
    calendar: WorkCalendar,
    today: dt.date,
    *,
    warn_days: int | None = None,
) -> CaseDeadlines:
    """Every started stage instance of ``case`` with its due date and how it was found."""
    context = _context(case, path, policy, calendar, today, warn_days)
    explained = [
        _explain(rule, instance, context)
        for rule in policy.time_limits.stages
        if _applies(rule, case)
        for instance in _instances(rule, context.events)
    ]
    explained.sort(key=lambda s: (s.deadline.started, s.deadline.stage, s.instance))
    return CaseDeadlines(context.case_id, path, today, context.department, context.handler, tuple(explained), calendar.warnings)


class _Clock(NamedTuple):
    """One stage instance's clock, and what went into its due date (for the explanation)."""

    deadline: StageDeadline
    limit: int
    unit: str
    limit_from: str
    extensions: list[AppliedExtension]
    pauses: list[PauseSpan]
    total: int
    rolled_from: dt.date | None
    paused_now: bool


def _clock(rule: StageRule, instance: _Instance, context: _Context) -> _Clock:
    calendar = context.calendar
    start = instance.start.date
    limit, unit, limit_from = rule.limit_for(context.category, context.priority)
    extensions = _extensions(rule, instance, context.extended, context.approvers)
    pauses, paused_now = _pauses(rule, unit, instance, context.pausing, calendar, context.today)
    total = limit + sum(e.applied for e in extensions) + sum(p.counted for p in pauses)
    due, rolled_from = _due(unit, start, total, calendar, context.roll_forward)
    completed = instance.stop.date if instance.stop else None
    state, late, left = _state(due, completed, paused_now, context)
    deadline = StageDeadline(
        case_id=context.case_id,
        path=context.path,
        stage=rule.key,
        started=start,
        due=due,
        completed=completed,
        state=state,
        working_days_late=late,
        working_days_left=left,
        department=context.department,
        handler=context.handler,
        category=context.category,
        priority=context.priority,
        instance=instance.number,
        provisional=calendar.is_provisional(start, max(due, completed or context.today)),
    )
    return _Clock(deadline, limit, unit, limit_from, extensions, pauses, total, rolled_from, paused_now)


def _explain(rule: StageRule, instance: _Instance, context: _Context) -> StageExplanation:
    clock = _clock(rule, instance, context)
    deadline = clock.deadline
    return StageExplanation(
        deadline=deadline,
        instance=instance.number,
        label=rule.label,
        limit=clock.limit,
        unit=clock.unit,
        limit_from=clock.limit_from,
        extensions=tuple(clock.extensions),
        pauses=tuple(clock.pauses),
        total=clock.total,
        rolled_from=clock.rolled_from,
        special_days=tuple(context.calendar.special_days(deadline.started, deadline.due)),
        paused_now=clock.paused_now,
    )


def _due(unit: str, start: dt.date, total: int, calendar: WorkCalendar, roll_forward: bool) -> tuple[dt.date, dt.date | None]:
    """The due date ``total`` days (in ``unit``) after ``start``, and the day it was rolled
    forward from (calendar days only, when that day is not a working day)."""
    if unit == WORKING_DAYS:
        return calendar.add_working_days(start, total), None
    raw_due = start + dt.timedelta(days=total)
    due = calendar.next_working_day(raw_due) if roll_forward else raw_due
    return due, (raw_due if due != raw_due else None)


def _state(due: dt.date, completed: dt.date | None, paused_now: bool, context: _Context) -> tuple[str, int, int]:
    """(state, working days late, working days left) of a stage due on ``due``."""
    calendar, today = context.calendar, context.today
    if completed is not None:
        late = calendar.working_days_between(due, completed) if completed > due else 0
        return (DONE_LATE if completed > due else DONE_ON_TIME), late, 0
    if paused_now:
        return OPEN, 0, max(0, calendar.working_days_between(today, due))
    if today > due:
        return OVERDUE, calendar.working_days_between(due, today), 0
    left = calendar.working_days_between(today, due)
    return (DUE_SOON if left <= context.warn else OPEN), 0, left


def case_deadlines(
    case: Mapping[str, Any],
    path: str,
    policy: Policy,
    calendar: WorkCalendar,
    today: dt.date,
    *,
    warn_days: int | None = None,
) -> list[StageDeadline]:
    """Every started stage instance of ``case`` as a StageDeadline (see :func:`explain_case`)."""
    return list(case_stages(case, path, policy, calendar, today, warn_days=warn_days).deadlines())


def case_stages(
    case: Mapping[str, Any],
    path: str,
    policy: Policy,
    calendar: WorkCalendar,
    today: dt.date,
    *,
    warn_days: int | None = None,
) -> CaseStages:
    """Every started stage instance of ``case`` as compact rows (see :class:`CaseStages`):
    the same clocks as :func:`explain_case`, in the same order, without the explanations.

    This runs for every case of every repository-wide command, so it is written for speed:
    the policy's rules are read once into a plan (:class:`_Plan`), the timeline is read once
    into kinds and dates, every rule's instances are found in one pass over it, and a
    StageDeadline is made only when a caller asks for one. The reference is the explained
    path (``_clock``); tests/core/test_deadlines_fast.py holds the two to the same results."""
    stages = _case_stages(case, path, policy, calendar, today, warn_days, None)
    assert stages is not None  # only a case read up to a day can end early
    return stages


def _case_stages(
    case: Mapping[str, Any],
    path: str,
    policy: Policy,
    calendar: WorkCalendar,
    today: dt.date,
    warn_days: int | None,
    until: dt.date | None,
    dates: list[dt.date] | None = None,
    lean: bool = False,
) -> CaseStages | None:
    """case_stages; with ``until``, None as soon as an event is dated after it (the case must
    then be cut first, see case_stages_as_of). ``dates``: a list the timeline's dates are put
    in, in event order. ``lean``: as stage_outcomes (no late or left counts, no provisional
    flags, no department or handler)."""
    plan = _plan_of(policy)
    timeline = case.get("timeline")
    if not isinstance(timeline, list):
        raise CaseError(f"{path}::$.timeline: missing")
    complainant = case.get("complainant")
    anonymous = _is_mapping(complainant) and complainant.get("anonymous") is True
    if dates is None:
        dates = []
    kinds: list[str] = []
    department: str | None = None
    handler: str | None = None
    days = _DAYS
    for index, event in enumerate(timeline):
        try:
            kind = event["kind"]
            if type(kind) is not str:
                kind = str(kind)
            text = event["date"]
            day = days.get(text) if type(text) is str else None
            if day is None:
                day = day_of(text)
        except (KeyError, TypeError, ValueError):
            raise CaseError(f"{path}::$.timeline[{index}]: needs a kind and a date YYYY-MM-DD") from None
        if until is not None and day > until:
            return None
        dates.append(day)
        kinds.append(kind)
    # Which rules' instances start and stop where, and where the case is extended, paused or
    # moved, follow from the kinds alone (and whether the complainant is anonymous): worked
    # out once for each sequence of kinds (an archive holds a few hundred among all its
    # cases), not once for each case.
    found, extended, pausing, holders = plan.shape(anonymous, tuple(kinds))
    if not lean:
        for index in holders:
            event = timeline[index]
            if kinds[index] == "assigned":
                # As lifecycle.holding: the only two kinds that move the case.
                value = event.get("department")
                department = value if isinstance(value, str) else department
                value = event.get("handler")
                handler = value if isinstance(value, str) else handler
            else:  # transferred
                value = event.get("to")
                department = value if isinstance(value, str) else department
                value = event.get("handler")
                handler = value if isinstance(value, str) else None
    subject = case.get("subject")
    if not _is_mapping(subject):
        subject = {}
    if handler is None and not lean and isinstance(case.get("handler"), str):
        handler = case["handler"]
    category = _shared(str(subject.get("category", "")))
    priority = _shared(str(case.get("priority", "")))
    rules = plan.rules
    warn = plan.warn_days if warn_days is None else warn_days
    confirmed = calendar.confirmed_years
    limits = plan.limits_of
    rows: list[StageRow] = []
    # Any order: the rows are sorted on (started, stage, instance), which no two share.
    for r, instances in found:
        rule = rules[r]
        found_limit = limits.get((r, category, priority))
        limit, unit = found_limit if found_limit is not None else plan.limit(r, rule, category, priority)
        for number, (first, last) in enumerate(instances, 1):
            start = dates[first]
            stop = dates[last] if last >= 0 else None
            total = limit
            if extended and rule.extension is not None:
                total += _extended_days(rule, first, start, last, extended, dates, timeline, plan.approvers)
            paused_now = False
            if pausing and rule.pausable:
                counted, paused_now = _paused_days(unit, first, start, last, stop, pausing, dates, calendar, today)
                total += counted
            if unit == WORKING_DAYS:
                due = calendar.add_working_days(start, total)
            else:
                due = start + dt.timedelta(days=total)
                if plan.roll_forward:
                    due = calendar.next_working_day(due)
            if lean:
                # As below, the counts made only where they look at days the due date and
                # the state did not (a year the calendar refuses then stops the case here,
                # naming it, as it would there), and not kept.
                if stop is not None:
                    state = DONE_ON_TIME
                    if stop > due:
                        state = DONE_LATE
                        calendar.working_days_between(due, stop)
                elif paused_now:
                    state = OPEN
                    calendar.working_days_between(today, due)
                elif today > due:
                    state = OVERDUE
                    calendar.working_days_between(due, today)
                else:
                    state = DUE_SOON if calendar.working_days_between(today, due) <= warn else OPEN
                rows.append((start, rule.key, number, due, stop, state, 0, 0, False))
                continue
            # As _state.
            late = left = 0
            if stop is not None:
                if stop > due:
                    state, late = DONE_LATE, calendar.working_days_between(due, stop)
                else:
                    state = DONE_ON_TIME
            elif paused_now:
                state, left = OPEN, max(0, calendar.working_days_between(today, due))
            elif today > due:
                state, late = OVERDUE, calendar.working_days_between(due, today)
            else:
                left = calendar.working_days_between(today, due)
                state = DUE_SOON if left <= warn else OPEN
            end = due if stop is None or due >= stop else stop
            if stop is None and today > end:
                end = today
            year = start.year
            # As calendar.is_provisional, whose answer for a stage within one year is a look-up.
            provisional = year not in confirmed if year == end.year else calendar.is_provisional(start, end)
            rows.append((start, rule.key, number, due, stop, state, late, left, provisional))
    if len(rows) > 1:
        # (started, stage, instance) first: no two rows share them, so the rest is never compared.
        rows.sort()
    return CaseStages(str(case.get("id", "")), path, _shared(department), _shared(handler), category, priority, tuple(rows))


def _extended_days(
    rule: StageRule, first: int, start: dt.date, last: int, extended: Sequence[int], dates: list[dt.date],
    timeline: list[Any], approvers: frozenset[str],
) -> int:
    """The days the case's extensions add to one instance (as _extensions applies them)."""
    assert rule.extension is not None
    max_count, max_days, need_approver = rule.extension.max_count, rule.extension.max_days, rule.extension.approver_required
    applied = used = 0
    for index in extended:
        data = timeline[index]
        if data.get("stage") != rule.key:
            continue
        if index <= first or dates[index] < start or (last >= 0 and index >= last):
            continue  # the instance was not running (see _running)
        requested = data.get("days")
        if not isinstance(requested, int) or isinstance(requested, bool) or requested < 1:
            continue
        approver = data.get("approver")
        if need_approver and approver not in approvers:
            granted = 0
        elif applied >= max_count:
            granted = 0
        else:
            granted = max(0, min(requested, max_days - used))
        used += granted
        applied += 1
    return used


def _paused_days(
    unit: str, first: int, start: dt.date, last: int, stop: dt.date | None, pausing: Sequence[tuple[int, bool]],
    dates: list[dt.date], calendar: WorkCalendar, today: dt.date,
) -> tuple[int, bool]:
    """(days the pauses add to one instance, whether a pause is open now), as _pauses."""
    counted = 0
    pending = -1
    for index, paused in pausing:
        if last >= 0 and index > last:
            break
        if paused:
            if pending < 0:
                pending = index
        elif pending >= 0:
            counted += _counted(unit, start, dates[pending], dates[index], stop, calendar)
            pending = -1
    open_now = False
    if pending >= 0:
        if stop is not None:
            end = stop
        else:
            open_now = True
            end = max(today, dates[pending])
        counted += _counted(unit, start, dates[pending], end, stop, calendar)
    return counted, open_now


def _counted(unit: str, start: dt.date, paused: dt.date, end: dt.date, stop: dt.date | None, calendar: WorkCalendar) -> int:
    # As _span.
    begin = paused if paused > start else start
    if stop is not None and stop < end:
        end = stop
    if end <= begin:
        return 0
    if unit == WORKING_DAYS:
        return calendar.working_days_between(begin, end)
    return (end - begin).days


# The kinds that move a clock (extended, paused, resumed) or the case (assigned, transferred).
_MOVING = frozenset({"extended", "paused", "resumed", "assigned", "transferred"})


class _Plan:
    """A policy's stage rules as the fast path reads them: for each event kind, the rules it
    starts or stops; which rules apply to a named and to an anonymous complainant; each
    rule's limit per (category, priority), found once."""

    __slots__ = ("limits", "rules", "roles_named", "roles_anonymous", "repeats", "approvers", "roll_forward", "warn_days", "limits_of",
                 "shapes")  # fmt: skip

    def __init__(self, policy: Policy) -> None:
        limits = policy.time_limits
        self.limits = limits
        self.rules = limits.stages
        roles: dict[str, list[tuple[int, bool, bool]]] = {}
        for r, rule in enumerate(self.rules):
            for kind in dict.fromkeys((*rule.stops, *rule.starts)):
                roles.setdefault(kind, []).append((r, kind in rule.stops, kind in rule.starts))
        self.repeats = tuple(rule.repeats for rule in self.rules)
        # As _applies: a rule for "named" (or any other word) complainants skips the anonymous.
        named = [rule.applies_to != "anonymous" for rule in self.rules]
        anonymous = [rule.applies_to == "all" or rule.applies_to == "anonymous" for rule in self.rules]
        # Each kind's rules, only those that apply, for either complainant: (rule, stops, starts).
        self.roles_named = {kind: tuple(e for e in entries if named[e[0]]) for kind, entries in roles.items()}
        self.roles_anonymous = {kind: tuple(e for e in entries if anonymous[e[0]]) for kind, entries in roles.items()}
        self.approvers = policy.approvers
        self.roll_forward = limits.roll_forward
        self.warn_days = limits.warn_days
        self.limits_of: dict[tuple[int, str, str], tuple[int, str]] = {}
        self.shapes: dict[tuple[bool, tuple[str, ...]], _Shape] = {}

    def shape(self, anonymous: bool, kinds: tuple[str, ...]) -> _Shape:
        """What a timeline of these kinds starts and stops (see _Shape), for a named or an
        anonymous complainant; kept for the first MAX_SHAPES sequences met of at most
        MAX_SHAPE_EVENTS events."""
        if len(kinds) > MAX_SHAPE_EVENTS:
            return _shape(self.roles_anonymous if anonymous else self.roles_named, self.repeats, kinds)
        key = (anonymous, kinds)
        found = self.shapes.get(key)
        if found is None:
            found = _shape(self.roles_anonymous if anonymous else self.roles_named, self.repeats, kinds)
            if len(self.shapes) < MAX_SHAPES:
                self.shapes[key] = found
        return found

    def limit(self, r: int, rule: StageRule, category: str, priority: str) -> tuple[int, str]:
        key = (r, category, priority)
        found = self.limits_of.get(key)
        if found is None:
            limit, unit, _ = rule.limit_for(category, priority)
            found = (limit, unit)
            if len(self.limits_of) < 10_000:
                self.limits_of[key] = found
        return found


# Sequences of event kinds whose shape a plan keeps (a few hundred bytes each): the timelines
# of an archive follow the lifecycle's few paths (109 sequences among 4,000 cases of the
# benchmark archive); a case whose sequence is not kept still has its shape worked out.
MAX_SHAPES = 4096
# Nor are those of longer timelines kept (a lifecycle takes a dozen events; a file could hold
# hundreds in a sequence of its own): what the plan keeps stays under a few megabytes.
MAX_SHAPE_EVENTS = 32

# (each applicable rule's instances as (rule, ((start index, stop index or -1), ...)), the
# indices of `extended` events, (index, paused rather than resumed) of `paused` and `resumed`
# events, the indices of `assigned` and `transferred` events), all in event order.
_Shape = tuple[
    tuple[tuple[int, tuple[tuple[int, int], ...]], ...], tuple[int, ...], tuple[tuple[int, bool], ...], tuple[int, ...]
]


def _shape(roles: Mapping[str, tuple[tuple[int, bool, bool], ...]], repeats: Sequence[bool], kinds: Sequence[str]) -> _Shape:
    """The rule instances a timeline of these kinds holds, and where it is extended, paused and
    moved: each kind starts or stops the rules ``roles`` gives it (those that apply to the
    complainant), an instance stopped first in, first out; a rule that does not repeat
    starts once."""
    found: dict[int, list[list[int]]] = {}
    queues: dict[int, list[list[int]]] = {}
    extended: list[int] = []
    pausing: list[tuple[int, bool]] = []
    holders: list[int] = []
    for index, kind in enumerate(kinds):
        role = roles.get(kind)
        if role is not None:
            for r, stops, starts in role:
                queue = queues.get(r)
                if stops and queue:
                    queue.pop(0)[1] = index
                elif starts and (repeats[r] or r not in found):
                    instance = [index, -1]
                    found.setdefault(r, []).append(instance)
                    queues.setdefault(r, []).append(instance)
        # (A kind may also start or stop a stage: a policy chooses its stages' events.)
        if kind not in _MOVING:
            continue
        if kind == "extended":
            extended.append(index)
        elif kind == "paused" or kind == "resumed":
            pausing.append((index, kind == "paused"))
        else:
            holders.append(index)
    instances = tuple((r, tuple((first, last) for first, last in items)) for r, items in found.items())
    return instances, tuple(extended), tuple(pausing), tuple(holders)


# The plan of the policy last asked about (a process reads one policy).
_PLANS: list[tuple[Policy, _Plan]] = []


def _plan_of(policy: Policy) -> _Plan:
    for known, plan in _PLANS:
        if known is policy:
            return plan
    plan = _Plan(policy)
    _PLANS[:] = [(policy, plan)]
    return plan


# ---- validation of extensions ----------------------------------------------------------------

def check_case(case: Mapping[str, Any], policy: Policy, calendar: WorkCalendar | None = None) -> list[tuple[str, str]]:
    """Problems with the case's ``extended`` events, as (field path, message): a stage that
    does not exist, is not extendable or is not running on that date; an extension beyond the
    policy's count or day cap; a missing approver, or one the policy does not mark approver.
    Messages hold keys and numbers only. ``calendar`` is accepted for symmetry with the engine
    and is not needed by the current checks."""
    limits = policy.time_limits
    approvers = policy.approvers
    timeline = case.get("timeline")
    # Only `extended` events are checked here: most cases have none (asked of every case).
    if isinstance(timeline, list) and not any(type(e) is dict and e.get("kind") == "extended" for e in timeline):
        if all(type(e) is dict for e in timeline):
            return []
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


# ---- looking back ------------------------------------------------------------------------------

def case_as_of(case: Mapping[str, Any], day: dt.date) -> Mapping[str, Any] | None:
    """The case as it stood at the end of ``day``: its timeline without the events dated
    later, or None when it was received later (it did not exist yet)."""
    timeline = case.get("timeline")
    if not isinstance(timeline, list):
        return case
    if not timeline:
        return None
    # Nearly every case of a long archive ends before the day: found in one look per event
    # (dates read once per process, as the engine reads them), the case is kept as it is.
    days = _DAYS
    for event in timeline:
        if type(event) is dict or isinstance(event, Mapping):
            value = event.get("date")
            when = days.get(value) if type(value) is str else None
            if when is None:
                when = _event_day(event)
            if when is not None and when > day:
                break
    else:
        return case
    kept = []
    for event in timeline:
        when = _event_day(event) if isinstance(event, Mapping) else None
        if when is None or when <= day:
            kept.append(event)
    if not kept:
        return None
    return {**case, "timeline": kept}


def _event_day(event: Mapping[str, Any]) -> dt.date | None:
    value = event.get("date")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def case_deadlines_of(
    case: Mapping[str, Any], path: str, policy: Policy, calendar: WorkCalendar, today: dt.date, *, warn_days: int | None = None
) -> list[StageDeadline]:
    """case_deadlines, with the case file named in a calendar error (repository-wide runs
    must say which case needs a year's calendar)."""
    try:
        return case_deadlines(case, path, policy, calendar, today, warn_days=warn_days)
    except CalendarError as exc:
        raise CalendarError(f"{path}: {exc}") from None


def case_stages_of(
    case: Mapping[str, Any], path: str, policy: Policy, calendar: WorkCalendar, today: dt.date, *, warn_days: int | None = None
) -> CaseStages:
    """case_stages, with the case file named in a calendar error (as case_deadlines_of)."""
    try:
        return case_stages(case, path, policy, calendar, today, warn_days=warn_days)
    except CalendarError as exc:
        raise CalendarError(f"{path}: {exc}") from None


def stage_outcomes(
    case: Mapping[str, Any], path: str, policy: Policy, calendar: WorkCalendar, today: dt.date, dates: list[dt.date]
) -> CaseStages:
    """case_stages_of for a caller that reads of each stage only its start, due and completion
    dates and its state (the statistics' facts, the receipt row's next step): each row's late
    and left counts are 0 and its provisional flag False, and the case's department and
    handler are None, none of them kept (the calendar is asked about the same years, so
    that it warns of and refuses the same ones). The timeline's dates are put in ``dates``, in
    event order. tests/core/test_deadlines_fast.py holds it to case_stages_of."""
    try:
        stages = _case_stages(case, path, policy, calendar, today, None, None, dates, True)
    except CalendarError as exc:
        raise CalendarError(f"{path}: {exc}") from None
    assert stages is not None  # only a case read up to a day can end early
    return stages


def case_stages_as_of(
    case: Mapping[str, Any], path: str, policy: Policy, calendar: WorkCalendar, day: dt.date, *, warn_days: int | None = None
) -> CaseStages | None:
    """case_stages_of the case as it stood at the end of ``day`` (:func:`case_as_of`) on
    ``day``; None when it was received later. A case with no event after ``day`` (nearly every
    case of a long archive looked back on) is read once, not once to cut and again to compute."""
    timeline = case.get("timeline")
    if isinstance(timeline, list) and not timeline:
        return None  # as case_as_of: nothing had happened yet
    try:
        stages = _case_stages(case, path, policy, calendar, day, warn_days, day)
        if stages is not None:
            return stages
        then = case_as_of(case, day)
        return None if then is None else case_stages(then, path, policy, calendar, day, warn_days=warn_days)
    except CalendarError as exc:
        raise CalendarError(f"{path}: {exc}") from None
