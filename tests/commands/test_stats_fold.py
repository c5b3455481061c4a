"""`stats` counts the cases its workers derive in the workers (engine/derivations.FactFold):
each batch's tally crosses back instead of a record per case, the records the cache answers
are counted in the parent, and the result is the same however the cases were split."""
from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace
from pathlib import Path

import pytest

from complaints.adapters import cache as cache_module
from complaints.adapters.datacodec import DataFormatError
from complaints.adapters.repository import Repository
from complaints.commands import stats as stats_command
from complaints.commands.deadlines import repository_calendar
from complaints.commands.stats import compute, repository_facts, repository_tally
from complaints.core.stages import DONE_LATE, DONE_ON_TIME
from complaints.core.stats.facts import CaseFacts
from complaints.core.stats.history import with_history
from complaints.core.stats.periods import Period
from complaints.core.stats.tables import StatsReport, compute_from_facts
from complaints.core.stats.tally import Tally, TallyKeys
from complaints.engine import forked, scan
from complaints.engine.derivations import FactFold, FactRecords
from complaints.engine.scan import case_records

from conftest import committed_synthetic_archive
from stats_facts import Weekdays, fact, policy

TODAY = dt.date(2026, 11, 27)


@pytest.fixture()
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repository:
    monkeypatch.setenv(cache_module.ENV_VAR, str(tmp_path / "cache"))
    return Repository.open(committed_synthetic_archive(tmp_path / "repo", 150, seed=11))


def serial_tally(repo: Repository, monkeypatch: pytest.MonkeyPatch) -> Tally:
    """Every case's facts made in this process, one by one, and counted at once."""
    with monkeypatch.context() as m:
        m.setattr(scan, "PARALLEL_THRESHOLD", 10**9)
        facts, _ = repository_facts(repo.without_cache(), TODAY, accept_unconfirmed=True)
    assert len(facts) > 100
    return Tally.of(facts, repo.policy.raw, TODAY)


def test_the_workers_send_tallies_not_records_and_the_sum_is_the_same(archive: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = serial_tally(archive, monkeypatch).state()
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(scan, "BATCH", 7)
    calendar = repository_calendar(archive, True)
    fold = FactFold(Tally(TallyKeys.of(archive.policy.raw, TODAY)))
    # Cold, without the cache: every record is folded in a worker, none crosses back.
    yielded = list(case_records(archive.without_cache(), TODAY, FactRecords(archive.policy, calendar), fold=fold))
    assert yielded == []
    assert fold.tally.state() == expected
    assert fold.looked.first is not None and fold.looked.last is not None
    # Through the command's own path: cold (filling the cache), then from the cache, where
    # every record comes back one by one and is counted here.
    for _ in range(2):
        tally, _calendar = repository_tally(archive, TODAY, accept_unconfirmed=True)
        assert tally.state() == expected


def test_a_record_the_cache_cannot_hold_as_a_line_comes_back_whole(archive: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = serial_tally(archive, monkeypatch).state()
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(scan, "BATCH", 7)
    refused = sorted(archive.case_files())[3]
    real = scan.entry_line

    def entry_line(path: str, entry: object, tag: object = None) -> bytes:
        if path == refused:  # the worker cannot encode it: the parent's writer must
            raise DataFormatError("refused for the test")
        return real(path, entry, tag)  # type: ignore[arg-type]

    monkeypatch.setattr(scan, "entry_line", entry_line)
    calendar = repository_calendar(archive, True)
    fold = FactFold(Tally(TallyKeys.of(archive.policy.raw, TODAY)))
    yielded = [path for path, _fact, _span in case_records(archive, TODAY, FactRecords(archive.policy, calendar), fold=fold)]
    assert yielded == [refused]
    # The caller counts what it was given, and the cache holds that case's record too.
    tally, _ = repository_tally(archive, TODAY, accept_unconfirmed=True)
    assert tally.state() == expected


def test_the_report_is_the_same_with_and_without_workers_and_cache(archive: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    period = Period.parse("2026")
    with monkeypatch.context() as m:
        m.setattr(scan, "PARALLEL_THRESHOLD", 10**9)
        plain = compute(archive.without_cache(), period, TODAY, accept_unconfirmed=True)
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(scan, "BATCH", 5)
    counted: list[Tally] = []
    real = stats_command._report

    def report(repo: Repository, tally: Tally, *args: object) -> object:
        counted.append(tally)
        return real(repo, tally, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(stats_command, "_report", report)
    # uncached in workers; filling the cache; from the cache on another day (records reused)
    assert compute(archive.without_cache(), period, TODAY, accept_unconfirmed=True) == plain
    assert compute(archive, period, TODAY, accept_unconfirmed=True) == plain
    later = compute(archive, period, TODAY + dt.timedelta(days=1), accept_unconfirmed=True)
    assert later.generated == TODAY + dt.timedelta(days=1)
    assert all(isinstance(t, Tally) for t in counted) and len(counted) == 3


def facts_of_years(first: int, last: int, n: int) -> list[CaseFacts]:
    rng = random.Random(first * last + n)
    out = []
    for _ in range(n):
        received = dt.date(first, 1, 1) + dt.timedelta(days=rng.randrange(0, (dt.date(last, 10, 31) - dt.date(first, 1, 1)).days))
        stages = [(s, rng.choice([DONE_ON_TIME, DONE_LATE]), rng.randrange(0, 20)) for s in ("acknowledge", "decide", "resolve")]
        out.append(fact(received.isoformat(), channel=rng.choice(["mailbox", "hotline", "letter"]), accepted=True,
                        finished=received + dt.timedelta(days=rng.randrange(1, 40)), resolved=True, stages=stages,
                        satisfaction=rng.choice(["satisfied", "dissatisfied", None])))  # fmt: skip
    return out


@pytest.mark.parametrize("period", ["2026", "2026-Q3"])
def test_the_older_past_years_are_computed_in_a_child_and_the_report_is_the_same(
    monkeypatch: pytest.MonkeyPatch, period: str
) -> None:
    raw = policy(threshold=3)
    repo = SimpleNamespace(policy=SimpleNamespace(raw=raw))
    chosen = Period.parse(period)

    def report() -> StatsReport:
        tally = Tally.of(facts_of_years(2021, 2026, 200), raw, TODAY)
        return stats_command._report(repo, tally, Weekdays(), [], chosen, TODAY, "c0ffee", False)  # type: ignore[arg-type]

    with monkeypatch.context() as m:
        m.setattr(forked, "FORKS", False)
        alone = report()
    # the library's own composition, in one process: the period's report with every year's history
    tally = Tally.of(facts_of_years(2021, 2026, 200), raw, TODAY)
    plain = compute_from_facts(tally, chosen, TODAY, raw, Weekdays(), data_commit="c0ffee")
    assert alone == with_history(plain, tally, TODAY, raw, Weekdays())
    here: list[int] = []  # the years this process computed (the child's calls stay in the child)
    real = stats_command.year_reports

    def year_reports(tally: Tally, years: list[int], *args: object) -> object:
        here.extend(years)
        return real(tally, years, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(stats_command, "year_reports", year_reports)
    # whatever the size of the test process, and its threads (pytest-xdist's)
    monkeypatch.setattr(forked, "MAX_RESIDENT", 1 << 40)
    monkeypatch.setattr(forked, "_alone", lambda: True)
    assert report() == alone
    assert sorted({int(h.period[:4]) for h in alone.history}) == list(range(2021, 2027))
    figures = [f for h in alone.history for f in h.figures]
    assert any(f.suppressed for f in figures) and any(f.value is not None for f in figures)  # audited: some withheld, some shown
    # the period's own year is the report itself when the period is a year, a past year otherwise
    past = [y for y in range(2021, 2027) if period != str(y)]
    assert here == past[(len(past) + 1) // 2 :] and here  # the child computed the older half
