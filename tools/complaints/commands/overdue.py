"""`complaints overdue`: every late and nearly late stage across the repository, grouped by
department and handler (render/overdue.py prints it). Only ids, dates, numbers, vocabulary
keys and policy labels appear — never free text from a case.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Mapping

from complaints.core.deadlines import stage_key
from complaints.core.policy import HANDLERS, STAGES, Policy
from complaints.core.stages import DUE_SOON, OVERDUE, StageDeadline
from complaints.adapters.cache import memoized
from complaints.adapters.repository import Repository
from complaints.commands.deadlines import repository_run
from complaints.engine.inputs import snapshot


@dataclass(frozen=True)
class HandlerGroup:
    """The late and nearly late stages one department and handler hold."""

    department: str | None
    department_label: str
    handler: str | None
    handler_label: str
    stages: tuple[StageDeadline, ...]

    @property
    def overdue(self) -> int:
        return sum(1 for s in self.stages if s.state == OVERDUE)

    @property
    def due_soon(self) -> int:
        return sum(1 for s in self.stages if s.state == DUE_SOON)


@dataclass(frozen=True)
class OverdueReport:
    today: dt.date
    warn_days: int
    groups: tuple[HandlerGroup, ...]
    stage_labels: Mapping[str, str]
    warnings: tuple[str, ...] = ()
    skipped: int = 0  # case files left out because they do not pass validation

    @property
    def overdue(self) -> int:
        return sum(g.overdue for g in self.groups)

    @property
    def due_soon(self) -> int:
        return sum(g.due_soon for g in self.groups)

    @property
    def has_overdue(self) -> bool:
        return self.overdue > 0


def _stage_labels(policy: Policy, lang: str = "zh") -> dict[str, str]:
    return {rule.key: policy.label(STAGES, rule.key, lang) for rule in policy.time_limits.stages}


def group_stages(deadlines: list[StageDeadline], policy: Policy) -> tuple[HandlerGroup, ...]:
    """Overdue and due-soon stages, grouped by (department, handler); unassigned last. Within a
    group: overdue first, most working days late first, then by due date and key."""
    buckets: dict[tuple[str | None, str | None], list[StageDeadline]] = {}
    for d in deadlines:
        if d.state in (OVERDUE, DUE_SOON):
            buckets.setdefault((d.department, d.handler), []).append(d)
    groups = []
    # Worst first: the most overdue stages, then the most working days late, then the most due
    # soon; ties alphabetically with the unassigned last.
    for (department, handler), stages in sorted(
        buckets.items(),
        key=lambda kv: (
            -sum(1 for s in kv[1] if s.state == OVERDUE),
            -sum(s.working_days_late for s in kv[1] if s.state == OVERDUE),
            -sum(1 for s in kv[1] if s.state == DUE_SOON),
            kv[0][0] is None, kv[0][0] or "", kv[0][1] is None, kv[0][1] or "",
        ),
    ):
        stages.sort(key=lambda s: (s.state != OVERDUE, -s.working_days_late, s.due, stage_key(s)))
        groups.append(
            HandlerGroup(
                department,
                policy.label("departments", department),
                handler,
                policy.label(HANDLERS, handler),
                tuple(stages),
            )
        )
    return tuple(groups)


_LATE = frozenset({OVERDUE, DUE_SOON})


def overdue_report(
    repo: Repository,
    today: dt.date,
    *,
    warn_days: int | None = None,
    accept_unconfirmed: bool = False,
    checked_on: dt.date | None = None,
) -> OverdueReport:
    """Every overdue and due-soon stage across the repository, grouped (`complaints overdue`).
    With ``checked_on`` (the real today) and an earlier ``today``, each case is read as it
    stood on ``today`` (see commands.deadlines.repository_run)."""

    inputs = snapshot(repo) if repo.use_cache else None

    def compute() -> OverdueReport:
        run = repository_run(
            repo, today, warn_days=warn_days, accept_unconfirmed=accept_unconfirmed, checked_on=checked_on, states=_LATE,
            listed=inputs.files if inputs is not None else None,
        )
        warn = repo.policy.time_limits.warn_days if warn_days is None else warn_days
        return OverdueReport(
            today=today,
            warn_days=warn,
            groups=group_stages(list(run.deadlines), repo.policy),
            stage_labels=_stage_labels(repo.policy),
            warnings=run.warnings,
            skipped=len(run.skipped),
        )

    if inputs is None:
        return compute()
    # An unchanged archive asked the same question gets the stored answer (cache.py); the
    # files listed for the digest are the ones checked when it does not.
    purpose = f"overdue-report\x00{today}\x00{warn_days}\x00{accept_unconfirmed}\x00{checked_on}\x00{inputs.digest}"
    return memoized(repo.root, "overdue-report", purpose, OverdueReport, compute, (OverdueReport, HandlerGroup, StageDeadline))


def filter_groups(report: OverdueReport, handlers: tuple[str, ...] = (), departments: tuple[str, ...] = ()) -> OverdueReport:
    """The report with only the groups of these handlers and departments (all when empty)."""
    groups = tuple(
        g for g in report.groups
        if (not handlers or g.handler in handlers) and (not departments or g.department in departments)
    )  # fmt: skip
    return replace(report, groups=groups)
