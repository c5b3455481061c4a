"""Concurrent writers lose nothing: twenty `complaints event` processes on one case at once
are all recorded (or refused clearly when the lock wait runs out), never a traceback, never a
success that was lost; each writer removes only its own temporary files."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaints.adapters import locks

from complaints.commands import case_edit as writer
from complaints.cli import cli
from complaints.adapters.repository import Repository
from complaints.adapters.yamlload import load_yaml
from test_writer_support import make_repo

WRITERS = 20


def command() -> list[str]:
    exe = Path(sys.executable).with_name("complaints")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from complaints.cli import main; main()"]


def test_twenty_concurrent_events_are_all_recorded(tmp_path: Path) -> None:
    root, _ = make_repo(tmp_path / "repo")
    created = CliRunner().invoke(cli, ["new", "--repo", str(root), "--today", "2026-03-02", "--channel", "letter", "--category", "delay",
                                       "--department", "permits", "--priority", "normal", "--anonymous"])
    assert created.exit_code == 0, created.output
    case_id = created.output.split()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTS_")}
    procs = [
        subprocess.Popen([*command(), "event", case_id, "protection-check", "--note", f"writer {i}", "--date", "2026-03-03",
                          "--repo", str(root), "--today", "2026-03-10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for i in range(WRITERS)
    ]
    outcomes = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    for code, out, err in outcomes:
        assert "Traceback" not in out + err
        assert code == 0 or (code == 1 and "nothing was written, try again" in err), (code, out, err)
    succeeded = {f"writer {i}" for i, (code, _, _) in enumerate(outcomes) if code == 0}
    path = Repository.open(root).find_case(case_id)
    notes = [e.get("note") for e in load_yaml(path.read_bytes(), str(path))["timeline"] if e["kind"] == "protection_check"]
    assert sorted(notes) == sorted(succeeded)  # every reported success is in the file, once
    assert len(succeeded) == WRITERS
    assert writer.stale_temp_files(path) == []
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    assert CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", "2026-03-10"]).exit_code == 0


def test_a_writer_that_cannot_get_the_lock_refuses_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = make_repo(tmp_path / "repo")
    created = CliRunner().invoke(cli, ["new", "--repo", str(root), "--today", "2026-03-02", "--channel", "letter", "--category", "delay",
                                       "--department", "permits", "--priority", "normal", "--anonymous"])
    case_id = created.output.split()[1]
    path = Repository.open(root).find_case(case_id)
    before = path.read_bytes()
    monkeypatch.setattr(locks, "DEFAULT_TIMEOUT", 0.2)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from complaints.adapters.locks import case_lock\n"
         "with case_lock(Path(sys.argv[1]), sys.argv[2]):\n    print('held', flush=True); time.sleep(30)",
         str(root), path.relative_to(root).as_posix()],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(cli, ["event", case_id, "accept", "--repo", str(root), "--today", "2026-03-10"])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert "another complaints command" in result.stderr and "nothing was written" in result.stderr
    assert path.read_bytes() == before


def test_the_lock_folder_ignores_itself_and_stays_in_the_work_tree(tmp_path: Path) -> None:
    root, _ = make_repo(tmp_path / "repo")
    folder = locks.lock_folder(root)
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    other, _ = make_repo(tmp_path / "repo2")
    (other / ".cache").symlink_to(outside)
    with pytest.raises(Exception, match="outside the repository"):
        locks.lock_folder(other)
