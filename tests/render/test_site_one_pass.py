"""The site build reads the cases once for both the statistics and the receipt lookup table:
what it publishes equals what the two separate runs give, cold, from the cache, without the
cache, and through the worker processes."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from complaints.adapters.repository import Repository
from complaints.commands import receipts
from complaints.engine import scan
from complaints.render import site

from conftest import make_synthetic_archive

DAYS = (dt.date(2026, 11, 27), dt.date(2026, 3, 10), dt.date(2026, 12, 30))


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site-archive") / "repo"
    make_synthetic_archive(root, 120, seed=11)
    # One invalid file: left out of both, and counted as left out.
    victim = sorted((root / "cases").glob("*/*.yml"))[7]
    victim.write_text(victim.read_text(encoding="utf-8").replace("priority: ", "priority: x", 1), encoding="utf-8")
    return root


def _separate(root: Path, today: dt.date) -> tuple[str, str, dict[str, Any]]:
    stats = site.statistics_for(root, None, today, skip_invalid=True)
    document = receipts.lookup_document(Repository.open(root).without_cache(), today)
    return stats.json_text, stats.csv_text, document


def _one_pass(root: Path, today: dt.date) -> tuple[str, str, dict[str, Any]]:
    stats = site.statistics_for(root, None, today, skip_invalid=True, with_receipts=True)
    assert stats.receipts is not None
    document = receipts.lookup_document(Repository.open(root), today, entries=stats.receipts)
    return stats.json_text, stats.csv_text, document


@pytest.mark.parametrize("today", DAYS)
def test_one_pass_equals_the_separate_runs(archive: Path, today: dt.date) -> None:
    expected = _separate(archive, today)
    assert expected[2]["shards"]  # the synthetic cases carry receipt hashes
    assert _one_pass(archive, today) == expected  # cold
    assert _one_pass(archive, today) == expected  # from the cache it wrote


def test_one_pass_equals_the_separate_runs_on_the_sample_cases(sample_repo: Path) -> None:
    for today in DAYS:
        assert _one_pass(sample_repo, today) == _separate(sample_repo, today)


def test_one_pass_through_the_workers(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    today = DAYS[0]
    expected = _separate(archive, today)
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(scan, "BATCH", 9)
    monkeypatch.setattr(scan.os, "cpu_count", lambda: 2)
    monkeypatch.setenv("COMPLAINTS_CACHE_DIR", str(archive.parent / "another-cache"))
    assert _one_pass(archive, today) == expected
    assert _one_pass(archive, today) == expected


def test_each_case_file_is_read_once(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTS_CACHE_DIR", str(archive.parent / "cold-cache"))
    seen: list[str] = []
    check = scan._Task.check

    def counting(self: scan._Task, file: str, schema: Any = None) -> Any:
        seen.append(file)
        return check(self, file, schema)

    monkeypatch.setattr(scan._Task, "check", counting)
    stats = site.statistics_for(archive, None, DAYS[0], skip_invalid=True, with_receipts=True)
    receipts.lookup_document(Repository.open(archive), DAYS[0], entries=stats.receipts)
    files = sorted(p.relative_to(archive).as_posix() for p in (archive / "cases").glob("*/*.yml"))
    assert seen == files
