"""Printing validation results: one registry of output formats, each a function to text."""
from __future__ import annotations

import json
from typing import Callable

from complaints.checker.result import ValidationReport, problem_line


def text_report(report: ValidationReport) -> str:
    lines = [problem_line(p) for p in report.problems] + [f"note: {n}" for n in report.notes]
    checked = len(report.files)
    if report.ok:
        lines.append(f"ok: {checked} file{'s' if checked != 1 else ''} checked, no problems")
    else:
        n = len(report.problems)
        lines.append(f"{n} problem{'s' if n != 1 else ''} in {report.files_with_problems} of {checked} files checked")
    return "\n".join(lines) + "\n"


def json_report(report: ValidationReport) -> str:
    doc = {
        "ok": report.ok,
        "files_checked": len(report.files),
        "problems": [
            {"file": p.file, "line": p.line, "column": p.column, "field": p.field, "message": p.message}
            for p in report.problems
        ],
    }
    if report.notes:  # only when there is something to say: the usual shape stays as it was
        doc["notes"] = list(report.notes)
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


FORMATS: dict[str, Callable[[ValidationReport], str]] = {"text": text_report, "json": json_report}
