"""A cache of per-file results keyed by content, so that a run over an unchanged archive
re-reads nothing it already checked.

What is cached, per case file (relative path):

* the file's git blob id — ``sha1(b"blob <len>\\0" + bytes)``, read from the git index for
  tracked files the work tree has not touched, computed from the bytes otherwise;
* the validation verdict: the id found in the file, its problems, the latest event date and
  the ``today`` it was checked against. A verdict is the same for every ``today`` on or after
  the latest event date (the only rule that reads ``today`` is "no event in the future"), so a
  cached verdict is reused for such a day and the file is checked again otherwise;
* for a per-case derivation (engine/derivations.py: stage deadlines, statistical facts, ...),
  its compact record with a flag saying whether it is *settled* — no later ``today`` changes
  it. Unsettled records are reused only for the same ``today``.

This module knows no record class: the engine and the commands register theirs with
datacodec.py, and decide what is cached and when it may be reused.

Each cache file carries a key made of the schema, policy and calendar files, the tool's
version, a hash of its source files and the versions of the libraries that decide a result;
a cache written under another key is ignored and rewritten.

A cache holds data, never code: the payload is JSON (see datacodec.py; never pickle or
marshal), so even a file written by someone else can at worst hold wrong data. It cannot
even do that unnoticed: the header carries an HMAC-SHA256 of the payload under a random
secret kept beside the caches (``secret``, readable by its owner only), so a file this user's
tool did not write — forged, copied from elsewhere, damaged, truncated, of another format or
key — is discarded and rebuilt, and the results equal a ``--no-cache`` run.

Where: outside the work tree, in the user's cache folder (``platformdirs.user_cache_dir``),
one sub-folder per repository path; ``COMPLAINTS_CACHE_DIR`` names another base folder (CI
keeps it between runs). A cache folder inside the repository's work tree — where a file can
be committed, or arrive with a pull request — is never read or written: the run is uncached.
Files are written to a temporary name and renamed into place (adapters/atomic.py), so
concurrent runs never see half a file (the last writer wins).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import struct
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Mapping, TypeVar, cast

import orjson
import platformdirs

from complaints import __version__
from complaints.adapters import atomic
from complaints.adapters.datacodec import DataFormatError, conforms, decode, encode, register
from complaints.errors import ComplaintsError

T = TypeVar("T")

ENV_VAR = "COMPLAINTS_CACHE_DIR"
FORMAT = 3
MAGIC = b"complaints-cache\x00"
_HEADER = struct.Struct(f"<{len(MAGIC)}sI32sQ32s")  # magic, format, key digest, payload length, payload HMAC
_LIBRARIES = ("PyYAML", "fastjsonschema", "chinesecalendar", "holidays")
_SECRET = "secret"
# A cache file larger than this is not read (a sane one holds a few hundred bytes a case).
MAX_CACHE_BYTES = 2 << 30


def cache_base() -> Path:
    """The folder that holds every repository's cache: $COMPLAINTS_CACHE_DIR, or the user's
    cache folder."""
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        return Path(chosen).expanduser().absolute()
    return Path(platformdirs.user_cache_dir("complaints", appauthor=False))


def cache_dir(root: Path) -> Path | None:
    """The cache folder of the repository at ``root`` (one per repository path), or None when
    it would lie inside the repository's work tree, where nothing is ever read from."""
    repo = Path(os.path.realpath(root))
    base = cache_base()
    where = Path(os.path.realpath(base))
    if where == repo or repo in where.parents:
        return None
    digest = hashlib.sha256(os.fsencode(str(repo))).hexdigest()[:24]
    return base / f"{repo.name[:40] or 'root'}-{digest}"


def _secret(base: Path, create: bool) -> bytes | None:
    """The random key caches under ``base`` are authenticated with; made on first write."""
    path = base / _SECRET
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            data = os.read(fd, 65)
        finally:
            os.close(fd)
        if len(data) == 64:
            return bytes.fromhex(data.decode("ascii"))
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    if not create:
        return None
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic.create(path, secrets.token_hex(32).encode("ascii"), mode=0o600)
    except FileExistsError:
        pass  # another run made it first: that one is used
    except (OSError, ComplaintsError):
        return None
    return _secret(base, False)


def blob_id(data: bytes) -> str:
    """The git blob id of ``data`` (what `git hash-object` prints)."""
    digest = hashlib.sha1(b"blob %d\x00" % len(data))
    digest.update(data)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    """The tool's version, a hash of its source files and the versions of the libraries
    whose behaviour decides a verdict or a deadline."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent.parent  # complaints/, every sub-package included
    for source in sorted(package.rglob("*.py")):
        name = source.relative_to(package).as_posix()
        digest.update(name.encode() + b"\x00" + source.read_bytes() + b"\x00")
    versions = _library_versions()
    for name in _LIBRARIES:
        digest.update(f"{name}={versions.get(name.lower(), '-')}\x00".encode())
    return digest.hexdigest()


def _library_versions() -> dict[str, str]:
    """The installed version of each of _LIBRARIES (lower-case name -> version), read from the
    name of the first NAME-VERSION.dist-info (or .egg-info) folder on sys.path, where importlib.metadata
    would find it (importing that costs more than the rest of a run answered from the cache)."""
    wanted = {name.lower().replace("-", "_") for name in _LIBRARIES}
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            if not folder.endswith((".dist-info", ".egg-info")):
                continue
            project, _, version = folder.removesuffix(".dist-info").removesuffix(".egg-info").partition("-")
            key = project.lower().replace("-", "_").replace(".", "_")
            if key in wanted and key not in found and version:
                found[key] = version
    return found


def environment_key(root: Path, purpose: str) -> str:
    """The key a cache file must carry to be used: what the results depend on besides the
    case file itself (schemas, policy, calendar, the tool) and the ``purpose`` (which
    results, with which options)."""
    digest = hashlib.sha256(f"format {FORMAT}\x00{purpose}\x00{tool_fingerprint()}\x00".encode())
    inputs = [root / "policy.yml", root / "calendar.yml", *sorted((root / "schema").glob("*.json"))]
    for path in inputs:
        try:
            data = path.read_bytes()
        except OSError:
            data = b"\xff<missing>"
        digest.update(path.name.encode() + b"\x00" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def memoized(
    root: Path, name: str, purpose: str, expected: Any, compute: Callable[[], T], records: Iterable[type] = ()
) -> T:
    """A whole repository-wide result, kept under a key made of ``purpose`` (which must name
    every input: options, today, a digest of the case files) and the environment; computed
    and stored when there is none, or when what is stored is not of the type ``expected``
    names, all the way down (datacodec.conforms: e.g. ``tuple[Report, dict[str, Entry]]``,
    every record's fields as annotated). ``records``: the record classes the result is made
    of (see datacodec.register)."""
    register(*records)
    cache = ResultCache(root, name, environment_key(root, purpose))
    stored = cache.load().get("result")
    if conforms(stored, expected):
        return cast(T, stored)
    value = compute()
    cache.save({"result": value})
    return value


def memoized_parts(
    root: Path,
    name: str,
    purpose: str,
    compute: Callable[[], T],
    split: Callable[[T], Iterable[tuple[str, Any]]],
    join: Callable[[Iterator[tuple[str, Any]]], T | None],
    records: Iterable[type] = (),
) -> T:
    """As ``memoized``, for a result too large to be one entry (one line of JSON, built
    whole in memory to be written and read): ``split(value)`` gives the (name, part) entries
    it is stored as, each written as it comes; ``join`` is given them back one at a time, in
    the order written, each decoded only when reached (the file is never held whole), and
    builds the value again, or gives None when the parts are not what ``split`` gives (of
    another shape or version): then the value is computed afresh and stored."""
    register(*records)
    cache = ResultCache(root, name, environment_key(root, purpose))
    reader = cache.open_entries()
    if reader is not None:
        with reader:
            try:
                joined = join((path, reader.value(path, offset, length)[0]) for path, _tag, offset, length in reader.entries())
            except (OSError, ValueError, DataFormatError, RecursionError):
                joined = None
        if joined is not None:
            return joined
    value = compute()
    writer = cache.writer()
    if writer is not None:
        try:
            for part, entry in split(value):
                writer.add(part, entry)
        except BaseException:
            writer.abort()
            raise
        writer.commit()
    return value


class _HashingWriter:
    """A sink that counts and authenticates what passes through to ``out``."""

    def __init__(self, out: BinaryIO, secret: bytes) -> None:
        self.out = out
        self.digest = hmac.new(secret, digestmod=hashlib.sha256)
        self.length = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.length += len(data)
        written: int = self.out.write(data)
        return written


class ResultCache:
    """One cache file: a mapping from relative path to an entry, valid for one key.

    The payload is one line per entry, ``json(path) TAB json(encoded entry)``: written and
    read an entry at a time, so no second copy of the whole cache is ever built in memory."""

    def __init__(self, root: Path, name: str, key: str) -> None:
        self.directory = cache_dir(root)
        self.path = None if self.directory is None else self.directory / f"{name}.cache"
        self.key = bytes.fromhex(key)

    def _open(self) -> tuple[int, os.stat_result] | None:
        """The cache file opened for reading with its status, when it is a regular file (not
        a symbolic link: O_NOFOLLOW; not a FIFO, which is refused at once rather than waited
        on: O_NONBLOCK); None otherwise."""
        if self.path is None:
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return None
        try:
            info = os.fstat(fd)
        except OSError:
            os.close(fd)
            return None
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return None
        return fd, info

    def _read(self) -> bytes | None:
        opened = self._open()
        if opened is None:
            return None
        fd, info = opened
        try:
            if info.st_size > MAX_CACHE_BYTES:
                return None
            chunks = []
            while chunk := os.read(fd, 1 << 24):
                chunks.append(chunk)
            return b"".join(chunks)
        except OSError:
            return None
        finally:
            os.close(fd)

    def load(self) -> dict[str, Any]:
        """The entries, or {} when the file is missing, damaged, of another format or key,
        not written by this user's tool (its HMAC does not verify), or holds anything but
        the records datacodec knows."""
        try:
            return {path: stored.value() for path, stored in self.load_stored().items()}
        except (ValueError, DataFormatError, RecursionError):
            return {}

    def load_stored(self) -> dict[str, Stored]:
        """The entries as stored, each decoded only when its ``value()`` is asked for (which
        raises DataFormatError or ValueError for a malformed one), with the tag it was saved
        with: a run that needs ten of 100,000 entries decodes ten. {} as for ``load``."""
        blob = self._read()
        if blob is None or len(blob) < _HEADER.size or self.directory is None:
            return {}
        magic, fmt, key, length, digest = _HEADER.unpack_from(blob)
        payload = memoryview(blob)[_HEADER.size :]
        if magic != MAGIC or fmt != FORMAT or key != self.key or length != len(payload):
            return {}
        secret = _secret(self.directory.parent, False)
        if secret is None or not hmac.compare_digest(hmac.new(secret, payload, hashlib.sha256).digest(), digest):
            return {}
        entries: dict[str, Stored] = {}
        # Each entry's JSON stays a view into the one buffer read (100,000 entries take tens of
        # megabytes: no second, third or fourth copy of them is made).
        find = blob.find
        at, end = _HEADER.size, len(blob)
        try:
            while at < end:
                stop = find(b"\n", at)
                if stop == -1:
                    stop = end
                first = find(b"\t", at, stop)
                second = find(b"\t", first + 1, stop) if first != -1 else -1
                if second == -1:
                    if stop > at:
                        return {}
                else:
                    path = _loads(blob[at:first])
                    if not isinstance(path, str):
                        return {}
                    entries[path] = Stored(blob[first + 1 : second].decode("ascii"), payload[second + 1 - _HEADER.size : stop - _HEADER.size])
                at = stop + 1
        except (ValueError, UnicodeDecodeError):
            return {}
        return entries

    def open_entries(self) -> EntryReader | None:
        """The cache file opened to be read an entry at a time (see EntryReader), once its
        HMAC verifies over the whole payload, read in chunks: a run never holds the file
        whole. None as ``load`` gives {}: missing, of another format or key, not written by
        this user's tool. (A malformed line is found as the entries are read.)"""
        directory = self.directory
        opened = self._open() if directory is not None else None
        if directory is None or opened is None:
            return None
        fd, info = opened
        try:
            if info.st_size > MAX_CACHE_BYTES or info.st_size < _HEADER.size:
                raise ValueError("not a cache file")
            magic, fmt, key, length, digest = _HEADER.unpack(os.pread(fd, _HEADER.size, 0))
            end = _HEADER.size + length
            if magic != MAGIC or fmt != FORMAT or key != self.key or end != info.st_size:
                raise ValueError("not a cache file")
            secret = _secret(directory.parent, False)
            if secret is None:
                raise ValueError("no secret")
            mac = hmac.new(secret, digestmod=hashlib.sha256)
            at = _HEADER.size
            while at < end:
                chunk = os.pread(fd, min(EntryReader.CHUNK, end - at), at)
                if not chunk:
                    raise ValueError("truncated")
                mac.update(chunk)
                at += len(chunk)
            if not hmac.compare_digest(mac.digest(), digest):
                raise ValueError("not written by this tool")
        except (OSError, ValueError, struct.error):
            os.close(fd)
            return None
        # The descriptor stays open: a cache is replaced by a rename, never written in place,
        # so what is read next is what was verified.
        return EntryReader(fd, _HEADER.size, end)

    def save(self, entries: dict[str, Any], tag: Callable[[Any], str | None] | None = None) -> bool:
        """Write the entries atomically (temporary file + rename); False when the folder
        cannot be written or an entry is not plain data (the run's results are unaffected).
        ``tag`` gives each entry a short ASCII tag (e.g. its file's blob id) that
        ``load_stored`` returns without decoding; a ``Stored`` entry is written as it was read."""
        writer = self.writer(tag)
        if writer is None:
            return False
        try:
            for path, entry in entries.items():
                writer.add(path, entry)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    def writer(self, tag: Callable[[Any], str | None] | None = None) -> CacheWriter | None:
        """A writer that streams entries to a temporary file as they come (so a run never
        holds them all), renamed into place by ``commit``; None when nothing can be written."""
        if self.directory is None or self.path is None:
            return None
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            secret = _secret(self.directory.parent, True)
            if secret is None:
                return None
            # Not flushed to disk: a file a crash damaged fails its HMAC and is rebuilt.
            file = atomic.AtomicFile(self.path, mode=0o600, durable=False)
        except (OSError, ComplaintsError):
            return None
        return CacheWriter(file, secret, self.key, tag)


# What orjson refuses to write, the standard library's encoder writes (see _utf8_json).
_dumps_ascii = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


def _utf8_json(value: Any) -> bytes:
    """``value`` as compact JSON in UTF-8, non-ASCII kept: written by orjson, some ten times
    faster than the standard library's encoder (a scan's workers write a line per case).
    What orjson refuses, the standard library writes with JSON's escapes: a text UTF-8
    cannot hold (a file name of bytes that are not UTF-8 reaches Python as lone surrogates)
    reads back to the same text, so such a name is cached like any other. An integer beyond
    64 bits is refused (DataFormatError: the value is not cached), as orjson would read it
    back as a float; and no number that is not finite reaches here (orjson would write it
    as null: datacodec.encode refuses it)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        if _has_wide_int(value):
            raise DataFormatError("an integer beyond 64 bits") from None
        return _dumps_ascii(value).encode("ascii")


def _has_wide_int(value: Any) -> bool:
    if isinstance(value, int):
        return not -(1 << 63) <= value < 1 << 64
    if isinstance(value, (list, tuple)):
        return any(_has_wide_int(v) for v in value)
    if isinstance(value, dict):
        return any(_has_wide_int(v) for v in value.values())
    return False


def _loads(data: bytes | memoryview) -> Any:
    """The value of a JSON text as _utf8_json writes it: read by orjson, or by the standard
    library where orjson refuses (the escapes of a lone surrogate, nesting deeper than orjson
    reads); ValueError (or RecursionError) for what neither reads."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(bytes(data))


def entry_line(path: str, entry: Any, tag: Callable[[Any], str | None] | None = None) -> bytes:
    """One entry as a line of the payload, exactly as CacheWriter.add writes it: so that the
    scan's workers can encode their results and the writer only appends the bytes.
    DataFormatError (or RecursionError) for an entry that is not plain data."""
    if isinstance(entry, Stored):
        label, data = entry.tag, entry.data
    else:
        label, data = (tag(entry) if tag else None) or "", _utf8_json(encode(entry))
    if not label.isascii() or "\t" in label or "\n" in label:
        label = ""
    return b"%s\t%s\t%s\n" % (_utf8_json(path), label.encode("ascii"), data)


class CacheWriter:
    """One cache file being written; see ResultCache.writer."""

    def __init__(self, file: atomic.AtomicFile, secret: bytes, key: bytes, tag: Callable[[Any], str | None] | None) -> None:
        self.file, self.out, self.key, self.tag = file, file.handle, key, tag
        self.failed = False
        try:
            self.out.write(bytes(_HEADER.size))
        except OSError:
            self.failed = True
        self.sink = _HashingWriter(self.out, secret)

    def add(self, path: str, entry: Any) -> None:
        """Append one entry; an entry that is not plain data spoils the file (commit fails)."""
        if self.failed:
            return
        try:
            self.sink.write(entry_line(path, entry, self.tag))
        except (OSError, DataFormatError, RecursionError):
            self.failed = True

    def add_line(self, line: bytes) -> None:
        """Append an entry already encoded by ``entry_line`` (with this writer's tag)."""
        if self.failed:
            return
        try:
            self.sink.write(line)
        except OSError:
            self.failed = True

    def commit(self) -> bool:
        """Seal the file (header with the HMAC) and rename it into place; False on failure."""
        if not self.failed:
            try:
                self.out.seek(0)
                self.out.write(_HEADER.pack(MAGIC, FORMAT, self.key, self.sink.length, self.sink.digest.digest()))
                self.file.commit()
                return True
            except (OSError, ComplaintsError):
                pass
        self.abort()
        return False

    def abort(self) -> None:
        """Drop the temporary file (nothing replaces the cache)."""
        self.file.abort()


@dataclass(frozen=True, slots=True)
class Stored:
    """One cache entry as read: its tag, and its JSON, decoded on demand."""

    tag: str
    data: bytes | memoryview

    def value(self) -> Any:
        data = self.data
        return decode(_loads(data))


class EntryReader:
    """A verified cache file (ResultCache.open_entries) read an entry at a time: ``entries``
    lists each entry's path and tag with where its line lies, reading the file in chunks;
    ``value`` reads one entry's line again and decodes it. Close it (or use ``with``)."""

    CHUNK = 1 << 20

    def __init__(self, fd: int, start: int, end: int) -> None:
        self.fd: int | None = fd
        self.start, self.end = start, end
        self._window = b""
        self._window_at = start

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> EntryReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pread(self, length: int, offset: int) -> bytes:
        if self.fd is None:
            raise ValueError("closed")
        return os.pread(self.fd, length, offset)

    def entries(self) -> Iterator[tuple[str, str, int, int]]:
        """(path, tag, offset, length) of every entry's line, in the file's order; ValueError
        (or OSError) at a malformed line, as ``load_stored`` refuses the whole file for one."""
        buf, base, i, read_at = b"", self.start, 0, self.start
        while True:
            stop = buf.find(b"\n", i)
            if stop == -1:
                if read_at >= self.end:
                    if i >= len(buf):
                        return
                    stop = len(buf)  # the last line may lack its newline
                else:
                    chunk = self._pread(min(self.CHUNK, self.end - read_at), read_at)
                    if not chunk:
                        raise ValueError("truncated")
                    base += i
                    buf, i = buf[i:] + chunk, 0
                    read_at += len(chunk)
                    continue
            first = buf.find(b"\t", i, stop)
            second = buf.find(b"\t", first + 1, stop) if first != -1 else -1
            if second == -1:
                if stop > i:
                    raise ValueError("malformed cache line")
            else:
                path = _loads(buf[i:first])
                if not isinstance(path, str):
                    raise ValueError("malformed cache line")
                yield path, buf[first + 1 : second].decode("ascii"), base + i, min(stop + 1, len(buf)) - i
            i = stop + 1

    def line(self, offset: int, length: int) -> bytes:
        """The bytes of one entry's line (as ``entries`` placed it), newline included: read
        through a window of a chunk, as a run reads its entries mostly in the file's order."""
        at = offset - self._window_at
        if 0 <= at and at + length <= len(self._window):
            return self._window[at : at + length]
        ahead = offset - (self._window_at + len(self._window))
        if 0 <= ahead < self.CHUNK:
            self._window = self._pread(max(self.CHUNK, length), offset)
            self._window_at = offset
            data = self._window[:length]
        else:
            data = self._pread(length, offset)
        if len(data) != length:
            raise ValueError("truncated")
        return data if data.endswith(b"\n") else data + b"\n"

    def value(self, path: str, offset: int, length: int) -> tuple[Any, bytes]:
        """The decoded entry of ``path`` at that place, and its line (to be written again as
        it is); ValueError, DataFormatError or RecursionError when it is not one."""
        line = self.line(offset, length)
        lead = _utf8_json(path) + b"\t"
        if not line.startswith(lead):
            raise ValueError("not the entry asked for")
        second = line.find(b"\t", len(lead))
        if second == -1:
            raise ValueError("malformed cache line")
        return decode(_loads(line[second + 1 : -1])), line
