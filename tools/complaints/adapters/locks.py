"""Exclusive locks on case files: writers at the same moment take turns and lose nothing.

`complaints new`, `event` and `rekey` (and any later writer) hold `case_lock` on a case file
while they read it, check the change against what they read, and replace it. A writer that
waits longer than the timeout gives up with a clear refusal and writes nothing.

The lock files live in .cache/complaints/locks/ of the work tree, never beside the cases: a
stray file under cases/ would be reported by the validator, and the locks must be on the same
file system as the cases for every writer to see them. The folder ignores itself in git.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import filelock

from complaints.errors import ComplaintsError, ConfigError

LOCK_DIR = Path(".cache") / "complaints" / "locks"
# Long enough for a queue of writers on one case (each holds the lock for milliseconds, a
# rekey for one decryption), short enough that a stuck process does not hang a script forever.
DEFAULT_TIMEOUT = 60.0


class LockTimeout(ComplaintsError):
    """Another writer held the case file for longer than the wait allows."""


def lock_folder(root: Path) -> Path:
    folder = root / LOCK_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# written by complaints: lock files never belong in git\n*\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{LOCK_DIR.as_posix()}: the lock folder cannot be created ({type(exc).__name__})") from None
    # A committed symbolic link must not send lock files somewhere outside the work tree.
    if not folder.resolve().is_relative_to(root.resolve()):
        raise ConfigError(f"{LOCK_DIR.as_posix()}: leads outside the repository (a symbolic link?); remove it")
    return folder


@contextlib.contextmanager
def case_lock(root: Path, relpath: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock of the case file ``relpath`` (relative to ``root``), waiting
    at most ``timeout`` seconds (default DEFAULT_TIMEOUT) for another writer to finish."""
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    name = relpath.replace("/", "%") + ".lock"
    lock = filelock.FileLock(str(lock_folder(root) / name), timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise LockTimeout(
            f"{relpath}: another complaints command has been writing this case for {timeout:g} s; nothing was written, try again"
        ) from None
    try:
        yield
    finally:
        lock.release()
