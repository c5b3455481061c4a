"""git's index file (`.git/index`) read here, a chunk at a time, for a large archive.

Every git command that reads the index holds all of it in memory, about 150-250 MB a process
at a million files: more than the whole budget of a run. For an index of many entries the
tool reads the file itself, following git's documented format (gitformat-index: versions 2,
3 and 4, the entries, then the extensions, then the checksum), and keeps nothing per entry:
each entry is handed to the caller as it is read, from a buffer of one chunk.

The file is hostile input like any other: every length and offset is checked against what
was read, entries must come in git's order, the trailing SHA-1 must match the content (or be
all zero, git's `index.skipHash`), and anything this reader does not follow — a split index
(`link`), a sparse index (`sdir`), a repository of SHA-256 objects, a `.git` that is a file
or a link, git's own variables naming another index — makes :func:`open_index` answer None,
so that the caller asks git instead. A format error part way raises IndexFormatError; the
caller must use what it derived from the entries only once the iteration has ended.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import struct
from pathlib import Path
from typing import BinaryIO, Iterator, NamedTuple

# Environment variables with which git would read another index or repository than
# `ROOT/.git/index`: when one is set, git itself is asked.
GIT_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")
CHUNK = 1 << 20
# A path longer than this is refused (git's own limit on Linux is PATH_MAX, 4096).
MAX_NAME = 1 << 15

_HEADER = struct.Struct(">4sII")
# ctime s, ns, mtime s, ns, dev, ino, mode, uid, gid, size, object id (SHA-1), flags
_ENTRY = struct.Struct(">10I20sH")
_EXTENDED = 0x4000
_NAME_MASK = 0x0FFF
SKIP_WORKTREE = 0x4000  # in the extended flags
INTENT_TO_ADD = 0x2000
_UNSUPPORTED_EXTENSIONS = (b"link", b"sdir")
# The cache-tree extension (`TREE`) is kept when it is at most this long (a line or two per
# folder of the work tree); a longer one is skipped, as if the index had none.
MAX_CACHE_TREE = 1 << 24
_CACHE_TREE_NUMBERS = (re.compile(rb"-?[0-9]{1,10}"), re.compile(rb"[0-9]{1,10}"))


class IndexFormatError(ValueError):
    """The index file is not one this reader follows, or is damaged."""


class Entry(NamedTuple):
    """One index entry: the path as bytes, relative to the work tree's top."""

    name: bytes
    mode: int
    blob: bytes  # 20 bytes
    stage: int
    ctime: tuple[int, int]
    mtime: tuple[int, int]
    ino: int
    uid: int
    gid: int
    size: int
    flags: int  # the extended flags (skip-worktree, intent-to-add), 0 in version 2

    def staged(self) -> bytes:
        """This entry as `git ls-files --stage -z` prints it."""
        return b"%06o %s %d\t%s\x00" % (self.mode, self.blob.hex().encode("ascii"), self.stage, self.name)


class IndexFile:
    """An index file opened for reading (see :func:`open_index`)."""

    def __init__(self, handle: BinaryIO, version: int, count: int, size: int, mtime: tuple[int, int]) -> None:
        self._handle = handle
        self.version, self.count, self.size = version, count, size
        self.mtime = mtime  # the file's own modification time: entries as new are racy
        # The cache-tree extension's bytes, once entries() has read the file to its end
        # (None when the index has none); see top_tree.
        self.cache_tree: bytes | None = None

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> IndexFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def entries(self) -> Iterator[Entry]:
        """Every entry in git's order (path bytewise, then stage); IndexFormatError when the
        file is damaged or of a kind not followed here, once that is seen (the checksum at
        the very end)."""
        reader = _Reader(self._handle, self.size)
        reader.fill(12)
        reader.at = 12  # the header, checked by open_index
        previous = b""
        previous_stage = -1
        version = self.version
        for _ in range(self.count):
            reader.fill(_ENTRY.size + 2)
            buf, start = reader.buf, reader.at
            (ctime_s, ctime_ns, mtime_s, mtime_ns, _dev, ino, mode, uid, gid, length, blob, flags) = _ENTRY.unpack_from(buf, start)
            reader.at = start + _ENTRY.size
            extended = 0
            if flags & _EXTENDED:
                if version < 3:
                    raise IndexFormatError("an extended entry in a version 2 index")
                extended = struct.unpack_from(">H", buf, reader.at)[0]
                reader.at += 2
            stage = (flags >> 12) & 3
            if version == 4:
                reader.fill(10)
                strip, reader.at = _varint(reader.buf, reader.at)
                if strip > len(previous):
                    raise IndexFormatError("a path prefix longer than the path before it")
                name = previous[: len(previous) - strip] + reader.name(None)
            else:
                head = reader.at - start
                known = flags & _NAME_MASK
                name = reader.name(known if known < _NAME_MASK else None)
                # padded with 1 to 8 NULs to a multiple of 8 bytes
                total = (head + len(name) + 8) & ~7
                reader.skip(total - head - len(name) - 1)
            if not name or len(name) > MAX_NAME:
                raise IndexFormatError("an entry with an empty or overlong path")
            if name < previous or (name == previous and stage <= previous_stage):
                raise IndexFormatError("entries out of order")
            previous, previous_stage = name, stage
            yield Entry(name, mode, blob, stage, (ctime_s, ctime_ns), (mtime_s, mtime_ns), ino, uid, gid, length, extended)
        # The extensions, up to the checksum: each a signature and a length.
        end = self.size - 20
        while reader.position < end:
            reader.fill(8)
            signature, length = struct.unpack_from(">4sI", reader.buf, reader.at)
            if signature in _UNSUPPORTED_EXTENSIONS:
                raise IndexFormatError(f"an index extension this reader does not follow ({signature!r})")
            if reader.position + 8 + length > end:
                raise IndexFormatError("an extension runs past the end of the index")
            if signature == b"TREE" and length <= MAX_CACHE_TREE:
                reader.fill(8 + length)
                tree = reader.buf[reader.at + 8 : reader.at + 8 + length]
                reader.at += 8 + length
                self.cache_tree = tree
                continue
            reader.skip(8 + length)
        if reader.position != end:
            raise IndexFormatError("the entries run into the checksum")
        reader.fill(20)
        trailer = reader.buf[reader.at : reader.at + 20]
        if reader.position + 20 != self.size:
            raise IndexFormatError("the index does not end with its checksum")
        if trailer != bytes(20) and trailer != reader.checksum.digest():
            raise IndexFormatError("the index's checksum does not match its content")

    def top_tree(self, name: bytes) -> bytes | None:
        """The tree object id (20 bytes) git's cache tree records for the top-level folder
        ``name``: the tree its entries would be written as, so that it equals the id of the
        same folder in a commit exactly when the index holds the same files there. None when
        the index has no cache tree, the folder's is invalidated (a change since it was last
        written) or absent, or the extension is malformed. Only after entries() has ended."""
        data = self.cache_tree
        if not data:
            return None
        try:
            root, at = _tree_node(data, 0)
            if root[0] != b"":
                return None
            for _ in range(root[2]):
                (child, count, subtrees, oid), after = _tree_node(data, at)
                if child == name:
                    return oid if count >= 0 else None
                at = _skip_trees(data, after, subtrees)
        except (IndexFormatError, RecursionError):
            return None
        return None


def _tree_node(data: bytes, at: int) -> tuple[tuple[bytes, int, int, bytes | None], int]:
    """One cache-tree entry at ``at`` (gitformat-index: the path component, NUL, the entry
    count, a space, the number of subtrees, a newline, then the object id unless the count
    is negative) and where the next begins."""
    begin = at
    stop = data.find(b"\x00", at, at + MAX_NAME + 1)
    line = data.find(b"\n", stop + 1, stop + 48) if stop != -1 else -1
    if stop == -1 or line == -1:
        raise IndexFormatError("a malformed cache tree")
    fields = data[stop + 1 : line].split(b" ")
    if len(fields) != 2 or not _CACHE_TREE_NUMBERS[0].fullmatch(fields[0]) or not _CACHE_TREE_NUMBERS[1].fullmatch(fields[1]):
        raise IndexFormatError("a malformed cache tree")
    count, subtrees = int(fields[0]), int(fields[1])
    at = line + 1
    oid = None
    if count >= 0:
        oid = data[at : at + 20]
        if len(oid) != 20:
            raise IndexFormatError("a cache tree cut short")
        at += 20
    return (data[begin:stop], count, subtrees, oid), at


def _skip_trees(data: bytes, at: int, count: int) -> int:
    """Where the entries after ``count`` subtrees (each with its own subtrees) end."""
    pending = count
    while pending:
        (_name, _count, subtrees, _oid), at = _tree_node(data, at)
        pending += subtrees - 1
    return at


class _Reader:
    """The index file read a chunk at a time: ``buf[at:]`` is what is read and not yet used;
    everything before the trailing checksum goes through ``checksum`` as it is read."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self.handle, self.size = handle, size
        self.checksum = hashlib.sha1()
        self.read = 0
        self.buf = b""
        self.at = 0
        handle.seek(0)

    @property
    def position(self) -> int:
        """The offset in the file of ``buf[at]``."""
        return self.read - (len(self.buf) - self.at)

    def fill(self, need: int, strict: bool = True) -> None:
        """At least ``need`` bytes available from ``at``; IndexFormatError at the end (when
        ``strict``; otherwise as many as there are)."""
        end = self.size - 20
        while len(self.buf) - self.at < need and self.read < self.size:
            chunk = self.handle.read(min(CHUNK, self.size - self.read))
            if not chunk:
                raise IndexFormatError("the index ended early (changed while read?)")
            self.checksum.update(chunk[: max(0, end - self.read)])
            self.read += len(chunk)
            self.buf = self.buf[self.at :] + chunk
            self.at = 0
        if strict and len(self.buf) - self.at < need:
            raise IndexFormatError("the index ended inside an entry")

    def skip(self, count: int) -> None:
        while count > 0:
            self.fill(1)
            step = min(count, len(self.buf) - self.at)
            self.at += step
            count -= step

    def name(self, known: int | None) -> bytes:
        """The NUL-terminated path at ``at`` (``known`` bytes long when the entry says so,
        else up to the first NUL), and ``at`` moved past its NUL."""
        if known is not None:
            self.fill(known + 1)
            if self.buf[self.at + known] != 0:
                raise IndexFormatError("a path not ended where its length says")
            name = self.buf[self.at : self.at + known]
            self.at += known + 1
            return name
        need = 256
        while True:
            stop = self.buf.find(b"\x00", self.at, self.at + MAX_NAME + 1)
            if stop != -1:
                name = self.buf[self.at : stop]
                self.at = stop + 1
                return name
            if len(self.buf) - self.at > MAX_NAME or self.read >= self.size:
                raise IndexFormatError("an overlong or unterminated path")
            need = min(max(need * 2, len(self.buf) - self.at + 1), MAX_NAME + 2)
            self.fill(need, strict=False)


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    """git's offset varint (varint.c): 7 bits a byte, most significant first, each
    continuation adding one."""
    value = -1
    for _ in range(10):
        if at >= len(buf):
            raise IndexFormatError("the index ended inside a number")
        byte = buf[at]
        at += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at
    raise IndexFormatError("an overlong number")


def open_index(root: Path, environ: dict[str, str] | os._Environ[str] | None = None, *, least: int = 0) -> IndexFile | None:
    """The index of the git work tree whose top is ``root``, opened, when it is a kind this
    reader follows and holds at least ``least`` entries; None otherwise (no repository, a
    `.git` file or link, git's variables set, SHA-256 objects, another version, fewer
    entries), when the caller is to ask git."""
    env = os.environ if environ is None else environ
    if any(env.get(name) for name in GIT_VARIABLES):
        return None
    folder = root / ".git"
    try:
        info = os.lstat(folder)
        if not stat.S_ISDIR(info.st_mode):
            return None
        config = (folder / "config").read_bytes()[: 1 << 20]
    except OSError:
        return None
    if b"objectformat" in config.lower():  # a repository of SHA-256 objects (or so it says)
        return None
    try:
        fd = os.open(folder / "index", os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    handle = os.fdopen(fd, "rb", buffering=0)
    try:
        info = os.fstat(fd)
        head = handle.read(_HEADER.size)
        if not stat.S_ISREG(info.st_mode) or len(head) != _HEADER.size:
            raise IndexFormatError("not an index")
        signature, version, count = _HEADER.unpack(head)
        if signature != b"DIRC" or version not in (2, 3, 4) or count < least or info.st_size < 32 + 62 * count:
            raise IndexFormatError("not an index this reader follows")
    except (OSError, IndexFormatError):
        handle.close()
        return None
    mtime = (info.st_mtime_ns // 1_000_000_000, info.st_mtime_ns % 1_000_000_000)
    return IndexFile(handle, version, count, info.st_size, mtime)


def stat_matches(entry: Entry, info: os.stat_result, index_mtime: tuple[int, int]) -> bool:
    """The work-tree file ``info`` (an lstat) is the one the index recorded, by git's stat
    check (gitformat-index; read-cache.c ie_match_stat, stricter where it differs): size,
    modification and change times to the nanosecond, inode, owner, group and file type with
    the executable bit; and the entry is not racy (recorded no earlier than the index file
    was written, when a later change within the same tick could go unseen)."""
    mask = 0xFFFFFFFF
    mode = info.st_mode
    if entry.mode in (0o100644, 0o100755):
        if not stat.S_ISREG(mode) or bool(mode & 0o100) != (entry.mode == 0o100755):
            return False
    elif entry.mode == 0o120000:
        if not stat.S_ISLNK(mode):
            return False
    else:
        return False
    if entry.flags & (SKIP_WORKTREE | INTENT_TO_ADD):
        return False
    mtime, ctime = info.st_mtime_ns, info.st_ctime_ns
    return (
        (info.st_size & mask) == entry.size
        and ((mtime // 1_000_000_000) & mask, mtime % 1_000_000_000) == entry.mtime
        and ((ctime // 1_000_000_000) & mask, ctime % 1_000_000_000) == entry.ctime
        and (info.st_ino & mask) == entry.ino
        and (info.st_uid & mask) == entry.uid
        and (info.st_gid & mask) == entry.gid
        and entry.mtime < index_mtime
    )
