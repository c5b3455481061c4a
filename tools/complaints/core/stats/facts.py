"""What statistics may know of a case: `case_facts` reduces a valid case and its stage
deadlines (from the deadline engine) to keys, booleans and dates — nothing free-text leaves
this step, and the report shows nothing finer than a month."""
from __future__ import annotations

import datetime as dt
import sys
from typing import Any, Mapping, NamedTuple, Protocol, Sequence

from complaints.core.calendar import WorkCalendar
from complaints.core.deadlines import day_of, stage_outcomes
from complaints.core.policy import Policy
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, CaseStages, StageDeadline, StageRow
from complaints.core.stats.periods import month_of
from complaints.errors import CalendarError

# received day -> its month (YYYY-MM); a few thousand days at most.
_MONTHS: dict[dt.date, str] = {}


class WorkingDays(Protocol):
    def working_days_between(self, start: dt.date, end: dt.date) -> int: ...


class StageFact(NamedTuple):
    stage: str
    state: str
    working_days: int | None  # from start to completion, completed stages only


class CaseFacts(NamedTuple):
    """What statistics may know of a case: keys, flags and dates kept in the library only
    (the report shows months). Never free text.

    A named tuple, not a frozen dataclass: one is made per case of every `stats` and site
    build, and a tuple is made in one step where a frozen dataclass sets each of its
    nineteen fields through object.__setattr__ (several times the cost)."""

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
        """The month received (YYYY-MM)."""
        received = self[0]
        month = _MONTHS.get(received)
        if month is None:
            month = month_of(received)
            if len(_MONTHS) < 100_000:
                _MONTHS[received] = month
        return month

    def __reduce__(self) -> tuple[Any, ...]:
        # Its fields in plain tuples, the stage facts as (stage, state, days) tuples, all
        # pickled and hashed in C: the receiving process shares them, the days and tuples
        # as codec_unpack does, so the records it holds for the tables cost one object per
        # distinct value.
        return _restore, (tuple(self[:17]), tuple(map(tuple, self[17])), self[18])

    def codec_pack(self) -> list[Any]:
        """The record as flat plain values for the result cache (adapters/datacodec.py): the
        single fields (dates as ordinals), then each tuple as its length and its items."""
        (received, channel, category, priority, departments, anonymous, accepted, reason, finished, resolved, measures,
         extended, paused, satisfaction, review_requested, review_outcome, suggestions, stages, outcome) = self  # fmt: skip
        out: list[Any] = [
            received.toordinal(), channel, category, priority, anonymous, accepted, reason,
            None if finished is None else finished.toordinal(), resolved, extended, paused, satisfaction,
            review_requested, review_outcome, outcome,
            len(departments), *departments, len(measures), *measures, len(suggestions),
        ]  # fmt: skip
        for pair in suggestions:
            out += pair
        out.append(len(stages))
        for fact in stages:
            out += fact
        return out

    @classmethod
    def codec_unpack(cls, values: list[Any]) -> CaseFacts:
        """The record ``codec_pack`` gave ``values``; ValueError for anything else."""
        (received, channel, category, priority, anonymous, accepted, reason, finished, resolved, extended, paused,
         satisfaction, review_requested, review_outcome, outcome) = values[:15]  # fmt: skip
        if not (type(received) is int and (finished is None or type(finished) is int)
                and all(type(v) is str for v in (channel, category, priority))
                and all(type(v) is bool for v in (anonymous, accepted, resolved, extended, paused, review_requested))
                and all(v is None or type(v) is str for v in (reason, satisfaction, review_outcome, outcome))):  # fmt: skip
            raise ValueError("a field of the wrong type")
        at = 15
        departments, at = _texts(values, at)
        measures, at = _texts(values, at)
        count = _count(values, at)
        flags = values[at + 1 : at + 1 + 2 * count]
        if len(flags) != 2 * count or any(type(v) is not bool for v in flags):
            raise ValueError("a suggestion of the wrong type")
        suggestions = tuple(zip(flags[0::2], flags[1::2]))
        at += 1 + 2 * count
        count = _count(values, at)
        items = values[at + 1 : at + 1 + 3 * count]
        if len(items) != 3 * count or at + 1 + 3 * count != len(values):
            raise ValueError("the wrong number of values")
        keys = []
        for i in range(0, len(items), 3):
            stage, state, days = items[i : i + 3]
            if type(stage) is not str or type(state) is not str or not (days is None or type(days) is int):
                raise ValueError("a stage fact of the wrong type")
            keys.append((stage, state, days))
        return cls(
            _share(_date_of(received)), _key(channel), _key(category), _key(priority), _share(departments), anonymous, accepted,
            _key(reason), None if finished is None else _share(_date_of(finished)), resolved, _share(measures), extended, paused,
            _key(satisfaction), review_requested, _key(review_outcome), _share(suggestions), _stage_facts(tuple(keys)), _key(outcome),
        )  # fmt: skip


def _restore(values: tuple[Any, ...], keys: tuple[tuple[str, str, int | None], ...], outcome: str | None) -> CaseFacts:
    """The record ``CaseFacts.__reduce__`` sent, its days, tuples and texts shared."""
    (received, channel, category, priority, departments, anonymous, accepted, reason, finished, resolved, measures,
     extended, paused, satisfaction, review_requested, review_outcome, suggestions) = values  # fmt: skip
    return CaseFacts(
        _share(received), _key(channel), _key(category), _key(priority), _share(departments), anonymous, accepted,
        _key(reason), None if finished is None else _share(finished), resolved, _share(measures), extended, paused,
        _key(satisfaction), review_requested, _key(review_outcome), _share(suggestions), _stage_facts(keys), _key(outcome),
    )  # fmt: skip


def _count(values: list[Any], at: int) -> int:
    count = values[at] if at < len(values) else None
    if type(count) is not int or count < 0:
        raise ValueError("a malformed count")
    return count


def _texts(values: list[Any], at: int) -> tuple[tuple[str, ...], int]:
    count = _count(values, at)
    items = values[at + 1 : at + 1 + count]
    if len(items) != count or any(type(v) is not str for v in items):
        raise ValueError("a list of keys of the wrong type")
    return tuple([sys.intern(v) for v in items]), at + 1 + count


def _date_of(ordinal: int) -> dt.date:
    return dt.date.fromordinal(ordinal)


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return day_of(value)


# Records repeat a few keys, days and stage facts case after case: one object each per
# process, so the records are small to send from the scan's workers and to hold in memory.
_SHARED: dict[Any, Any] = {}
_MAX_SHARED = 100_000


def _share(value: Any) -> Any:
    try:
        found = _SHARED.get(value)
    except TypeError:  # not hashable: kept as it is
        return value
    if found is not None:
        return found
    if len(_SHARED) < _MAX_SHARED:
        _SHARED[value] = value
    return value


def _text(value: object) -> str:
    return value if type(value) is str else str(value)


def _key(value: Any) -> Any:
    return sys.intern(value) if type(value) is str else value


def case_facts(
    case: Mapping[str, Any], stages: Sequence[StageDeadline], calendar: WorkingDays, today: dt.date
) -> CaseFacts:
    """Reduce a valid case and its stage deadlines to what the statistics count. Events dated
    after `today` are ignored."""
    rows = [(s.started, s.stage, 0, s.due, s.completed, s.state) for s in stages]
    return _facts(case, rows, calendar, today)


def case_facts_of(case: Mapping[str, Any], rows: Sequence[StageRow], calendar: WorkingDays, today: dt.date) -> CaseFacts:
    """case_facts from the deadline engine's rows (core.stages.CaseStages.stages)."""
    return _facts(case, rows, calendar, today)


def shared(facts: CaseFacts) -> CaseFacts:
    """``facts`` with its days, tuples and texts shared with the other records this process
    made shared (one object per distinct value): for a caller that holds many records (the
    records crossing from the scan's workers and those read from the cache are shared as
    they arrive)."""
    values, keys, outcome = facts.__reduce__()[1]
    return _restore(values, keys, outcome)


def cases_facts_fast(
    cases: Sequence[tuple[str, Mapping[str, Any]]], policy: Policy, calendar: WorkCalendar, today: dt.date
) -> list[tuple[CaseFacts, CaseStages]]:
    """For each (path, case), in order: case_facts_of the case's stages (case_stages_of), and
    those stages as deadlines.stage_outcomes gives them (enough for their dates and states).
    What the scan's workers derive for every case of a `stats` or site build: the stages'
    counts the facts do not read left out, and the timeline's dates read once for both.
    Every case's stages first, then every case's facts, in two loops rather than both for
    each case in turn (each loop then keeps its code and data in the processor's caches:
    16.0 -> 14.2 µs a case). tests/core/test_deadlines_fast.py holds it to the reference."""
    staged: list[tuple[CaseStages, list[dt.date]]] = []
    for path, case in cases:
        dates: list[dt.date] = []
        staged.append((stage_outcomes(case, path, policy, calendar, today, dates), dates))
    out = []
    for (path, case), (stages, dates) in zip(cases, staged):
        try:
            facts = _facts(case, stages.stages, calendar, today, dates)
        except CalendarError as exc:
            # A stage in calendar days the stages did not count in working days, completed in a
            # year the calendar refuses: named with its file, as the stages' own refusal is.
            raise CalendarError(f"{path}: {exc}") from None
        out.append((facts, stages))
    return out


def _facts(
    case: Mapping[str, Any], rows: Sequence[Sequence[Any]], calendar: WorkingDays, today: dt.date,
    dates: Sequence[dt.date | None] | None = None,
) -> CaseFacts:
    # rows: the engine's stage rows (started, stage, _, _, completed, state, ...) in its
    # order. This runs for every case of a `stats` or site build, in the scan's workers,
    # which count the record and cache it, not keep it: one pass over the timeline, each
    # date looked up once (``dates``: the engine's, in event order), only the last event of
    # each kind the facts read kept, and no sharing of values (see ``shared``).
    timeline = case.get("timeline", [])
    if dates is None:
        # Only the events that are mappings count.
        dates = [_date(e["date"]) if type(e) is dict or isinstance(e, Mapping) else None for e in timeline]
    kinds: set[str] = set()
    finished: dt.date | None = None
    received: dt.date | None = None
    not_accepted = follow = answered = last_resolved = None
    measures: list[str] = []
    for e, day in zip(timeline, dates):
        if day is None:
            continue
        if received is None:
            # a valid timeline opens with `received`; its date is the case's cohort month
            received = day
        if day > today:
            continue
        kind = e["kind"]
        kinds.add(kind)
        if kind in _FINISHING and (finished is None or day < finished):
            finished = day
        if kind == "resolved":
            last_resolved = e
            for m in e.get("measures") or ():
                if m not in measures:
                    measures.append(m)
        elif kind == "not_accepted":
            not_accepted = e
        elif kind == "followed_up":
            follow = e
        elif kind == "review_answered":
            answered = e
    if received is None:
        received = _date(timeline[0]["date"])
    keys = []
    resolved = False
    between = calendar.working_days_between
    for row in rows:
        stage, completed, state = row[1], row[4], row[5]
        keys.append((stage, state, None if completed is None else between(row[0], completed)))
        if stage == "resolve" and (state == DONE_ON_TIME or state == DONE_LATE):
            resolved = True
    subject = case.get("subject", {})
    accepted = "accepted" in kinds
    suggestions = case.get("suggestions")
    return CaseFacts(
        received,
        _text(case.get("channel")),
        _text(subject.get("category")),
        _text(case.get("priority")),
        tuple(subject.get("departments") or ()),
        bool(case.get("complainant", {}).get("anonymous")),
        accepted,
        _text(not_accepted.get("reason")) if not_accepted is not None and not accepted else None,
        finished,
        resolved,
        tuple(measures) if last_resolved is not None else (),
        "extended" in kinds,
        "paused" in kinds,
        _text(follow.get("satisfaction")) if follow is not None else None,
        "review_requested" in kinds,
        _text(answered.get("outcome")) if answered is not None else None,
        tuple([
            (bool(s.get("adopted")), bool(s.get("rewarded"))) for s in suggestions if isinstance(s, Mapping)
        ]) if suggestions else (),
        _stage_facts(tuple(keys)),
        _text(last_resolved.get("outcome")) if last_resolved is not None and resolved else None,
    )  # fmt: skip


# (stage, state, working days) of each stage of a case -> the one tuple of StageFacts: looked
# up by plain values (hashed in C), so that a case's stage facts cost one look-up; a tuple
# not seen yet is made of the shared StageFact of each triple (a few hundred among them all).
_STAGE_FACTS: dict[tuple[tuple[str, str, int | None], ...], tuple[StageFact, ...]] = {}
# Tuples of stage facts kept for look-up (about 470 bytes each with their key): the memo is for
# speed (the records are counted and dropped, not held): a process that derived 250,000 cases of
# the 1,000,000-case benchmark archive met 27,500 of them, and a worker derives twice as many;
# the first few thousand met answer most cases, and each kept costs every worker its bytes.
_MAX_STAGE_TUPLES = 5_000
_STAGE_FACT: dict[tuple[str, str, int | None], StageFact] = {}


def _stage_facts(keys: tuple[tuple[str, str, int | None], ...]) -> tuple[StageFact, ...]:
    found = _STAGE_FACTS.get(keys)
    if found is None:
        one = _STAGE_FACT
        facts = []
        for key in keys:
            fact = one.get(key)
            if fact is None:
                fact = StageFact(_key(key[0]), _key(key[1]), key[2])
                if len(one) < _MAX_SHARED:
                    one[key] = fact
            facts.append(fact)
        found = tuple(facts)
        if len(_STAGE_FACTS) < _MAX_STAGE_TUPLES:
            _STAGE_FACTS[keys] = found
    return found


_FINISHING = frozenset({"resolved", "not_accepted", "closed"})
