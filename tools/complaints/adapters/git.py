"""Every git call of the package, with one error policy.

Listings are always asked for NUL-separated (``-z``) and split on NUL: git's plain listings
quote a name that holds a non-ASCII character, a quote or a backslash, and such a name would
then match no file. A failure is a ConfigError naming the git subcommand and git's last line
on stderr; callers that can do without git (a folder that is not a work tree) catch it.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Sequence

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
    filtered = () if diff_filter is None else (f"--diff-filter={diff_filter}",)
    changed = run(root, "diff", "--name-only", "-z", "--no-renames", *filtered, base, "--", *paths)
    untracked = run(root, "ls-files", "-z", "--others", "--exclude-standard", "--", *paths)
    return sorted(set(names(changed)) | set(names(untracked)))


def tracked_blob_ids(root: Path, under: str) -> dict[str, str]:
    """Blob ids of the regular files under ``under`` that git tracks and the work tree has not
    changed (by git's own stat check), from the index; {} outside a git work tree or when git
    fails. Files missing here are hashed by the caller."""
    # Refresh the index's stat information first (as `git status` does), so that files a copy
    # or a checkout merely touched are not taken as changed; a failure (a lock held by another
    # git) only means more files are hashed by the caller.
    try:
        refreshed = _call(root, ("update-index", "--refresh"))
        listed = run(root, "ls-files", "--stage", "-z", "--", under)
        dirty: set[bytes] = set()
        # A refresh that found every file clean (exit 0, nothing said) has just compared the
        # work tree with the index; only otherwise is a second pass needed to name the files.
        if refreshed.returncode != 0 or refreshed.stdout.strip() or refreshed.stderr.strip():
            dirty = set(run(root, "diff-files", "--name-only", "-z", "--", under).split(b"\x00"))
    except GitError:
        return {}
    ids: dict[str, str] = {}
    for record in listed.split(b"\x00"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        parts = meta.split(b" ")
        # Only regular files at stage 0 (no conflicts); a symlink's blob is its target's name.
        if len(parts) != 3 or parts[0] not in (b"100644", b"100755") or parts[2] != b"0" or name in dirty:
            continue
        try:
            ids[name.decode("utf-8")] = parts[1].decode("ascii")
        except UnicodeDecodeError:
            continue
    return ids
