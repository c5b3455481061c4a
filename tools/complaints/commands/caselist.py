"""`complaints list` and `complaints show`: the cases as a handler reads them.

A listing holds ids, dates, vocabulary keys and states only; one case shown adds its labels,
its timeline (with the internal notes a handler wrote) and each stage's due date, but never
the contact details, which stay encrypted (`complaints reveal`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

from complaints.adapters.config import load_calendar
from complaints.adapters.repository import Repository
from complaints.commands.validate import skipped_warning
from complaints.core.calendar import WorkCalendar
from complaints.core.deadlines import CaseDeadlines, case_deadlines_of, explain_case
from complaints.core.lifecycle import derive_state, holding
from complaints.core.policy import Policy
from complaints.core.stages import DUE_SOON, OPEN, OVERDUE, StageDeadline
from complaints.engine.derivations import span_of, touch_calendar
from complaints.engine.scan import case_records, read_case

# Most urgent first: what `list` shows as a case's next due stage and `overdue` sorts by.
_URGENCY = {OVERDUE: 0, DUE_SOON: 1, OPEN: 2}


@dataclass(frozen=True)
class CaseFilter:
    """What `complaints list` keeps; an empty tuple keeps everything."""

    handlers: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()  # complained about, or holding the case now
    states: tuple[str, ...] = ()  # lifecycle states; "open" is every state but closed
    stages: tuple[str, ...] = ()  # a stage running now (not yet done)
    categories: tuple[str, ...] = ()
    received_from: dt.date | None = None
    received_to: dt.date | None = None

    def keeps(self, row: "CaseRow") -> bool:
        if self.handlers and row.handler not in self.handlers:
            return False
        if self.departments and not (set(self.departments) & {*row.departments, row.department}):
            return False
        if self.states and not any(s == row.state or (s == "open" and row.state != "closed") for s in self.states):
            return False
        if self.stages and not set(self.stages) & {s.stage for s in row.running}:
            return False
        if self.categories and row.category not in self.categories:
            return False
        if self.received_from is not None and row.received < self.received_from:
            return False
        return self.received_to is None or row.received <= self.received_to


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    path: str
    received: dt.date
    state: str
    channel: str
    category: str
    priority: str
    departments: tuple[str, ...]  # complained about
    department: str | None  # holding the case now
    handler: str | None
    running: tuple[StageDeadline, ...]  # stages not done yet, most urgent first

    @property
    def next_due(self) -> StageDeadline | None:
        return self.running[0] if self.running else None


@dataclass(frozen=True)
class CaseListing:
    today: dt.date
    rows: tuple[CaseRow, ...]
    total: int  # valid cases looked at, before filtering
    warnings: tuple[str, ...] = ()


def _received(case: Mapping[str, Any]) -> dt.date:
    timeline = case.get("timeline") or [{}]
    value = timeline[0].get("date") if isinstance(timeline[0], Mapping) else None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def running_first(stages: Sequence[StageDeadline]) -> tuple[StageDeadline, ...]:
    """The stages not done yet, most urgent first: overdue (latest first), due soon, open;
    then by due date."""
    open_ = [s for s in stages if s.completed is None]
    return tuple(sorted(open_, key=lambda s: (_URGENCY.get(s.state, 3), -s.working_days_late, s.due, s.stage, s.instance)))


def case_row(case: Mapping[str, Any], path: str, stages: Sequence[StageDeadline]) -> CaseRow:
    subject = case.get("subject") if isinstance(case.get("subject"), Mapping) else {}
    assert isinstance(subject, Mapping)
    timeline = [e for e in case.get("timeline") or () if isinstance(e, Mapping)]
    department, handler = holding(timeline)
    if handler is None and isinstance(case.get("handler"), str):
        handler = case["handler"]
    return CaseRow(
        case_id=str(case.get("id", "")),
        path=path,
        received=_received(case),
        state=derive_state(timeline),
        channel=str(case.get("channel", "")),
        category=str(subject.get("category", "")),
        priority=str(case.get("priority", "")),
        departments=tuple(str(d) for d in subject.get("departments") or ()),
        department=department,
        handler=handler,
        running=running_first(stages),
    )


@dataclass(frozen=True)
class RowRecords:
    """The listing row of a case, computed in the worker processes and cached like the
    records of `overdue` (engine.scan.case_records); settled once no stage is running."""

    policy: Policy
    calendar: WorkCalendar

    records: ClassVar[tuple[type, ...]] = (CaseRow, StageDeadline)

    @property
    def key(self) -> str:
        return f"caselist:unconfirmed={self.calendar.accept_unconfirmed}"

    def __call__(self, path: str, case: dict[str, Any], today: dt.date) -> tuple[CaseRow, bool, tuple[int, int] | None]:
        stages = case_deadlines_of(case, path, self.policy, self.calendar, today)
        return case_row(case, path, stages), all(s.completed is not None for s in stages), span_of(stages, today)


def list_cases(repo: Repository, today: dt.date, keep: CaseFilter, *, accept_unconfirmed: bool = False) -> CaseListing:
    """Every valid case that ``keep`` keeps, newest first (invalid files are left to
    `complaints validate`, and named in a warning)."""
    calendar = load_calendar(repo.root, accept_unconfirmed=accept_unconfirmed)
    rows: list[CaseRow] = []
    total = 0
    warnings: list[str] = []
    skipped: list[str] = []
    spans = []
    for _path, row, span in case_records(repo, today, RowRecords(repo.policy, calendar), skipped):
        total += 1
        spans.append(span)
        if keep.keeps(row):
            rows.append(row)
    touch_calendar(calendar, spans)
    if skipped:
        warnings.append(skipped_warning(skipped))
    rows.sort(key=lambda r: (r.received, r.case_id), reverse=True)
    return CaseListing(today, tuple(rows), total, (*calendar.warnings, *warnings))


# ---- one case -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseView:
    """One case as a person reads it: keys with their labels, the timeline, the stages."""

    row: CaseRow
    case: Mapping[str, Any]
    deadlines: CaseDeadlines
    policy: Policy
    warnings: tuple[str, ...] = field(default=())


def show_case(repo: Repository, case_id: str, today: dt.date, *, accept_unconfirmed: bool = False) -> CaseView:
    path, case = read_case(repo, case_id, today)
    calendar = load_calendar(repo.root, accept_unconfirmed=accept_unconfirmed)
    explained = explain_case(case, path, repo.policy, calendar, today)
    row = case_row(case, path, [s.deadline for s in explained.stages])
    return CaseView(row, case, explained, repo.policy, tuple(calendar.warnings))


def worst_first(stages_of: Sequence[Sequence[StageDeadline]]) -> list[int]:
    """Indexes of groups of stages ordered worst first: most overdue stages, then most
    working days late in total, then most due soon."""

    def badness(stages: Sequence[StageDeadline]) -> tuple[int, int, int]:
        overdue = [s for s in stages if s.state == OVERDUE]
        return (-len(overdue), -sum(s.working_days_late for s in overdue), -sum(1 for s in stages if s.state == DUE_SOON))

    return sorted(range(len(stages_of)), key=lambda i: badness(stages_of[i]))


def stage_keys(policy: Policy) -> tuple[str, ...]:
    return tuple(rule.key for rule in policy.time_limits.stages)
