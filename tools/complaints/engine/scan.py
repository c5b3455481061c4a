"""The scan engine: every case file checked, in parallel, with the cache.

Files are checked in batches on every core, a bounded number of batches in flight, so memory
stays flat however large the archive is; results come back in path order. Beside each valid
case a derivation (engine/derivations.py) may compute a compact record in the same worker.
With the cache (adapters/cache.py) a file whose content, schema, policy and tool are unchanged
is not read again: its verdict, or its record, comes from the cache. The `validate` command
(commands/validate.py) and every repository-wide result are built on this.
"""
from __future__ import annotations

import bisect
import datetime as dt
import errno
import gc
import itertools
import multiprocessing
import os
import stat
import sys
from array import array
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, Iterator, NamedTuple, Protocol, Sequence, TypeVar

from complaints.adapters.cache import MAX_CACHE_BYTES, CacheWriter, ResultCache, blob_id, entry_line, environment_key
from complaints.adapters.datacodec import DataFormatError, register
from complaints.adapters.memory import give_back
from complaints.adapters.names import FileNames
from complaints.adapters.repository import CASES_DIR, Repository
from complaints.adapters.schemas import Schema, load_schema
from complaints.adapters.yamlload import MAX_BYTES, YamlError, load_yaml
from complaints.checker.casefile import check_case_bytes, check_cases_bytes
from complaints.checker.result import FileResult, Problem
from complaints.core.policy import Policy
from complaints.engine import progress
from complaints.engine.inputs import BlobIds, blob_ids
from complaints.errors import CaseError

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 400
BATCH = 250
# A large run sends bigger batches, up to MAX_BATCH files: each batch costs the parent about
# 0.6 ms of the process pool's bookkeeping (cold `validate` of 100,000 files: 1.27 -> 1.08 s of
# the parent's CPU with batches of 1,000), while each process still gets at least
# BATCHES_EACH of them, so that the last ones finish together.
MAX_BATCH = 1000
BATCHES_EACH = 16
# Files a worker checks before deriving their records (see _Task.entries).
PHASE = 64
# Batches in flight per process: enough to keep every core busy, few enough that results
# waiting for a slow consumer stay small.
IN_FLIGHT = 3

# A run over fewer files than this that is not of the whole archive keeps its results apart
# (see _run), and that file holds at most FEW_KEPT entries.
FEW = 1000
FEW_KEPT = 4 * FEW

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Derivation(Protocol[R_co]):
    """A per-case computation whose results are cached beside the verdicts (see
    engine/derivations.py): `key` names it with its options; `records` are the classes its
    records are made of; calling it on a valid case gives (record, settled, (first, last)):
    ``settled`` when no later ``today`` can change the record, and the span of dates (as
    ordinals) the computation looked at, or None. Must be picklable (it runs in workers).
    Optionally a method ``sent(record) -> record``: what of a record the workers send back
    (the cache still gets the whole record), for a consumer that keeps only part of it; and
    a method ``many(cases, today)``: for a list of (path, case), the list of what calling it
    on each gives, which the workers then use (a derivation may do its steps a loop at a
    time over all of them, as the checker does: see _Task.entries)."""

    @property
    def key(self) -> str: ...

    @property
    def records(self) -> tuple[type, ...]: ...

    def __call__(self, path: str, case: dict[str, Any], today: dt.date) -> tuple[R_co, bool, tuple[int, int] | None]: ...


class Fold(Protocol):
    """A consumer's running summary of the records (see case_records), for a consumer that
    needs their sum rather than each record: the workers fold the records they derive into
    a summary of their batch and send that instead (much less to pickle, and nothing per
    case for the consumer to hold). Must be picklable; folding must not depend on order.
    Optionally a method ``meanwhile()``: work this process can do while the workers run,
    called once they are started (e.g. loading a library the summary's consumer needs
    next: done here, it is not left for the end of the run, when no worker runs beside it)."""

    def empty(self) -> Fold:
        """A new summary of the same kind with nothing in it."""
        ...

    def fold(self, items: list[tuple[Any, tuple[int, int] | None]]) -> None:
        """Add (record, span) pairs."""
        ...

    def merge(self, other: Any) -> None:
        """Add what another summary of the same kind holds."""
        ...


class Verdict(NamedTuple):
    """What the cache keeps of one file's check. (A named tuple: 100,000 of them cross from
    the workers and into the cache, and tuples pickle several times faster than objects.)"""

    blob: str | None  # None: not cacheable (unreadable, a symbolic link)
    case_id: str | None
    problems: tuple[Problem, ...]
    latest: int | None  # ordinal of the latest event date, when the file could be parsed
    today: int | None  # ordinal of the today it was checked against

    def reusable(self, today: dt.date | None) -> bool:
        """The same verdict holds on ``today``: no event lies after either day, or it is
        the same day."""
        if self.latest is None:
            return True
        now = today.toordinal() if today is not None else None
        if now == self.today:
            return True
        return (now is None or self.latest <= now) and (self.today is None or self.latest <= self.today)

    def result(self, file: str) -> FileResult:
        return FileResult(file, self.case_id, list(self.problems))


class Checked(NamedTuple, Generic[R]):
    """One file's verdict and, for a valid case under a derivation, its record."""

    file: str
    verdict: Verdict
    record: R | None = None
    settled: bool = False
    span: tuple[int, int] | None = None
    case: dict[str, Any] | None = None  # only when the caller asked to keep parsed cases


register(Checked, Verdict, Problem)


class _Folded(Checked[Any]):
    """The class of FOLDED alone: pickled by name, so that it is FOLDED again where it is read."""

    def __reduce__(self) -> str:
        return "FOLDED"


# What comes back from a worker for a valid case whose record it folded into its batch's summary
# (see Fold), in place of its result: pickled as its name, and read back as this very object,
# which _run passes over (it writes the case's cache line, which comes with it, and yields
# nothing: the record is in the summary). No problems, no record, and a blob, as a result the
# cache holds. At 100,000 cases, against a result per case: 0.2 s less pickling in the workers,
# 0.1 s less unpickling here (1,000 results: 2.2 -> 0.3 ms and 1.3 -> 0.3 ms), and no result
# handed on through the generators above.
FOLDED: Checked[Any] = _Folded("", Verdict("", None, (), None, None))


def _read(root: str | Path, file: str) -> bytes | FileResult:
    """The bytes of a case file: one open (refusing a symbolic link), one fstat, one read."""
    path = os.path.join(root, file)
    try:
        # Non-blocking: a FIFO named like a case must be reported, not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            return FileResult(file, problems=[Problem(file, (), "case files must be regular files, not symbolic links")])
        return FileResult(file, problems=[Problem(file, (), f"cannot be read ({exc.strerror or type(exc).__name__})")])
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return FileResult(file, problems=[Problem(file, (), f"case files must be regular files; this is {_file_type(info.st_mode)}")])
        if info.st_size > MAX_BYTES:
            return FileResult(file, problems=[Problem(file, (), f"file is {info.st_size} bytes; the limit is {MAX_BYTES}")])
        chunks = []
        remaining = MAX_BYTES + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, max(info.st_size, 4096) + 1))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > MAX_BYTES:  # grew while being read
            return FileResult(file, problems=[Problem(file, (), f"file is over {MAX_BYTES} bytes, the limit")])
        return data
    except OSError as exc:
        return FileResult(file, problems=[Problem(file, (), f"cannot be read ({exc.strerror or type(exc).__name__})")])
    finally:
        os.close(fd)


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):  # fmt: skip
        if test(mode):
            return name
    return "not a regular file"


def _latest(case: Any) -> int | None:
    """Ordinal of the latest real date among the timeline's events, read as leniently as the
    checker reads them (a file the schema rejects still has its dates compared with today)."""
    timeline = case.get("timeline") if isinstance(case, dict) else None
    latest: int | None = None
    for event in timeline if isinstance(timeline, list) else ():
        if isinstance(event, dict) and isinstance(event.get("date"), str):
            try:
                day = dt.date.fromisoformat(event["date"]).toordinal()
            except ValueError:
                continue
            latest = day if latest is None or day > latest else latest
    return latest


@dataclass(frozen=True)
class _Task:
    root: str
    policy: Policy
    today: dt.date | None
    derive: Derivation[Any] | None
    keep: bool
    # Cached runs: each result also comes back as its cache line (adapters/cache.entry_line),
    # encoded here in the worker, so the parent only appends bytes.
    encode: bool = False
    # Batches of records folded here into a summary sent with the batch (see Fold); each
    # folded result comes back as FOLDED.
    fold: Fold | None = None

    def check(self, file: str, schema: Schema | None = None) -> Checked[Any]:
        return self.derived(self.verdicts([file], schema))[0]

    def verdicts(self, files: Sequence[str], schema: Schema | None = None) -> list[tuple[Checked[Any], dict[str, Any] | None]]:
        """Each file's result without its record, and the parsed case when it is valid and a
        derivation or the caller needs it (None otherwise). The files are read, then checked
        together (checker/casefile.check_cases_bytes)."""
        today_ord = self.today.toordinal() if self.today is not None else None
        read = [(file, _read(self.root, file)) for file in files]
        readable = [(file, data) for file, data in read if not isinstance(data, FileResult)]
        results = iter(check_cases_bytes(readable, self.policy, self.today, True, schema))
        bare = self.derive is None and not self.keep
        out: list[tuple[Checked[Any], dict[str, Any] | None]] = []
        for file, data in read:
            if isinstance(data, FileResult):
                out.append((Checked(file, Verdict(None, None, tuple(data.problems), None, today_ord)), None))
                continue
            result = next(results)
            case = result.case
            if case is None:
                try:
                    parsed = load_yaml(data, file) if result.problems else None
                except YamlError:
                    parsed = None
                latest = _latest(parsed)
            else:
                latest = _latest(case)
            verdict = Verdict(blob_id(data), result.case_id, tuple(result.problems), latest, today_ord)
            out.append((Checked(file, verdict), None if bare else case))
        return out

    def derived(self, checked: list[tuple[Checked[Any], dict[str, Any] | None]]) -> list[Checked[Any]]:
        """The results of ``verdicts``, each valid case's with its record, and with the case
        when the caller keeps parsed cases. A derivation with ``many`` is given the cases
        together (see Derivation)."""
        kept = self.keep
        derive = self.derive
        if derive is None:
            # A case comes from verdicts only when the caller keeps parsed cases.
            return [item if case is None else Checked(item.file, item.verdict, case=case) for item, case in checked]
        assert self.today is not None  # a derivation is given a day
        cases = [(item.file, case) for item, case in checked if case is not None]
        many = getattr(derive, "many", None)
        records = iter(many(cases, self.today) if many is not None else [derive(path, case, self.today) for path, case in cases])
        items = []
        for item, case in checked:
            if case is not None:
                record, settled, span = next(records)
                item = Checked(item.file, item.verdict, record, settled, span, case if kept else None)
            items.append(item)
        return items

    def entries(self, files: Sequence[str], schema: Schema | None = None) -> list[tuple[Checked[Any], bytes | None]]:
        """Each file's result and, when ``encode`` and it is cacheable, its cache line (None
        when it is not plain data: the writer then refuses it as it would have). The line
        holds the whole record; the result only what the derivation's optional ``sent``
        (record -> record) keeps of it.

        The files are checked first and their records derived after, in a second loop: done
        one after the other for each case, checking and deriving evict each other's code and
        data from the processor's caches, and `stats`' workers took about 8% longer (see the
        README's performance section). Called with PHASE files at a time, which keeps the
        parsed cases held between the two loops few."""
        items = self.derived(self.verdicts(files, schema))
        encode = self.encode
        sent = getattr(self.derive, "sent", None)
        out: list[tuple[Checked[Any], bytes | None]] = []
        for item in items:
            line = None
            if encode and item.verdict.blob is not None:
                try:
                    line = entry_line(item.file, item, _tag)
                except (DataFormatError, RecursionError):
                    pass
            # A derivation may send back less than it caches: only what its consumer keeps.
            if sent is not None and item.record is not None:
                # Made directly: _replace costs several times as much, once per case.
                item = Checked(item.file, item.verdict, sent(item.record), item.settled, item.span, item.case)
            out.append((item, line))
        return out

    def batch(self, files: Sequence[str]) -> tuple[list[tuple[Checked[Any], bytes | None]], Fold | None]:
        """Each file's result and cache line (see ``entries``), PHASE files at a time; with
        ``fold``, the summary of the batch's records, each folded case's result FOLDED (a
        record the cache cannot hold as a line stays in its result: the writer needs it; and a
        case kept for the caller keeps its result, without the record)."""
        schema = load_schema(Path(self.root), "case")  # once per batch, not once per file
        summary = self.fold.empty() if self.fold is not None else None
        out: list[tuple[Checked[Any], bytes | None]] = []
        for at in range(0, len(files), PHASE):
            part = self.entries(files[at : at + PHASE], schema)
            if summary is not None:
                folded = []
                for i, (item, line) in enumerate(part):
                    if item.record is not None and (line is not None or not self.encode):
                        folded.append((item.record, item.span))
                        kept = item.case is not None
                        part[i] = (Checked(item.file, item.verdict, None, item.settled, None, item.case) if kept else FOLDED, line)
                summary.fold(folded)
            out.extend(part)
        return out, summary


_WORKER: dict[str, _Task] = {}

# Workers forked on Linux, whatever the interpreter's default (forkserver from Python 3.14):
# they share the parent's listing, schema and policy instead of building their own, and
# inherit its frozen objects (see _stream). Elsewhere the platform's default (spawn on macOS,
# where forking is unsafe), the worker's initializer then setting it up.
_FORK = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None


def _start_worker(task: _Task) -> None:
    # Inherited with a fork; registered again for a start method that does not fork.
    register(Checked, Verdict, Problem)
    if task.derive is not None:
        register(*task.derive.records)
    _WORKER["task"] = task


def _worker_batch(files: Sequence[str]) -> tuple[list[tuple[Checked[Any], bytes | None]], Fold | None]:
    return _WORKER["task"].batch(files)


def _stream(
    task: _Task, files: Sequence[str], jobs: int | None, fold: Fold | None = None
) -> Iterator[tuple[Checked[Any], bytes | None]]:
    """Check ``files`` in order, in parallel when it pays, with a bounded number of batches
    in flight: each result with its cache line when the task encodes (in the workers only;
    here the writer encodes what it keeps). With ``fold``, the workers fold the records
    they derive and each batch's summary is merged into ``fold`` as it arrives (those
    results come as FOLDED); a file checked here keeps its record."""
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(files) < PARALLEL_THRESHOLD:
        for file in files:
            yield task.check(file), None
        return
    # Sliced as they are sent: a list of every batch would hold a second reference to each name.
    size = max(BATCH, min(MAX_BATCH, len(files) // (jobs * BATCHES_EACH)))
    batches = (files[i : i + size] for i in range(0, len(files), size))
    # Compiled once here, the schema reaches every worker with the fork instead of being
    # compiled again in each.
    load_schema(Path(task.root), "case")
    if fold is not None:
        task = replace(task, fold=fold.empty())
    # What listing the files freed goes back to the system before the workers are forked
    # with a copy of this process (adapters/memory.py); and every object alive then is set
    # aside from the garbage collector in the workers: a worker's collection would otherwise
    # write to each inherited object's header, making the worker its own copy of every page
    # it shares with this process (6 MB a worker at 100,000 cases, 20% of its memory). This
    # process freezes its objects only while it forks (with the fork start method every
    # worker is started by the first submit) and takes them back at once.
    give_back()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=_FORK, initializer=_start_worker, initargs=(task,)) as pool:
        pending: deque[Future[tuple[list[tuple[Checked[Any], bytes | None]], Fold | None]]] = deque()
        gc.freeze()
        try:
            for batch in batches:
                pending.append(pool.submit(_worker_batch, batch))
                if len(pending) >= jobs * IN_FLIGHT:
                    break
        finally:
            gc.unfreeze()
        meanwhile = getattr(fold, "meanwhile", None)
        if meanwhile is not None:
            meanwhile()
        while pending:
            done, summary = pending.popleft().result()
            if fold is not None and summary is not None:
                fold.merge(summary)
            following = next(batches, None)
            if following is not None:
                pending.append(pool.submit(_worker_batch, following))
            yield from done


def _run(
    repo: Repository,
    files: Sequence[str],
    today: dt.date | None,
    *,
    jobs: int | None,
    derive: Derivation[Any] | None = None,
    use_cache: bool = False,
    keep: bool = False,
    whole: bool = True,
    fold: Fold | None = None,
) -> Iterator[Checked[Any]]:
    """Every file checked (from the cache where it holds), in order. The cache is rewritten
    at the end when anything in it changed; for a ``whole`` run it then holds exactly the
    files checked. With ``fold`` (and ``derive``), records derived in the workers are folded
    there into it, and those cases are not yielded (their results cross back as FOLDED, see
    _Task.batch; their cache lines are written)."""
    task = _Task(str(repo.root), repo.policy, today, derive, keep)
    total = len(files)
    if not use_cache or keep:
        for done, (checked, _line) in enumerate(_stream(task, files, jobs, fold if derive is not None else None), 1):
            progress.tick(done, total)
            if checked is not FOLDED:
                yield checked
        return
    if derive is not None:
        register(*derive.records)
    purpose = "validate" if derive is None else f"records:{derive.key}"
    name = "validate" if derive is None else derive.key.split(":", 1)[0]
    # A run over a few files (`validate --changed-since`, a path) keeps its results in a small
    # file of its own: reading and rewriting the whole archive's to answer ten files would
    # cost more than checking them.
    few = not whole and len(files) < FEW
    cache = ResultCache(repo.root, f"{name}-few" if few else name, environment_key(repo.root, purpose))
    # The cache file is read an entry at a time, never held whole: its HMAC verified first,
    # then each entry's path and tag (what decides whether it can be reused, see _tag) read to
    # mark the files it answers, then only those entries read again and decoded as they are
    # yielded. What a run keeps per file is a few bytes (where its entry lies), not the entry.
    with _Stored(cache, files) as stored:
        if stored.reader is not None:
            # With nothing cached there is nothing to match: the workers hash what they read.
            stored.mark(blob_ids(repo, files), today, derive is not None)
        hit = stored.hit
        missing = files if not stored.hits else [f for f, reused in zip(files, hit) if not reused]
        # The new cache is streamed to disk as the results come, never held whole in memory;
        # written only when something changed, and put in place only when the run completes.
        writer = None
        if missing or (whole and stored.count != stored.hits):
            writer = cache.writer(tag=_tag)
        computed = _stream(replace(task, encode=writer is not None), missing, jobs, fold if derive is not None else None)
        try:
            # Entries of other files are kept, except that the small file is started afresh once
            # it would outgrow its purpose.
            if writer is not None and not whole and not (few and stored.count + len(files) > FEW_KEPT):
                stored.keep_others(writer, set(files))
            for done, file in enumerate(files, 1):
                item: Checked[Any] | None = None
                reused = hit[done - 1]
                if reused:
                    item, kept = stored.value(done - 1, file)
                    if item is not None and writer is not None:
                        writer.add_line(kept)
                if item is None:
                    item, line = next(computed) if not reused else (task.check(file), None)
                    if writer is not None and item.verdict.blob is not None:
                        if line is not None:
                            writer.add_line(line)
                        else:
                            writer.add(file, item)
                    progress.tick(done, total)
                    if item is FOLDED:
                        continue  # folded into the summary: nothing for the consumer
                yield item
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        if writer is not None:
            writer.commit()


# Where an entry lies in a cache file and its length: under MAX_CACHE_BYTES (2 GiB), so four
# bytes each, not eight (8 MB less at a million files).
_OFFSET = "I" if array("I").itemsize >= 4 else "L"
_OFFSET_SIZE = array(_OFFSET).itemsize
assert MAX_CACHE_BYTES < 1 << (8 * _OFFSET_SIZE)


class _Stored:
    """The entries of a cache file that answer files of a run (see _run): for each file by
    position, whether its entry is reused and where that entry lies in the file."""

    def __init__(self, cache: ResultCache, files: Sequence[str]) -> None:
        self.files = files
        self.reader = cache.open_entries()
        self.hit = bytearray(len(files))
        self.where = array(_OFFSET)
        self.length = array(_OFFSET)
        self.count = 0  # entries in the file
        self.hits = 0

    def __enter__(self) -> _Stored:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.reader is not None:
            self.reader.close()

    def mark(self, ids: BlobIds, today: dt.date | None, derived: bool) -> None:
        """Mark the files whose entry can be reused on ``today`` (each file's blob id by
        position in ``ids``). A malformed line anywhere leaves none marked, as for a damaged
        file."""
        assert self.reader is not None
        files, n = self.files, len(self.files)
        self.where = array(_OFFSET, bytes(_OFFSET_SIZE * n))
        self.length = array(_OFFSET, bytes(_OFFSET_SIZE * n))
        now = today.toordinal() if today is not None else None
        # A whole run wrote the entries in path order, so the next file is the likely one.
        ordered = isinstance(files, FileNames) or all(a < b for a, b in zip(files, itertools.islice(files, 1, None)))
        index = None if ordered else _first_positions(files)
        at = 0
        try:
            for path, tag, offset, length in self.reader.entries():
                self.count += 1
                if at < n and files[at] == path:
                    k = at
                elif index is not None:
                    k = index.get(path, -1)
                else:
                    k = bisect.bisect_left(files, path)
                    if k >= n or files[k] != path:
                        k = -1
                if k < 0:
                    continue
                at = k + 1
                blob = ids.get(k)
                # A later entry for the same file is the one that counts, as in a mapping.
                reusable = blob is not None and _reusable(tag, blob, today, now, derived)
                self.hits += reusable - self.hit[k]
                self.hit[k] = reusable
                self.where[k], self.length[k] = offset, length
        except (ValueError, OSError):
            self.hit = bytearray(n)
            self.count = self.hits = 0
            self.reader.close()
            self.reader = None

    def keep_others(self, writer: CacheWriter, chosen: set[str]) -> None:
        """Copy the entries of files outside ``chosen`` into ``writer`` as they are."""
        if self.reader is None:
            return
        try:
            for path, _tag, offset, length in self.reader.entries():
                if path not in chosen:
                    writer.add_line(self.reader.line(offset, length))
        except (ValueError, OSError):
            pass  # the rest is left out: a cache that misses entries is merely slower

    def value(self, index: int, file: str) -> tuple[Checked[Any] | None, bytes]:
        """The stored result of the file at ``index`` and its line; None when it is not one
        (which cannot happen to a file this tool wrote: the file is then checked afresh)."""
        assert self.reader is not None
        try:
            item, line = self.reader.value(file, self.where[index], self.length[index])
        except (ValueError, OSError, DataFormatError, RecursionError):
            return None, b""
        if not isinstance(item, Checked) or not isinstance(item.verdict, Verdict) or item.file != file:
            return None, b""
        return item, line


def _first_positions(files: Sequence[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, file in enumerate(files):
        index.setdefault(file, i)
    return index


def _tag(entry: Checked[Any]) -> str:
    """What decides whether a cached entry can be reused, readable without decoding it:
    blob id, latest event and today (ordinals or -), no problems (1/0), settled (1/0)."""
    v = entry.verdict
    latest = "-" if v.latest is None else v.latest
    today = "-" if v.today is None else v.today
    return f"{v.blob},{latest},{today},{0 if v.problems else 1},{1 if entry.settled else 0}"


def _reusable(tag: str, blob: str, today: dt.date | None, now: int | None, derived: bool) -> bool:
    parts = tag.split(",")
    if len(parts) != 5 or parts[0] != blob:
        return False
    try:
        latest = None if parts[1] == "-" else int(parts[1])
        checked = None if parts[2] == "-" else int(parts[2])
    except ValueError:
        return False
    if not Verdict(blob, None, (), latest, checked).reusable(today):
        return False
    # A valid case's record is reused on another day only once no later day can change it.
    return not (derived and parts[3] == "1" and not (parts[4] == "1" or checked == now))


def check_files(
    repo: Repository,
    files: Sequence[str],
    today: dt.date | None,
    jobs: int | None = None,
    keep: bool = False,
    *,
    use_cache: bool = False,
    whole: bool = False,
) -> Iterator[FileResult]:
    """FileResults for ``files`` (relative paths), in order, using up to ``jobs`` processes;
    with ``keep``, valid results carry the parsed case; with ``use_cache``, unchanged files
    are answered from the cache."""
    for item in _run(repo, files, today, jobs=jobs, use_cache=use_cache, keep=keep, whole=whole):
        result = item.verdict.result(item.file)
        if keep and result.ok:
            result.case = item.case
        yield result


def case_records(
    repo: Repository,
    today: dt.date,
    derive: Derivation[R],
    skipped: list[str] | None = None,
    *,
    use_cache: bool | None = None,
    jobs: int | None = None,
    listed: Sequence[str] | None = None,
    fold: Fold | None = None,
) -> Iterator[tuple[str, R, tuple[int, int] | None]]:
    """(relative path, record, date span) of every valid case, in path order: ``derive``
    applied to each valid case, in worker processes, from the cache where it holds (unless
    ``use_cache`` or the repository says otherwise). Workers send back records only, never
    parsed cases. Invalid case files are left out and, when ``skipped`` is given, listed in it.
    ``listed``: repo.case_files(), when the caller has listed them already (for a digest).
    ``fold``: the records the workers derive are folded there into it (see Fold), and only
    the others (from the cache, or derived in this process) are yielded, for the caller to
    fold in turn."""
    cached = repo.use_cache if use_cache is None else use_cache
    files = _case_files(repo, listed)
    for item in _run(repo, files, today, jobs=jobs, derive=derive, use_cache=cached, whole=True, fold=fold):
        if not item.verdict.problems and item.record is not None:
            yield item.file, item.record, item.span
        elif item.verdict.problems and skipped is not None:
            skipped.append(item.file)


def fold_case_records(
    repo: Repository,
    today: dt.date,
    derive: Derivation[R],
    fold: Fold,
    skipped: list[str] | None = None,
    *,
    listed: Sequence[str] | None = None,
) -> None:
    """Fold every valid case's record into ``fold``: those the workers derive are folded
    there (see case_records), and those that still come one by one (from the cache, or from a
    run too small for workers) here, a few hundred at a time."""
    pending: list[tuple[R, tuple[int, int] | None]] = []
    for _path, record, span in case_records(repo, today, derive, skipped, listed=listed, fold=fold):
        pending.append((record, span))
        if len(pending) >= 512:
            fold.fold(pending)
            pending.clear()
    fold.fold(pending)


def valid_cases_holding(repo: Repository, needles: set[bytes], today: dt.date | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(relative path, mapping) of every valid case file whose bytes hold one of ``needles``,
    in path order: read as the scan reads them (no symbolic link, FIFO or oversized file),
    the bytes searched first and only the files that hold a needle checked."""
    for file in _case_files(repo):
        data = _read(repo.root, file)
        if isinstance(data, FileResult) or not any(needle in data for needle in needles):
            continue
        result = check_case_bytes(data, file, repo.policy, today, True)
        if result.case is not None:
            yield file, result.case


def read_case(repo: Repository, case_id: str, today: dt.date | None = None) -> tuple[str, dict[str, Any]]:
    """(relative path, mapping) of case ``case_id``, which must be valid (CaseError naming
    its first problem otherwise)."""
    path = repo.find_case(case_id)
    rel = repo.relative(path)
    result = check_case_bytes(path.read_bytes(), rel, repo.policy, today, keep=True)
    if result.case is None:  # kept only for a valid case
        first = result.problems[0]
        where = f":{first.line}" if first.line else ""
        raise CaseError(f"{rel}{where}: {first.field}: {first.message} (run `complaints validate {rel}`)")
    return rel, result.case


def iter_valid_cases(repo: Repository, today: dt.date | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(relative path, mapping) of every case file that passes validation, in path order.
    Invalid files are skipped: `complaints validate` is where they are reported."""
    for result in check_files(repo, _case_files(repo), today, keep=True):
        if result.ok and result.case is not None:
            yield result.file, result.case


def _case_files(repo: Repository, listed: Sequence[str] | None = None) -> Sequence[str]:
    names = repo.case_files() if listed is None else listed
    if isinstance(names, FileNames):  # the listing: every name under cases/ already
        return names.ending_with(".yml")
    return [f for f in names if f.startswith(f"{CASES_DIR}/") and f.endswith(".yml")]
