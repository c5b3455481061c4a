"""`complaints validate`: check case files, in parallel, and the rules that span the repository
(ids unique, files only where they belong)."""
from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from .checker import check_case_bytes
from .errors import CaseError
from .policy import Policy
from .repository import CASES_DIR, Repository
from .result import FileResult, Problem, ValidationReport
from .yamlload import MAX_BYTES

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 400
BATCH = 250


def _read(root: Path, file: str) -> bytes | FileResult:
    path = root / file
    try:
        if path.is_symlink():
            return FileResult(file, problems=[Problem(file, (), "case files must be regular files, not symbolic links")])
        size = path.stat().st_size
        if size > MAX_BYTES:
            return FileResult(file, problems=[Problem(file, (), f"file is {size} bytes; the limit is {MAX_BYTES}")])
        return path.read_bytes()
    except OSError as exc:
        return FileResult(file, problems=[Problem(file, (), f"cannot be read ({exc.strerror or type(exc).__name__})")])


def _check_batch(root: str, files: Sequence[str], policy: Policy, today: dt.date | None, keep: bool = False) -> list[FileResult]:
    out = []
    base = Path(root)
    for file in files:
        data = _read(base, file)
        out.append(data if isinstance(data, FileResult) else check_case_bytes(data, file, policy, today, keep))
    return out


def check_files(
    repo: Repository, files: Sequence[str], today: dt.date | None, jobs: int | None = None, keep: bool = False
) -> Iterator[FileResult]:
    """FileResults for ``files`` (relative paths), in order, using up to ``jobs`` processes;
    with ``keep``, valid results carry the parsed case."""
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(files) < PARALLEL_THRESHOLD:
        yield from _check_batch(str(repo.root), files, repo.policy, today, keep)
        return
    batches = [files[i : i + BATCH] for i in range(0, len(files), BATCH)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        args = ((str(repo.root), b, repo.policy, today, keep) for b in batches)
        for results in pool.map(_check_batch, *zip(*args)):
            yield from results


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
) -> ValidationReport:
    """Check the whole repository, the given paths, or the case files changed since a git ref;
    the repository-wide rules are always applied."""
    if changed_since is not None:
        files = repo.changed_files(changed_since)
    elif paths:
        files = _select(repo, paths)
    else:
        files = repo.case_files()
    report = ValidationReport(files=list(check_files(repo, files, today, jobs)))
    report.repository_problems = _duplicate_ids(repo, report.files, whole=not paths and changed_since is None)
    return report


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
    files = [f for f in repo.case_files() if f.startswith(f"{CASES_DIR}/") and f.endswith(".yml")]
    for result in check_files(repo, files, today, keep=True):
        if result.ok and result.case is not None:
            yield result.file, result.case
