"""A case's stages as the deadline engine reports them: the stage states and one stage's
clock (:class:`StageDeadline`), what `deadlines`, `overdue`, `notify`, `stats` and the
receipts all work from."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

# Stage states reported by the deadline engine.
DONE_ON_TIME = "done_on_time"
DONE_LATE = "done_late"
OPEN = "open"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
STAGE_STATES: tuple[str, ...] = (DONE_ON_TIME, DONE_LATE, OPEN, DUE_SOON, OVERDUE)


@dataclass(frozen=True, slots=True)
class StageDeadline:
    """One stage of one case, with its clock: what `deadlines`, `overdue`, `notify` and
    `stats` all work from. Holds ids, dates and vocabulary keys only, never free text."""

    case_id: str
    path: str  # the case file, relative to the repository root, with forward slashes
    stage: str  # a key of policy.time_limits.stages
    started: dt.date  # the day the clock started (that day itself does not count)
    due: dt.date  # after extensions and pauses
    completed: dt.date | None  # None while the stage is open
    state: str  # one of STAGE_STATES
    working_days_late: int  # > 0 only for overdue and done_late
    working_days_left: int  # working days from today to due; 0 once due or done
    department: str | None  # the department holding the case now (after transfers)
    handler: str | None  # the handler in charge now
    category: str
    priority: str
    # 1 for the first (usually only) instance; a repeating stage (review) numbers each start
    # event 1, 2, ... in timeline order, so (case_id, stage, instance) is a stable key.
    instance: int = 1
    # The due date (or the lateness) rests on a year whose official calendar is not known yet:
    # computed on weekends and statutory holidays only, it may move once the year is announced.
    provisional: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        # Its fields in a tuple: 100,000s of these cross from the scan's workers, and this
        # pickles in well under the time of the default (a dict of the slots per record).
        return StageDeadline, _FIELDS(self)


_FIELDS = attrgetter(*(f.name for f in fields(StageDeadline)))
