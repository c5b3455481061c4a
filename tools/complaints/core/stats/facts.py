"""What statistics may know of a case: `case_facts` reduces a valid case and its stage
deadlines (from the deadline engine) to keys, booleans and dates — nothing free-text leaves
this step, and the report shows nothing finer than a month."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, Mapping, Protocol, Sequence

from complaints.core.stages import DONE_LATE, DONE_ON_TIME, StageDeadline
from complaints.core.stats.periods import month_of

class WorkingDays(Protocol):
    def working_days_between(self, start: dt.date, end: dt.date) -> int: ...


@dataclass(frozen=True, slots=True)
class StageFact:
    stage: str
    state: str
    working_days: int | None  # from start to completion, completed stages only

    def __reduce__(self) -> tuple[Any, ...]:
        return StageFact, (self.stage, self.state, self.working_days)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What statistics may know of a case: keys, flags and dates kept in the library only
    (the report shows months). Never free text."""

    received: dt.date
    channel: str
    category: str
    priority: str
    departments: tuple[str, ...]
    anonymous: bool
    accepted: bool
    not_accepted_reason: str | None
    finished: dt.date | None  # first resolved / not_accepted / closed: leaves the backlog
    resolved: bool  # the resolve stage is done
    measures: tuple[str, ...]
    extended: bool
    paused: bool
    satisfaction: str | None  # the last follow-up's answer
    review_requested: bool
    review_outcome: str | None  # the last answered review's outcome
    suggestions: tuple[tuple[bool, bool], ...]  # (adopted, rewarded)
    stages: tuple[StageFact, ...] = ()
    outcome: str | None = None  # the last resolution's outcome

    @property
    def month(self) -> str:
        return month_of(self.received)

    def __reduce__(self) -> tuple[Any, ...]:
        # Its fields in a tuple: one per case crosses from the scan's workers, and this pickles
        # in well under the time of the default (a dict of the slots per record).
        return CaseFacts, _CASE_FIELDS(self)


_CASE_FIELDS = attrgetter(*(f.name for f in fields(CaseFacts)))


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def case_facts(
    case: Mapping[str, Any], stages: Sequence[StageDeadline], calendar: WorkingDays, today: dt.date
) -> CaseFacts:
    """Reduce a valid case and its stage deadlines to what the statistics count. Events dated
    after `today` are ignored."""
    events = [e for e in case.get("timeline", []) if isinstance(e, Mapping) and _date(e["date"]) <= today]
    # a valid timeline opens with `received`; its date is the case's cohort month
    received = _date(case["timeline"][0]["date"])
    kinds = [e["kind"] for e in events]
    not_accepted = [e for e in events if e["kind"] == "not_accepted"]
    finished = [_date(e["date"]) for e in events if e["kind"] in ("resolved", "not_accepted", "closed")]
    resolved_events = [e for e in events if e["kind"] == "resolved"]
    measures: list[str] = []
    for e in resolved_events:
        for m in e.get("measures") or ():
            if m not in measures:
                measures.append(m)
    follow = [e for e in events if e["kind"] == "followed_up"]
    answered = [e for e in events if e["kind"] == "review_answered"]
    facts_stages = []
    for s in stages:
        days = calendar.working_days_between(s.started, s.completed) if s.completed is not None else None
        facts_stages.append(StageFact(s.stage, s.state, days))
    resolved = any(s.stage == "resolve" and s.state in (DONE_ON_TIME, DONE_LATE) for s in stages)
    subject = case.get("subject", {})
    complainant = case.get("complainant", {})
    return CaseFacts(
        received=received,
        channel=str(case.get("channel")),
        category=str(subject.get("category")),
        priority=str(case.get("priority")),
        departments=tuple(subject.get("departments") or ()),
        anonymous=bool(complainant.get("anonymous")),
        accepted="accepted" in kinds,
        not_accepted_reason=str(not_accepted[-1].get("reason")) if not_accepted and "accepted" not in kinds else None,
        finished=min(finished) if finished else None,
        resolved=resolved,
        measures=tuple(measures) if resolved_events else (),
        extended="extended" in kinds,
        paused="paused" in kinds,
        satisfaction=str(follow[-1].get("satisfaction")) if follow else None,
        review_requested="review_requested" in kinds,
        review_outcome=str(answered[-1].get("outcome")) if answered else None,
        suggestions=tuple(
            (bool(s.get("adopted")), bool(s.get("rewarded"))) for s in case.get("suggestions") or () if isinstance(s, Mapping)
        ),
        stages=tuple(facts_stages),
        outcome=str(resolved_events[-1].get("outcome")) if resolved_events and resolved else None,
    )
