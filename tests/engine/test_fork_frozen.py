"""The scan's workers are forked with the parent's objects frozen (gc.freeze): a collection
in a worker then leaves the inherited heap alone instead of writing to every object in it,
which would copy each of its pages into every worker (at a million cases, the list of file
names alone is 85 MB). The parent's collector gets its objects back once the workers are done."""
from __future__ import annotations

import datetime as dt
import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from complaints.adapters.repository import Repository
from complaints.engine import scan

from conftest import committed_synthetic_archive

TODAY = dt.date(2026, 11, 27)


@dataclass(frozen=True)
class FrozenCount:
    """A derivation whose record is the number of objects frozen in the process that ran it."""

    records: ClassVar[tuple[type, ...]] = ()
    key: ClassVar[str] = "frozen-count"

    def __call__(self, path: str, case: dict[str, Any], today: dt.date) -> tuple[int, bool, None]:
        return gc.get_freeze_count(), False, None


def test_workers_are_forked_with_the_parent_frozen_and_the_parent_thawed_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(scan, "BATCH", 5)
    repo = Repository.open(committed_synthetic_archive(tmp_path / "repo", 30, seed=2))
    assert gc.get_freeze_count() == 0
    counts = [record for _path, record, _span in scan.case_records(repo, TODAY, FrozenCount(), use_cache=False, jobs=2)]
    assert len(counts) > 20
    # every worker saw the parent's objects frozen (thousands: modules, the list of files...)
    assert min(counts) > 1000
    assert gc.get_freeze_count() == 0


def test_the_parent_is_thawed_when_the_scan_is_abandoned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(scan, "BATCH", 5)
    repo = Repository.open(committed_synthetic_archive(tmp_path / "repo", 30, seed=2))
    records = scan.case_records(repo, TODAY, FrozenCount(), use_cache=False, jobs=2)
    next(records)
    assert gc.get_freeze_count() > 0  # frozen while the workers run
    records.close()
    assert gc.get_freeze_count() == 0
