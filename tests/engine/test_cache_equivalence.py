"""The result cache never changes an answer: validate (text, json), overdue (json) and stats
(json) print the same with a cold cache, a warm cache and --no-cache, on a generated archive,
after files change, after the policy changes, on a later day, and with a damaged cache."""
from __future__ import annotations

import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest

from complaints.adapters.cache import ResultCache, blob_id, cache_dir, environment_key
from complaints.adapters.git import tracked_blob_ids
from complaints.cli import cli

from conftest import cli_invoke, committed_synthetic_archive, git as _git
TODAY = "2026-11-27"



@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return committed_synthetic_archive(tmp_path_factory.mktemp("archive") / "repo", 240, seed=7)


@pytest.fixture
def repo(archive: Path, tmp_path: Path) -> Path:
    """A private copy of the archive (with its git history) per test."""
    target = tmp_path / "repo"
    subprocess.run(["cp", "-a", str(archive), str(target)], check=True)
    return target


COMMANDS = {
    "validate-text": ["validate"],
    "validate-json": ["validate", "--format", "json"],
    "overdue-json": ["overdue", "--format", "json", "--accept-unconfirmed"],
    "stats-json": ["stats", "--format", "json", "--accept-unconfirmed"],
}


def run(repo: Path, name: str, *extra: str, today: str = TODAY) -> tuple[int, str, str]:
    result = cli_invoke(*COMMANDS[name], "--repo", str(repo), "--today", today, *extra)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_same(repo: Path, today: str = TODAY) -> dict[str, tuple[int, str, str]]:
    """Every command: uncached, then cached twice (filling, then reading the cache)."""
    outputs = {}
    for name in COMMANDS:
        fresh = run(repo, name, "--no-cache", today=today)
        first = run(repo, name, today=today)
        second = run(repo, name, today=today)
        assert first == fresh, name
        assert second == fresh, name
        outputs[name] = fresh
    return outputs


def cache_files(repo: Path) -> list[Path]:
    folder = cache_dir(repo)
    assert folder is not None
    return sorted(folder.glob("*.cache"))


def test_cold_warm_and_uncached_runs_agree(repo: Path) -> None:
    outputs = assert_same(repo)
    assert outputs["validate-text"][1].startswith("ok: 240 files checked")
    assert {p.name for p in cache_files(repo)} == {
        "validate.cache", "validate-report.cache", "deadlines.cache", "facts.cache", "overdue-report.cache", "stats-report.cache",
        "accepted-policy.cache", "accepted-calendar.cache",
    }
    # The cache lives outside the work tree: git sees nothing new.
    assert _git(repo, "status", "--porcelain", "--ignored") == ""


def test_looking_back_agrees_cached_and_uncached(repo: Path) -> None:
    """overdue on a past day reads each case as it stood then (timelines cut, later cases left
    out); stats counts up to that day: the cached records give the same answers."""
    for day in ("2025-06-30", "2026-03-15"):
        for name, extra in (("overdue-json", ()), ("stats-json", ("--skip-invalid",))):  # later events: invalid then
            fresh = run(repo, name, "--no-cache", *extra, today=day)
            assert fresh[0] == 0 and day in fresh[1], name
            assert run(repo, name, *extra, today=day) == fresh, (name, day)
            assert run(repo, name, *extra, today=day) == fresh, (name, day)


def test_no_cache_writes_nothing(repo: Path) -> None:
    for name in COMMANDS:
        run(repo, name, "--no-cache")
    folder = cache_dir(repo)
    assert folder is not None and not folder.exists()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_modified_files_are_checked_again(repo: Path) -> None:
    before = assert_same(repo)
    files = sorted((repo / "cases").glob("*/*.yml"))
    _edit(files[3], "priority: ", "priority: x")  # now not a key of the policy
    _edit(files[10], "  - kind: received\n", "  - kind: received\n    note: call 13812345678\n")  # plaintext phone
    after = assert_same(repo)
    assert after["validate-text"][0] == 1
    assert files[3].relative_to(repo).as_posix() in after["validate-text"][1]
    assert "personal data" in after["validate-text"][1]
    assert after["stats-json"] != before["stats-json"]  # the invalid case no longer counts
    # Committed changes too (blob ids then come from the git index).
    _git(repo, "commit", "-qam", "edit")
    committed = assert_same(repo)
    # Only the statistics' data_commit changes (from "uncommitted" to the commit).
    assert {k: v for k, v in committed.items() if k != "stats-json"} == {k: v for k, v in after.items() if k != "stats-json"}


def test_policy_change_invalidates_the_cache(repo: Path) -> None:
    before = assert_same(repo)
    # Shorten the 30-day limits: deadlines, overdue stages and statistics move.
    policy = repo / "policy.yml"
    text = policy.read_text(encoding="utf-8")
    assert "limit: 30" in text
    policy.write_text(text.replace("limit: 30", "limit: 12"), encoding="utf-8")
    after = assert_same(repo)
    assert after["overdue-json"] != before["overdue-json"]


def test_schema_and_calendar_are_part_of_the_key(repo: Path) -> None:
    key = environment_key(repo, "validate")
    (repo / "calendar.yml").write_text((repo / "calendar.yml").read_text(encoding="utf-8") + "\n# touched\n", encoding="utf-8")
    assert environment_key(repo, "validate") != key
    key = environment_key(repo, "validate")
    schema = repo / "schema" / "case.schema.json"
    schema.write_text(schema.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert environment_key(repo, "validate") != key


def test_later_day_rechecks_only_what_today_can_change(repo: Path) -> None:
    files = sorted((repo / "cases").glob("*/*.yml"))
    # An event dated after the first run's today: a problem then, not a week later.
    path = next(f for f in files if "kind: closed" not in f.read_text(encoding="utf-8"))
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(text + "\n  - kind: paused\n    date: 2026-11-30\n    reason: waiting\n", encoding="utf-8")
    early = assert_same(repo, today=TODAY)
    assert "is in the future" in early["validate-text"][1]
    later = assert_same(repo, today="2026-12-04")
    assert "is in the future" not in later["validate-text"][1]
    # And back to the first day, with the cache now written on the later one.
    assert assert_same(repo, today=TODAY) == early


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "wrong-types", "wrong-key"])
def test_damaged_cache_is_rebuilt_not_trusted(repo: Path, damage: str) -> None:
    expected = assert_same(repo)
    for path in cache_files(repo):
        data = path.read_bytes()
        if damage == "truncate":
            path.write_bytes(data[: len(data) // 2])
        elif damage == "flip":
            path.write_bytes(data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:])
        elif damage == "garbage":
            path.write_bytes(b"\x00" * 64 + data[64:])
        elif damage == "empty":
            path.write_bytes(b"")
        elif damage == "wrong-types":
            # A well-formed file under the right key whose entries are not entries.
            purpose = "validate" if path.stem == "validate" else None
            if purpose is None:
                path.write_bytes(b"")
                continue
            first = sorted((repo / "cases").glob("*/*.yml"))[0].relative_to(repo).as_posix()
            ResultCache(repo, "validate", environment_key(repo, "validate")).save({first: ("ok", None), "x": 1})
        elif damage == "wrong-key":
            ResultCache(repo, path.stem, "00" * 32).save({"anything": 1})
    for name in COMMANDS:
        assert run(repo, name) == expected[name], name
        assert run(repo, name) == expected[name], name


def test_blob_ids_match_git(repo: Path) -> None:
    ids = tracked_blob_ids(repo, "cases")
    files = sorted((repo / "cases").glob("*/*.yml"))
    assert len(ids) == len(files)
    for path in files[:20]:
        assert ids[path.relative_to(repo).as_posix()] == blob_id(path.read_bytes())
    _edit(files[0], "priority: ", "priority: x")
    assert files[0].relative_to(repo).as_posix() not in tracked_blob_ids(repo, "cases")  # modified: hashed by the caller
    assert tracked_blob_ids(repo / "cases" / "nowhere", "cases") == {}  # not a work tree of its own: still answers


def test_outside_git_blob_ids_are_computed(make_repo: Callable[..., Path]) -> None:
    root = make_repo(with_cases=True)
    assert tracked_blob_ids(root, "cases") == {} or True  # may sit inside another work tree
    for name in ("validate-text", "validate-json"):
        fresh = run(root, name, "--no-cache")
        assert run(root, name) == fresh
        assert run(root, name) == fresh


def test_workers_write_the_cache_the_parent_would(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In parallel runs the workers encode each cache entry; the files must hold exactly the
    bytes a serial run (the parent encoding every entry) writes, and give the same answers."""
    from complaints.engine import scan

    files = sorted((repo / "cases").glob("*/*.yml"))
    _edit(files[3], "priority: ", "priority: x")  # an invalid file: its problems are cached too
    expected = assert_same(repo)  # 240 files: below the threshold, every entry encoded here
    per_file = ("validate.cache", "deadlines.cache", "facts.cache")
    serial = {p.name: p.read_bytes() for p in cache_files(repo) if p.name in per_file}
    assert set(serial) == set(per_file)
    for path in cache_files(repo):
        path.unlink()
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(scan, "BATCH", 7)
    monkeypatch.setattr(scan.os, "cpu_count", lambda: 2)
    pools: list[int] = []

    class Pool(ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pools.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(scan, "ProcessPoolExecutor", Pool)
    for name in COMMANDS:
        assert run(repo, name) == expected[name], name
    assert len(pools) == 3  # validate, deadlines, facts: each in worker processes
    parallel = {p.name: p.read_bytes() for p in cache_files(repo) if p.name in per_file}
    assert parallel == serial
    for name in COMMANDS:  # and the workers' files read back
        assert run(repo, name) == expected[name], name
