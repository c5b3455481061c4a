"""The per-case derivations the scan runs beside each check, in its worker processes, and caches
with the verdicts (see engine/scan.py): the stage deadlines `overdue` and `notify` need, the
facts the statistics count.

A derivation is a picklable callable ``(path, case, today) -> (record, settled, span)`` with
a ``key`` (its cache file's name, then its options) and ``records``, the classes its records
are made of: the scan registers them with the cache's codec, which stores no other class.
A new derivation is one class here (or beside the command that alone uses it) and its test;
the records of a whole result a command keeps (adapters/cache.memoized) are passed with it.
"""
from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, ClassVar, Iterable, NamedTuple, Sequence

from complaints.core.calendar import WorkCalendar
from complaints.core.deadlines import case_stages_as_of, case_stages_of
from complaints.core.policy import Policy
from complaints.core.receipt import LookupEntry, ReceiptRecords, ReceiptTable
from complaints.core.stages import CaseStages, StageDeadline
from complaints.core.stats.audit import load_solver
from complaints.core.stats.facts import CaseFacts, StageFact, cases_facts_fast
from complaints.core.stats.tally import Tally


def span_of(stages: Sequence[StageDeadline], today: dt.date) -> tuple[int, int] | None:
    """The dates a case's deadline computation looked at (as ordinals): first start to the
    last due or completion date, and today while a stage is open."""
    if not stages:
        return None
    first = min(s.started for s in stages)
    last = max(max(s.due, s.completed or s.due) for s in stages)
    if any(s.completed is None for s in stages):
        last = max(last, today)
    return first.toordinal(), last.toordinal()


def touch_calendar(calendar: WorkCalendar, spans: Iterable[tuple[int, int] | None]) -> None:
    """Make ``calendar`` look at the dates the records' computations looked at, so that the
    years it had to guess (its warnings), or the year it refuses, are the same whether the
    records were computed here, in a worker or in an earlier run."""
    first = last = None
    for span in spans:
        if span is not None:
            first = span[0] if first is None else min(first, span[0])
            last = span[1] if last is None else max(last, span[1])
    if first is not None and last is not None:
        calendar.working_days_between(dt.date.fromordinal(first), dt.date.fromordinal(last))


class Looked:
    """The first and last day the records' computations looked at, kept as they stream past
    (touch_calendar needs no more than that: not a span per case)."""

    def __init__(self) -> None:
        self.first: int | None = None
        self.last: int | None = None

    def add(self, span: tuple[int, int] | None) -> None:
        if span is not None:
            self.first = span[0] if self.first is None else min(self.first, span[0])
            self.last = span[1] if self.last is None else max(self.last, span[1])

    def spans(self) -> list[tuple[int, int]]:
        return [] if self.first is None or self.last is None else [(self.first, self.last)]

    def merge(self, other: Looked) -> None:
        for span in other.spans():
            self.add(span)


# What a worker sends back for a case none of whose stages its consumer keeps (StageRecords.sent):
# what the consumer reads of a record is its stages, and here there are none.
NOTHING_SENT = CaseStages("", "", None, None, "", "", ())


@dataclass(frozen=True)
class StageRecords:
    """Every started stage of a case (`overdue`, `notify`), as one CaseStages; settled once
    all are completed."""

    policy: Policy
    calendar: WorkCalendar
    warn_days: int | None = None
    # Looking back: each case as it stood on this day (the files are validated on `today`).
    as_of: dt.date | None = None
    # The states of the stages the consumer keeps (`overdue`: the late ones): the workers send
    # back only these, while the cache holds every stage. Not part of the key.
    send: frozenset[str] | None = None

    records: ClassVar[tuple[type, ...]] = (CaseStages,)

    def sent(self, stages: CaseStages) -> CaseStages:
        """What of a record crosses back from a worker (engine/scan.py): the stages in one
        of the ``send`` states; a case with none of them (nearly every case of an archive)
        sends one shared empty record, pickled once per batch."""
        send = self.send
        if send is None:
            return stages
        rows = tuple([row for row in stages.stages if row[5] in send])
        return stages._replace(stages=rows) if rows else NOTHING_SENT

    @property
    def key(self) -> str:
        return f"deadlines:v2:warn={self.warn_days}:unconfirmed={self.calendar.accept_unconfirmed}:as_of={self.as_of}"

    def __call__(self, path: str, case: dict[str, Any], today: dt.date) -> tuple[CaseStages, bool, tuple[int, int] | None]:
        if self.as_of is not None:
            looked = case_stages_as_of(case, path, self.policy, self.calendar, self.as_of, warn_days=self.warn_days)
            if looked is None:
                return CaseStages(str(case.get("id", "")), path, None, None, "", "", ()), True, None
            return (looked, *looked.settled_span(self.as_of))
        stages = case_stages_of(case, path, self.policy, self.calendar, today, warn_days=self.warn_days)
        return (stages, *stages.settled_span(today))


@dataclass(frozen=True)
class FactRecords:
    """What the statistics count of a case (`stats`); settled once all stages are completed."""

    policy: Policy
    calendar: WorkCalendar

    records: ClassVar[tuple[type, ...]] = (CaseFacts, StageFact)

    @property
    def key(self) -> str:
        return f"facts:v2:unconfirmed={self.calendar.accept_unconfirmed}"

    def __call__(self, path: str, case: dict[str, Any], today: dt.date) -> tuple[CaseFacts, bool, tuple[int, int] | None]:
        return self.many([(path, case)], today)[0]

    def many(self, cases: Sequence[tuple[str, dict[str, Any]]], today: dt.date) -> list[tuple[CaseFacts, bool, tuple[int, int] | None]]:
        """The records of several cases at once (see engine/scan.Derivation)."""
        return [(facts, *stages.settled_span(today)) for facts, stages in cases_facts_fast(cases, self.policy, self.calendar, today)]


class FactFold:
    """What `stats` keeps of the FactRecords records (engine/scan.Fold): their tally
    (core/stats/tally.py) and the days their computations looked at. The scan's workers
    fold the cases they derive, a batch at a time, and send the tally of the batch instead
    of a record per case; the records the cache answers are folded here."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.looked = Looked()

    def empty(self) -> FactFold:
        return FactFold(self.tally.empty())

    def fold(self, items: list[tuple[CaseFacts, tuple[int, int] | None]]) -> None:
        add = self.looked.add
        for _record, span in items:
            add(span)
        self.tally.add_all([record for record, _span in items])

    def merge(self, other: FactFold) -> None:
        self.tally.merge(other.tally)
        self.looked.merge(other.looked)

    def meanwhile(self) -> None:
        """While the workers count: load the disclosure audit's solver, which the tables the
        tally is read into need next (about 0.1 s, otherwise spent once they are done)."""
        load_solver()


class SiteRecord(NamedTuple):
    """What the site build needs of a case: its statistical facts and its receipt lookup row."""

    facts: CaseFacts
    receipt: tuple[str, LookupEntry] | None  # (hash hex, entry); None without a receipt hash


class SiteFold:
    """What the site build keeps of the SiteRecords records (engine/scan.Fold): the tally of
    their facts, as FactFold, and every receipt lookup row in a ReceiptTable (36 bytes a row).
    The rows are spilled to a temporary file every SPILL_ROWS rows and read back by
    ``receipt_table``: at a million cases they are 36 MB the scan's parent does not hold
    beside its workers.

    The rows arrive in no fixed order, so a hash two cases hold (a copied file) cannot be
    given the later case's row here, as the lookup table gives it: ``receipt_table`` names
    such hashes, for the caller to look up again (commands/stats.compute_with_receipts).

    Unlike FactFold it loads nothing while the workers run (no ``meanwhile``): at a million
    cases the site build's scan peaks at 180 MB, and the solver with numpy would add some 16
    MB to this process beside the workers."""

    SPILL_ROWS = 1 << 15

    def __init__(self, facts: FactFold) -> None:
        self.facts = facts
        self.receipts = ReceiptTable()
        self._spill: BinaryIO | None = None

    def empty(self) -> SiteFold:
        return SiteFold(self.facts.empty())

    def fold(self, items: list[tuple[SiteRecord, tuple[int, int] | None]]) -> None:
        self.facts.fold([(record.facts, span) for record, span in items])
        add = self.receipts.add
        for record, _span in items:
            if record.receipt is not None:
                add(*record.receipt)
        self._spill_over()

    def merge(self, other: SiteFold) -> None:
        self.facts.merge(other.facts)
        self.receipts.merge(other.receipts)
        self._spill_over()

    def _spill_over(self) -> None:
        if self.receipts.held >= self.SPILL_ROWS:
            if self._spill is None:
                self._spill = tempfile.TemporaryFile()
            self.receipts.spill(self._spill)

    def receipt_table(self) -> tuple[ReceiptTable, set[str]]:
        """The receipt rows, sealed (read back from the temporary file), and the hashes more
        than one case holds."""
        try:
            shared = self.receipts.seal()
        finally:
            self.close()
        return self.receipts, shared

    def close(self) -> None:
        """Close the temporary file the rows were spilled to (a run that stops early)."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def __getstate__(self) -> dict[str, Any]:
        return {"facts": self.facts, "receipts": self.receipts}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.facts, self.receipts, self._spill = state["facts"], state["receipts"], None


@dataclass(frozen=True)
class _KnownDue:
    """The next-step source of a receipt row whose stages are already computed: the earliest
    due date of an open stage (what core.receipt.DeadlineNextStep finds), on ``calendar``."""

    due: dt.date | None
    calendar: WorkCalendar

    def __call__(self, case: Any, path: str, today: dt.date) -> dt.date | None:
        return self.due


@dataclass(frozen=True)
class SiteRecords:
    """The statistics' facts and the receipt row of a case in one derivation (the site build
    reads the archive once, not once for each): the stages are computed once and serve both.
    The receipt row is what ReceiptRecords gives with DeadlineNextStep on the same calendar;
    settled once both are."""

    policy: Policy
    calendar: WorkCalendar

    records: ClassVar[tuple[type, ...]] = (SiteRecord, CaseFacts, StageFact, LookupEntry)

    @property
    def key(self) -> str:
        return f"site:v1:unconfirmed={self.calendar.accept_unconfirmed}"

    def __call__(self, path: str, case: dict[str, Any], today: dt.date) -> tuple[SiteRecord, bool, tuple[int, int] | None]:
        return self.many([(path, case)], today)[0]

    def many(self, cases: Sequence[tuple[str, dict[str, Any]]], today: dt.date) -> list[tuple[SiteRecord, bool, tuple[int, int] | None]]:
        """The records of several cases at once (see engine/scan.Derivation)."""
        # As FactRecords: a year the calendar refuses stops the run (the statistics need it).
        out: list[tuple[SiteRecord, bool, tuple[int, int] | None]] = []
        for (path, case), (facts, stages) in zip(cases, cases_facts_fast(cases, self.policy, self.calendar, today)):
            due = min((row[3] for row in stages.stages if row[4] is None), default=None)
            row, closed, _ = ReceiptRecords(_KnownDue(due, self.calendar))(path, case, today)
            settled, span = stages.settled_span(today)
            out.append((SiteRecord(facts, row), closed and settled, span))
        return out
