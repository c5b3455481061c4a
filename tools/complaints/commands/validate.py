"""`complaints validate`: every case file checked (the whole repository, some paths, or the
files changed since a git revision), the configuration files every case is read with, and the
rules that span the repository (ids unique, files only where they belong). The checking itself
is the scan engine's (engine/scan.py); this module chooses the files and adds the rest.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from complaints.adapters.cache import memoized
from complaints.adapters.repository import Repository
from complaints.checker.result import CompactResults, FileResult, Problem, ValidationReport, case_id_of
from complaints.adapters.config import CALENDAR_FILE, load_calendar
from complaints.adapters.crypto import RECIPIENTS_FILE, load_recipients
from complaints.engine.inputs import inputs_digest, snapshot
from complaints.engine.scan import check_files
from complaints.errors import CaseError, ConfigError, InvalidCasesError


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
    digest: str | None = None
    listed: Sequence[str] | None = None
    files: Sequence[str]
    if changed_since is not None:
        changes = repo.changes_since(changed_since)
        listed = repo.case_files()  # for the id check, while git works
        files, configuration = changes.result()
        if configuration:
            # A renamed department or a tighter schema can break a case nobody touched.
            files, whole = listed, True
            notes.append(f"{', '.join(configuration)} changed since {changed_since}: every case file checked")
    elif paths:
        files = _select(repo, paths)
    elif use_cache:
        files, digest = snapshot(repo)[:2]
    else:
        files = repo.case_files()

    def run() -> ValidationReport:
        if whole:
            return _whole(repo, files, today, jobs, use_cache, notes)
        report = ValidationReport(files=list(check_files(repo, files, today, jobs, use_cache=use_cache, whole=whole)), notes=notes)
        report.repository_problems = _duplicate_ids(repo, report.files, whole=whole, listed=listed)
        return report

    # The configuration files are checked afresh every time (a few small files; recipients.txt
    # is not part of the cache's key).
    config_problems = configuration_problems(repo)
    if not (whole and use_cache):
        report = run()
        report.repository_problems = config_problems + report.repository_problems
        return report
    # An unchanged archive checked again on the same day gets the stored report, kept compact
    # so that reading it costs little next to listing the files: not the files (the ones just
    # listed), a file's id only where it is not its file name, and only the results that have
    # problems.
    def compact() -> tuple[Any, ...]:
        report = run()
        results = report.files
        assert isinstance(results, CompactResults)  # a whole run's (see _whole)
        return ("report-v2", len(results), None, tuple(results.ids.items()), tuple(results.bad.items()),
                tuple(report.repository_problems))

    if digest is None:
        digest = inputs_digest(repo, files)
    purpose = f"validate-report\x00{today}\x00{digest}"
    stored = memoized(repo.root, "validate-report", purpose, tuple, compact, records=(FileResult, Problem))
    try:
        report = _expand(stored, files)
        report.notes = notes
        report.repository_problems = config_problems + report.repository_problems
    except (TypeError, ValueError, AttributeError, IndexError):
        report = run()
        report.repository_problems = config_problems + report.repository_problems
    return report


def _expand(stored: tuple[Any, ...], files: Sequence[str]) -> ValidationReport:
    """The report a compact stored one stands for (see ``validate``); TypeError, ValueError or
    IndexError when it is not one."""
    tag, count, names, odd, bad, repository = stored
    names = files if names is None else tuple(names)
    if tag != "report-v2" or count != len(names) or (files is not names and not all(isinstance(n, str) for n in names)):
        raise ValueError("not a stored report")
    ids: dict[int, str | None] = {}
    for i, case_id in odd:
        if not (isinstance(i, int) and 0 <= i < count and (case_id is None or isinstance(case_id, str))):
            raise TypeError("not a stored report")
        ids[i] = case_id
    results: dict[int, FileResult] = {}
    for i, result in bad:
        if not (isinstance(i, int) and 0 <= i < count and isinstance(result, FileResult) and result.file == names[i] and result.problems):
            raise TypeError("not a stored report")
        results[i] = FileResult(result.file, result.case_id, list(result.problems))
    problems = list(repository)
    if not all(isinstance(p, Problem) for p in problems):
        raise TypeError("not a stored report")
    return ValidationReport(files=CompactResults(names, ids, results), repository_problems=problems)


_CONFIG_MESSAGE = re.compile(r"(?P<file>[^:\s]+?)(?::(?P<line>[0-9]+))?(?:::(?P<field>\S+?))?: (?P<message>.*)", re.S)


def configuration_problems(repo: Repository) -> list[Problem]:
    """The repository-wide files every run reads besides policy.yml (which opening the
    repository already checked): calendar.yml and recipients.txt. A private key pasted into
    recipients.txt is reported by line, never echoed."""
    problems: list[Problem] = []
    checks: list[tuple[str, Callable[[], object]]] = [
        (CALENDAR_FILE, lambda: load_calendar(repo.root, remember=repo.use_cache)),
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


def _whole(repo: Repository, files: Sequence[str], today: dt.date | None, jobs: int | None, use_cache: bool, notes: list[str]) -> ValidationReport:
    """Every file of the repository checked, the results kept compact as they stream past (a
    result object only for a file with problems, an id only where it is not the file's
    name), so that memory does not grow with the archive's size."""
    ids: dict[int, str | None] = {}
    bad: dict[int, FileResult] = {}
    count = 0
    for i, result in enumerate(check_files(repo, files, today, jobs, use_cache=use_cache, whole=True)):
        if result.file != files[i]:  # pragma: no cover - the scan yields one result per file, in order
            raise AssertionError("the scan's results are out of order")
        if result.problems:
            bad[i] = result
        elif result.case_id != case_id_of(result.file):
            ids[i] = result.case_id
        count = i + 1
    if count != len(files):  # pragma: no cover - as above
        raise AssertionError("the scan left files out")
    results = CompactResults(files, ids, bad)
    return ValidationReport(files=results, repository_problems=_duplicates_among(results), notes=notes)


def _duplicates_among(results: CompactResults) -> list[Problem]:
    """Two files of a whole repository with one id, without a set of every id: a file with
    no problems has its file name as its id and lies in the folder of its year, so two such
    files cannot share an id (they would be one file), and every clash involves a file whose
    id is not its name or that has problems. Only the names of the others are then compared
    with those few ids."""
    by_id: dict[str, list[str]] = defaultdict(list)
    for result in results.bad.values():
        if result.case_id:
            by_id[result.case_id].append(result.file)
    for i, case_id in results.ids.items():
        if case_id:
            by_id[case_id].append(results.names[i])
    if by_id:
        for i, name in enumerate(results.names):
            if i not in results.bad and i not in results.ids and case_id_of(name) in by_id:
                by_id[case_id_of(name)].append(name)
    return _clashes(by_id)


def _duplicate_ids(repo: Repository, results: Sequence[FileResult], whole: bool, listed: Sequence[str] | None = None) -> list[Problem]:
    """Two files with one id. For a whole-repository run the ids read from the files are
    compared; otherwise each checked id is compared with every case file's name (a case's
    file name must equal its id, so that finds the same clashes without reading them all).
    ``listed``: repo.case_files(), when the caller has listed them already."""
    by_id: dict[str, list[str]] = defaultdict(list)
    for result in results:
        if result.case_id:
            by_id[result.case_id].append(result.file)
    if not whole:
        checked = {r.file for r in results}
        # Only a file whose name ends so can have one of these ids as its name (one C call
        # per file instead of taking every name apart).
        endings = tuple(end for case_id in by_id for end in (f"/{case_id}.yml", f"/{case_id}"))
        for file in repo.case_files() if listed is None else listed:
            if file.endswith(endings) and case_id_of(file) in by_id and file not in checked:
                by_id[case_id_of(file)].append(file)
    return _clashes(by_id)


def _clashes(by_id: dict[str, list[str]]) -> list[Problem]:
    problems = []
    for case_id, files in sorted(by_id.items()):
        if len(files) > 1:
            for file in sorted(files):
                others = ", ".join(f for f in sorted(files) if f != file)
                problems.append(Problem(file, ("id",), f"duplicate id {case_id}: also used by {others}"))
    return problems
