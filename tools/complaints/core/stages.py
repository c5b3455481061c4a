"""A case's stages as the deadline engine reports them: the stage states and one stage's
clock (:class:`StageDeadline`), what `deadlines`, `overdue`, `notify`, `stats` and the
receipts all work from."""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, Collection, NamedTuple, Tuple

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


# One stage instance of a case, as the deadline engine computes it, compactly:
# (started, stage, instance, due, completed, state, working_days_late, working_days_left,
# provisional), the fields of StageDeadline that differ from stage to stage of a case.
StageRow = Tuple[dt.date, str, int, dt.date, "dt.date | None", str, int, int, bool]


class CaseStages(NamedTuple):
    """Every started stage of one case: what the stages share once, and a row per stage in the
    engine's order (started, stage, instance). What the scan's workers compute, cache and send
    back: plain values in tuples, a few hundred bytes a case, made into StageDeadlines only
    where a consumer wants them (:meth:`deadlines`)."""

    case_id: str
    path: str
    department: str | None
    handler: str | None
    category: str
    priority: str
    stages: tuple[StageRow, ...]

    def deadlines(self, states: Collection[str] | None = None) -> tuple[StageDeadline, ...]:
        """The stages as StageDeadlines (only those in one of ``states`` when given)."""
        case_id, path, department, handler, category, priority = self[:6]
        return tuple(
            StageDeadline(case_id, path, stage, started, due, completed, state, late, left, department, handler,
                          category, priority, instance, provisional)
            for started, stage, instance, due, completed, state, late, left, provisional in self.stages
            if states is None or state in states
        )

    def codec_pack(self) -> list[Any]:
        """The record as flat plain values for the result cache (adapters/datacodec.py): the
        shared fields, then nine values a stage, dates as ordinals."""
        out: list[Any] = [self.case_id, self.path, self.department, self.handler, self.category, self.priority]
        for started, stage, instance, due, completed, state, late, left, provisional in self.stages:
            out += (started.toordinal(), stage, instance, due.toordinal(),
                    None if completed is None else completed.toordinal(), state, late, left, provisional)  # fmt: skip
        return out

    @classmethod
    def codec_unpack(cls, values: list[Any]) -> CaseStages:
        """The record ``codec_pack`` gave ``values``; ValueError for anything else."""
        if len(values) < 6 or (len(values) - 6) % 9:
            raise ValueError("the wrong number of values")
        case_id, path, department, handler, category, priority = values[:6]
        if not (_text(case_id) and _text(path) and _text(category) and _text(priority)
                and (department is None or _text(department)) and (handler is None or _text(handler))):  # fmt: skip
            raise ValueError("a field of the wrong type")
        rows = []
        for at in range(6, len(values), 9):
            started, stage, instance, due, completed, state, late, left, provisional = values[at : at + 9]
            if not (_number(started) and _text(stage) and _number(instance) and _number(due) and _text(state)
                    and (completed is None or _number(completed)) and _number(late) and _number(left)
                    and type(provisional) is bool):  # fmt: skip
                raise ValueError("a stage value of the wrong type")
            rows.append((_day(started), _key(stage), instance, _day(due), None if completed is None else _day(completed),
                         _key(state), late, left, provisional))  # fmt: skip
        return cls(case_id, path, _key(department), _key(handler), _key(category), _key(priority), tuple(rows))

    def only(self, states: Collection[str]) -> CaseStages:
        """The same case with only the stages in one of ``states``."""
        return self._replace(stages=tuple(row for row in self.stages if row[5] in states))

    @property
    def settled(self) -> bool:
        """Every stage completed: no later day changes them."""
        return all(row[4] is not None for row in self.stages)

    def span(self, today: dt.date) -> tuple[int, int] | None:
        """The dates the computation looked at (as ordinals): the first start to the last due
        or completion date, and today while a stage is open."""
        return self.settled_span(today)[1]

    def settled_span(self, today: dt.date) -> tuple[bool, tuple[int, int] | None]:
        """(:attr:`settled`, :meth:`span`) in one pass over the rows."""
        rows = self.stages
        if not rows:
            return True, None
        settled = True
        first, last = rows[0][0], rows[0][3]  # rows are in order of their start
        for row in rows:
            completed, due = row[4], row[3]
            if completed is None:
                settled = False
                if due > last:
                    last = due
            elif completed > last or due > last:
                last = completed if completed > due else due
        if not settled and today > last:
            last = today
        return settled, (first.toordinal(), last.toordinal())


def _text(value: Any) -> bool:
    return type(value) is str


def _number(value: Any) -> bool:
    return type(value) is int


def _key(value: Any) -> Any:
    # A vocabulary key repeated in every record: one object per process.
    return sys.intern(value) if type(value) is str else value


# ordinal -> date: the records of an archive fall on a few thousand days, one object each.
_DAYS: dict[int, dt.date] = {}


def _day(ordinal: int) -> dt.date:
    day = _DAYS.get(ordinal)
    if day is None:
        day = dt.date.fromordinal(ordinal)
        if len(_DAYS) < 100_000:
            _DAYS[ordinal] = day
    return day
