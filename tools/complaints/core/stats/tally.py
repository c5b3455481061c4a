"""The counts the tables are read from, folded case by case (`Tally`): how many cases count in
each cell by month, the working days of completed stages by stage and month, which
dimensions hold values outside the policy, and when each case was open.

A tally is a sum: two tallies of two parts of an archive merge into the tally of the whole,
in any order. So the scan's workers fold the facts of the cases they derive into a tally of
their batch and send that instead of a record per case (engine/derivations.FactFold), and
what the parent holds for the tables grows little with the number of cases (the cell counts
grow with the months; when each case was open is one 4-byte item a case). tables.py lays a
year's counts into its lattice; what a case counts in is decided here, in `Tally.add_all`,
and only here.
"""
from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence, TypeVar

from complaints.core.policy import PublicationSettings
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, OVERDUE
from complaints.core.stats.facts import CaseFacts

UNLISTED = "unlisted"

# dimension -> the policy vocabulary its keys come from (the stages are time_limits.stages)
VOCABULARIES = {
    "channel": "channels",
    "category": "categories",
    "priority": "priorities",
    "department": "departments",
    "reason": "not_accepted_reasons",
    "outcome": "review_outcomes",
    "resolution": "outcomes",
    "satisfaction": "satisfaction",
    "measure": "measures",
}


def vocabulary_keys(raw: Mapping[str, Any], vocabulary: str) -> list[str]:
    """The keys of a policy vocabulary, in the policy's order."""
    return [str(key) for key in (raw.get(vocabulary) or {})]


def stage_keys(raw: Mapping[str, Any]) -> list[str]:
    """The stage keys of the policy's time limits, in the policy's order."""
    return [str(key) for key in ((raw.get("time_limits") or {}).get("stages") or {})]


@dataclass(frozen=True)
class TallyKeys:
    """What a tally needs to know of the policy and the day: the keys of each dimension (a
    value outside them counts in the dimension's 'unlisted' cell), the satisfied answers,
    and the generation date (a case received after it is not counted)."""

    listed: Mapping[str, frozenset[str]]
    satisfied: frozenset[str]
    today: dt.date

    @classmethod
    def of(cls, raw: Mapping[str, Any], today: dt.date) -> TallyKeys:
        listed = {dim: frozenset(vocabulary_keys(raw, vocabulary)) - {UNLISTED} for dim, vocabulary in VOCABULARIES.items()}
        listed["stage"] = frozenset(stage_keys(raw)) - {UNLISTED}
        return cls(listed, frozenset(PublicationSettings.from_policy(raw).satisfied), today)


# Cases whose cells add_all lists before it counts them (Tally.finish).
PENDING_CASES = 20_000

# A case still open is held as finishing on this "day" (no date has ordinal 0).
_OPEN = 0


class Tally:
    """The counts of a set of cases (see the module's docstring). ``add_all`` counts cases,
    ``merge`` adds another tally's counts; read them through the attributes below once
    ``finish`` has run (``merge`` and pickling run it)."""

    def __init__(self, keys: TallyKeys) -> None:
        self.keys = keys
        # month (YYYY-MM) -> cell name -> number of cases (of case-department pairs, of stages…)
        self.counts: dict[str, Counter[str]] = {}
        # (stage, month) -> working days -> number of completed stages that took them
        self.durations: dict[tuple[str, str], Counter[int]] = {}
        # year -> the dimensions with a value outside the policy among its cases
        self.unlisted: dict[int, set[str]] = {}
        # When each case was open, what the backlog is counted from: received day (ordinal)
        # -> the finishing day (ordinal; _OPEN while open) of each case received that day, one
        # 4-byte item a case. An archive of many years has hundreds of thousands of distinct
        # (received, finished) pairs (510,000 among 1,000,000 cases over fifty years): as a
        # mapping of pairs to counts they took about 75 bytes a pair (40 MB in the parent that
        # merges the workers' tallies); as these arrays about 4.5 bytes a case, and a merge is
        # an array extended, not a pair looked up.
        self.finishes: dict[int, array[int]] = {}
        self._names: dict[str, list[str]] = defaultdict(list)
        self._days: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._cells = _CellNames(keys)
        self._backlog: list[tuple[dt.date, Sequence[float], Sequence[int]]] | None = None
        self._listed = 0  # cases whose cells are listed and not yet counted (see finish)

    @property
    def spans(self) -> Counter[tuple[dt.date, dt.date | None]]:
        """How many cases were received on one day and finished on another (None: still
        open), from ``finishes`` (a copy: for reading)."""
        out: Counter[tuple[dt.date, dt.date | None]] = Counter()
        for day, ends in self.finishes.items():
            received = dt.date.fromordinal(day)
            for end, n in Counter(ends).items():
                out[(received, None if end == _OPEN else dt.date.fromordinal(end))] += n
        return out

    @classmethod
    def of(cls, facts: Iterable[CaseFacts], raw: Mapping[str, Any], today: dt.date) -> Tally:
        tally = cls(TallyKeys.of(raw, today))
        tally.add_all(facts)
        tally.finish()
        return tally

    def empty(self) -> Tally:
        """A new tally with the same keys and nothing counted."""
        return Tally(self.keys)

    @property
    def years(self) -> list[int]:
        """The years with a case received by the generation date, in order."""
        self.finish()
        return sorted({int(month[:4]) for month in self.counts})

    def add_all(self, facts: Iterable[CaseFacts]) -> None:
        """Count each case in the cells it belongs to, in the month it was received."""
        c = self._cells
        today, satisfied, listed = self.keys.today, self.keys.satisfied, self.keys.listed
        channel, category, priority, department = c.channel, c.category, c.priority, c.department
        reason, reviewed, resolution, level = c.reason, c.reviewed, c.resolution, c.level
        measure, catmeasure, stage_cell, dept_cells = c.measure, c.catmeasure, c.stage_cell, c.dept_cells
        stage_listed, dept_listed = listed["stage"], listed["department"]
        resolution_listed = listed["resolution"]
        names, days, finishes = self._names, self._days, self.finishes
        self._backlog = None
        unlisted = self.unlisted
        u = f"|{UNLISTED}"
        months: dict[dt.date, str] = {}  # received -> f.month, asked once per day
        listed_now = 0
        for f in facts:
            # every field at once (a named tuple): one step, not an attribute read per use
            (received, f_channel, f_category, f_priority, f_departments, _anonymous, accepted, f_reason, finished,
             resolved, f_measures, extended, paused, sat, review_requested, review_outcome, suggestions, stages,
             outcome) = f  # fmt: skip
            day = received.toordinal()
            ends = finishes.get(day)
            if ends is None:
                ends = finishes[day] = array("i")
            ends.append(_OPEN if finished is None else finished.toordinal())
            if received > today:
                continue
            month = months.get(received)
            if month is None:
                month = months[received] = f.month
            out = names[month]
            add = out.append
            missed: list[str] = []
            cell = channel.get(f_channel)
            if cell is None:
                cell = "received" + u
                missed.append("channel")
            add(cell)
            cell = category.get(f_category)
            if cell is None:
                cell = "received.category" + u
                missed.append("category")
            add(cell)
            cell = priority.get(f_priority)
            if cell is None:
                cell = "received.priority" + u
                missed.append("priority")
            add(cell)
            for d in f_departments:
                cell = department.get(d)
                if cell is None:
                    cell = "departments" + u
                    missed.append("department")
                add(cell)
            for stage, state, working_days in stages:
                if stage not in stage_listed:
                    missed.append("stage")
                cells = stage_cell.get(stage)
                if cells is None:
                    continue
                cell = cells.get(state)
                if cell is not None:
                    add(cell)
                    if working_days is not None and state != OVERDUE:
                        days[(stage, month)].append(working_days)
            if sat is not None:
                yes = sat in satisfied
                add("sat|yes" if yes else "sat|no")
                add("sat|all")
                cell = level.get(sat)
                if cell is None:
                    cell = "satlevel" + u
                    if sat:  # an empty answer counts in the total, but makes no row
                        missed.append("satisfaction")
                add(cell)
            if accepted:
                add("accepted")
                add("extended|yes" if extended else "extended|no")
                add("paused|yes" if paused else "paused|no")
            if f_reason:
                cell = reason.get(f_reason)
                if cell is None:
                    cell = "notaccepted" + u
                    missed.append("reason")
                add(cell)
            if accepted or f_reason:
                add("decided")
            if outcome and outcome not in resolution_listed:
                missed.append("resolution")
            if resolved:
                add("review|yes" if review_requested else "review|no")
                if outcome:
                    add(resolution.get(outcome) or "outcome" + u)
            if review_outcome:
                cell = reviewed.get(review_outcome)
                if cell is None:
                    cell = "reviewed" + u
                    missed.append("outcome")
                add(cell)
            # by department: once per department key the case is about
            for d_key in {d if d in dept_listed else UNLISTED for d in f_departments}:
                perf, resp, d_yes, d_no = dept_cells[d_key]
                for stage, state, _days in stages:
                    if stage == "resolve":
                        cell = perf.get(state)
                    elif stage == "acknowledge":
                        cell = resp.get(state)
                    else:
                        continue
                    if cell is not None:
                        add(cell)
                if sat is not None:
                    add(d_yes if sat in satisfied else d_no)
            if f_measures:
                for m in f_measures:
                    cell = measure.get(m)
                    if cell is None:
                        cell = "measures" + u
                        missed.append("measure")
                    add(cell)
                cell = catmeasure.get(f_category) or "catmeasures" + u
                out.extend([cell] * len(f_measures))
            for adopted, rewarded in suggestions:
                add("sugg|received")
                if adopted:
                    add("sugg|adopted")
                    add("sugg|rewarded" if rewarded else "sugg|unrewarded")
                else:
                    add("sugg|notadopted")
            if missed:
                unlisted.setdefault(received.year, set()).update(missed)
            listed_now += 1
        # The lists are counted once they hold this many cases' cells: what is listed and not
        # yet counted stays bounded however many cases one tally counts (a parent folding a
        # million records the cache answers listed some fifteen million names).
        self._listed += listed_now
        if self._listed >= PENDING_CASES:
            self.finish()

    def finish(self) -> None:
        """Count the cells named since the last call (``add_all`` only lists them: counting
        a list at once is several times faster than a cell at a time)."""
        for month, listed in self._names.items():
            _add_into(self.counts, month, Counter(listed))
        self._names.clear()
        for key, values in self._days.items():
            _add_into(self.durations, key, Counter(values))
        self._days.clear()
        self._listed = 0

    def merge(self, other: Tally) -> None:
        """Add ``other``'s counts to these."""
        self.finish()
        other.finish()
        for month, counted in other.counts.items():
            _add_into(self.counts, month, Counter(counted))
        for key, counted_days in other.durations.items():
            _add_into(self.durations, key, Counter(counted_days))
        for year, dims in other.unlisted.items():
            self.unlisted.setdefault(year, set()).update(dims)
        finishes = self.finishes
        for day, theirs in other.finishes.items():
            ends = finishes.get(day)
            if ends is None:
                finishes[day] = array("i", theirs)
            else:
                ends.extend(theirs)
        self._backlog = None

    def backlog_days(self) -> list[tuple[dt.date, Sequence[float], Sequence[int]]]:
        """``spans`` as the backlog counts it (tables.py), worked out once for every year's
        report: each received day in order, the days its cases finished (ordinals in order,
        ``math.inf`` for those still open) and how many had finished by each of them."""
        if self._backlog is None:
            rows: list[tuple[dt.date, Sequence[float], Sequence[int]]] = []
            for day in sorted(self.finishes):
                ordered = sorted(self.finishes[day])  # the open ones (_OPEN) first
                first = bisect.bisect_right(ordered, _OPEN)
                finished = ordered[first:]
                distinct = sorted(set(finished))
                ends = array("d", distinct)
                # how many had finished by each day: the finishing days up to it
                by = array("q", map(functools.partial(bisect.bisect_right, finished), distinct))
                if first:
                    ends.append(math.inf)
                    by.append(len(ordered))
                rows.append((dt.date.fromordinal(day), ends, by))
            self._backlog = rows
        return self._backlog

    def __getstate__(self) -> dict[str, Any]:
        # What crosses from a worker: the counts, never the names being listed.
        self.finish()
        return {"keys": self.keys, "counts": self.counts, "durations": self.durations, "unlisted": self.unlisted,
                "finishes": self.finishes}  # fmt: skip

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["keys"])  # type: ignore[misc]
        self.counts, self.durations, self.unlisted, self.finishes = (
            state["counts"], state["durations"], state["unlisted"], state["finishes"]
        )

    def state(self) -> tuple[Any, ...]:
        """Everything counted, for comparing two tallies."""
        self.finish()
        return (
            {m: dict(c) for m, c in self.counts.items() if c},
            {k: dict(c) for k, c in self.durations.items() if c},
            {y: set(d) for y, d in self.unlisted.items() if d},
            dict(self.spans),
        )


K = TypeVar("K")
V = TypeVar("V")


def _add_into(table: dict[K, Counter[V]], key: K, counted: Counter[V]) -> None:
    """Add ``counted`` to ``table[key]``; ``counted`` itself becomes the entry when there is none."""
    known = table.get(key)
    if known is None:
        table[key] = counted
    else:
        known.update(counted)


class _CellNames:
    """The name of every cell a case can count in, by the value that puts it there (for the
    dimensions' listed keys; a value outside them counts in the dimension's `unlisted`
    cell)."""

    def __init__(self, keys: TallyKeys) -> None:
        listed = keys.listed

        def names(prefix: str, dim: str) -> dict[str, str]:
            return {k: f"{prefix}|{k}" for k in listed[dim]}

        self.channel = names("received", "channel")
        self.category = names("received.category", "category")
        self.priority = names("received.priority", "priority")
        self.department = names("departments", "department")
        self.reason = names("notaccepted", "reason")
        self.reviewed = names("reviewed", "outcome")
        self.resolution = names("outcome", "resolution")
        self.level = names("satlevel", "satisfaction")
        self.measure = names("measures", "measure")
        self.catmeasure = names("catmeasures", "category")
        # stage state -> cell, for the stages the tables have rows for (the policy's; a stage
        # literally named 'unlisted' has the row the tables give values outside the policy)
        self.stage_cell = {
            s_key: {DONE_ON_TIME: f"stage|{s_key}|ontime", DONE_LATE: f"stage|{s_key}|latedone", OVERDUE: f"stage|{s_key}|overdue"}
            for s_key in [*listed["stage"], UNLISTED]
        }
        self.dept_cells = {
            d_key: (
                {DONE_ON_TIME: f"deptperf|{d_key}|ontime", DONE_LATE: f"deptperf|{d_key}|late", OVERDUE: f"deptperf|{d_key}|late"},
                {DONE_ON_TIME: f"deptresp|{d_key}|ontime", DONE_LATE: f"deptresp|{d_key}|late", OVERDUE: f"deptresp|{d_key}|late"},
                f"deptsat|{d_key}|yes",
                f"deptsat|{d_key}|no",
            )
            for d_key in [*listed["department"], UNLISTED]
        }
