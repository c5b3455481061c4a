"""The one way the package replaces or creates a file: readers see the old file or the new one,
never half of either.

The data goes to a temporary file in the target's own folder (a rename across file systems is
not atomic), is flushed to disk, and is renamed over the target with ``os.replace``. The
temporary name starts with a dot and ends in ``.tmp`` (no case glob picks it up); a crash
between writing and renaming leaves it behind, and ``clear_stale_temp_files`` removes it.
A target that is a symbolic link is refused, never followed: a link planted in a folder the
tool writes must not redirect the write elsewhere.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

from complaints.errors import ComplaintsError

SUFFIX = ".tmp"


class SymlinkRefused(ComplaintsError):
    """The file to be written is a symbolic link."""


def _prefix(path: Path) -> str:
    return f".{path.name}."


def stale_temp_files(path: Path) -> list[Path]:
    """Temporary files an interrupted write of ``path`` left behind."""
    if not path.parent.is_dir():
        return []
    prefix = _prefix(path)
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(SUFFIX))


def clear_stale_temp_files(path: Path) -> None:
    """Remove what interrupted writes of ``path`` left behind. Only for a caller that holds a
    lock every writer of ``path`` holds while its temporary file exists (locks.case_lock for a
    case file), so that any other temporary file is a dead writer's, never a live one's."""
    for leftover in stale_temp_files(path):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise SymlinkRefused(f"{path}: is a symbolic link; not written")


class AtomicFile:
    """A file being written in place of ``path``: write to ``handle``, then ``commit`` (rename
    into place) or ``abort`` (nothing changes). ``durable``: flushed to disk before the rename
    (a cache, rebuilt when lost, can skip that); ``mode``: of the new file (default: that of
    the file it replaces, else 0o644)."""

    def __init__(self, path: Path, *, mode: int | None = None, durable: bool = True) -> None:
        _refuse_symlink(path)
        self.path = path
        self.durable = durable
        if mode is None:
            try:
                mode = stat.S_IMODE(os.stat(path, follow_symlinks=False).st_mode)
            except FileNotFoundError:
                mode = 0o644
        self.mode = mode
        fd, name = tempfile.mkstemp(prefix=_prefix(path), suffix=SUFFIX, dir=path.parent)
        self.temp = Path(name)
        self.handle: BinaryIO = os.fdopen(fd, "wb")

    def _seal(self) -> None:
        self.handle.flush()
        if self.durable:
            os.fsync(self.handle.fileno())
        self.handle.close()
        os.chmod(self.temp, self.mode)

    def commit(self) -> None:
        """Rename the complete file over the target (OSError, and nothing changed, on failure)."""
        try:
            self._seal()
            _refuse_symlink(self.path)
            os.replace(self.temp, self.path)
        except BaseException:
            self.abort()
            raise
        if self.durable:
            _fsync_dir(self.path.parent)

    def create(self) -> None:
        """Put the complete file in place only if ``path`` does not exist (FileExistsError
        otherwise): a hard link never overwrites, and the file appears whole or not at all."""
        try:
            self._seal()
            os.link(self.temp, self.path)
        finally:
            self.abort()
        if self.durable:
            _fsync_dir(self.path.parent)

    def abort(self) -> None:
        """Drop the temporary file; the target is left as it was."""
        with contextlib.suppress(OSError):
            self.handle.close()
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()


def _filled(path: Path, data: bytes, mode: int | None) -> AtomicFile:
    """A temporary file beside ``path`` holding ``data``, not yet in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = AtomicFile(path, mode=mode)
    try:
        out.handle.write(data)
    except BaseException:
        out.abort()
        raise
    return out


def write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace (or create) ``path`` with ``data`` atomically and durably."""
    _filled(path, data, mode).commit()


def create(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Create ``path`` with ``data`` in one step; FileExistsError if it already exists."""
    _filled(path, data, mode).create()
