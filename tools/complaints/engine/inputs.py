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
import os
import re
import stat
from pathlib import Path
from typing import NamedTuple, Sequence

from complaints.adapters.cache import blob_id
from complaints.adapters.git import IndexListing, Listing, tracked_records
from complaints.adapters.names import FileNames
from complaints.adapters.gitindex import INTENT_TO_ADD, SKIP_WORKTREE, IndexFile, IndexFormatError, open_index, stat_matches
from complaints.adapters.repository import CASES_DIR, Repository
from complaints.adapters.yamlload import MAX_BYTES

# Below this many files, blob ids are computed from the bytes instead of asking git.
GIT_THRESHOLD = 1000
# From this many entries in git's index, the index file is read here, a chunk at a time,
# rather than by git, whose process holds the whole index (about 250 MB at a million files,
# adapters/gitindex.py). Below it git is quicker: its stat check runs on several threads.
INDEX_FILE_THRESHOLD = 200_000
# A surrogate code point's bytes (ED A0-BF ..), which no valid UTF-8 holds.
_SURROGATE = re.compile(b"\xed[\xa0-\xbf]")
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

    def set_raw(self, index: int, blob: bytes) -> None:
        if len(blob) == 20:
            self._ids[20 * index : 20 * index + 20] = blob


# The files beside cases/ whose state the statistics' data commit also depends on
# (commands/stats.data_commit).
TOP_FILES = (b"policy.yml", b"calendar.yml")
_UNDER_TOP_FILES = tuple(name + b"/" for name in TOP_FILES)


class IndexFacts(NamedTuple):
    """What the index file says of the data beside the case files' blob ids, for deciding
    whether the data is committed without a git command that reads the whole index: the
    tree the index's entries under cases/ make (git's cache tree; None when it has none, it
    is out of date, or an entry there is marked intent-to-add or skip-worktree), the entries
    of policy.yml and calendar.yml as (mode, blob id, stage), and whether the index holds
    something about those two this does not follow (an intent-to-add entry, an entry under a
    folder of that name): git is then asked."""

    cases_tree: bytes | None
    top: dict[bytes, list[tuple[int, bytes, int]]]
    unusual: bool = False


def index_is_head(root: Path, facts: IndexFacts, head: dict[str, tuple[int, str, str]]) -> bool | None:
    """Whether the data under ``root`` is exactly the commit whose entries for cases/,
    policy.yml and calendar.yml are ``head`` (adapters/git.tree_entries), decided from the
    index file's ``facts`` for a work tree whose files under cases/ the index already lists
    unchanged (Snapshot.index_exact): the index's tree for cases/ is the commit's, and each of
    the two files is the same (type, executable bit and content) in the work tree, the index
    and the commit, or in none of them. None when the index gives no tree for cases/ (git is
    then asked). Stricter than `git status` in one corner: a policy.yml that git ignores and
    no commit holds makes the data uncommitted here."""
    if facts.cases_tree is None or facts.unusual:
        return None
    try:
        if not stat.S_ISDIR(os.lstat(root / CASES_DIR).st_mode):
            return False  # a link or a file where HEAD has a folder: git sees every file changed
    except OSError:
        return False
    cases = head.get(CASES_DIR)
    if cases is None or cases[1] != "tree" or cases[2] != facts.cases_tree.hex():
        return False
    for name in TOP_FILES:
        staged = facts.top.get(name, [])
        if len(staged) > 1 or any(stage != 0 for _mode, _blob, stage in staged):
            return False  # a conflict
        in_index = (staged[0][0], staged[0][1].hex()) if staged else None
        committed = head.get(os.fsdecode(name))
        in_commit = None if committed is None else (committed[0], committed[2]) if committed[1] == "blob" else (-1, "")
        if in_index != in_commit or _work_tree_entry(root, name) != in_index:
            return False
    return True


def _work_tree_entry(root: Path, name: bytes) -> tuple[int, str] | None:
    """(mode as git records it, blob id) of a file at the top of the work tree; None when
    there is none; (-1, "") for anything git would not take as the same file."""
    path = os.fsencode(root) + b"/" + name
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return -1, ""
    if stat.S_ISLNK(info.st_mode):
        try:
            return 0o120000, blob_id(os.readlink(path))
        except OSError:
            return -1, ""
    # (A policy is read whole by the tool; this bound only keeps a huge file from being hashed.)
    blob = _blob_of(path, info, 1 << 26) if stat.S_ISREG(info.st_mode) else None
    if blob is None:
        return -1, ""
    return (0o100755 if info.st_mode & 0o100 else 0o100644), blob


class IndexView:
    """What git's index says of a sorted list of files: whether it lists exactly those files
    with the work tree matching it (``exact``), then the digest of its listing
    (``ls-files --stage -z``'s records), and the blob ids it gives of the files by position."""

    def __init__(self, exact: bool, digest: str | None, ids: BlobIds | None = None, listing: Listing | None = None,
                 files: Sequence[str] = (), facts: IndexFacts | None = None) -> None:  # fmt: skip
        self.exact, self.digest = exact, digest
        self._ids, self._listing, self._files = ids, listing, files
        self.facts = facts  # from the index file only

    def ids(self) -> BlobIds:
        """Blob ids by position of the regular files at stage 0 the index holds unchanged;
        the others unset (BlobIds.get gives None)."""
        if self._ids is None:
            ids = BlobIds(len(self._files))
            if self._listing is not None:
                # git's listing and the files are both in path order: merged, not looked up.
                files, at, count = self._files, 0, len(self._files)
                for name, blob in tracked_records(self._listing):
                    while at < count and files[at] < name:
                        at += 1
                    if at < count and files[at] == name:
                        try:
                            ids.set(at, blob)
                        except ValueError:
                            continue
            self._ids = ids
        return self._ids


def _listing_view(listing: Listing, files: Sequence[str]) -> IndexView:
    if not _index_is_listing(listing, files):
        return IndexView(False, None, listing=listing, files=files)
    digest = hashlib.sha256(b"index\x00")
    digest.update(listing.staged)
    return IndexView(True, digest.hexdigest(), listing=listing, files=files)


def _file_view(root: Path, index: IndexFile, files: Sequence[str]) -> IndexView:
    """The view from the index file, in one pass over its entries (each compared with the
    list as it comes, its work-tree file checked by git's stat check, and where that fails
    by its bytes, as git's refresh would): nothing kept per entry but the blob id.
    IndexFormatError or OSError when the file cannot be followed to its end."""
    prefix = CASES_DIR.encode() + b"/"
    top = os.fsencode(root)
    digest = hashlib.sha256(b"index\x00")
    ids = BlobIds(len(files))
    count = len(files)
    listed = 0  # entries under cases/ so far: the one at ``listed`` must be files[listed]
    at = 0  # merge position for the blob ids
    beside: dict[bytes, list[tuple[int, bytes, int]]] = {}
    plain = True  # no entry under cases/ that git's cache tree leaves out
    unusual = False
    try:
        # cases/ a link to a folder: lstat would follow it to files matching the index, where
        # git sees every file gone and an untracked link.
        exact = stat.S_ISDIR(os.lstat(top + b"/" + prefix[:-1]).st_mode)
    except OSError:
        exact = False
    for entry in index.entries():
        name = entry.name
        if not name.startswith(prefix) and name != prefix[:-1]:
            if name in TOP_FILES:
                beside.setdefault(name, []).append((entry.mode, entry.blob, entry.stage))
                unusual = unusual or bool(entry.flags & INTENT_TO_ADD)
            elif name.startswith(_UNDER_TOP_FILES):
                unusual = True
            continue
        if entry.flags & (SKIP_WORKTREE | INTENT_TO_ADD):
            plain = False
        digest.update(entry.staged())
        try:
            text = name.decode("utf-8")
        except UnicodeDecodeError:
            exact = False  # no listed file has such a name (see _index_is_listing)
            continue
        if exact and (listed >= count or files[listed] != text):
            exact = False
        listed += 1
        while at < count and files[at] < text:
            at += 1
        if at >= count or files[at] != text:
            continue
        # A listed file (a name from this tool's own listing, never one the index makes up).
        path = top + b"/" + name
        try:
            info = os.lstat(path)
        except OSError:
            exact = False
            continue
        regular = entry.mode in (0o100644, 0o100755) and entry.stage == 0
        if stat_matches(entry, info, index.mtime):
            if regular:
                ids.set_raw(at, entry.blob)
            continue
        # Changed by its stat data: compared by content, as git's refresh does, and by the
        # executable bit, which git takes as a change of its own.
        current = _blob_of(path, info) if regular else None
        if current is None or current != entry.blob.hex() or bool(info.st_mode & 0o100) != (entry.mode == 0o100755):
            exact = False
        if current is not None:
            ids.set(at, current)
    exact = exact and listed == count
    facts = IndexFacts(index.top_tree(prefix[:-1]) if plain else None, beside, unusual)
    return IndexView(exact, digest.hexdigest() if exact else None, ids, facts=facts)


def _blob_of(path: bytes, info: os.stat_result, limit: int = MAX_BYTES) -> str | None:
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            return blob_id(handle.read(limit + 1))
    except OSError:
        return None
    finally:
        os.close(fd)


class IndexQuery:
    """git's index on the files under cases/, asked for now so that it is ready when the
    caller has listed the folder: git's listing in a thread, or, for an index of
    INDEX_FILE_THRESHOLD entries or more, the index file read here once the list is made."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._file = open_index(root, least=INDEX_FILE_THRESHOLD)
        self._pending = None if self._file is not None else IndexListing(root, CASES_DIR)

    def view(self, files: Sequence[str]) -> IndexView | None:
        """What the index says of ``files`` (sorted); None when git failed or is missing."""
        if self._file is not None:
            try:
                with self._file:
                    return _file_view(self.root, self._file, files)
            except (IndexFormatError, OSError):
                self._pending = IndexListing(self.root, CASES_DIR)  # git then reads what this did not
            finally:
                self._file = None
        listing = self._pending.result() if self._pending is not None else None
        return None if listing is None else _listing_view(listing, files)


def blob_ids(repo: Repository, files: Sequence[str], view: IndexView | None = None, *, git: bool | None = None) -> BlobIds:
    """Blob ids of ``files`` (sorted, as listed) by position: from the git index for large
    runs (tracked, unmodified files), from the bytes for the rest (none: files that are not
    regular or cannot be read). ``view``: what git's index says of ``files``, when the
    caller has it."""
    use_git = len(files) >= GIT_THRESHOLD if git is None else git
    out: BlobIds | None = None
    if use_git:
        if view is None:
            view = IndexQuery(repo.root).view(files)
        if view is not None:
            out = view.ids()
    if out is None:
        out = BlobIds(len(files))
    for index, file in enumerate(files):
        if out.get(index) is not None:
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
    compact = files if isinstance(files, FileNames) else None
    for count, names in listing.name_windows():
        if at + count > len(files):
            return False
        if compact is not None:
            # The names' bytes as held: UTF-8, except that a surrogate escape is held as the
            # bytes of a surrogate, which strict UTF-8 never has (such a name fails, as below).
            expected = compact.joined(at, at + count)
            if _SURROGATE.search(expected):
                return False
        else:
            try:
                expected = ("\x00".join(files[at : at + count]) + "\x00").encode("utf-8")
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

    files: Sequence[str]
    digest: str
    index_exact: bool
    # What the index file says beyond the blob ids, when it was read here (a large archive).
    index_facts: IndexFacts | None = None


def _digest(repo: Repository, files: Sequence[str], view: IndexView | None) -> tuple[str, bool]:
    if view is not None and view.exact and view.digest is not None:
        return view.digest, True
    ids = blob_ids(repo, files, view, git=view is not None)
    digest = hashlib.sha256(b"files\x00")
    for start in range(0, len(files), _SLICE):
        chunk = "".join(f"{files[i]}\x00{ids.get(i) or '-'}\n" for i in range(start, min(start + _SLICE, len(files))))
        digest.update(chunk.encode("utf-8", "surrogateescape"))
    return digest.hexdigest(), False


def snapshot(repo: Repository) -> Snapshot:
    """Every file under cases/ (repo.case_files()) and the digest of what they hold; git
    lists its index while the folder is listed."""
    pending = IndexQuery(repo.root) if _in_work_tree(repo.root) else None
    files = repo.case_files()
    view = pending.view(files) if pending is not None else None
    if view is None or (len(files) < GIT_THRESHOLD and not view.exact):
        view = None  # a small archive is hashed from its bytes: cheaper than asking git twice
    return Snapshot(files, *_digest(repo, files, view), index_facts=view.facts if view is not None else None)


def inputs_digest(repo: Repository, files: Sequence[str] | None = None) -> str:
    """A digest of the case files a repository-wide result depends on: every file under
    cases/ by path and git blob id (see the module's description). ``files``:
    repo.case_files(), when the caller has listed them already."""
    if files is None:
        return snapshot(repo).digest
    view = IndexQuery(repo.root).view(files) if len(files) >= GIT_THRESHOLD else None
    return _digest(repo, files, view)[0]


def _in_work_tree(root: Path) -> bool:
    """Worth asking git: the repository or a folder above it has a .git (a cheap guess;
    git itself decides, and a wrong guess costs one failed git call)."""
    return any((folder / ".git").exists() for folder in (root, *root.parents))
