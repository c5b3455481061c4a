"""A small, hand-computed statistics fixture shared by the metric, disclosure and page tests:
six cases of Q1 2026 as facts, a weekday-only calendar and the template's policy with a chosen
publication threshold."""
from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from complaints.adapters.config import load_policy
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, DUE_SOON, OPEN, OVERDUE
from complaints.core.stats.facts import CaseFacts, StageFact

from conftest import TEMPLATE


class Weekdays:
    """Monday to Friday, no holidays: easy to count by hand."""

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        n, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            n += day.weekday() < 5
        return n


def policy(threshold: int = 1) -> dict[str, Any]:
    raw = copy.deepcopy(load_policy(TEMPLATE).raw)
    raw["publication"] = {**raw.get("publication", {}), "threshold": threshold}
    return raw


def fact(received: str, **kw: Any) -> CaseFacts:
    base: dict[str, Any] = dict(
        received=dt.date.fromisoformat(received), channel="mailbox", category="delay", priority="normal",
        departments=("permits",), anonymous=False, accepted=True, not_accepted_reason=None, finished=None,
        resolved=False, measures=(), extended=False, paused=False, satisfaction=None, review_requested=False,
        review_outcome=None, suggestions=(), stages=(),
    )
    base.update(kw)
    if isinstance(base["finished"], str):
        base["finished"] = dt.date.fromisoformat(base["finished"])
    base["stages"] = tuple(StageFact(s, state, days) for s, state, days in base["stages"])
    return CaseFacts(**base)


# Six cases, Q1 2026, read on 2026-03-31.
FACTS = [
    # F1 Jan, mailbox/delay/normal/permits, named; resolved late, extended; satisfied; review upheld.
    fact("2026-01-05", finished="2026-02-10", resolved=True, measures=("correction", "talk"), extended=True,
         satisfaction="satisfied", review_requested=True, review_outcome="upheld", suggestions=((True, True),),
         stages=[("acknowledge", DONE_ON_TIME, 1), ("decide", DONE_ON_TIME, 2), ("resolve", DONE_LATE, 25),
                 ("follow_up", DONE_ON_TIME, 3), ("review", DONE_ON_TIME, 10)]),
    # F2 Jan, hotline/attitude/urgent/registry+permits, anonymous; acknowledged late; paused.
    fact("2026-01-20", channel="hotline", category="attitude", priority="urgent", departments=("registry", "permits"),
         anonymous=True, finished="2026-01-30", resolved=True, measures=("apology",), paused=True,
         suggestions=((False, False),),
         stages=[("acknowledge", DONE_LATE, 7), ("decide", DONE_ON_TIME, 3), ("resolve", DONE_ON_TIME, 8)]),
    # F3 Jan, online_form/delay/it: not accepted (out of scope).
    fact("2026-01-28", channel="online_form", departments=("it",), accepted=False, not_accepted_reason="out_of_scope",
         finished="2026-01-30", stages=[("acknowledge", DONE_ON_TIME, 2), ("decide", DONE_ON_TIME, 2)]),
    # F4 Feb, mailbox/shirking/finance: accepted, resolve overdue, still open.
    fact("2026-02-10", category="shirking", departments=("finance",),
         stages=[("acknowledge", DONE_ON_TIME, 1), ("decide", DONE_ON_TIME, 1), ("resolve", OVERDUE, None)]),
    # F5 Feb, online_form/delay/permits: resolved on time, dissatisfied, review pending, 2 suggestions.
    fact("2026-02-25", channel="online_form", finished="2026-03-10", resolved=True, satisfaction="dissatisfied",
         review_requested=True, suggestions=((True, False), (False, False)),
         stages=[("acknowledge", DONE_ON_TIME, 2), ("decide", DONE_ON_TIME, 2), ("resolve", DONE_ON_TIME, 12),
                 ("follow_up", DONE_LATE, 12), ("review", OPEN, None)]),
    # F6 Mar, letter/other/hr, anonymous: not yet decided, stages still running.
    fact("2026-03-25", channel="letter", category="other", departments=("hr",), anonymous=True, accepted=False,
         stages=[("acknowledge", OPEN, None), ("decide", DUE_SOON, None)]),
]
