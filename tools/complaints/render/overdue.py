"""Text, JSON and CSV of the deadline reports: the repository-wide overdue listing
(commands/overdue.py) and one case's stages explained (commands/deadlines.py). Each format is
a function from the report to the text the CLI prints.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from complaints.core.calendar import CLOSURE, HOLIDAY, MAKEUP_WORKDAY
from complaints.core.deadlines import CaseDeadlines, StageExplanation, stage_key
from complaints.core.limits import CALENDAR_DAYS
from complaints.core.stages import OVERDUE, StageDeadline
from complaints.core.vocabulary import NONE_LABEL
from complaints.adapters.csvfile import csv_text
from complaints.commands.overdue import OverdueReport
from complaints.render.jsontext import pretty_json

# ---- the overdue listing ---------------------------------------------------------------------

CSV_COLUMNS = (
    "department",
    "handler",
    "case_id",
    "path",
    "stage",
    "instance",
    "key",
    "state",
    "started",
    "due",
    "working_days_late",
    "working_days_left",
    "category",
    "priority",
    "provisional",
)


def _row(d: StageDeadline) -> dict[str, Any]:
    return {
        "department": d.department,
        "handler": d.handler,
        "case_id": d.case_id,
        "path": d.path,
        "stage": d.stage,
        "instance": d.instance,
        "key": stage_key(d),
        "state": d.state,
        "started": d.started.isoformat(),
        "due": d.due.isoformat(),
        "working_days_late": d.working_days_late,
        "working_days_left": d.working_days_left,
        "category": d.category,
        "priority": d.priority,
        "provisional": d.provisional,
    }


def overdue_text(report: OverdueReport) -> str:
    lines = [f"Stages overdue or due within {report.warn_days} working day(s), as of {report.today.isoformat()}", ""]
    if not report.groups:
        lines.append("Nothing overdue or due soon.")
    for group in report.groups:
        department = f"{group.department} ({group.department_label})" if group.department else "not yet assigned to a department"
        handler = f"{group.handler} ({group.handler_label})" if group.handler else "no handler"
        lines.append(
            f"{department} / {handler}: "
            f"{group.overdue} overdue, {group.due_soon} due soon"
        )
        for d in group.stages:
            label = report.stage_labels.get(d.stage, d.stage)
            instance = f"#{d.instance}" if d.instance != 1 else ""
            if d.state == OVERDUE:
                status = f"OVERDUE by {d.working_days_late} working day(s)"
            else:
                status = f"due soon, {d.working_days_left} working day(s) left"
            provisional = " (provisional)" if d.provisional else ""
            lines.append(
                f"  {d.case_id}  {d.stage}{instance} ({label})  started {d.started.isoformat()}  "
                f"due {d.due.isoformat()}{provisional}  {status}  [{d.path}]"
            )
        lines.append("")
    marked = sum(1 for g in report.groups for d in g.stages if d.provisional)
    note = (
        f" {marked} due date(s) marked (provisional) fall in a year whose official calendar is not known yet."
        if marked
        else ""
    )
    left_out = (
        f" {report.skipped} case file(s) left out: they do not pass validation (run `complaints validate`)."
        if report.skipped
        else ""
    )
    lines.append(f"Total: {report.overdue} overdue, {report.due_soon} due soon.{left_out}{note}")
    return "\n".join(lines) + "\n"


def overdue_json(report: OverdueReport) -> str:
    document = {
        "today": report.today.isoformat(),
        "warn_days": report.warn_days,
        "overdue": report.overdue,
        "due_soon": report.due_soon,
        "skipped": report.skipped,
        "groups": [
            {
                "department": g.department,
                "department_label": g.department_label,
                "handler": g.handler,
                "handler_label": g.handler_label,
                "overdue": g.overdue,
                "due_soon": g.due_soon,
                "stages": [_row(d) for d in g.stages],
            }
            for g in report.groups
        ],
        "warnings": list(report.warnings),
    }
    return pretty_json(document) + "\n"


def overdue_csv(report: OverdueReport) -> str:
    rows = [[_row(d)[k] for k in CSV_COLUMNS] for group in report.groups for d in group.stages]
    return csv_text(CSV_COLUMNS, rows, lineterminator="\n")


OVERDUE_FORMATS: dict[str, Callable[[OverdueReport], str]] = {
    "text": overdue_text,
    "json": overdue_json,
    "csv": overdue_csv,
}


# ---- one case, explained --------------------------------------------------------------------

_KIND_TEXT = {HOLIDAY: "holiday", MAKEUP_WORKDAY: "make-up working day", CLOSURE: "closure"}


def _stage_text(s: StageExplanation) -> list[str]:
    d = s.deadline
    unit = s.unit.replace("_", " ")
    instance = f" #{s.instance}" if s.instance != 1 else ""
    label = s.label.get("zh") or d.stage
    lines = [f"{d.stage}{instance} ({label}) [{s.key}]"]
    lines.append(f"  started    {d.started.isoformat()} (not counted)")
    limit_from = "" if s.limit_from == "default" else f" ({s.limit_from})"
    lines.append(f"  limit      {s.limit} {unit}{limit_from}")
    for e in s.extensions:
        why = {"cap": "over the policy cap", "approver": "no approver the policy allows"}.get(e.refused, "")
        capped = f" of {e.requested} requested ({why})" if why else ""
        lines.append(
            f"  extension  +{e.applied} {unit}{capped}, {e.date.isoformat()}, approver {e.approver or NONE_LABEL} "
            f"[timeline[{e.index}]]"
        )
    for p in s.pauses:
        until = p.resumed.isoformat() if p.resumed else "still paused"
        lines.append(f"  pause      +{p.counted} {unit}: paused {p.paused.isoformat()}, resumed {until} [timeline[{p.index}]]")
    if s.total != s.limit:
        lines.append(f"  total      {s.total} {unit}")
    if s.rolled_from is not None:
        lines.append(
            f"  due        {d.due.isoformat()} (start + {s.total} days = {s.rolled_from.isoformat()}, "
            f"not a working day: moved to the next working day)"
        )
    else:
        notes = [why for why, applies in (
            ("provisional: the clock is paused", s.paused_now),
            ("provisional: the official calendar of the year is not known yet", d.provisional),
        ) if applies]
        provisional = f" ({'; '.join(notes)})" if notes else ""
        lines.append(f"  due        {d.due.isoformat()}{provisional}")
    lines.append(f"  completed  {d.completed.isoformat() if d.completed else NONE_LABEL}")
    state = d.state + (" (paused)" if s.paused_now else "")
    if d.working_days_late:
        state += f", {d.working_days_late} working day(s) late"
    elif d.completed is None and d.state != "overdue":
        state += f", {d.working_days_left} working day(s) left"
    lines.append(f"  state      {state}")
    if s.special_days:
        heading = (
            "  days that moved the due date (vs. plain Monday-Friday weeks):"
            if s.unit != CALENDAR_DAYS
            else "  holidays and make-up days between start and due (a calendar-day limit counts every day):"
        )
        lines.append(heading)
        for day in s.special_days:
            lines.append(
                f"    {day.date.isoformat()} {day.date.strftime('%a')}  {_KIND_TEXT.get(day.kind, day.kind)}: "
                f"{day.name} ({day.source})"
            )
    return lines


def case_text(report: CaseDeadlines) -> str:
    lines = [
        f"{report.case_id}  [{report.path}]  as of {report.today.isoformat()}",
        f"held by department {report.department or NONE_LABEL}, handler {report.handler or NONE_LABEL}",
        "",
    ]
    if not report.stages:
        lines.append("No stage has started.")
    for s in report.stages:
        lines.extend(_stage_text(s))
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def case_json(report: CaseDeadlines) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"


CASE_FORMATS: dict[str, Callable[[CaseDeadlines], str]] = {"text": case_text, "json": case_json}
