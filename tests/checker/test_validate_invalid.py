"""Data-driven invalid case files: tests/data/invalid/NAME.yml, each with NAME.expected.

Each .yml starts with comment lines the test reads:

    # invalid: what is wrong (for people)
    # file: cases/2026/XN-20260305-AAAAA.yml   (where the file is checked as; default below)
    # today: 2026-04-05                         (default 2026-11-28)
    # secret: VALUE                             (a value that must never appear in any output)

NAME.expected holds the exact report lines, `{file}:LINE:COL: $.path: message`, with the file
shown as `{file}`. `pytest --update-golden` rewrites them from the current output (review the
diff before committing: these files are the specification).
"""
from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path
import pytest
from click.testing import CliRunner

from complaints.checker.casefile import check_case_bytes, check_cases_bytes
from complaints.cli import cli
from complaints.adapters.config import load_policy
from complaints.checker.result import problem_line

from conftest import ROOT, TEST_DATA, copy_repo

# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
DATA = TEST_DATA / "invalid"
DEFAULT_FILE = "cases/2026/XN-20260305-7K3QH.yml"
DEFAULT_TODAY = "2026-11-28"
CASES = sorted(p.stem for p in DATA.glob("*.yml"))
HEADER = re.compile(r"^# (invalid|file|today|secret): (.*)$")


def header(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"invalid": [], "file": [], "today": [], "secret": []}
    for line in (DATA / f"{name}.yml").read_text(encoding="utf-8").splitlines():
        m = HEADER.match(line)
        if not m:
            break
        out[m[1]].append(m[2])
    return out


def case_bytes(name: str) -> bytes:
    """The file as checked: the header's secrets are masked, since comments are scanned for
    personal data too and the header is the test's, not the case's (lines stay in place)."""
    lines = (DATA / f"{name}.yml").read_bytes().split(b"\n")
    for i, line in enumerate(lines):
        if not line.startswith(b"# "):
            break
        if line.startswith(b"# secret: "):
            lines[i] = b"# secret: (masked)"
    return b"\n".join(lines)


def where(name: str) -> tuple[str, str]:
    h = header(name)
    return (h["file"] or [DEFAULT_FILE])[0], (h["today"] or [DEFAULT_TODAY])[0]


def expected(name: str, file: str) -> list[str]:
    text = (DATA / f"{name}.expected").read_text(encoding="utf-8")
    return [line.replace("{file}", file) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def policy():  # type: ignore[no-untyped-def]
    return load_policy(TEMPLATE)


def test_the_folder_covers_the_issue() -> None:
    # At least one file per family of rules named in the issue.
    families = {name.split("_", 1)[0] for name in CASES}
    assert {"missing", "type", "vocab", "contact", "date", "transition", "status", "id", "layout", "extension", "pii"} <= families
    assert len(CASES) >= 80
    for name in CASES:
        assert (DATA / f"{name}.expected").exists(), f"{name}.expected is missing (pytest --update-golden writes it)"
        assert header(name)["invalid"], f"{name}.yml has no '# invalid: ...' line"


@pytest.mark.parametrize("name", CASES)
def test_invalid_case(name: str, policy, update_golden: bool) -> None:  # type: ignore[no-untyped-def]
    file, today = where(name)
    data = case_bytes(name)
    result = check_case_bytes(data, file, policy, dt.date.fromisoformat(today))
    lines = [problem_line(p) for p in result.problems]
    if update_golden:
        (DATA / f"{name}.expected").write_text("".join(line.replace(file, "{file}", 1) + "\n" for line in lines), encoding="utf-8")
    assert lines, f"{name}: expected problems, the file passed"
    assert lines == expected(name, file)
    for line in lines:
        assert re.fullmatch(r"[^:]+(:\d+(:\d+)?)?: \$[^ ]*: .+", line), line


@pytest.fixture(scope="module")
def shared_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One repository for the whole module (the compiled schemas are cached per path); each
    # test puts its file in and takes it out again.
    return copy_repo(tmp_path_factory.mktemp("invalid") / "repo")


@pytest.mark.parametrize("name", CASES)
def test_invalid_case_through_the_cli(name: str, shared_repo: Path) -> None:
    """The same file, placed in a repository and checked by `complaints validate`: exit 1,
    the expected lines on stdout (text), the same problems in JSON, and no secret anywhere."""
    file, today = where(name)
    root = shared_repo
    target = root / file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(case_bytes(name))
    try:
        check_through_cli(name, root, target, file, today)
    finally:
        target.unlink()


def check_through_cli(name: str, root: Path, target: Path, file: str, today: str) -> None:
    runner = CliRunner()
    text = runner.invoke(cli, ["validate", "--repo", str(root), "--today", today, str(target)])
    js = runner.invoke(cli, ["validate", "--repo", str(root), "--today", today, "--format", "json", str(target)])
    assert text.exit_code == 1, text.output
    assert js.exit_code == 1, js.output
    assert "Traceback" not in text.stderr + js.stderr
    want = expected(name, file)
    got = text.stdout.splitlines()
    assert got[:-1] == want
    assert re.fullmatch(r"\d+ problems? in 1 of 1 files checked", got[-1])
    doc = json.loads(js.stdout)
    assert doc["ok"] is False and doc["files_checked"] == 1
    assert [
        f"{p['file']}" + (f":{p['line']}" if p["line"] else "") + (f":{p['column']}" if p["column"] else "") + f": {p['field']}: {p['message']}"
        for p in doc["problems"]
    ] == want
    for secret in header(name)["secret"]:
        for out in (text.stdout, text.stderr, js.stdout, js.stderr):
            assert secret not in out, f"{name}: the value {secret!r} was echoed"


def test_files_checked_together_are_each_checked_alone(policy) -> None:  # type: ignore[no-untyped-def]
    # A scan's worker checks its files together, a step at a time over all of them
    # (check_cases_bytes): every invalid file here, mixed with the template's valid cases,
    # a file under cases/ that is not a case and one that is misplaced, must get the result
    # it gets alone, in order, the valid ones keeping their mapping.
    valid = [(p.relative_to(TEMPLATE).as_posix(), p.read_bytes()) for p in sorted((TEMPLATE / "cases").glob("*/*.yml"))]
    others = [("cases/README.md", b"# cases\n"), ("cases/2026/notes.txt", b"hello\n"), ("cases/2026/x.yaml", b"id: 1\n")]
    by_day: dict[str, list[tuple[str, bytes]]] = {}
    for name in CASES:
        file, today = where(name)
        by_day.setdefault(today, []).append((file, case_bytes(name)))
    assert len(by_day[DEFAULT_TODAY]) > 50
    for today, invalid in by_day.items():
        files = invalid + valid + others
        random.Random(today).shuffle(files)
        day = dt.date.fromisoformat(today)
        together = check_cases_bytes(files, policy, day, keep=True)
        alone = [check_case_bytes(data, file, policy, day, keep=True) for file, data in files]
        assert [(r.file, r.case_id, r.problems, r.case) for r in together] == [(r.file, r.case_id, r.problems, r.case) for r in alone]
        assert sum(1 for r in together if r.case is not None) >= len(valid) // 2
        assert sum(1 for r in together if r.problems) >= len(invalid)
