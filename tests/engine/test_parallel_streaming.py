"""Parallel checking: the same results as one process, in path order, with a bounded number of
batches in flight so memory does not grow with the archive."""
from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from complaints.adapters.cache import entry_line
from complaints.adapters.datacodec import register
from complaints.core.stages import OVERDUE
from complaints.engine import scan as validate_module
from complaints.engine import derivations
from complaints.engine.derivations import FactRecords, SiteRecords, StageRecords
from complaints.commands.stats import repository_tally
from complaints.adapters.repository import Repository
from complaints.commands.validate import validate
from complaints.engine.scan import case_records
from complaints.adapters.config import load_calendar

from conftest import make_synthetic_archive
TODAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big") / "repo"
    make_synthetic_archive(root, validate_module.PARALLEL_THRESHOLD + 350, seed=3)
    # One invalid file, so the parallel path carries problems back too.
    victim = sorted((root / "cases").glob("*/*.yml"))[500]
    victim.write_text(victim.read_text(encoding="utf-8").replace("priority: ", "priority: x", 1), encoding="utf-8")
    return root


def test_parallel_equals_serial(big: Path) -> None:
    repo = Repository.open(big).without_cache()
    serial = validate(repo, TODAY, jobs=1, use_cache=False)
    parallel = validate(repo, TODAY, jobs=2, use_cache=False)
    assert [(f.file, f.case_id, f.problems) for f in parallel.files] == [(f.file, f.case_id, f.problems) for f in serial.files]
    assert [f.file for f in parallel.files] == sorted(f.file for f in parallel.files)
    assert len(parallel.problems) == 1


def test_records_in_path_order_and_equal_to_serial(big: Path) -> None:
    repo = Repository.open(big).without_cache()
    derive = StageRecords(repo.policy, load_calendar(big, accept_unconfirmed=True))
    serial = list(case_records(repo, TODAY, derive, use_cache=False, jobs=1))
    parallel = list(case_records(repo, TODAY, derive, use_cache=False, jobs=2))
    assert parallel == serial
    assert [p for p, _, _ in parallel] == sorted(p for p, _, _ in parallel)
    assert len(parallel) == validate_module.PARALLEL_THRESHOLD + 350 - 1  # the invalid case is left out


class _Counting(ProcessPoolExecutor):
    outstanding = 0
    most = 0
    sizes: list[int] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        future = super().submit(fn, *args, **kwargs)
        type(self).sizes.append(len(args[0]))
        type(self).outstanding += 1
        type(self).most = max(type(self).most, type(self).outstanding)

        def done(_: Any) -> None:
            type(self).outstanding -= 1

        future.add_done_callback(done)
        return future


def test_batches_in_flight_are_bounded(big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_module, "BATCH", 10)
    monkeypatch.setattr(validate_module, "MAX_BATCH", 10)
    monkeypatch.setattr(validate_module, "ProcessPoolExecutor", _Counting)
    repo = Repository.open(big).without_cache()
    results = validate_module.check_files(repo, validate_module._case_files(repo), TODAY, jobs=2)
    seen = 0
    for _ in results:
        seen += 1
        if seen % 50 == 0:
            assert _Counting.outstanding <= 2 * validate_module.IN_FLIGHT
    assert seen == validate_module.PARALLEL_THRESHOLD + 350
    # 75 batches in all, never more than jobs * IN_FLIGHT of them submitted and unfinished.
    assert 1 <= _Counting.most <= 2 * validate_module.IN_FLIGHT


@pytest.mark.parametrize(("least", "most", "size"), [(10, 1000, 23), (10, 20, 20), (50, 1000, 50)])
def test_a_large_run_sends_bigger_batches_and_each_process_gets_many(
    big: Path, monkeypatch: pytest.MonkeyPatch, least: int, most: int, size: int
) -> None:
    # 750 files on 2 processes, at least 16 batches each: 750 // 32 = 23 files a batch, within
    # BATCH and MAX_BATCH; the results are those of one process.
    monkeypatch.setattr(validate_module, "BATCH", least)
    monkeypatch.setattr(validate_module, "MAX_BATCH", most)
    monkeypatch.setattr(validate_module, "ProcessPoolExecutor", _Counting)
    monkeypatch.setattr(_Counting, "sizes", [])
    repo = Repository.open(big).without_cache()
    files = validate_module._case_files(repo)
    results = [(r.file, r.problems) for r in validate_module.check_files(repo, files, TODAY, jobs=2)]
    assert _Counting.sizes == [size] * (len(files) // size) + ([len(files) % size] if len(files) % size else [])
    assert results == [(r.file, r.problems) for r in validate_module.check_files(repo, files, TODAY, jobs=1)]


def test_workers_send_only_the_kept_stages_and_the_run_is_unchanged(big: Path) -> None:
    """`overdue` asks the workers for its late stages only: what they send is those stages
    (nothing but one shared empty record for a case with none), and the run finds the same
    stages, warnings and skipped files as one that keeps every stage and filters after."""
    from complaints.commands.deadlines import repository_run
    from complaints.core.stages import DUE_SOON, OVERDUE
    from complaints.engine.derivations import NOTHING_SENT

    repo = Repository.open(big).without_cache()
    late = frozenset({OVERDUE, DUE_SOON})
    derive = StageRecords(repo.policy, load_calendar(big, accept_unconfirmed=True), send=late)
    kept = sent_empty = 0
    for path, stages, span in case_records(repo, TODAY, derive, use_cache=False, jobs=1):
        sent = derive.sent(stages)
        assert sent.stages == tuple(row for row in stages.stages if row[5] in late)
        if sent.stages:
            kept += 1
            assert sent[:6] == stages[:6]
        else:
            sent_empty += 1
            assert sent is NOTHING_SENT
    assert kept and sent_empty
    assert StageRecords(repo.policy, derive.calendar).sent(stages) is stages  # no states: all of it
    every = repository_run(repo, TODAY, accept_unconfirmed=True)
    only = repository_run(repo, TODAY, accept_unconfirmed=True, states=late)  # in workers: 750 files
    assert only.deadlines == tuple(d for d in every.deadlines if d.state in late)
    assert (only.warnings, only.skipped, only.provisional_years) == (every.warnings, every.skipped, every.provisional_years)


class _FreezeSeen:
    """A derivation whose record is the process that made it and how many objects its
    garbage collector had set aside there."""

    key = "freeze-seen"
    records: tuple[type, ...] = ()

    def __call__(self, path: str, case: dict[str, Any], today: dt.date) -> tuple[tuple[int, int], bool, None]:
        import gc
        import os

        return (os.getpid(), gc.get_freeze_count()), True, None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only (spawned elsewhere: nothing is inherited)")
def test_the_workers_leave_the_objects_they_inherit_to_the_parent(big: Path) -> None:
    # The objects alive at the fork are frozen (kept out of the garbage collector) while the
    # workers run, so that no worker's collection copies the pages it shares with the parent;
    # the parent's collector has them back once the run is over.
    import gc
    import os

    repo = Repository.open(big).without_cache()
    seen = [record for _path, record, _span in case_records(repo, TODAY, _FreezeSeen(), use_cache=False, jobs=2)]
    in_workers = [frozen for pid, frozen in seen if pid != os.getpid()]
    assert len(in_workers) == len(seen) == validate_module.PARALLEL_THRESHOLD + 350 - 1
    assert min(in_workers) > 10_000  # every module, function and schema of the parent
    assert gc.get_freeze_count() == 0


class _Counted:
    """A fold that lists what it was given (engine/scan.Fold)."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, Any]] = []

    def empty(self) -> _Counted:
        return _Counted()

    def fold(self, items: list[tuple[Any, Any]]) -> None:
        self.seen.extend(items)

    def merge(self, other: _Counted) -> None:
        self.seen.extend(other.seen)


@pytest.mark.parametrize("phase", [1, 16, 64, 1000])
@pytest.mark.parametrize("keep", [False, True])
def test_a_batch_checked_in_phases_is_each_file_checked_alone(big: Path, monkeypatch: pytest.MonkeyPatch, phase: int, keep: bool) -> None:
    # A worker checks PHASE files, then derives their records (see _Task.entries): whatever the
    # split, each file's result, record, cache line and folded record are those of the file
    # checked on its own, in order (here 150 files from the middle, the invalid one among them).
    monkeypatch.setattr(validate_module, "PHASE", phase)
    register(*StageRecords.records)  # as a worker does
    repo = Repository.open(big).without_cache()
    files = sorted(repo.relative(p) for p in (big / "cases").glob("*/*.yml"))[430:580]
    calendar = load_calendar(big, accept_unconfirmed=True)
    late = frozenset({OVERDUE})
    task = validate_module._Task(str(big), repo.policy, TODAY, StageRecords(repo.policy, calendar, send=late), keep, encode=True)
    alone = [task.check(file) for file in files]
    assert sum(1 for item in alone if item.verdict.problems) == 1
    lines = [entry_line(item.file, item, validate_module._tag) if item.verdict.blob else None for item in alone]
    out, summary = task.batch(files)
    assert summary is None
    assert [line for _item, line in out] == lines
    assert [item.file for item, _ in out] == files
    for (item, _line), single in zip(out, alone):
        assert item.verdict == single.verdict and item.span == single.span and item.settled == single.settled
        assert item.record == (None if single.record is None else task.derive.sent(single.record))  # type: ignore[union-attr]
        assert item.case == (single.case if keep else None)
        assert (item.case is not None) == (keep and not single.verdict.problems)
    folding = validate_module._Task(str(big), repo.policy, TODAY, StageRecords(repo.policy, calendar), False, encode=True, fold=_Counted())
    out, summary = folding.batch(files)
    assert isinstance(summary, _Counted)
    assert summary.seen == [(single.record, single.span) for single in alone if single.record is not None]
    assert all(item.record is None and item.span is None for item, _line in out)
    # A folded case comes back as the one shared FOLDED (its line holds the rest); the file
    # that is not valid comes back as itself.
    assert [item is validate_module.FOLDED for item, _line in out] == [single.record is not None for single in alone]
    assert [(item.file, item.verdict) for item, _line in out if item is not validate_module.FOLDED] == [
        (single.file, single.verdict) for single in alone if single.record is None
    ]
    assert not validate_module.FOLDED.verdict.problems and validate_module.FOLDED.verdict.blob is not None
    assert [line for _item, line in out] == [
        entry_line(item.file, item._replace(case=None), validate_module._tag) if item.verdict.blob else None for item in alone
    ]
    if keep:
        # A case kept for the caller keeps its result, without its record.
        kept = validate_module._Task(str(big), repo.policy, TODAY, StageRecords(repo.policy, calendar), True, encode=True, fold=_Counted())
        out, _summary = kept.batch(files)
        assert [(item.file, item.verdict, item.record, item.case) for item, _line in out] == [
            (single.file, single.verdict, None, single.case) for single in alone
        ]


@pytest.mark.parametrize("phase", [1, 64])
def test_a_derivation_of_many_cases_at_once_gives_each_case_s_record(big: Path, monkeypatch: pytest.MonkeyPatch, phase: int) -> None:
    # FactRecords and SiteRecords derive a phase's cases together (their ``many``): the
    # records and cache lines are those each case gets alone.
    monkeypatch.setattr(validate_module, "PHASE", phase)
    repo = Repository.open(big).without_cache()
    files = sorted(repo.relative(p) for p in (big / "cases").glob("*/*.yml"))[430:580]
    calendar = load_calendar(big, accept_unconfirmed=True)
    for derive in (FactRecords(repo.policy, calendar), SiteRecords(repo.policy, calendar)):
        register(*derive.records)
        task = validate_module._Task(str(big), repo.policy, TODAY, derive, False, encode=True)
        alone = [task.check(file) for file in files]
        assert sum(1 for item in alone if item.record is not None) == len(files) - 1
        out, _summary = task.batch(files)
        assert [item for item, _line in out] == alone
        assert [line for _item, line in out] == [
            entry_line(item.file, item, validate_module._tag) if item.verdict.blob else None for item in alone
        ]


def test_the_benchmark_floor_batches_files_as_the_scan_does() -> None:
    # benchmarks/run.py's parse floor is `validate`'s shape without the checks: its batch size
    # is written out there (importing the tool would be timed), so it must follow the scan's.
    source = (Path(__file__).resolve().parents[2] / "benchmarks" / "run.py").read_text(encoding="utf-8")
    rule = f"max({validate_module.BATCH}, min({validate_module.MAX_BATCH}, len(files) // (jobs * {validate_module.BATCHES_EACH})))"
    assert rule in source


class _Waiting(_Counted):
    """A fold with work to do while the workers run (engine/scan.Fold.meanwhile)."""

    def __init__(self) -> None:
        super().__init__()
        self.merged = 0
        self.calls: list[tuple[int, int, int]] = []  # (this process, workers alive, summaries merged by then)

    def empty(self) -> _Waiting:
        return _Waiting()

    def merge(self, other: _Counted) -> None:
        super().merge(other)
        self.merged += 1

    def meanwhile(self) -> None:
        self.calls.append((os.getpid(), len(multiprocessing.active_children()), self.merged))


@pytest.mark.parametrize("cached", [False, True])
def test_a_folded_case_crosses_back_as_folded_and_is_passed_over(big: Path, cached: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # FOLDED is pickled by its name and read back as the same object, which the scan does
    # not hand on: only the invalid case comes out, every valid one is in the fold, and the
    # cache written on the way answers the next run with every record.
    import pickle

    assert pickle.loads(pickle.dumps([validate_module.FOLDED] * 3)) == [validate_module.FOLDED] * 3
    assert all(x is validate_module.FOLDED for x in pickle.loads(pickle.dumps([validate_module.FOLDED] * 3)))
    monkeypatch.setenv("COMPLAINTS_CACHE_DIR", str(tmp_path / "cache"))
    repo = Repository.open(big) if cached else Repository.open(big).without_cache()
    derive = StageRecords(repo.policy, load_calendar(big, accept_unconfirmed=True))
    files = validate_module._case_files(repo, None)
    fold = _Counted()
    out = list(validate_module._run(repo, files, TODAY, jobs=2, derive=derive, use_cache=cached, fold=fold))
    assert [(item.file, bool(item.verdict.problems)) for item in out] == [(out[0].file, True)]
    assert len(fold.seen) == len(files) - 1
    if cached:
        again = list(case_records(Repository.open(big), TODAY, derive, jobs=2))
        assert len(again) == len(files) - 1  # every record read back from the lines written


def test_the_fold_s_meanwhile_runs_once_here_while_the_workers_count(big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_module, "BATCH", 50)
    repo = Repository.open(big).without_cache()
    derive = StageRecords(repo.policy, load_calendar(big, accept_unconfirmed=True))
    fold = _Waiting()
    assert list(case_records(repo, TODAY, derive, use_cache=False, jobs=2, fold=fold)) == []
    assert fold.calls == [(os.getpid(), 2, 0)]  # once, here, with both workers started and nothing merged yet
    assert len(fold.seen) == validate_module.PARALLEL_THRESHOLD + 350 - 1
    assert fold.merged > 2


def test_the_statistics_load_the_audit_s_solver_while_the_workers_count(big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[int] = []
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # two workers, on any machine
    monkeypatch.setattr(derivations, "load_solver", lambda: loaded.append(len(multiprocessing.active_children())))
    repo = Repository.open(big).without_cache()
    repository_tally(repo, TODAY, accept_unconfirmed=True, skipped=[])
    assert loaded == [2]
