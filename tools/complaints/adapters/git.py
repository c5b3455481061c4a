"""Every git call of the package, with one error policy.

Listings are always asked for NUL-separated (``-z``) and split on NUL: git's plain listings
quote a name that holds a non-ASCII character, a quote or a backslash, and such a name would
then match no file. A failure is a ConfigError naming the git subcommand and git's last line
on stderr; callers that can do without git (a folder that is not a work tree) catch it.
"""
from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

from complaints.errors import ConfigError

TIMEOUT = 120


class GitError(ConfigError):
    """git could not be run, or refused a command."""


def _call(root: Path, args: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git could not be run ({type(exc).__name__})") from None


def run(root: Path, *args: str) -> bytes:
    """git's standard output for ``git -C root args...``; GitError when git is missing, times
    out or exits non-zero."""
    proc = _call(root, args)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {lines[-1] if lines else f'exit {proc.returncode}'}")
    return proc.stdout


class Started:
    """A git command started now, its output collected later by :meth:`output` (with
    ``run``'s error policy), so that it runs beside the caller's own work."""

    def __init__(self, root: Path, *args: str) -> None:
        self.args = args
        try:
            self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                ["git", "-C", str(root), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError:
            self.proc = None

    def output(self) -> bytes:
        """git's standard output; GitError as for ``run``."""
        if self.proc is None:
            raise GitError("git could not be run (OSError)")
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise GitError("git could not be run (TimeoutExpired)") from None
        if self.proc.returncode != 0:
            lines = err.decode("utf-8", "replace").strip().splitlines()
            raise GitError(f"git {self.args[0]} failed: {lines[-1] if lines else f'exit {self.proc.returncode}'}")
        return out

    def stop(self) -> None:
        """End the command if it still runs, its output unread (the caller stopped early)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            self.proc.communicate()


def tree_entries(root: Path, ref: str, paths: Sequence[str]) -> dict[str, tuple[int, str, str]]:
    """The entries of ``paths`` in the tree of ``ref`` (`git ls-tree`, which reads that
    tree's objects, never the index): path -> (mode, type, object id); a path the tree does
    not hold is left out. GitError as ``run``, and for output it does not follow."""
    out = run(root, "ls-tree", "-z", ref, "--", *paths)
    entries: dict[str, tuple[int, str, str]] = {}
    for record in out.split(b"\x00"):
        if not record:
            continue
        head, tab, path = record.partition(b"\t")
        fields = head.split(b" ")
        if not tab or len(fields) != 3 or not re.fullmatch(rb"[0-7]{6}", fields[0]) or not re.fullmatch(rb"[0-9a-f]{40,64}", fields[2]):
            raise GitError("git ls-tree gave output this tool does not follow")
        entries[os.fsdecode(path)] = (int(fields[0], 8), fields[1].decode("ascii", "replace"), fields[2].decode("ascii"))
    return entries


def text(root: Path, *args: str) -> str:
    """``run``'s output as text, surrounding whitespace removed (a commit id, a ref)."""
    return run(root, *args).decode("utf-8", "replace").strip()


def names(output: bytes) -> list[str]:
    """The paths of a ``-z`` listing, in git's order (names that are not UTF-8 are left out:
    no file of this project can have one)."""
    out = []
    for raw in output.split(b"\x00"):
        if raw:
            try:
                out.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                continue
    return out


def commit_of(root: Path, ref: str) -> str | None:
    """The commit ``ref`` names, or None when it names none (an unknown ref, not a work tree)."""
    try:
        return text(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") or None
    except GitError:
        return None


def merge_base(root: Path, ref: str) -> str:
    """Where HEAD's history meets ``ref``'s; ``ref`` itself when they share none."""
    try:
        return text(root, "merge-base", ref, "HEAD") or ref
    except GitError:
        return ref


def changed_since(root: Path, base: str, paths: Sequence[str], *, diff_filter: str | None = None) -> list[str]:
    """Files under ``paths`` that differ from commit ``base`` (committed, staged or not; renames
    as a deletion and an addition) and untracked files there that are not ignored."""
    return ChangedSince(root, base, paths, diff_filter=diff_filter).result()


class ChangedSince:
    """``changed_since``, its two git calls started now (side by side, and beside the caller's
    own work) and collected by :meth:`result`."""

    def __init__(self, root: Path, base: str, paths: Sequence[str], *, diff_filter: str | None = None) -> None:
        filtered = () if diff_filter is None else (f"--diff-filter={diff_filter}",)
        self.changed = Started(root, "diff", "--name-only", "-z", "--no-renames", *filtered, base, "--", *paths)
        self.untracked = Started(root, "ls-files", "-z", "--others", "--exclude-standard", "--", *paths)

    def result(self) -> list[str]:
        try:
            changed = self.changed.output()
        finally:
            untracked = self.untracked.output()
        return sorted(set(names(changed)) | set(names(untracked)))


class IndexListing:
    """git's index listing of the files under a folder, asked for at once and collected by
    :meth:`result`, so the caller can do other work (list the folder itself) while git runs.
    Two git commands run one after the other in a background thread: ``update-index
    --refresh`` (git's stat check of the work tree against the index), then ``ls-files
    --stage``, whose names a caller compares with a listing of its own at the cost of one
    comparison. Never side by side: each git reads the whole index, about 250 MB a process
    for a million files, more than the rest of a run."""

    def __init__(self, root: Path, under: str) -> None:
        self.root, self.under = root, under
        self._deadline = time.monotonic() + TIMEOUT
        self._out: Listing | None = None
        self._thread = threading.Thread(target=self._collect, name="git-index-listing", daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        try:
            self._out = self._listing()
        except (OSError, ValueError, subprocess.SubprocessError):
            self._out = None

    def _listing(self) -> Listing | None:
        git = ["git", "-C", str(self.root)]
        refresh = subprocess.run(
            [*git, "update-index", "--refresh"], stdin=subprocess.DEVNULL, capture_output=True, timeout=self._left()
        )
        # Its standard error is not read (only the exit status counts): discarded, so that it
        # can never fill a pipe that nobody reads while the listing is read.
        proc = subprocess.Popen(
            [*git, "ls-files", "--stage", "-z", "--", self.under],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        listed = _read_all(proc, self._deadline)
        if listed is None or proc.returncode != 0:
            return None
        # A refresh that found every file clean (exit 0, nothing said) has just compared the
        # work tree with the index; only otherwise is a second pass needed to name the files
        # (a lock held by another git, or changes outside the folder, also land here).
        if refresh.returncode == 0 and not refresh.stdout.strip() and not refresh.stderr.strip():
            return Listing(listed, frozenset())
        try:
            dirty = run(self.root, "diff-files", "--name-only", "-z", "--", self.under)
        except GitError:
            return None
        return Listing(listed, frozenset(dirty.split(b"\x00")) - {b""})

    def _left(self) -> float:
        return max(self._deadline - time.monotonic(), 0.001)

    def result(self) -> Listing | None:
        """What git said (see :class:`Listing`); None when git failed, is missing or did not
        answer in time."""
        self._thread.join(self._left() + 5.0)
        return None if self._thread.is_alive() else self._out


# The head of each `ls-files --stage -z` record (mode, blob id of SHA-1 or SHA-256, stage,
# tab), taken off to leave the names: a record starts the output or follows a NUL.
_RECORD_HEAD = re.compile(rb"(?:^|(?<=\x00))[0-7]{6} [0-9a-f]{40}(?:[0-9a-f]{24})? [0-3]\t")


def _read_all(proc: subprocess.Popen[bytes], deadline: float) -> bytes | None:
    """Everything ``proc`` writes to its standard output, read into one buffer that grows in
    place (``communicate`` keeps a list of chunks and joins them, twice the size of a listing
    of a million files at the end); None when it is still writing at ``deadline``, when it is
    stopped."""
    assert proc.stdout is not None
    watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), proc.kill)
    watchdog.start()
    try:
        data = proc.stdout.read()
        proc.stdout.close()
        proc.wait()
    finally:
        watchdog.cancel()
    return None if proc.returncode is None or proc.returncode < 0 else data


class Listing(NamedTuple):
    """What git's index says of the files under a folder."""

    staged: bytes  # the raw `ls-files --stage -z` output: mode, blob id, stage and name of each
    dirty: frozenset[bytes]  # tracked names whose work-tree file differs from the index (git's stat check, then content)

    def name_windows(self, size: int = 1 << 20) -> Iterator[tuple[int, bytes]]:
        """The names, NUL-terminated as `ls-files -z` gives them, a window of whole records
        at a time with the number of records in it: never a second copy of the whole
        listing (at a million files the names alone are tens of megabytes)."""
        staged, at, end = self.staged, 0, len(self.staged)
        while at < end:
            stop = staged.rfind(b"\x00", at, min(at + size, end))
            if stop == -1:  # one record longer than a window
                stop = staged.find(b"\x00", at)
                if stop == -1:
                    stop = end - 1
            window = staged[at : stop + 1]
            yield window.count(b"\x00"), _RECORD_HEAD.sub(b"", window)
            at = stop + 1


def tracked_blob_ids(root: Path, under: str, listing: Listing | None = None) -> dict[str, str]:
    """Blob ids of the regular files under ``under`` that git tracks and the work tree has not
    changed (by git's own stat check), from the index; {} outside a git work tree or when git
    fails. Files missing here are hashed by the caller. ``listing``: what
    ``IndexListing(root, under).result()`` gave, when the caller has it already."""
    if listing is None:
        listing = IndexListing(root, under).result()
    if listing is None:
        return {}
    return dict(tracked_records(listing))


def tracked_records(listing: Listing) -> Iterator[tuple[str, str]]:
    """(name, blob id) of each regular file the listing holds unchanged, in git's order
    (bytewise, which for UTF-8 is Python's), one at a time: no list of a million records is
    built to find them."""
    listed, dirty = listing
    at, end = 0, len(listed)
    while at < end:
        stop = listed.find(b"\x00", at)
        if stop == -1:
            stop = end
        record = listed[at:stop]
        at = stop + 1
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        parts = meta.split(b" ")
        # Only regular files at stage 0 (no conflicts); a symlink's blob is its target's name.
        if len(parts) != 3 or parts[0] not in (b"100644", b"100755") or parts[2] != b"0" or name in dirty:
            continue
        try:
            yield name.decode("utf-8"), parts[1].decode("ascii")
        except UnicodeDecodeError:
            continue
