"""The `stats` command: the statistics of a repository's valid cases for a period, as of a
day, with disclosure control applied; render/stats.py writes the report it returns."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Iterator, Sequence, cast

from complaints.adapters import git
from complaints.adapters.cache import memoized, memoized_parts
from complaints.adapters.datacodec import conforms
from complaints.adapters.memory import give_back
from complaints.adapters.repository import CASES_DIR, Repository
from complaints.core.calendar import WorkCalendar
from complaints.commands.deadlines import repository_calendar
from complaints.commands.validate import left_out_or_refuse
from complaints.core.stats.facts import CaseFacts, shared as shared_facts
from complaints.core.stats.history import YearFigures, compute_history, past_years, year_figures, year_reports
from complaints.core.stats.periods import Period
from complaints.core.stats.metrics import Count, Label, MetricDef, Quantile, Rate
from complaints.core.stats.tables import Cell, HistoryFigure, HistoryPeriod, MetricResult, Slice, StatsReport, as_tally, compute_from_facts
from complaints.core.receipt import ReceiptTable
from complaints.core.stats.tally import Tally, TallyKeys
from complaints.engine.derivations import FactFold, FactRecords, Looked, SiteFold, SiteRecords, touch_calendar
from complaints.engine.forked import Aside
from complaints.engine.inputs import IndexFacts, Snapshot, index_is_head, snapshot
from complaints.engine.scan import case_records, fold_case_records, valid_cases_holding


def data_commit(
    root: Path, *, index_exact: bool = False, index: IndexFacts | None = None, head: git.Started | None = None
) -> str:
    """HEAD of the case repository; 'uncommitted' when cases/ or policy.yml differ from it;
    'unknown' when the folder is not a git work tree (or git is missing).
    ``index_exact``: git's index is known to list exactly the files under cases/, each
    unchanged in the work tree (engine/inputs.Snapshot.index_exact): then only the index
    needs comparing with HEAD there, at a fraction of the cost of `git status` on a large
    archive. ``index``: what the tool read of the index file itself (a large archive): then
    the index's own tree for cases/ is compared with HEAD's and the two files beside it are
    compared here (engine/inputs.index_is_head), and no git command reads the whole index,
    which at a million files holds 150-250 MB a process. Otherwise the git commands run one
    after the other, never beside the listing. ``head``: `git rev-parse HEAD` started
    earlier (beside the listing: it reads no index), collected here."""
    try:
        if head is not None:
            commit = head.output().decode("utf-8", "replace").strip()
        else:
            commit = git.text(root, "rev-parse", "HEAD")
        same = None
        if index_exact and index is not None and index.cases_tree is not None and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
            # The commit just named, not HEAD again: a commit made in between must not lend
            # its tree to the id read before it.
            same = index_is_head(root, index, git.tree_entries(root, commit, [CASES_DIR, "policy.yml", "calendar.yml"]))
        if same is not None:
            dirty = b"" if same else b"changed"
        elif index_exact:
            dirty = git.run(root, "diff-index", "--cached", "--name-only", "-z", "HEAD", "--", "cases")
            dirty += git.run(root, "--no-optional-locks", "status", "--porcelain", "-z", "--", "policy.yml", "calendar.yml")
        else:
            dirty = git.run(root, "status", "--porcelain", "-z", "--", "cases", "policy.yml", "calendar.yml")
    except git.GitError:
        return "unknown"
    if dirty.strip():
        return "uncommitted"
    return commit if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit) else "unknown"


def repository_facts(
    repo: Repository, today: dt.date, *, accept_unconfirmed: bool = False, skipped: list[str] | None = None,
    listed: Sequence[str] | None = None,
) -> tuple[list[CaseFacts], WorkCalendar]:
    """The facts of every valid case in the repository, and the calendar they were read with;
    the invalid case files are listed in ``skipped`` when it is given."""
    calendar = repository_calendar(repo, accept_unconfirmed)
    facts: list[CaseFacts] = []
    looked = Looked()
    # In worker processes, and from the cache for cases no later day can change (cache.py).
    # Each record shares its days and tuples with the others however it came (worker,
    # cache or this process: core/stats/facts.py), so holding all of them stays compact.
    for _path, fact, span in case_records(repo, today, FactRecords(repo.policy, calendar), skipped, listed=listed):
        facts.append(shared_facts(fact))
        looked.add(span)
    touch_calendar(calendar, looked.spans())
    return facts, calendar


def repository_tally(
    repo: Repository, today: dt.date, *, accept_unconfirmed: bool = False, skipped: list[str] | None = None,
    listed: Sequence[str] | None = None,
) -> tuple[Tally, WorkCalendar]:
    """The tally (core/stats/tally.py) of every valid case in the repository, and the
    calendar it was counted with; the invalid case files are listed in ``skipped`` when it is
    given. The cases derived in the scan's workers are counted there, a batch at a time
    (engine/derivations.FactFold): no record per case crosses back or is held here."""
    calendar = repository_calendar(repo, accept_unconfirmed)
    fold = FactFold(Tally(TallyKeys.of(repo.policy.raw, today)))
    fold_case_records(repo, today, FactRecords(repo.policy, calendar), fold, skipped, listed=listed)
    touch_calendar(calendar, fold.looked.spans())
    fold.tally.finish()
    return fold.tally, calendar


# The record classes a stored report is made of (adapters/datacodec.register).
_REPORT_RECORDS = (StatsReport, Label, Period, MetricDef, MetricResult, Cell, Slice, HistoryPeriod, HistoryFigure, Count, Rate, Quantile)


def _inputs_and_commit(repo: Repository) -> tuple[Snapshot | None, str]:
    """With the cache in use, the case files' snapshot (what a memo is keyed by) and the data
    commit read from it; without, no snapshot and the commit from `git status`."""
    if not repo.use_cache:
        return None, data_commit(repo.root)
    # HEAD is asked for while the files are listed (it reads no index, unlike the listing's
    # own git commands): some 0.02 s of a cold run's start at 100,000 cases, otherwise serial.
    head = git.Started(repo.root, "rev-parse", "HEAD")
    try:
        inputs = snapshot(repo)
    except BaseException:
        head.stop()
        raise
    return inputs, data_commit(repo.root, index_exact=inputs.index_exact, index=inputs.index_facts, head=head)


def compute(
    repo: Repository, period: Period | None, today: dt.date, *, accept_unconfirmed: bool = False, skip_invalid: bool = False
) -> StatsReport:
    """Statistics of the repository's valid cases for `period` (default: the year to date),
    as of `today`, with disclosure control applied. The writers (render/stats.py) scan
    it for personal data before publishing. A case file that does not pass validation stops
    the run (InvalidCasesError) unless ``skip_invalid``, which records how many were left out."""
    chosen = period or Period.year_to_date(today)
    inputs, commit = _inputs_and_commit(repo)

    def run() -> StatsReport:
        skipped: list[str] = []
        tally, calendar = repository_tally(repo, today, accept_unconfirmed=accept_unconfirmed, skipped=skipped,
                                           listed=inputs.files if inputs is not None else None)
        return _report(repo, tally, calendar, skipped, chosen, today, commit, skip_invalid)

    if inputs is None:
        return run()
    # An unchanged archive asked the same question gets the stored answer (cache.py).
    purpose = f"stats-report-v2\x00{chosen!r}\x00{today}\x00{accept_unconfirmed}\x00{skip_invalid}\x00{commit}\x00{inputs.digest}"
    return memoized(repo.root, "stats-report", purpose, StatsReport, run, _REPORT_RECORDS)



def _report(
    repo: Repository, facts: Sequence[CaseFacts] | Tally, calendar: WorkCalendar, skipped: list[str], chosen: Period, today: dt.date,
    commit: str, skip_invalid: bool,
) -> StatsReport:
    left_out = left_out_or_refuse(skipped, skip_invalid, "the statistics")
    raw = repo.policy.raw
    tally = as_tally(facts, raw, today)
    # The past years the history reads are each counted and protected on their own: the
    # older half in a forked child while this process computes the period's own report and
    # the newer half (engine/forked.py; the split measured best at 100,000 cases over six
    # years). The years are computed the same either way.
    own = chosen.year if chosen.kind == "year" else None
    years = [y for y in past_years(tally, chosen.year, today, raw) if y != own]
    split = (len(years) + 1) // 2
    older, newer = years[:split], years[split:]
    aside = Aside(lambda: year_figures(tally, older, today, raw, calendar)) if older else None
    read: list[tuple[int, YearFigures]] = []
    with aside if aside is not None else nullcontext():
        report = compute_from_facts(tally, chosen, today, raw, calendar, data_commit=commit)
        known = year_reports(tally, newer, today, raw, calendar)
        if aside is not None:
            read = aside.result()
    if own is not None:
        known[own] = report
    if skip_invalid:
        report = dataclasses.replace(report, invalid_left_out=left_out)
    history = compute_history(tally, chosen.year, today, raw, calendar, known=known, read=read)
    return dataclasses.replace(report, history=history)


def compute_with_receipts(
    repo: Repository, period: Period | None, today: dt.date, *, skip_invalid: bool = False
) -> tuple[StatsReport, ReceiptTable]:
    """What the site build publishes of the cases, from one pass over them: the statistics
    (as ``compute`` without --accept-unconfirmed) and the receipt lookup entries (as
    commands.receipts.lookup_entries), each case's stages computed once for both. The cases
    derived in the scan's workers are counted there (engine/derivations.SiteFold)."""
    chosen = period or Period.year_to_date(today)
    inputs, commit = _inputs_and_commit(repo)
    digest = inputs.digest if inputs is not None else None
    # The listing of cases/ goes to the scan and is let go after it (at a million cases it is
    # some 35 MB, and the receipt rows are read back after the scan).
    listing: list[Sequence[str] | None] = [inputs.files if inputs is not None else None]
    del inputs

    def run() -> tuple[StatsReport, ReceiptTable]:
        calendar = repository_calendar(repo)
        skipped: list[str] = []
        fold = SiteFold(FactFold(Tally(TallyKeys.of(repo.policy.raw, today))))
        try:
            fold_case_records(repo, today, SiteRecords(repo.policy, calendar), fold, skipped, listed=listing.pop())
            touch_calendar(calendar, fold.facts.looked.spans())
            report = _report(repo, fold.facts.tally, calendar, skipped, chosen, today, commit, skip_invalid)
        except BaseException:
            fold.close()  # the file the rows were spilled to, on a run that stops here
            raise
        # The rows read back from where the scan spilled them once the counting is done, into
        # the room the listing and the counting leave, given back to the system first so that
        # what the process holds is what it uses.
        give_back()
        table, shared = fold.receipt_table()
        if shared:
            _later_cases_rows(repo, calendar, today, table, shared)
        return report, table

    if digest is None:
        return run()
    # An unchanged archive built again on the same day gets the stored answer (cache.py): the
    # per-case records are not read back one by one to be counted again. The receipt rows are
    # stored in parts (ReceiptTable.packed), written and read back one at a time, never as one
    # line of JSON: at a million cases that line alone would be over 40 MB, built whole.
    purpose = f"site-publication-v2\x00{chosen!r}\x00{today}\x00{skip_invalid}\x00{commit}\x00{digest}"
    return memoized_parts(repo.root, "site-publication", purpose, run, _publication_parts, _publication_joined, _REPORT_RECORDS)


def _publication_parts(value: tuple[StatsReport, ReceiptTable]) -> Iterator[tuple[str, Any]]:
    yield "report", value[0]
    for name, part in value[1].packed():
        yield f"receipts/{name}", part


def _publication_joined(parts: Iterator[tuple[str, Any]]) -> tuple[StatsReport, ReceiptTable] | None:
    """What ``_publication_parts`` stored, read back a part at a time, or None when a part is
    not of its shape all the way down (the report's fields as annotated, the receipt rows as
    ReceiptTable.unpacked checks them) or out of its place, or another part is there."""
    first = next(parts, None)
    if first is None or first[0] != "report" or not conforms(first[1], StatsReport):
        return None
    prefix = "receipts/"
    stray: list[str] = []

    def rows() -> Iterator[tuple[str, Any]]:
        for name, part in parts:
            if not name.startswith(prefix):
                stray.append(name)
                return
            yield name[len(prefix):], part

    table = ReceiptTable.unpacked(rows())
    return None if table is None or stray else (cast(StatsReport, first[1]), table)


def _later_cases_rows(repo: Repository, calendar: WorkCalendar, today: dt.date, table: ReceiptTable, shared: set[str]) -> None:
    """Give each receipt hash that several valid cases hold the row of the last of them in
    path order, as commands.receipts.lookup_entries does (SiteFold cannot: its rows arrive in
    no fixed order). Only those cases are read again: a shared hash is a copied file, rare."""
    derive = SiteRecords(repo.policy, calendar)
    needles = {code.encode("ascii") for code in shared}
    for path, case in valid_cases_holding(repo, needles, today):
        record, _settled, _span = derive(path, case, today)
        if record.receipt is not None and record.receipt[0] in shared:
            table.replace(*record.receipt)
