"""Atomic writes: a crash between writing the temporary file and renaming it leaves the
original intact, and the next write leaves no temporary file behind."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaints.adapters import atomic
from complaints.cli import cli
from complaints.adapters.repository import Repository
from test_writer_support import make_repo

CRASH = """
import os, sys
sys.path.insert(0, {tests!r})
from complaints.adapters import atomic as writer
def crash(src, dst):
    os._exit(9)  # the process dies after the temporary file is complete, before the rename
writer.os.replace = crash
from complaints.cli import main
sys.argv = ["complaints", "event", {case_id!r}, "accept", "--repo", {root!r}, "--today", "2026-03-09"]
main()
"""


def test_crash_before_rename_keeps_the_original_and_a_retry_cleans_up(tmp_path: Path) -> None:
    root, _ = make_repo(tmp_path / "repo")
    created = CliRunner().invoke(cli, ["new", "--repo", str(root), "--today", "2026-03-06", "--channel", "letter", "--category", "delay",
                                      "--department", "permits", "--priority", "normal", "--anonymous"])
    case_id = created.stdout.split()[1]
    path = Repository.open(root).find_case(case_id)
    original = path.read_bytes()
    script = CRASH.format(tests=str(Path(__file__).parent), case_id=case_id, root=str(root))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 9, proc.stderr
    assert path.read_bytes() == original
    leftovers = atomic.stale_temp_files(path)
    assert len(leftovers) == 1 and b"kind: accepted" in leftovers[0].read_bytes()
    # the validator sees the leftover (it is not a case file) ...
    assert CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", "2026-03-09"]).exit_code == 1
    # ... and the retry succeeds and removes it
    retry = CliRunner().invoke(cli, ["event", case_id, "accept", "--repo", str(root), "--today", "2026-03-09"])
    assert retry.exit_code == 0, retry.output
    assert atomic.stale_temp_files(path) == []
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    assert path.read_bytes().startswith(original) and path.read_bytes().endswith(b"  - kind: accepted\n    date: 2026-03-09\n")


def test_failed_rename_in_process_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "case.yml"
    target.write_bytes(b"old\n")
    target.chmod(0o640)

    def broken(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", broken)
    with pytest.raises(OSError):
        atomic.write(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yml"]
    monkeypatch.undo()
    atomic.write(target, b"new\n")
    assert target.read_bytes() == b"new\n"
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)  # the mode is kept


def test_atomic_create_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "cases" / "2026" / "X.yml"
    atomic.create(target, b"first\n")
    with pytest.raises(FileExistsError):
        atomic.create(target, b"second\n")
    assert target.read_bytes() == b"first\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["X.yml"]
    assert os.stat(target).st_mode & 0o777 == 0o644
