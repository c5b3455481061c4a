"""The tool's own reader of git's index file (adapters/gitindex.py), used for large archives
instead of a git process that would hold the whole index: it must read exactly what git
lists, in every index version, refuse what it does not follow (so that git is asked), and
treat a damaged or forged index as hostile input: an IndexFormatError, never another
exception, never a hang, never a wrong blob id taken as current."""
from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest

from complaints.adapters.gitindex import IndexFormatError, open_index, stat_matches
from complaints.adapters.repository import Repository
from complaints.engine import inputs

from conftest import git

ODD_NAMES = [b"with space.yml", b"tab\there.yml", b"bad\xff.yml", b"100644 " + b"a" * 40 + b" 0\tfake.yml",
             b"\xe6\x96\x87.yml", b"a-b.yml", b"a.yml", b"z" * 200 + b".yml"]  # fmt: skip


def _repo(root: Path) -> Path:
    (root / "cases" / "2026").mkdir(parents=True)
    (root / "cases" / "a").mkdir()
    (root / "other").mkdir()
    for i, name in enumerate(ODD_NAMES):
        (root / "cases" / "2026" / os.fsdecode(name)).write_bytes(b"x: %d\n" % i)
    (root / "cases" / "a" / "b.yml").write_bytes(b"in a folder\n")
    (root / "cases" / "exec.yml").write_bytes(b"run: no\n")
    (root / "cases" / "exec.yml").chmod(0o755)
    (root / "cases" / "link.yml").symlink_to("exec.yml")
    (root / "other" / "x.txt").write_bytes(b"outside\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data")
    # An entry with a path longer than the 12 bits of the entry's length field, and one at
    # stages 1-3 (a conflict), neither with a file: made in the index alone.
    blob = git(root, "hash-object", "-w", "other/x.txt").strip()
    long = "cases/" + "/".join(["d" * 200] * 25) + "/long.yml"
    git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{long}")
    for stage in (1, 2, 3):
        info = f"100644 {blob} {stage}\tcases/conflict.yml\n"
        subprocess.run(["git", "-C", str(root), "update-index", "--index-info"], input=info.encode(), check=True)
    return root


def _staged(root: Path) -> bytes:
    index = open_index(root)
    assert index is not None
    with index:
        return b"".join(e.staged() for e in index.entries() if e.name.startswith(b"cases/"))


def _git_staged(root: Path) -> bytes:
    return subprocess.run(["git", "-C", str(root), "ls-files", "--stage", "-z", "--", "cases"],
                          capture_output=True, check=True).stdout  # fmt: skip


@pytest.mark.parametrize("version", [2, 3, 4])
def test_reads_what_git_lists_in_every_index_version(tmp_path: Path, version: int) -> None:
    root = _repo(tmp_path / "r")
    git(root, "update-index", "--index-version", str(version))
    if version == 3:
        (root / "cases" / "new.yml").write_bytes(b"intent\n")
        git(root, "add", "-N", "cases/new.yml")  # intent-to-add: an extended entry
    index = open_index(root)
    assert index is not None and index.version == version
    index.close()
    expected = _git_staged(root)
    assert b"conflict.yml" in expected and b"long.yml" in expected
    assert _staged(root) == expected


def test_the_view_from_the_file_equals_gits(tmp_path: Path) -> None:
    from complaints.adapters.git import IndexListing

    root = tmp_path / "r"
    (root / "cases" / "2026").mkdir(parents=True)
    for i in range(30):
        (root / "cases" / "2026" / f"c{i:02}.yml").write_bytes(b"n: %d\n" % i)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data")
    files = _open(root).case_files()
    listing = IndexListing(root, "cases").result()
    assert listing is not None
    by_git = inputs._listing_view(listing, files)
    index = open_index(root)
    assert index is not None
    with index:
        by_file = inputs._file_view(root, index, files)
    assert by_git.exact and by_file.exact and by_git.digest == by_file.digest
    assert [by_git.ids().get(i) for i in range(30)] == [by_file.ids().get(i) for i in range(30)]
    # an edit: no longer exact, and the edited file's id is that of its bytes
    (root / "cases" / "2026" / "c03.yml").write_bytes(b"n: edited\n")
    index = open_index(root)
    assert index is not None
    with index:
        edited = inputs._file_view(root, index, files)
    assert not edited.exact and edited.digest is None
    assert edited.ids().get(3) == git(root, "hash-object", "cases/2026/c03.yml").strip()
    assert edited.ids().get(4) == by_git.ids().get(4)
    # a touch that keeps the bytes: git's refresh would call it clean, and so does the reader
    (root / "cases" / "2026" / "c03.yml").write_bytes(b"n: 3\n")
    index = open_index(root)
    assert index is not None
    with index:
        assert inputs._file_view(root, index, files).digest == by_git.digest


def test_the_stat_check_is_git_s(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "cases").mkdir(parents=True)
    case = root / "cases" / "c.yml"
    case.write_bytes(b"x: 1\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    index = open_index(root)
    assert index is not None
    with index:
        (entry,) = list(index.entries())
        mtime = index.mtime
    assert stat_matches(entry, os.lstat(case), mtime)
    stamp = case.stat().st_mtime_ns + 2_000_000_000
    os.utime(case, ns=(stamp, stamp))
    assert not stat_matches(entry, os.lstat(case), mtime)  # the time moved
    os.utime(case, ns=(entry.mtime[0] * 10**9 + entry.mtime[1],) * 2)
    assert not stat_matches(entry, os.lstat(case), entry.mtime)  # racy: as new as the index
    case.chmod(0o755)
    assert not stat_matches(entry, os.lstat(case), mtime)  # the executable bit


def test_what_the_reader_does_not_follow_is_left_to_git(tmp_path: Path) -> None:
    root = _repo(tmp_path / "r")
    assert open_index(root, {"GIT_INDEX_FILE": str(root / "elsewhere")}) is None
    assert open_index(root, least=10**6) is None
    git(root, "update-index", "--split-index")
    index = open_index(root)
    if index is not None:  # the shared part lives in another file: the reader gives up
        with index, pytest.raises(IndexFormatError):
            list(index.entries())
    sha256 = tmp_path / "s"
    sha256.mkdir()
    git(sha256, "init", "-q", "--object-format=sha256")
    (sha256 / "f").write_bytes(b"x\n")
    git(sha256, "add", "f")
    assert open_index(sha256) is None
    worktree = tmp_path / "w"
    git(root, "worktree", "add", "-q", str(worktree))
    assert open_index(worktree) is None  # `.git` is a file there


def test_a_split_index_still_gives_the_view_through_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "r"
    (root / "cases").mkdir(parents=True)
    for i in range(5):
        (root / "cases" / f"c{i}.yml").write_bytes(b"n: %d\n" % i)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data")
    monkeypatch.setattr(inputs, "GIT_THRESHOLD", 0)
    monkeypatch.setattr(inputs, "INDEX_FILE_THRESHOLD", 10**12)
    expected = inputs.snapshot(_open(root))
    git(root, "update-index", "--split-index")
    monkeypatch.setattr(inputs, "INDEX_FILE_THRESHOLD", 0)
    got = inputs.snapshot(_open(root))
    assert got.index_exact and got.digest == expected.digest


def _open(root: Path) -> Repository:
    """A repository with no policy: the listing and its digest read none."""
    return Repository(root, None)  # type: ignore[arg-type]


def test_a_damaged_index_is_a_format_error_and_nothing_else(tmp_path: Path) -> None:
    root = _repo(tmp_path / "r")
    good = (root / ".git" / "index").read_bytes()
    rng = random.Random(7)
    for trial in range(300):
        data = bytearray(good)
        kind = trial % 3
        if kind == 0:  # a byte changed anywhere
            at = rng.randrange(12, len(data))
            data[at] ^= 1 << rng.randrange(8)
        elif kind == 1:  # cut short
            data = data[: rng.randrange(12, len(data))]
        else:  # a run of random bytes, checksum made right again (a forged file)
            import hashlib

            at = rng.randrange(12, len(data) - 20)
            data[at : at + 8] = rng.randbytes(8)
            data[-20:] = hashlib.sha1(bytes(data[:-20])).digest()
        (root / ".git" / "index").write_bytes(bytes(data))
        index = open_index(root)
        if index is None:
            continue
        with index:
            try:
                staged = b"".join(e.staged() for e in index.entries())
            except IndexFormatError:
                continue
        # read to its end: only a forged file with a right checksum may be accepted
        assert kind == 2 or bytes(data) == good, trial
        assert isinstance(staged, bytes)


def _tree_repo(root: Path) -> Path:
    for path, text in {"cases/2025/a.yml": "a\n", "cases/2026/b.yml": "b\n", "cases/2026/c/d.yml": "d\n",
                       "site/x/s.md": "s\n", "policy.yml": "p\n", "cases-old/e.yml": "e\n"}.items():  # fmt: skip
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "data")
    return root


def _top_tree(root: Path, name: bytes) -> bytes | None:
    index = open_index(root)
    assert index is not None
    with index:
        for _entry in index.entries():
            pass
        return index.top_tree(name)


@pytest.mark.parametrize("version", [2, 3, 4])
def test_the_cache_tree_gives_a_top_folder_s_tree_as_committed(tmp_path: Path, version: int) -> None:
    root = _tree_repo(tmp_path / "r")
    git(root, "update-index", "--index-version", str(version))
    git(root, "write-tree")  # the cache tree made whole again after the rewrite
    for folder in ("cases", "site", "cases-old"):
        assert (_top_tree(root, folder.encode()) or b"").hex() == git(root, "rev-parse", f"HEAD:{folder}").strip()
    assert _top_tree(root, b"policy.yml") is None  # a file, not a folder
    assert _top_tree(root, b"absent") is None and _top_tree(root, b"2026") is None  # only top-level folders
    # A change staged under cases/: its tree is out of date in the cache tree until written.
    (root / "cases" / "2026" / "b.yml").write_text("b, changed\n", encoding="utf-8")
    git(root, "add", "cases")
    assert _top_tree(root, b"cases") is None
    assert (_top_tree(root, b"site") or b"").hex() == git(root, "rev-parse", "HEAD:site").strip()
    written = git(root, "write-tree").strip()
    tree = _top_tree(root, b"cases")
    assert tree is not None and tree.hex() == git(root, "rev-parse", f"{written}:cases").strip()
    assert tree.hex() != git(root, "rev-parse", "HEAD:cases").strip()


def test_a_forged_cache_tree_gives_no_tree_rather_than_an_error(tmp_path: Path) -> None:
    import hashlib
    import struct

    root = _tree_repo(tmp_path / "r")
    good = (root / ".git" / "index").read_bytes()
    at = good.find(b"TREE")
    assert at != -1
    length = struct.unpack(">I", good[at + 4 : at + 8])[0]
    payload = good[at + 8 : at + 8 + length]
    rng = random.Random(3)
    forged = [
        b"",
        b"\x00-1 1\ncases\x001 0\n",  # a cut object id
        b"\x00-1 99999999\n",  # more subtrees than there are
        b"\x004294967295 1\n" + bytes(20) + b"cases\x00x 0\n",  # not a number
        b"\x00-1 1\ncases\x00-1 0\n",  # invalidated
        b"x" * 70000,  # no NUL where a name would end
        *(rng.randbytes(rng.randrange(1, 200)) for _ in range(200)),
        *(payload[: rng.randrange(len(payload))] for _ in range(50)),
        *(bytes(b ^ (1 << rng.randrange(8)) if i == j else b for i, b in enumerate(payload))
          for j in (rng.randrange(len(payload)) for _ in range(100))),
    ]  # fmt: skip
    for tree in forged:
        data = good[:at] + b"TREE" + struct.pack(">I", len(tree)) + tree + good[at + 8 + length : -20]
        (root / ".git" / "index").write_bytes(data + hashlib.sha1(data).digest())
        found = _top_tree(root, b"cases")
        assert found is None or len(found) == 20
    # A well-formed tree is read as it says, whatever it says: git's checksum is not a
    # signature, and the caller compares the id with the commit's, never trusts it alone.
    claimed = b"\x00-1 1\ncases\x003 0\n" + b"\xab" * 20
    data = good[:at] + b"TREE" + struct.pack(">I", len(claimed)) + claimed + good[at + 8 + length : -20]
    (root / ".git" / "index").write_bytes(data + hashlib.sha1(data).digest())
    assert _top_tree(root, b"cases") == b"\xab" * 20
