"""`complaints validate`: check case files, in parallel, and the rules that span the repository
(ids unique, files only where they belong).

Files are checked in batches on every core, a bounded number of batches in flight, so memory
stays flat however large the archive is; results come back in path order. With the cache
(see cache.py) a file whose content, schema, policy and tool are unchanged is not read again:
its verdict, or the compact record `overdue` and `stats` need, comes from the cache.
"""
from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import re
import stat
from collections import defaultdict, deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generic, Iterable, Iterator, NamedTuple, Protocol, Sequence, TypeVar

from complaints.engine import progress
from complaints.adapters.cache import ResultCache, blob_id, environment_key, tracked_blob_ids
from complaints.adapters.datacodec import DataFormatError
from complaints.checker.casefile import check_case_bytes
from complaints.errors import CaseError, ConfigError, InvalidCasesError
from complaints.adapters.repository import CASES_DIR, Repository
from complaints.checker.result import FileResult, Problem, ValidationReport
from complaints.adapters.schemas import Schema, load_schema
from complaints.adapters.yamlload import MAX_BYTES, YamlError, load_yaml

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 400
BATCH = 250
# Batches in flight per process: enough to keep every core busy, few enough that results
# waiting for a slow consumer stay small.
IN_FLIGHT = 3
# Below this many files, blob ids are computed from the bytes instead of asking git.
GIT_THRESHOLD = 1000

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Derivation(Protocol[R_co]):
    """A per-case computation whose results are cached beside the verdicts: `key` names it
    with its options; calling it on a valid case gives (record, settled, (first, last)):
    ``settled`` when no later ``today`` can change the record, and the span of dates (as
    ordinals) the computation looked at, or None. Must be picklable (it runs in workers)."""

    @property
    def key(self) -> str: ...

    def __call__(self, path: str, case: dict[str, Any], today: dt.date) -> tuple[R_co, bool, tuple[int, int] | None]: ...


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
    policy: Any
    today: dt.date | None
    derive: Derivation[Any] | None
    keep: bool

    def check(self, file: str, schema: Schema | None = None) -> Checked[Any]:
        data = _read(self.root, file)
        today_ord = self.today.toordinal() if self.today is not None else None
        if isinstance(data, FileResult):
            return Checked(file, Verdict(None, None, tuple(data.problems), None, today_ord))
        result = check_case_bytes(data, file, self.policy, self.today, True, schema)
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
        if case is None or (self.derive is None and not self.keep):
            return Checked(file, verdict)
        if self.derive is None:
            return Checked(file, verdict, case=case)
        assert self.today is not None
        record, settled, span = self.derive(file, case, self.today)
        return Checked(file, verdict, record, settled, span, case if self.keep else None)

    def batch(self, files: Sequence[str]) -> list[Checked[Any]]:
        schema = load_schema(Path(self.root), "case")  # once per batch, not once per file
        return [self.check(file, schema) for file in files]


_WORKER: dict[str, _Task] = {}


def _start_worker(task: _Task) -> None:
    _WORKER["task"] = task


def _worker_batch(files: Sequence[str]) -> list[Checked[Any]]:
    return _WORKER["task"].batch(files)


def _stream(task: _Task, files: Sequence[str], jobs: int | None) -> Iterator[Checked[Any]]:
    """Check ``files`` in order, in parallel when it pays, with a bounded number of batches
    in flight."""
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(files) < PARALLEL_THRESHOLD:
        for file in files:
            yield task.check(file)
        return
    batches = iter([files[i : i + BATCH] for i in range(0, len(files), BATCH)])
    # Compiled once here, the schema reaches every worker with the fork instead of being
    # compiled again in each.
    load_schema(Path(task.root), "case")
    with ProcessPoolExecutor(max_workers=jobs, initializer=_start_worker, initargs=(task,)) as pool:
        pending: deque[Future[list[Checked[Any]]]] = deque()
        for batch in batches:
            pending.append(pool.submit(_worker_batch, batch))
            if len(pending) >= jobs * IN_FLIGHT:
                break
        while pending:
            done = pending.popleft().result()
            following = next(batches, None)
            if following is not None:
                pending.append(pool.submit(_worker_batch, following))
            yield from done


def _blob_ids(repo: Repository, files: Sequence[str]) -> dict[str, str]:
    """Blob ids of ``files``: from the git index for large runs (tracked, unmodified files),
    from the bytes for the rest."""
    known = tracked_blob_ids(repo.root, CASES_DIR) if len(files) >= GIT_THRESHOLD else {}
    out: dict[str, str] = {}
    for file in files:
        blob = known.get(file)
        if blob is None:
            path = repo.root / file
            try:
                if path.is_symlink() or not path.is_file():
                    continue
                blob = blob_id(path.read_bytes())
            except OSError:
                continue
        out[file] = blob
    return out


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
) -> Iterator[Checked[Any]]:
    """Every file checked (from the cache where it holds), in order. The cache is rewritten
    at the end when anything in it changed; for a ``whole`` run it then holds exactly the
    files checked."""
    task = _Task(str(repo.root), repo.policy, today, derive, keep)
    total = len(files)
    if not use_cache or keep:
        for done, checked in enumerate(_stream(task, files, jobs), 1):
            progress.tick(done, total)
            yield checked
        return
    purpose = "validate" if derive is None else f"records:{derive.key}"
    cache = ResultCache(repo.root, "validate" if derive is None else derive.key.split(":", 1)[0], environment_key(repo.root, purpose))
    # Each entry's tag says what decides whether it can be reused (see _tag), so entries are
    # decoded one at a time as they are yielded, and only those that are.
    old = cache.load_stored()
    # With nothing cached there is nothing to match: the workers hash what they read.
    ids = _blob_ids(repo, files) if old else {}
    now = today.toordinal() if today is not None else None
    hits: set[str] = set()
    for file in files:
        stored = old.get(file)
        blob = ids.get(file)
        if blob is None or stored is None:
            continue
        if _reusable(stored.tag, blob, today, now, derive is not None):
            hits.add(file)
    missing = [f for f in files if f not in hits]
    computed = _stream(task, missing, jobs)
    # The new cache is streamed to disk as the results come, never held whole in memory;
    # written only when something changed, and put in place only when the run completes.
    writer = None
    if missing or (whole and len(old) != len(hits)):
        writer = cache.writer(tag=_tag)
    try:
        if writer is not None and not whole:
            chosen = set(files)
            for file, stored in old.items():
                if file not in chosen:
                    writer.add(file, stored)
        for done, file in enumerate(files, 1):
            item: Checked[Any] | None = None
            if file in hits:
                stored = old[file]
                try:
                    item = stored.value()
                except (ValueError, DataFormatError, RecursionError):
                    item = None
                if not isinstance(item, Checked) or not isinstance(item.verdict, Verdict) or item.file != file:
                    item = None  # cannot happen to a file this tool wrote; check the file afresh
                elif writer is not None:
                    writer.add(file, stored)
            if item is None:
                item = next(computed) if file not in hits else task.check(file)
                if writer is not None and item.verdict.blob is not None:
                    writer.add(file, item)
                progress.tick(done, total)
            yield item
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.commit()


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


def inputs_digest(repo: Repository, files: Sequence[str] | None = None) -> str:
    """A digest of the case files a repository-wide result depends on: every file under
    cases/ by path and git blob id (blob ids come from the git index where it is current,
    so this reads almost nothing on an unchanged archive). ``files``: repo.case_files(),
    when the caller has listed them already."""
    files = repo.case_files() if files is None else files
    ids = _blob_ids(repo, files)
    digest = hashlib.sha256()
    digest.update("".join(f"{file}\x00{ids.get(file, '-')}\n" for file in files).encode())
    return digest.hexdigest()


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
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    skipped: list[str] | None = None,
) -> Iterator[tuple[str, R, tuple[int, int] | None]]:
    """(relative path, record, date span) of every valid case, in path order: ``derive``
    applied to each valid case, in worker processes, from the cache where it holds. Workers
    send back records only, never parsed cases. Invalid case files are left out and, when
    ``skipped`` is given, listed in it."""
    for item in _run(repo, _case_files(repo), today, jobs=jobs, derive=derive, use_cache=use_cache, whole=True):
        if not item.verdict.problems and item.record is not None:
            yield item.file, item.record, item.span
        elif item.verdict.problems and skipped is not None:
            skipped.append(item.file)


def left_out_or_refuse(skipped: Sequence[str], skip_invalid: bool, what: str) -> int:
    """How many invalid case files a result leaves out, when ``skip_invalid`` allows it;
    otherwise InvalidCasesError naming them: published totals never silently miss a case."""
    if skipped and not skip_invalid:
        shown = ", ".join(skipped[:10]) + (f" and {len(skipped) - 10} more" if len(skipped) > 10 else "")
        n = len(skipped)
        raise InvalidCasesError(
            f"{n} case file{'s' if n != 1 else ''} {'do' if n != 1 else 'does'} not pass validation, so {what} would leave "
            f"{'them' if n != 1 else 'it'} out: {shown}. Fix {'them' if n != 1 else 'it'} (run `complaints validate`), "
            "or give --skip-invalid to go on without and record how many were left out"
        )
    return len(skipped)


def skipped_warning(skipped: list[str]) -> str:
    """The warning that goes with a repository-wide result that left invalid files out."""
    shown = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
    n = len(skipped)
    return f"{n} case file{'s' if n != 1 else ''} left out because {'they do' if n != 1 else 'it does'} not pass validation (run `complaints validate`): {shown}"


def _select(repo: Repository, paths: Iterable[Path]) -> list[str]:
    selected: set[str] = set()
    for path in paths:
        path = path if path.is_absolute() else Path.cwd() / path
        if not path.exists():
            raise CaseError(f"{path}: no such file or folder")
        rel = repo.relative(path)
        if rel.startswith("..") or Path(rel).is_absolute():
            raise CaseError(f"{path}: outside the repository {repo.root}")
        if path.is_dir():
            selected.update(f for f in repo.case_files() if f == rel or f.startswith(rel.rstrip("/") + "/") or rel == ".")
        else:
            selected.add(rel)
    return sorted(selected)


def validate(
    repo: Repository,
    today: dt.date | None,
    *,
    paths: Sequence[Path] = (),
    changed_since: str | None = None,
    jobs: int | None = None,
    use_cache: bool = True,
) -> ValidationReport:
    """Check the whole repository, the given paths, or the case files changed since a git ref;
    the repository-wide rules are always applied. ``use_cache``: answer unchanged files from
    the cache (and update it); the report is the same either way."""
    notes: list[str] = []
    whole = not paths and changed_since is None
    if changed_since is not None:
        files = repo.changed_files(changed_since)
        configuration = repo.changed_configuration(changed_since)
        if configuration:
            # A renamed department or a tighter schema can break a case nobody touched.
            files, whole = repo.case_files(), True
            notes.append(f"{', '.join(configuration)} changed since {changed_since}: every case file checked")
    elif paths:
        files = _select(repo, paths)
    else:
        files = repo.case_files()

    def run() -> ValidationReport:
        report = ValidationReport(files=list(check_files(repo, files, today, jobs, use_cache=use_cache, whole=whole)), notes=notes)
        report.repository_problems = _duplicate_ids(repo, report.files, whole=whole)
        return report

    # The configuration files are checked afresh every time (a few small files; recipients.txt
    # is not part of the cache's key).
    config_problems = configuration_problems(repo)
    if not (whole and use_cache):
        report = run()
        report.repository_problems = config_problems + report.repository_problems
        return report
    # An unchanged archive checked again on the same day gets the stored report, kept compact
    # (the files in order, their ids, and only the results that have problems) so that
    # reading it costs little next to listing the files.
    from complaints.adapters.cache import memoized

    def compact() -> tuple[Any, ...]:
        report = run()
        bad = tuple(f for f in report.files if f.problems)
        return ("report", tuple(f.file for f in report.files), tuple(f.case_id for f in report.files), bad,
                tuple(report.repository_problems))

    purpose = f"validate-report\x00{today}\x00{inputs_digest(repo, files)}"
    stored = memoized(repo.root, "validate-report", purpose, tuple, compact)
    try:
        _, names, ids, bad, repository = stored
        problems = {f.file: f.problems for f in bad}
        report = ValidationReport(
            files=[FileResult(name, case_id, list(problems.get(name, ()))) for name, case_id in zip(names, ids, strict=True)],
            repository_problems=config_problems + list(repository),
            notes=notes,
        )
    except (TypeError, ValueError, AttributeError):
        report = run()
        report.repository_problems = config_problems + report.repository_problems
    return report


_CONFIG_MESSAGE = re.compile(r"(?P<file>[^:\s]+?)(?::(?P<line>[0-9]+))?(?:::(?P<field>\S+?))?: (?P<message>.*)", re.S)


def configuration_problems(repo: Repository) -> list[Problem]:
    """The repository-wide files every run reads besides policy.yml (which opening the
    repository already checked): calendar.yml and recipients.txt. A private key pasted into
    recipients.txt is reported by line, never echoed."""
    from complaints.adapters.crypto import RECIPIENTS_FILE, load_recipients
    from complaints.adapters.config import CALENDAR_FILE, load_calendar

    problems: list[Problem] = []
    checks: list[tuple[str, Callable[[], object]]] = [
        (CALENDAR_FILE, lambda: load_calendar(repo.root)),
        (RECIPIENTS_FILE, lambda: load_recipients(repo.root)),
    ]
    for file, check in checks:
        if file == RECIPIENTS_FILE and not (repo.root / file).exists():
            continue  # only `new` with contact details needs it, and says so
        try:
            check()
        except ConfigError as exc:
            match = _CONFIG_MESSAGE.fullmatch(str(exc))
            if match and match.group("file").endswith(file):
                line = int(match.group("line")) if match.group("line") else None
                field = match.group("field")
                message = match.group("message") if not field else f"{field}: {match.group('message')}"
                problems.append(Problem(file, (), message, line))
            else:
                problems.append(Problem(file, (), str(exc)))
    return problems


def _duplicate_ids(repo: Repository, results: list[FileResult], whole: bool) -> list[Problem]:
    """Two files with one id. For a whole-repository run the ids read from the files are
    compared; otherwise each checked id is compared with every case file's name (a case's
    file name must equal its id, so that finds the same clashes without reading them all)."""
    by_id: dict[str, list[str]] = defaultdict(list)
    for result in results:
        if result.case_id:
            by_id[result.case_id].append(result.file)
    if not whole:
        checked = {r.file for r in results}
        for file in repo.case_files():
            stem = file.rsplit("/", 1)[-1].removesuffix(".yml")
            if stem in by_id and file not in checked:
                by_id[stem].append(file)
    problems = []
    for case_id, files in sorted(by_id.items()):
        if len(files) > 1:
            for file in sorted(files):
                others = ", ".join(f for f in sorted(files) if f != file)
                problems.append(Problem(file, ("id",), f"duplicate id {case_id}: also used by {others}"))
    return problems


def iter_cases(repo: Repository, today: dt.date | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(relative path, mapping) of every valid case, in path order."""
    for result in check_files(repo, _case_files(repo), today, keep=True):
        if result.ok and result.case is not None:
            yield result.file, result.case


def _case_files(repo: Repository) -> list[str]:
    return [f for f in repo.case_files() if f.startswith(f"{CASES_DIR}/") and f.endswith(".yml")]
