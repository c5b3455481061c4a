"""The outcome of validation as plain data, for the text and JSON reporters."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence, overload

from complaints.adapters.schemas import JsonPath, format_path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file. ``message`` never quotes a value from the file."""

    file: str  # relative to the repository root, forward slashes
    path: JsonPath  # the field; () for the file as a whole
    message: str
    line: int | None = None
    column: int | None = None

    @property
    def field(self) -> str:
        return format_path(self.path)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line or 0, self.column or 0, self.field)


def problem_line(p: Problem) -> str:
    """cases/2026/X.yml:12:5: $.timeline[3].date: message"""
    where = p.file
    if p.line is not None:
        where += f":{p.line}"
        if p.column is not None:
            where += f":{p.column}"
    return f"{where}: {p.field}: {p.message}"


@dataclass
class FileResult:
    file: str
    case_id: str | None = None  # the id written in the file, when it could be read
    problems: list[Problem] = field(default_factory=list)
    case: dict[str, Any] | None = None  # the parsed case, when the caller asked to keep it

    @property
    def ok(self) -> bool:
        return not self.problems


class CompactResults(Sequence[FileResult]):
    """The results of many files, most of them without problems, kept as their names, the
    case ids that differ from the file's name, and the results that have problems: a report
    read back from the cache over 100,000 files then makes no object per file unless asked
    for one. Read-only: each file without problems is a new FileResult every time it is read."""

    def __init__(self, names: Sequence[str], ids: Mapping[int, str | None], bad: Mapping[int, FileResult]) -> None:
        self._names, self._ids, self._bad = names, ids, bad

    @property
    def names(self) -> Sequence[str]:
        return self._names

    @property
    def ids(self) -> Mapping[int, str | None]:
        """The case ids that differ from their file's name, by index."""
        return self._ids

    @property
    def bad(self) -> Mapping[int, FileResult]:
        """The results with problems, by index."""
        return self._bad

    def __len__(self) -> int:
        return len(self._names)

    @overload
    def __getitem__(self, index: int) -> FileResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[FileResult]: ...

    def __getitem__(self, index: int | slice) -> FileResult | list[FileResult]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = index + len(self) if index < 0 else index
        if not 0 <= i < len(self):
            raise IndexError(index)
        found = self._bad.get(i)
        if found is not None:
            return found
        name = self._names[i]
        return FileResult(name, self._ids[i] if i in self._ids else case_id_of(name))

    def __iter__(self) -> Iterator[FileResult]:
        for i in range(len(self)):
            yield self[i]

    def with_problems(self) -> list[FileResult]:
        return [self._bad[i] for i in sorted(self._bad)]


def case_id_of(file: str) -> str:
    """The case id a case file's name says (what its id must be)."""
    return file.rsplit("/", 1)[-1].removesuffix(".yml")


@dataclass
class ValidationReport:
    files: Sequence[FileResult] = field(default_factory=list)
    repository_problems: list[Problem] = field(default_factory=list)
    # Why more was checked than asked for (e.g. the policy changed since --changed-since REF).
    notes: list[str] = field(default_factory=list)

    def _with_problems(self) -> list[FileResult]:
        if isinstance(self.files, CompactResults):
            return self.files.with_problems()
        return [f for f in self.files if f.problems]

    @property
    def problems(self) -> list[Problem]:
        out = [p for f in self._with_problems() for p in f.problems] + self.repository_problems
        return sorted(out, key=Problem.sort_key)

    @property
    def ok(self) -> bool:
        return not self.repository_problems and not self._with_problems()

    @property
    def files_with_problems(self) -> int:
        bad = {f.file for f in self._with_problems()} | {p.file for p in self.repository_problems}
        return len(bad)
