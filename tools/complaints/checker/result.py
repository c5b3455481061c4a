"""The outcome of validation as plain data, for the text and JSON reporters."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class ValidationReport:
    files: list[FileResult] = field(default_factory=list)
    repository_problems: list[Problem] = field(default_factory=list)
    # Why more was checked than asked for (e.g. the policy changed since --changed-since REF).
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        out = [p for f in self.files for p in f.problems] + self.repository_problems
        return sorted(out, key=Problem.sort_key)

    @property
    def ok(self) -> bool:
        return not self.repository_problems and all(f.ok for f in self.files)

    @property
    def files_with_problems(self) -> int:
        bad = {f.file for f in self.files if not f.ok} | {p.file for p in self.repository_problems}
        return len(bad)
