"""Freed memory goes back to the system (adapters/memory.py): with glibc, a process that freed
most of what it had allocated, with a few survivors spread through the heap so that it cannot
shrink from its top, is smaller once ``give_back`` has run; with another C library nothing is
done and it says so."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

CHILD = r"""
import os
from complaints.adapters.memory import give_back

def resident():
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

blocks = [bytes(2000) + i.to_bytes(4, "little") for i in range(40_000)]  # 80 MB, from malloc
kept = blocks[::100]  # one in a hundred stays, all through the heap
del blocks
before = resident()
assert give_back() is True
after = resident()
print(before, after, len(kept))
"""


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's; elsewhere give_back does nothing (the test below)")
def test_give_back_returns_the_freed_pages_of_the_heap() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, env={**os.environ})
    before, after, _ = (int(x) for x in out.stdout.split())
    assert before - after > 40 * 2**20, (before, after)


def test_give_back_says_whether_it_could_and_is_harmless_called_again() -> None:
    from complaints.adapters.memory import give_back

    assert give_back() is give_back() is GLIBC


def test_the_scan_gives_back_before_it_forks_its_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Called once per parallel scan, before the pool exists (the workers then inherit less).
    from concurrent.futures import ProcessPoolExecutor

    from complaints.adapters.repository import Repository
    from complaints.commands.validate import validate
    from complaints.engine import scan

    from conftest import make_synthetic_archive

    root = tmp_path / "repo"
    make_synthetic_archive(root, scan.PARALLEL_THRESHOLD + 10, seed=4)
    events: list[str] = []

    class Pool(ProcessPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            events.append("pool")
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scan, "give_back", lambda: events.append("give back") or True)
    monkeypatch.setattr(scan, "ProcessPoolExecutor", Pool)
    report = validate(Repository.open(root).without_cache(), scan.dt.date(2026, 11, 27), jobs=2, use_cache=False)
    assert len(report.files) == scan.PARALLEL_THRESHOLD + 10
    assert events == ["give back", "pool"]
