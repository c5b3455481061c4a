"""The scan reads the result cache an entry at a time (adapters/cache.EntryReader), marks the
files by position, and takes blob ids from git's listing merged with the files (engine/inputs
.BlobIds): every way in must give what a run without the cache gives, and a file that is not
one of this tool's caches must be read as no cache at all."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest

from complaints.adapters import cache as cache_module
from complaints.adapters.cache import ResultCache, blob_id
from complaints.adapters.git import tracked_blob_ids
from complaints.adapters.repository import Repository
from complaints.engine import inputs, scan

from conftest import committed_synthetic_archive

TODAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return committed_synthetic_archive(tmp_path_factory.mktemp("archive") / "repo", 60, seed=11)


@pytest.fixture
def repo(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "repo"
    subprocess.run(["cp", "-a", str(archive), str(target)], check=True)
    monkeypatch.setenv(cache_module.ENV_VAR, str(tmp_path / "cache"))
    return target


def results(root: Path, files: list[str] | None = None, *, use_cache: bool = True, whole: bool = True) -> list[tuple[str, str | None, list[str]]]:
    repo = Repository.open(root)
    chosen = scan._case_files(repo) if files is None else files
    return [(r.file, r.case_id, [p.message for p in r.problems])
            for r in scan.check_files(repo, chosen, TODAY, jobs=1, use_cache=use_cache, whole=whole)]


def test_entries_are_read_back_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache_module.ENV_VAR, str(tmp_path / "cache"))
    root = tmp_path / "repo"
    root.mkdir()
    entries = {f"cases/2026/{i:03d}.yml": ("value", i, "文字" * (i % 3)) for i in range(300)}
    store = ResultCache(root, "t", "ab" * 32)
    assert store.save(entries, tag=lambda e: f"tag{e[1]}")
    monkeypatch.setattr(cache_module.EntryReader, "CHUNK", 97)  # lines cross every chunk boundary
    reader = store.open_entries()
    assert reader is not None
    with reader:
        seen = list(reader.entries())
        assert [(p, t) for p, t, _, _ in seen] == [(p, f"tag{e[1]}") for p, e in entries.items()]
        # Read back in any order, through the window or not.
        for path, _tag, offset, length in [*seen[::-1], *seen]:
            value, line = reader.value(path, offset, length)
            assert value == entries[path] and line.endswith(b"\n")
        with pytest.raises(ValueError):
            reader.value("cases/2026/other.yml", seen[0][2], seen[0][3])


@pytest.mark.parametrize("damage", ["flip", "truncate", "grow", "wrong-key", "fifo", "symlink"])
def test_a_file_that_is_not_this_tools_cache_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    monkeypatch.setenv(cache_module.ENV_VAR, str(tmp_path / "cache"))
    root = tmp_path / "repo"
    root.mkdir()
    store = ResultCache(root, "t", "ab" * 32)
    assert store.save({f"f{i}": i for i in range(50)})
    assert store.path is not None
    data = store.path.read_bytes()
    if damage == "flip":
        store.path.write_bytes(data[:-5] + bytes([data[-5] ^ 1]) + data[-4:])
    elif damage == "truncate":
        store.path.write_bytes(data[:-3])
    elif damage == "grow":
        store.path.write_bytes(data + b"x\t\t1\n")
    elif damage == "wrong-key":
        store = ResultCache(root, "t", "cd" * 32)
    elif damage == "fifo":
        store.path.unlink()
        os.mkfifo(store.path)
    else:
        other = store.path.with_name("other")
        store.path.rename(other)
        store.path.symlink_to(other)
    assert store.open_entries() is None
    assert store.load() == {}


def test_blob_ids_by_position_match_git_and_the_bytes(repo: Path) -> None:
    r = Repository.open(repo)
    files = r.case_files()
    ids = inputs.blob_ids(r, files, git=True)
    tracked = tracked_blob_ids(repo, "cases")
    assert [ids.get(i) for i in range(len(files))] == [tracked[f] for f in files]
    (repo / files[2]).write_text("edited: yes\n", encoding="utf-8")
    os.symlink(repo / files[0], repo / "cases" / "zz-link.yml")
    files = r.case_files()
    for git in (True, False):
        ids = inputs.blob_ids(r, files, git=git)
        assert ids.get(2) == blob_id((repo / files[2]).read_bytes())
        assert ids.get(files.index("cases/zz-link.yml")) is None
        assert [ids.get(i) for i in range(len(files))] == [
            None if f.endswith("zz-link.yml") else blob_id((repo / f).read_bytes()) for f in files
        ]
    # An order git does not share still gives every id (the unmatched are hashed).
    shuffled = files[::-1]
    ids = inputs.blob_ids(r, shuffled, git=True)
    assert [ids.get(i) for i in range(len(shuffled))] == [
        None if f.endswith("zz-link.yml") else blob_id((repo / f).read_bytes()) for f in shuffled
    ]


def test_a_cache_out_of_path_order_or_with_a_file_twice_answers_as_uncached(repo: Path) -> None:
    fresh = results(repo, use_cache=False)
    assert results(repo) == fresh  # fills the cache
    store = scan.ResultCache(Repository.open(repo).root, "validate", scan.environment_key(repo, "validate"))
    assert store.path is not None
    stored = store.load_stored()
    # Rewritten backwards, with one file's entry twice (the later one says another blob).
    paths = list(stored)[::-1]
    writer = store.writer()
    assert writer is not None
    for path in paths:
        writer.add_line(cache_module.entry_line(path, stored[path]))
    stale = cache_module.Stored("0" * 40 + ",-,-,1,0", stored[paths[-1]].data)
    writer.add_line(cache_module.entry_line(paths[-1], stale))
    assert writer.commit()
    assert results(repo) == fresh
    assert results(repo) == fresh
    # A run over some files keeps the other entries, and every run still agrees.
    some = scan._case_files(Repository.open(repo))[::7]
    assert results(repo, some, whole=False) == [r for r in fresh if r[0] in some]
    assert results(repo) == fresh


def test_a_malformed_line_in_a_verified_file_means_no_cache(repo: Path) -> None:
    fresh = results(repo, use_cache=False)
    assert results(repo) == fresh
    store = scan.ResultCache(Repository.open(repo).root, "validate", scan.environment_key(repo, "validate"))
    stored = store.load_stored()
    writer = store.writer()
    assert writer is not None
    for i, (path, entry) in enumerate(stored.items()):
        writer.add_line(cache_module.entry_line(path, entry))
        if i == 10:
            writer.add_line(b"no tabs here\n")
    assert writer.commit()
    assert store.load_stored() == {}
    assert results(repo) == fresh
    assert len(store.load_stored()) == len(fresh)  # rewritten whole


def test_a_file_replaced_while_read_is_read_as_verified(repo: Path) -> None:
    fresh = results(repo, use_cache=False)
    assert results(repo) == fresh
    store = scan.ResultCache(Repository.open(repo).root, "validate", scan.environment_key(repo, "validate"))
    reader = store.open_entries()
    assert reader is not None and store.path is not None
    with reader:
        before = list(reader.entries())
        # A new file renamed over the name, as every writer does: the open one is still read.
        swap = store.path.with_name("swap")
        swap.write_bytes(b"replaced")
        os.replace(swap, store.path)
        assert list(reader.entries()) == before
        assert reader.value(before[0][0], before[0][2], before[0][3])[0].file == before[0][0]
    # Cut short in place under an open reader: an error, never a wrong entry.
    assert results(repo) == fresh
    reader = store.open_entries()
    assert reader is not None
    with reader:
        before = list(reader.entries())
        with open(store.path, "r+b") as handle:
            handle.truncate(100)
        with pytest.raises(ValueError):
            list(reader.entries())
        with pytest.raises(ValueError):
            reader.value(before[-1][0], before[-1][2], before[-1][3])


def test_a_file_name_that_is_not_utf8_is_cached_and_read_back(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pull request can add a file whose name is bytes that UTF-8 cannot decode (Python
    holds them as lone surrogates): the run reports it and caches it like any other file,
    and the warm run gives the same answer from the cache, never a traceback."""
    source = next((repo / "cases").glob("*/*.yml"))
    name = os.fsdecode(b"bad\xff-name.yml")
    (source.parent / name).write_bytes(source.read_bytes())
    uncached = results(repo, use_cache=False)
    assert any(file.endswith(name) and problems for file, _, problems in uncached)
    assert results(repo) == uncached
    checked: list[str] = []
    original = scan._Task.check

    def counting(self: scan._Task, file: str, schema: object = None) -> object:
        checked.append(file)
        return original(self, file, schema)  # type: ignore[arg-type]

    monkeypatch.setattr(scan._Task, "check", counting)
    assert results(repo) == uncached
    assert checked == []  # every file, the odd name included, answered by the cache
