"""Printing `complaints list` and `complaints show`: one registry of output formats per report,
each a function from the report to text."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any, Callable, Mapping

from complaints.commands.caselist import CaseListing, CaseRow, CaseView
from complaints.core.events import field_vocabulary
from complaints.core.stages import DONE_LATE, DUE_SOON, OPEN, OVERDUE, StageDeadline
from complaints.core.policy import STAGES, Policy
from complaints.core.vocabulary import STATE_LABELS

# ---- the list ---------------------------------------------------------------------------

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


# ---- one case ----------------------------------------------------------------------------------


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


def _stage_label(policy: Policy, stage: str) -> str:
    return policy.label(STAGES, stage)


def _with_label(policy: Policy, vocabulary: str, key: Any) -> str:
    if key is None:
        return "-"
    label = policy.label(vocabulary, str(key))
    return f"{key} ({label})" if label != str(key) else str(key)


def _event_details(policy: Policy, event: Mapping[str, Any]) -> str:
    kind = str(event.get("kind"))
    parts = []
    for name, value in event.items():
        if name in ("kind", "date"):
            continue
        vocabulary = field_vocabulary(kind, name)
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
