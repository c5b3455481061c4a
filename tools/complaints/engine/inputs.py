"""What a repository-wide result depends on among the case files, as one digest: the key a
whole result is kept under (adapters/cache.memoized) by `validate`, `overdue` and `stats`.

On an unchanged archive this must cost little next to start-up, so the common case reads no
case file and parses no per-file record: when git's index lists exactly the files under
cases/ (every one a regular file at stage 0) and git's stat check finds none of them changed,
git's raw listing — every path with its blob id — *is* the digest's input, and it is hashed
as it comes. Anything else (an untracked or ignored file, a symbolic link, a FIFO, a folder
named like a case, an edited or deleted file, a conflict, no git at all) falls back to every
file's path and blob id, blob ids from the index where it is current and from the bytes
otherwise, which is always right and merely slower.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple, Sequence

from complaints.adapters.cache import blob_id
from complaints.adapters.git import IndexListing, Listing, tracked_records
from complaints.adapters.repository import CASES_DIR, Repository

# Below this many files, blob ids are computed from the bytes instead of asking git.
GIT_THRESHOLD = 1000
# Names compared with git's listing at a time.
_SLICE = 10_000



class BlobIds:
    """The blob ids of a list of files by position, 20 bytes each in one buffer (a dict of
    100,000 names and hex ids would take tens of megabytes)."""

    _NONE = bytes(20)

    def __init__(self, count: int) -> None:
        self._ids = bytearray(20 * count)

    def __len__(self) -> int:
        return len(self._ids) // 20

    def get(self, index: int) -> str | None:
        """The blob id (hex) of the file at ``index``; None when it has none (not a regular
        file, or unreadable)."""
        raw = self._ids[20 * index : 20 * index + 20]
        return None if raw == self._NONE else raw.hex()

    def set(self, index: int, blob: str) -> None:
        self._ids[20 * index : 20 * index + 20] = bytes.fromhex(blob)


def blob_ids(repo: Repository, files: Sequence[str], listing: Listing | None = None, *, git: bool | None = None) -> BlobIds:
    """Blob ids of ``files`` (sorted, as listed) by position: from the git index for large
    runs (tracked, unmodified files), from the bytes for the rest (none: files that are not
    regular or cannot be read). ``listing``: git's index listing, when the caller has it."""
    use_git = len(files) >= GIT_THRESHOLD if git is None else git
    out = BlobIds(len(files))
    found = bytearray(len(files))
    if use_git:
        if listing is None:
            listing = IndexListing(repo.root, CASES_DIR).result()
        if listing is not None:
            # git's listing and ``files`` are both in path order: merged, not looked up.
            at, count = 0, len(files)
            for name, blob in tracked_records(listing):
                while at < count and files[at] < name:
                    at += 1
                if at < count and files[at] == name:
                    try:
                        out.set(at, blob)
                    except ValueError:
                        continue
                    found[at] = 1
    for index, file in enumerate(files):
        if found[index]:
            continue
        path = repo.root / file
        try:
            if path.is_symlink() or not path.is_file():
                continue
            out.set(index, blob_id(path.read_bytes()))
        except OSError:
            continue
    return out


def _index_is_listing(listing: Listing | None, files: Sequence[str]) -> bool:
    """git's index lists exactly ``files``, in order, and git's stat check found none of them
    changed: then each one's content (or, for a symbolic link, its target) is what the index
    says, and anything git cannot track (a FIFO, a folder with no file in it) is absent."""
    if listing is None or listing.dirty:
        return False
    # Python sorts text by code point, git sorts paths bytewise: for UTF-8 the same order. A
    # name that is not UTF-8 (held with surrogate escapes) simply fails to match. Compared a
    # window of git's records at a time, so that no second copy of a million names is built.
    at = 0
    for count, names in listing.name_windows():
        chunk = files[at : at + count]
        if len(chunk) != count:
            return False
        try:
            expected = ("\x00".join(chunk) + "\x00").encode("utf-8")
        except UnicodeEncodeError:
            return False
        if names != expected:
            return False
        at += count
    return at == len(files)


class Snapshot(NamedTuple):
    """The files under cases/, the digest of what they hold, and whether git's index lists
    exactly those files with the work tree matching it (nothing untracked, ignored, edited or
    deleted under cases/)."""

    files: list[str]
    digest: str
    index_exact: bool


def _digest(repo: Repository, files: Sequence[str], listing: Listing | None) -> tuple[str, bool]:
    if _index_is_listing(listing, files):
        assert listing is not None
        digest = hashlib.sha256(b"index\x00")
        digest.update(listing.staged)
        return digest.hexdigest(), True
    ids = blob_ids(repo, files, listing, git=listing is not None)
    digest = hashlib.sha256(b"files\x00")
    for start in range(0, len(files), _SLICE):
        chunk = "".join(f"{files[i]}\x00{ids.get(i) or '-'}\n" for i in range(start, min(start + _SLICE, len(files))))
        digest.update(chunk.encode("utf-8", "surrogateescape"))
    return digest.hexdigest(), False


def snapshot(repo: Repository) -> Snapshot:
    """Every file under cases/ (repo.case_files()) and the digest of what they hold; git
    lists its index while the folder is listed."""
    pending = IndexListing(repo.root, CASES_DIR) if _in_work_tree(repo.root) else None
    files = repo.case_files()
    listing = pending.result() if pending is not None else None
    if listing is None or (len(files) < GIT_THRESHOLD and not _index_is_listing(listing, files)):
        listing = None  # a small archive is hashed from its bytes: cheaper than asking git twice
    return Snapshot(files, *_digest(repo, files, listing))


def inputs_digest(repo: Repository, files: Sequence[str] | None = None) -> str:
    """A digest of the case files a repository-wide result depends on: every file under
    cases/ by path and git blob id (see the module's description). ``files``:
    repo.case_files(), when the caller has listed them already."""
    if files is None:
        return snapshot(repo).digest
    listing = IndexListing(repo.root, CASES_DIR).result() if len(files) >= GIT_THRESHOLD else None
    return _digest(repo, files, listing)[0]


def _in_work_tree(root: Path) -> bool:
    """Worth asking git: the repository or a folder above it has a .git (a cheap guess;
    git itself decides, and a wrong guess costs one failed git call)."""
    return any((folder / ".git").exists() for folder in (root, *root.parents))
