"""A cache of per-file results keyed by content, so that a run over an unchanged archive
re-reads nothing it already checked.

What is cached, per case file (relative path):

* the file's git blob id — ``sha1(b"blob <len>\\0" + bytes)``, read from the git index for
  tracked files the work tree has not touched, computed from the bytes otherwise;
* the validation verdict: the id found in the file, its problems, the latest event date and
  the ``today`` it was checked against. A verdict is the same for every ``today`` on or after
  the latest event date (the only rule that reads ``today`` is "no event in the future"), so a
  cached verdict is reused for such a day and the file is checked again otherwise;
* for `overdue` and `stats`, a compact per-case record (stage deadlines, statistical facts)
  with a flag saying whether it is *settled* — every stage completed, so that no later
  ``today`` changes it. Unsettled records are reused only for the same ``today``.

Each cache file carries a key made of the schema, policy and calendar files, the tool's
version, a hash of its source files and the versions of the libraries that decide a result;
a cache written under another key is ignored and rewritten. The file is a header (magic,
format, key, payload length, SHA-256 of the payload) followed by a pickled mapping; anything
that does not match — a truncated or damaged file, a different key, a payload of the wrong
shape — is discarded and rebuilt, never trusted. Files are written to a temporary name and
renamed into place, so concurrent runs never see half a file (the last writer wins).

The cache lives in ``.cache/complaints/`` under the repository root, which holds a
``.gitignore`` of its own so it never reaches git.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")

from . import __version__

CACHE_DIR = Path(".cache") / "complaints"
FORMAT = 1
MAGIC = b"complaints-cache\x00"
_HEADER = struct.Struct(f"<{len(MAGIC)}sI32sQ32s")  # magic, format, key digest, payload length, payload digest
_LIBRARIES = ("PyYAML", "fastjsonschema", "chinesecalendar")


def blob_id(data: bytes) -> str:
    """The git blob id of ``data`` (what `git hash-object` prints)."""
    digest = hashlib.sha1(b"blob %d\x00" % len(data))
    digest.update(data)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    """The tool's version, a hash of its source files and the versions of the libraries
    whose behaviour decides a verdict or a deadline."""
    from importlib import metadata

    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent
    for source in sorted(package.glob("*.py")):
        digest.update(source.name.encode() + b"\x00" + source.read_bytes() + b"\x00")
    for name in _LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}={version}\x00".encode())
    return digest.hexdigest()


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


def tracked_blob_ids(root: Path, under: str) -> dict[str, str]:
    """Blob ids of the regular files under ``under`` that git tracks and the work tree has not
    changed (by git's own stat check), from the index; {} outside a git work tree. Files
    missing here are hashed by the caller."""
    try:
        # Refresh the index's stat information first (as `git status` does), so that files a
        # copy or a checkout merely touched are not taken as changed; a failure (a lock held
        # by another git) only means more files are hashed by the caller.
        subprocess.run(["git", "-C", str(root), "update-index", "-q", "--refresh"], capture_output=True, timeout=120)
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--stage", "-z", "--", under], capture_output=True, timeout=120
        )
        if listed.returncode != 0:
            return {}
        changed = subprocess.run(
            ["git", "-C", str(root), "diff-files", "--name-only", "-z", "--", under], capture_output=True, timeout=120
        )
        if changed.returncode != 0:
            return {}
    except (OSError, subprocess.TimeoutExpired):
        return {}
    dirty = set(changed.stdout.split(b"\x00"))
    ids: dict[str, str] = {}
    for record in listed.stdout.split(b"\x00"):
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


def memoized(root: Path, name: str, purpose: str, expected: type[T], compute: Callable[[], T]) -> T:
    """A whole repository-wide result, kept under a key made of ``purpose`` (which must name
    every input: options, today, a digest of the case files) and the environment; computed
    and stored when there is none, or when what is stored is not an ``expected``."""
    cache = ResultCache(root, name, environment_key(root, purpose))
    stored = cache.load().get("result")
    if isinstance(stored, expected):
        return stored
    value = compute()
    cache.save({"result": value})
    return value


class _HashingWriter:
    """A file-like sink that counts and hashes what passes through to ``out``."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.length = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.length += len(data)
        written: int = self.out.write(data)
        return written


class ResultCache:
    """One cache file: a mapping from relative path to an entry, valid for one key."""

    def __init__(self, root: Path, name: str, key: str) -> None:
        self.directory = root / CACHE_DIR
        self.path = self.directory / f"{name}.cache"
        self.key = bytes.fromhex(key)

    def load(self) -> dict[str, Any]:
        """The entries, or {} when the file is missing, damaged, of another format or key,
        or not a mapping."""
        try:
            blob = self.path.read_bytes()
        except OSError:
            return {}
        if len(blob) < _HEADER.size:
            return {}
        magic, fmt, key, length, digest = _HEADER.unpack_from(blob)
        payload = memoryview(blob)[_HEADER.size :]
        if magic != MAGIC or fmt != FORMAT or key != self.key or length != len(payload):
            return {}
        if hashlib.sha256(payload).digest() != digest:
            return {}
        try:
            entries = pickle.loads(payload)
        except Exception:  # a payload that passed the checksum but will not load: rebuild
            return {}
        return entries if isinstance(entries, dict) else {}

    def save(self, entries: dict[str, Any]) -> bool:
        """Write the entries atomically (temporary file + rename); False when the folder
        cannot be written (the run's results are unaffected)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.directory.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# written by complaints: caches never belong in git\n*\n", encoding="utf-8")
            fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(bytes(_HEADER.size))
                    writer = _HashingWriter(out)
                    pickler = pickle.Pickler(writer, protocol=pickle.HIGHEST_PROTOCOL)
                    # No memo: the entries share no objects that must stay shared, and for
                    # 100,000 cases the memo (and a payload built in memory) would cost
                    # hundreds of megabytes. The payload streams to disk as it is pickled.
                    pickler.fast = True
                    pickler.dump(entries)
                    out.seek(0)
                    out.write(_HEADER.pack(MAGIC, FORMAT, self.key, writer.length, writer.digest.digest()))
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return False
        return True


# ---- derivations: the per-case records `overdue` and `stats` cache -------------------------


def _span(stages: Any, today: dt.date) -> tuple[int, int] | None:
    """The dates a case's deadline computation looked at: first start to the last due or
    completion date, and today while a stage is open."""
    if not stages:
        return None
    first = min(s.started for s in stages)
    last = max(max(s.due, s.completed or s.due) for s in stages)
    if any(s.completed is None for s in stages):
        last = max(last, today)
    return first.toordinal(), last.toordinal()


def touch_calendar(calendar: Any, spans: Any) -> None:
    """Make ``calendar`` look at the dates the records' computations looked at, so that the
    years it had to guess (its warnings), or the year it refuses, are the same whether the
    records were computed here, in a worker or in an earlier run."""
    first = last = None
    for span in spans:
        if span is not None:
            first = span[0] if first is None else min(first, span[0])
            last = span[1] if last is None else max(last, span[1])
    if first is not None and last is not None:
        calendar.working_days_between(dt.date.fromordinal(first), dt.date.fromordinal(last))


@dataclass(frozen=True)
class StageRecords:
    """Every started stage of a case (`overdue`, `notify`); settled once all are completed."""

    policy: Any
    calendar: Any
    warn_days: int | None = None

    @property
    def key(self) -> str:
        return f"deadlines:warn={self.warn_days}:unconfirmed={self.calendar.accept_unconfirmed}"

    def __call__(self, path: str, case: dict[str, Any], today: dt.date) -> tuple[tuple[Any, ...], bool, tuple[int, int] | None]:
        from .deadlines import case_deadlines_of

        stages = tuple(case_deadlines_of(case, path, self.policy, self.calendar, today, warn_days=self.warn_days))
        return stages, all(s.completed is not None for s in stages), _span(stages, today)


@dataclass(frozen=True)
class FactRecords:
    """What the statistics count of a case (`stats`); settled once all stages are completed."""

    policy: Any
    calendar: Any

    @property
    def key(self) -> str:
        return f"facts:v2:unconfirmed={self.calendar.accept_unconfirmed}"

    def __call__(self, path: str, case: dict[str, Any], today: dt.date) -> tuple[Any, bool, tuple[int, int] | None]:
        from .deadlines import case_deadlines_of
        from .stats import case_facts

        stages = case_deadlines_of(case, path, self.policy, self.calendar, today)
        facts = case_facts(case, stages, self.calendar, today)
        return facts, all(s.completed is not None for s in stages), _span(stages, today)
