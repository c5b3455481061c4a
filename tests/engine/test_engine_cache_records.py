"""Every result the engine and the commands cache is read back by a new process: the record
classes it is made of are registered before the cache is read, so a warm run never throws a
stored result away and computes it again (which would be correct, only slow)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

TODAY = "2026-11-28"
COMMANDS = {
    "validate": (["validate"], "validate-report"),
    "overdue": (["overdue", "--format", "json", "--accept-unconfirmed"], "overdue-report"),
    "stats": (["stats", "--format", "json", "--accept-unconfirmed"], "stats-report"),
    "list": (["list", "--format", "json", "--accept-unconfirmed"], "caselist"),
}


def _run(root: Path, cache: Path, args: list[str], *extra: str) -> str:
    code = "from complaints.cli import main; main()"
    done = subprocess.run([sys.executable, "-c", code, *args, "--repo", str(root), "--today", TODAY, *extra],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "COMPLAINTS_CACHE_DIR": str(cache)})
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_warm_run_reads_the_cache_it_wrote(make_repo: Callable[..., Path], tmp_path: Path, command: str) -> None:
    root = make_repo(with_cases=True)
    cache = tmp_path / "cache"
    args, name = COMMANDS[command]
    fresh = _run(root, cache, args, "--no-cache")
    assert _run(root, cache, args) == fresh
    [written] = cache.glob(f"*/{name}.cache")
    before = written.stat().st_mtime_ns
    assert _run(root, cache, args) == fresh
    assert written.stat().st_mtime_ns == before  # read, not computed and written again
