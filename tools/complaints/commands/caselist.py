"""`complaints list` and `complaints show`: the cases as a handler reads them.

A listing holds ids, dates, vocabulary keys and states only; one case shown adds its labels,
its timeline (with the internal notes a handler wrote) and each stage's due date, but never
the contact details, which stay encrypted (`complaints reveal`).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Sequence

from complaints.adapters.config import load_calendar
from complaints.adapters.repository import Repository
from complaints.commands.validate import skipped_warning
from complaints.core.calendar import WorkCalendar
from complaints.core.deadlines import CaseDeadlines, case_deadlines_of, explain_case
from complaints.core.lifecycle import derive_state, holding
from complaints.core.policy import Policy
from complaints.core.stages import DONE_LATE, DUE_SOON, OPEN, OVERDUE, StageDeadline
from complaints.core.vocabulary import STATE_LABELS, event_field_vocabulary, label_of
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


# ---- list renderers ---------------------------------------------------------------------------

LIST_COLUMNS = ("case_id", "received", "state", "category", "priority", "departments", "department", "handler",
                "next_stage", "next_due", "next_state", "working_days_late", "path")  # fmt: skip


def _list_record(row: CaseRow) -> dict[str, Any]:
    nxt = row.next_due
    return {
        "case_id": row.case_id,
        "received": row.received.isoformat(),
        "state": row.state,
        "category": row.category,
        "priority": row.priority,
        "departments": list(row.departments),
        "department": row.department,
        "handler": row.handler,
        "next_stage": nxt.stage if nxt else None,
        "next_due": nxt.due.isoformat() if nxt else None,
        "next_state": nxt.state if nxt else None,
        "working_days_late": nxt.working_days_late if nxt else 0,
        "path": row.path,
    }


def _due_text(stage: StageDeadline | None) -> str:
    if stage is None:
        return "-"
    if stage.state == OVERDUE:
        return f"{stage.stage} due {stage.due.isoformat()}, OVERDUE by {stage.working_days_late}"
    if stage.state == DUE_SOON:
        return f"{stage.stage} due {stage.due.isoformat()}, due soon"
    return f"{stage.stage} due {stage.due.isoformat()}"


def list_text(listing: CaseListing) -> str:
    if not listing.rows:
        return f"No case matches ({listing.total} case(s) looked at).\n"
    header = ("ID", "RECEIVED", "STATE", "CATEGORY", "DEPARTMENT", "HANDLER", "NEXT DUE")
    table = [header] + [
        (r.case_id, r.received.isoformat(), r.state, r.category, r.department or ",".join(r.departments), r.handler or "-", _due_text(r.next_due))
        for r in listing.rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths)) + "  " + line[-1] for line in table]
    lines.append("")
    lines.append(f"{len(listing.rows)} of {listing.total} case(s), as of {listing.today.isoformat()}.")
    return "\n".join(lines) + "\n"


def list_json(listing: CaseListing) -> str:
    document = {
        "today": listing.today.isoformat(),
        "count": len(listing.rows),
        "total": listing.total,
        "cases": [_list_record(r) for r in listing.rows],
        "warnings": list(listing.warnings),
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def list_csv(listing: CaseListing) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=LIST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in listing.rows:
        record = _list_record(row)
        record["departments"] = " ".join(record["departments"])
        writer.writerow({k: "" if record[k] is None else record[k] for k in LIST_COLUMNS})
    return out.getvalue()


LIST_FORMATS: dict[str, Callable[[CaseListing], str]] = {"text": list_text, "json": list_json, "csv": list_csv}


# ---- one case -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseView:
    """One case as a person reads it: keys with their labels, the timeline, the stages."""

    row: CaseRow
    case: Mapping[str, Any]
    deadlines: CaseDeadlines
    policy: Mapping[str, Any]
    warnings: tuple[str, ...] = field(default=())


def show_case(repo: Repository, case_id: str, today: dt.date, *, accept_unconfirmed: bool = False) -> CaseView:
    path, case = read_case(repo, case_id, today)
    calendar = load_calendar(repo.root, accept_unconfirmed=accept_unconfirmed)
    explained = explain_case(case, path, repo.policy, calendar, today)
    row = case_row(case, path, [s.deadline for s in explained.stages])
    return CaseView(row, case, explained, repo.policy.raw, tuple(calendar.warnings))


def next_due_text(view: CaseView) -> str:
    """One line on what is due next (after `complaints event`), or that nothing is."""
    nxt = view.row.next_due
    if nxt is None:
        return f"{view.row.case_id} is {view.row.state}: no stage is running."
    label = _stage_label(view.policy, nxt.stage)
    if nxt.state == OVERDUE:
        when = f"was due {nxt.due.isoformat()}, OVERDUE by {nxt.working_days_late} working day(s)"
    else:
        when = f"due {nxt.due.isoformat()}, {nxt.working_days_left} working day(s) left"
    return f"next: {nxt.stage} ({label}) {when}"


def _stage_label(policy: Mapping[str, Any], stage: str) -> str:
    return label_of(policy, "time_limits.stages", stage)


def _with_label(policy: Mapping[str, Any], vocabulary: str, key: Any) -> str:
    if key is None:
        return "-"
    label = label_of(policy, vocabulary, str(key))
    return f"{key} ({label})" if label != str(key) else str(key)


def _event_details(policy: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    kind = str(event.get("kind"))
    parts = []
    for name, value in event.items():
        if name in ("kind", "date"):
            continue
        vocabulary = event_field_vocabulary(kind, name)
        if vocabulary is None:
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
        elif isinstance(value, list):
            shown = ", ".join(_with_label(policy, vocabulary, v) for v in value)
        else:
            shown = _with_label(policy, vocabulary, value)
        parts.append(f"{name} {shown}")
    return "; ".join(parts)


_STATE_TEXT = {
    "done_on_time": "done on time",
    "done_late": "done late",
    OPEN: "open",
    DUE_SOON: "due soon",
    OVERDUE: "OVERDUE",
}


def show_text(view: CaseView) -> str:
    row, case, policy = view.row, view.case, view.policy
    complainant = case.get("complainant") if isinstance(case.get("complainant"), Mapping) else {}
    assert isinstance(complainant, Mapping)
    if complainant.get("anonymous") is True:
        who = "anonymous"
    elif complainant.get("contact"):
        who = f"named; contact details encrypted (complaints reveal {row.case_id} --show)"
    else:
        who = "named; no contact details recorded"
    subject = case.get("subject") if isinstance(case.get("subject"), Mapping) else {}
    assert isinstance(subject, Mapping)
    lines = [
        f"{row.case_id}  [{row.path}]",
        f"state        {row.state} ({STATE_LABELS.get(row.state, row.state)})",
        f"received     {row.received.isoformat()} via {_with_label(policy, 'channels', row.channel)}",
        f"complainant  {who}",
        f"category     {_with_label(policy, 'categories', row.category)}",
        f"about        {', '.join(_with_label(policy, 'departments', d) for d in row.departments)}",
        f"priority     {_with_label(policy, 'priorities', row.priority)}",
        f"held by      {_with_label(policy, 'departments', row.department)} / {_with_label(policy, 'handlers', row.handler)}",
    ]
    if isinstance(subject.get("summary"), str):
        lines.append(f"summary      {json.dumps(subject['summary'], ensure_ascii=False)}")
    lines += ["", "Timeline"]
    for event in case.get("timeline") or ():
        date = event.get("date")
        details = _event_details(policy, event)
        lines.append(f"  {date.isoformat() if isinstance(date, dt.date) else date}  {event.get('kind')}" + (f": {details}" if details else ""))
    lines += ["", f"Stages as of {view.deadlines.today.isoformat()}"]
    if not view.deadlines.stages:
        lines.append("  none started")
    for s in view.deadlines.stages:
        d = s.deadline
        instance = f" #{s.instance}" if s.instance != 1 else ""
        state = _STATE_TEXT.get(d.state, d.state)
        if d.state in (OVERDUE, DONE_LATE):
            state += f" by {d.working_days_late} working day(s)"
        elif d.completed is None:
            state += f", {d.working_days_left} working day(s) left" + (" (paused)" if s.paused_now else "")
        done = f"done {d.completed.isoformat()}" if d.completed else "not done"
        label = s.label.get("zh") or d.stage
        lines.append(f"  {d.stage}{instance} ({label})  due {d.due.isoformat()}  {done}  {state}")
    suggestions = case.get("suggestions") or ()
    if suggestions:
        lines += ["", "Suggestions (改进建议)"]
        for number, suggestion in enumerate(suggestions, 1):
            adopted = "adopted" if suggestion.get("adopted") else "not adopted"
            rewarded = ", rewarded" if suggestion.get("rewarded") else ""
            lines.append(f"  {number}. {json.dumps(suggestion.get('summary'), ensure_ascii=False)}  {adopted}{rewarded}")
    lines += ["", next_due_text(view)]
    return "\n".join(lines) + "\n"


def show_json(view: CaseView) -> str:
    case = view.case
    complainant = case.get("complainant") if isinstance(case.get("complainant"), Mapping) else {}
    assert isinstance(complainant, Mapping)
    document = {
        **_list_record(view.row),
        "channel": view.row.channel,
        "anonymous": complainant.get("anonymous") is True,
        "has_contact": bool(complainant.get("contact")),
        "summary": (case.get("subject") or {}).get("summary"),
        "timeline": [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in e.items()} for e in case.get("timeline") or ()],
        "stages": [s.to_json() for s in view.deadlines.stages],
        "suggestions": list(case.get("suggestions") or ()),
        "warnings": list(view.warnings),
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


SHOW_FORMATS: dict[str, Callable[[CaseView], str]] = {"text": show_text, "json": show_json}


def worst_first(stages_of: Sequence[Sequence[StageDeadline]]) -> list[int]:
    """Indexes of groups of stages ordered worst first: most overdue stages, then most
    working days late in total, then most due soon."""

    def badness(stages: Sequence[StageDeadline]) -> tuple[int, int, int]:
        overdue = [s for s in stages if s.state == OVERDUE]
        return (-len(overdue), -sum(s.working_days_late for s in overdue), -sum(1 for s in stages if s.state == DUE_SOON))

    return sorted(range(len(stages_of)), key=lambda i: badness(stages_of[i]))


def stage_keys(policy: Policy) -> tuple[str, ...]:
    return tuple(rule.key for rule in policy.time_limits.stages)
