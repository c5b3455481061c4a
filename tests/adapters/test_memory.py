"""Freed memory goes back to the system (adapters/memory.py): a process that freed most of
what it had allocated, with a few survivors spread through the heap so that it cannot
shrink from its top, is smaller once ``give_back`` has run."""
from __future__ import annotations

import os
import subprocess
import sys

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


def test_give_back_returns_the_freed_pages_of_the_heap() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, env={**os.environ})
    before, after, _ = (int(x) for x in out.stdout.split())
    assert before - after > 40 * 2**20, (before, after)


def test_give_back_is_harmless_called_again() -> None:
    from complaints.adapters.memory import give_back

    assert give_back() is give_back() is True
