"""`complaints deadlines` and the repository-wide deadline runs `overdue`, `notify` and the
receipts build on: the repository's calendar, every valid case's stages (through the parallel
cached scan), one case explained. The rules themselves are in core/deadlines.py.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Collection, Sequence

from complaints.errors import CaseError
from complaints.core.calendar import WorkCalendar
from complaints.core.deadlines import CaseDeadlines, case_as_of, explain_case
from complaints.core.policy import Policy
from complaints.core.stages import StageDeadline
from complaints.adapters.config import load_calendar
from complaints.adapters.repository import Repository
from complaints.commands.validate import skipped_warning
from complaints.engine.derivations import StageRecords, touch_calendar
from complaints.engine.scan import case_records, read_case


@dataclass(frozen=True)
class RepositoryDeadlines:
    deadlines: tuple[StageDeadline, ...]
    warnings: tuple[str, ...]
    skipped: tuple[str, ...] = ()  # case files left out because they do not pass validation
    provisional_years: tuple[int, ...] = ()  # unconfirmed years some date was computed in


def provisional_allowed(policy: Policy, accept_unconfirmed: bool = False) -> bool:
    """Whether dates in a year whose official calendar is not known are computed provisionally
    (the policy's ``time_limits.unconfirmed_years``, ``provisional`` unless it says ``error``;
    ``accept_unconfirmed`` overrides an ``error``)."""
    return accept_unconfirmed or policy.time_limits.provisional_years


def repository_calendar(repo: Repository, accept_unconfirmed: bool = False) -> WorkCalendar:
    """The repository's working-day calendar, unconfirmed years handled as its policy says."""
    return load_calendar(repo.root, accept_unconfirmed=provisional_allowed(repo.policy, accept_unconfirmed))


def repository_run(
    repo: Repository,
    today: dt.date,
    *,
    warn_days: int | None = None,
    accept_unconfirmed: bool = False,
    checked_on: dt.date | None = None,
    states: Collection[str] | None = None,
    skipped: list[str] | None = None,
    listed: Sequence[str] | None = None,
) -> RepositoryDeadlines:
    """Every started stage of every valid case in the repository, with calendar warnings.

    ``checked_on`` (the real today, when ``today`` is a day in the past) is the day the files
    are validated against: looking back, each case is read as it stood on ``today`` (later
    events ignored, cases received later left out), as a supervisor saw it then. With
    ``states``, only the stages in one of these states (the rest are dropped in the workers, so a
    large archive's finished stages never fill memory). The invalid case files are listed in
    ``skipped`` when it is given (and in the result's ``skipped`` always)."""
    calendar = repository_calendar(repo, accept_unconfirmed)
    as_of = today if checked_on is not None and checked_on != today else None
    check_day = checked_on if as_of is not None else today
    assert check_day is not None
    found: list[StageDeadline] = []
    if skipped is None:
        skipped = []
    # In worker processes, and from the cache for cases no later day can change (cache.py).
    send = None if states is None else frozenset(states)
    # The calendar needs the envelope of the spans only (touch_calendar), kept as they come
    # rather than as a span per case.
    first = last = None
    for _path, stages, span in case_records(repo, check_day, StageRecords(repo.policy, calendar, warn_days, as_of, send), skipped, listed=listed):
        # A cached record holds every stage; one from a worker only those sent.
        if stages.stages:
            found.extend(stages.deadlines(send))
        if span is not None:
            if first is None or last is None:
                first, last = span
            else:
                if span[0] < first:
                    first = span[0]
                if span[1] > last:
                    last = span[1]
    touch_calendar(calendar, [] if first is None or last is None else [(first, last)])
    extra = (skipped_warning(skipped),) if skipped else ()
    return RepositoryDeadlines(tuple(found), (*calendar.warnings, *extra), tuple(skipped), calendar.provisional_years)


def repository_deadlines(
    repo: Repository, today: dt.date, *, warn_days: int | None = None, accept_unconfirmed: bool = False, skipped: list[str] | None = None
) -> list[StageDeadline]:
    """Every started stage of every valid case in the repository (see :func:`repository_run`
    for the calendar warnings that go with them)."""
    return list(repository_run(repo, today, warn_days=warn_days, accept_unconfirmed=accept_unconfirmed, skipped=skipped).deadlines)


def case_report(
    repo: Repository,
    case_id: str,
    today: dt.date,
    *,
    warn_days: int | None = None,
    accept_unconfirmed: bool = False,
    checked_on: dt.date | None = None,
) -> CaseDeadlines:
    """The explained stages of one case, found by id (what `complaints deadlines` shows).
    The case must pass validation (engine.scan.read_case raises CaseError otherwise); with
    ``checked_on`` (the real today) it is validated then and read as it stood on ``today``."""
    path, case = read_case(repo, case_id, checked_on or today)
    calendar = repository_calendar(repo, accept_unconfirmed)
    then = case_as_of(case, today) if checked_on is not None else case
    if then is None:
        raise CaseError(f"{path}: case {case_id} was received after {today.isoformat()}")
    return explain_case(then, path, repo.policy, calendar, today, warn_days=warn_days)
