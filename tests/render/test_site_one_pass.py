"""The site build reads the cases once for both the statistics and the receipt lookup table:
what it publishes equals what the two separate runs give, cold, from the cache, without the
cache, and through the worker processes."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from complaints.adapters.repository import Repository
from complaints.commands import receipts
from complaints.commands.stats import compute_with_receipts
from complaints.core.receipt import ReceiptTable
from complaints.engine import scan
from complaints.engine.derivations import SiteFold
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


def test_one_pass_with_the_rows_spilled_as_they_come(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent spills the receipt rows to a temporary file every SPILL_ROWS rows and reads
    them back once the scan is done: the table is the same, from the workers and from the cache."""
    today = DAYS[1]
    expected = _separate(archive, today)
    spilled: list[int] = []
    real = ReceiptTable.spill

    def spill(table: ReceiptTable, out: Any) -> None:
        spilled.append(table.held)
        real(table, out)

    monkeypatch.setattr(ReceiptTable, "spill", spill)
    monkeypatch.setattr(SiteFold, "SPILL_ROWS", 4)
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(scan, "BATCH", 9)
    monkeypatch.setattr(scan.os, "cpu_count", lambda: 2)
    monkeypatch.setenv("COMPLAINTS_CACHE_DIR", str(archive.parent / "spill-cache"))
    assert _one_pass(archive, today) == expected
    assert len(spilled) > 5 and all(count >= 4 for count in spilled)
    spilled.clear()
    assert _one_pass(archive, today) == expected  # the memo: nothing to spill
    assert not spilled
    monkeypatch.setenv("COMPLAINTS_CACHE_DIR", str(archive.parent / "spill-cache-2"))
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 10**9)  # in this process, from the files, 512 at a time
    assert _one_pass(archive, today) == expected
    assert spilled


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


HASH = re.compile(r"receipt_hash: (pbkdf2-sha256\$\d+\$([0-9a-f]{64}))")


@pytest.mark.parametrize("later_first", [False, True])
def test_a_receipt_hash_two_cases_hold_shows_the_later_case_as_the_separate_table_does(
    sample_repo: Path, monkeypatch: pytest.MonkeyPatch, later_first: bool
) -> None:
    """A copied case file gives two cases one receipt hash. The lookup table gives the hash the
    row of the later case in path order; the one-pass build must too, however the rows arrive:
    one case answered from the cache and the other derived in a worker, in either order."""
    monkeypatch.setenv("COMPLAINTS_CACHE_DIR", str(sample_repo.parent / "cache"))
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr(scan, "BATCH", 3)
    monkeypatch.setattr(SiteFold, "SPILL_ROWS", 2)  # the rows spilled and read back as well
    monkeypatch.setattr(scan.os, "cpu_count", lambda: 2)
    today = DAYS[0]
    files = sorted((sample_repo / "cases").rglob("*.yml"))
    holding = [f for f in files if HASH.search(f.read_text(encoding="utf-8"))]
    _, own = compute_with_receipts(Repository.open(sample_repo, use_cache=False), None, today)

    def entry(f: Path) -> Any:
        match = HASH.search(f.read_text(encoding="utf-8"))
        assert match is not None
        return own[match.group(2)]

    earlier = holding[0]
    later = next(f for f in holding[1:] if entry(f) != entry(earlier))
    later_row = entry(later)  # a case's row depends on its timeline, not on its hash
    compute_with_receipts(Repository.open(sample_repo), None, today)  # every row in the cache
    # The copy takes the other's hash: the edited file is derived in a worker, the other
    # answered from the cache.
    source, target = (earlier, later) if not later_first else (later, earlier)
    match = HASH.search(source.read_text(encoding="utf-8"))
    assert match is not None
    target.write_text(HASH.sub(lambda m: "receipt_hash: " + match.group(1), target.read_text(encoding="utf-8"), count=1),
                      encoding="utf-8")  # fmt: skip
    expected = receipts.lookup_entries(Repository.open(sample_repo, use_cache=False), today)
    assert expected[match.group(2)] == later_row
    _, one_pass = compute_with_receipts(Repository.open(sample_repo), None, today)
    assert one_pass == expected
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 10**9)
    _, serial = compute_with_receipts(Repository.open(sample_repo, use_cache=False), None, today)
    assert serial == expected
