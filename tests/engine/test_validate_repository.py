"""Repository-wide checks of `complaints validate`: the sample data, unique ids, files only where
they belong, --changed-since in a real git repository, exit codes and the JSON report."""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner, Result

from complaints.engine import scan as validate_module
from complaints.cli import cli
from complaints.adapters.repository import Repository
from complaints.commands.validate import validate
from complaints.engine.scan import iter_valid_cases

from conftest import ROOT, TEST_DATA, cli_invoke, copy_repo

# The template repository as shipped, frozen for the tests (never the live policy or cases).
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
VALID = (TEST_DATA / "writer" / "XN-20260305-7K3QH.yml").read_text(encoding="utf-8")
ID = "XN-20260305-7K3QH"
TODAY = "2026-11-28"


def run(root: Path, *args: str) -> Result:
    return cli_invoke("validate", "--repo", str(root), "--today", TODAY, *args)


def put(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def with_id(new_id: str) -> str:
    assert new_id.startswith("XN-20260305-")  # the sample's received date
    return VALID.replace(f"id: {ID}", f"id: {new_id}")


# --- the shipped sample data ----------------------------------------------------------------

def test_the_sample_data_passes() -> None:
    result = CliRunner().invoke(cli, ["validate", "--repo", str(TEMPLATE), "--today", TODAY])
    assert result.exit_code == 0, result.output
    files = sorted((TEMPLATE / "cases").rglob("*.yml"))
    assert len(files) >= 80
    assert result.stdout == f"ok: {len(files)} files checked, no problems\n"


def test_the_sample_data_passes_in_a_subprocess() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from complaints.cli import main; main()", "validate", "--today", TODAY, "--format", "json"],
        cwd=TEMPLATE / "cases", capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True and doc["problems"] == [] and doc["files_checked"] >= 80


def test_the_sample_data_is_marked_and_covers_the_vocabularies() -> None:
    repo = Repository.open(TEMPLATE)
    cases = [case for _, case in iter_valid_cases(repo, dt.date.fromisoformat(TODAY))]
    assert len(cases) >= 80
    assert all(case.get("sample") is True for case in cases)
    kinds = {event["kind"] for case in cases for event in case["timeline"]}
    assert kinds >= {"received", "acknowledged", "accepted", "not_accepted", "assigned", "transferred", "extended",
                     "paused", "resumed", "resolved", "followed_up", "review_requested", "review_answered", "closed"}
    assert {case["channel"] for case in cases} == set(repo.policy.vocab["channels"])
    assert {case["subject"]["category"] for case in cases} == set(repo.policy.vocab["categories"])
    assert {e["outcome"] for c in cases for e in c["timeline"] if e["kind"] == "resolved"} == set(repo.policy.vocab["outcomes"])
    assert any(case["complainant"]["anonymous"] for case in cases)
    years = {case["id"][3:7] for case in cases}
    assert {"2025", "2026"} <= years
    for path in (TEMPLATE / "cases").rglob("*.yml"):
        assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=../../schema/case.schema.json\n")


# --- unique ids and layout ------------------------------------------------------------------

def test_duplicate_ids_name_both_files(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    put(root, f"cases/2026/{ID}.yml", VALID)
    put(root, "cases/2026/XN-20260305-AAAAA.yml", VALID)  # same id inside, wrong file name
    result = run(root)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"cases/2026/{ID}.yml: $.id: duplicate id {ID}: also used by cases/2026/XN-20260305-AAAAA.yml" in lines
    assert f"cases/2026/XN-20260305-AAAAA.yml: $.id: duplicate id {ID}: also used by cases/2026/{ID}.yml" in lines
    assert "cases/2026/XN-20260305-AAAAA.yml:3:1: $.id: the id must equal the file name (without .yml); rename the file or fix the id" in lines
    assert lines[-1] == "3 problems in 2 of 2 files checked"


def test_the_same_case_in_two_year_folders_is_a_duplicate(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    put(root, f"cases/2026/{ID}.yml", VALID)
    put(root, f"cases/2025/{ID}.yml", VALID)
    lines = run(root).stdout.splitlines()
    assert f"cases/2025/{ID}.yml: $.id: duplicate id {ID}: also used by cases/2026/{ID}.yml" in lines
    assert f"cases/2026/{ID}.yml: $.id: duplicate id {ID}: also used by cases/2025/{ID}.yml" in lines
    assert any(line.startswith(f"cases/2025/{ID}.yml:3:1: $: the file is in cases/2025/") for line in lines)


@pytest.mark.parametrize(
    "rel, message",
    [
        ("cases/foo.txt", "only case files belong under cases/, at cases/YYYY/ID.yml"),
        (f"cases/{ID}.yml", "only case files belong under cases/, at cases/YYYY/ID.yml"),
        ("cases/2026/x.yaml", "case files use the .yml extension (cases/YYYY/ID.yml)"),
        (f"cases/2026/sub/{ID}.yml", "only case files belong under cases/, at cases/YYYY/ID.yml"),
        (f"cases/26/{ID}.yml", "only case files belong under cases/, at cases/YYYY/ID.yml"),
        ("cases/2026/notes.md", "only case files belong under cases/, at cases/YYYY/ID.yml"),
    ],
)
def test_files_only_where_they_belong(make_repo: Callable[..., Path], rel: str, message: str) -> None:
    root = make_repo()
    put(root, rel, VALID)
    result = run(root)
    assert result.exit_code == 1
    assert f"{rel}: $: {message}" in result.stdout.splitlines()


def test_a_readme_in_cases_is_allowed(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    put(root, "cases/README.md", "# Cases\n")
    put(root, f"cases/2026/{ID}.yml", VALID)
    result = run(root)
    assert result.exit_code == 0, result.output


def test_a_symlinked_case_is_refused(make_repo: Callable[..., Path], tmp_path: Path) -> None:
    root = make_repo()
    outside = put(tmp_path, "elsewhere.yml", VALID)
    (root / "cases" / "2026").mkdir(parents=True)
    (root / "cases" / "2026" / f"{ID}.yml").symlink_to(outside)
    result = run(root)
    assert result.exit_code == 1
    assert f"cases/2026/{ID}.yml: $: case files must be regular files, not symbolic links" in result.stdout


def test_every_problem_in_every_file_is_reported(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    put(root, "cases/2026/XN-20260305-AAAAA.yml", VALID.replace("channel: online_form", "channel: zzz").replace("priority: normal", "priority: zzz"))
    put(root, "cases/2026/XN-20260305-BBBBB.yml", with_id("XN-20260305-BBBBB").replace("anonymous: false", "anonymous: true"))
    put(root, "cases/2026/XN-20260305-CCCCC.yml", with_id("XN-20260305-CCCCC"))
    result = run(root)
    assert result.exit_code == 1
    files = {line.split(":", 1)[0] for line in result.stdout.splitlines()[:-1]}
    assert files == {"cases/2026/XN-20260305-AAAAA.yml", "cases/2026/XN-20260305-BBBBB.yml"}
    assert result.stdout.splitlines()[-1] == "4 problems in 2 of 3 files checked"
    assert "zzz" not in result.stdout


def test_the_parallel_path_gives_the_same_report(make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(with_cases=True)
    put(root, "cases/2026/XN-20260305-AAAAA.yml", VALID)
    put(root, "cases/foo.txt", "x")
    repo = Repository.open(root)
    serial = validate(repo, dt.date.fromisoformat(TODAY), jobs=1)
    monkeypatch.setattr(validate_module, "PARALLEL_THRESHOLD", 10)
    monkeypatch.setattr(validate_module, "BATCH", 7)
    parallel = validate(repo, dt.date.fromisoformat(TODAY), jobs=2)
    assert parallel.problems == serial.problems and len(parallel.files) == len(serial.files) == 82


# --- --changed-since --------------------------------------------------------------------------

def git(root: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false", *args],
        cwd=root, capture_output=True, text=True, check=True,
    )
    return proc.stdout


@pytest.fixture
def git_repo(make_repo: Callable[..., Path]) -> Path:
    root = make_repo()
    put(root, f"cases/2026/{ID}.yml", VALID)
    put(root, "cases/2026/XN-20260305-BBBBB.yml", with_id("XN-20260305-BBBBB"))
    put(root, "cases/2026/XN-20260305-CCCCC.yml", with_id("XN-20260305-CCCCC"))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "base")
    return root


def test_changed_since_checks_only_changed_files(git_repo: Path) -> None:
    root = git_repo
    # Break a file and commit it: it is not changed since HEAD, so it is not checked.
    put(root, "cases/2026/XN-20260305-CCCCC.yml", with_id("XN-20260305-CCCCC").replace("channel: online_form", "channel: zzz"))
    git(root, "commit", "-q", "-am", "broken, unchanged since HEAD")
    # Modify one (still valid), add one untracked (invalid), stage another new one (valid).
    put(root, f"cases/2026/{ID}.yml", VALID.replace("priority: normal", "priority: urgent"))
    put(root, "cases/2026/XN-20260305-DDDDD.yml", with_id("XN-20260305-DDDDD").replace("priority: normal", "priority: zzz"))
    put(root, "cases/2026/XN-20260305-EEEEE.yml", with_id("XN-20260305-EEEEE"))
    git(root, "add", "cases/2026/XN-20260305-EEEEE.yml")
    repo = Repository.open(root)
    assert repo.changed_files("HEAD") == [f"cases/2026/{ID}.yml", "cases/2026/XN-20260305-DDDDD.yml", "cases/2026/XN-20260305-EEEEE.yml"]
    result = run(root, "--changed-since", "HEAD")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "cases/2026/XN-20260305-DDDDD.yml:23:1: $.priority: not a key of policy.yml priorities (one of: normal, urgent)",
        "1 problem in 1 of 3 files checked",
    ]
    # The whole-repository run sees the broken unchanged file too.
    assert "cases/2026/XN-20260305-CCCCC.yml" in run(root).stdout


@pytest.mark.parametrize("name", ["案件.yml", "a case.yml", 'it"s.yml'])
def test_changed_since_reports_a_changed_file_whatever_its_name(git_repo: Path, name: str) -> None:
    # git quotes such names in its plain listings; read NUL-separated, none is skipped.
    put(git_repo, f"cases/2026/{name}", with_id("XN-20260305-FFFFF"))
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "a file with an unusual name")
    put(git_repo, f"cases/2026/{name}", with_id("XN-20260305-GGGGG"))  # changed since HEAD
    put(git_repo, f"cases/2025/{name}", with_id("XN-20260305-HHHHH"))  # untracked
    assert Repository.open(git_repo).changed_files("HEAD") == [f"cases/2025/{name}", f"cases/2026/{name}"]
    result = run(git_repo, "--changed-since", "HEAD")
    assert result.exit_code == 1
    assert f"cases/2026/{name}" in result.stdout and f"cases/2025/{name}" in result.stdout
    assert result.stdout.splitlines()[-1].endswith("of 2 files checked")


def test_changed_since_a_branch_point_includes_committed_changes(git_repo: Path) -> None:
    root = git_repo
    git(root, "checkout", "-q", "-b", "feature")
    put(root, "cases/2026/XN-20260305-BBBBB.yml", with_id("XN-20260305-BBBBB").replace("priority: normal", "priority: zzz"))
    git(root, "commit", "-q", "-am", "change on the branch")
    result = run(root, "--changed-since", "main")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == "1 problem in 1 of 1 files checked"


def test_changed_since_still_catches_duplicates_of_unchanged_files(git_repo: Path) -> None:
    root = git_repo
    # A new file (in the wrong year folder) reusing the id of an unchanged, committed case.
    put(root, f"cases/2025/{ID}.yml", VALID)
    result = run(root, "--changed-since", "HEAD")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"cases/2025/{ID}.yml: $.id: duplicate id {ID}: also used by cases/2026/{ID}.yml" in lines
    assert f"cases/2026/{ID}.yml: $.id: duplicate id {ID}: also used by cases/2025/{ID}.yml" in lines


def test_changed_since_with_nothing_changed_is_clean(git_repo: Path) -> None:
    result = run(git_repo, "--changed-since", "HEAD")
    assert result.exit_code == 0
    assert result.stdout == "ok: 0 files checked, no problems\n"


def test_changed_since_a_deleted_file_is_not_checked(git_repo: Path) -> None:
    (git_repo / "cases/2026/XN-20260305-BBBBB.yml").unlink()
    result = run(git_repo, "--changed-since", "HEAD")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("ref, error", [("no-such-ref", "unknown git revision"), ("--output={tmp}/x", "is not a git revision")])
def test_changed_since_a_bad_ref_is_a_clean_error(git_repo: Path, tmp_path: Path, ref: str, error: str) -> None:
    result = run(git_repo, f"--changed-since={ref.format(tmp=tmp_path)}")
    assert result.exit_code == 2  # a usage error, not "problems found"
    assert error in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists()  # an option smuggled in as a ref never reaches git


# --- exit codes and formats -----------------------------------------------------------------

def test_exit_codes(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    put(root, f"cases/2026/{ID}.yml", VALID)
    assert run(root).exit_code == 0
    unknown = run(root, "--no-such-option")
    assert unknown.exit_code == 2 and "No such option" in unknown.stderr
    both = run(root, str(root / "cases"), "--changed-since", "HEAD")
    assert both.exit_code == 2 and "give PATHS or --changed-since, not both" in both.stderr
    assert run(root, "--format", "xml").exit_code == 2
    assert run(root, "--jobs", "0").exit_code == 2
    assert CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", "2026-02-30"]).exit_code == 2
    put(root, f"cases/2026/{ID}.yml", VALID.replace("priority: normal", "priority: zzz"))
    assert run(root).exit_code == 1


def test_a_missing_path_and_a_path_outside_are_clean_errors(make_repo: Callable[..., Path], tmp_path: Path) -> None:
    root = make_repo()
    missing = run(root, str(root / "cases" / "nope.yml"))
    # A path that does not exist is a usage error (exit 2), as for any bad argument.
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    outside = run(root, str(tmp_path))
    assert outside.exit_code == 1 and "outside the repository" in outside.stderr
    assert "Traceback" not in missing.stderr + outside.stderr


def test_paths_select_files_and_folders(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    put(root, f"cases/2026/{ID}.yml", VALID)
    put(root, "cases/2025/XN-20250305-AAAAA.yml", "broken: [")
    assert run(root, str(root / "cases" / "2026")).stdout == "ok: 1 file checked, no problems\n"
    assert run(root, str(root / "cases" / "2026" / f"{ID}.yml")).exit_code == 0
    assert run(root, str(root / "cases")).exit_code == 1


def test_json_report_shape(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    put(root, f"cases/2026/{ID}.yml", VALID.replace("priority: normal", "priority: zzz"))
    put(root, "cases/foo.txt", "x")
    result = run(root, "--format", "json")
    assert result.exit_code == 1
    doc: dict[str, Any] = json.loads(result.stdout)
    assert set(doc) == {"ok", "files_checked", "problems"}
    assert doc["ok"] is False and doc["files_checked"] == 2
    assert doc["problems"] == [
        {"file": f"cases/2026/{ID}.yml", "line": 23, "column": 1, "field": "$.priority",
         "message": "not a key of policy.yml priorities (one of: normal, urgent)"},
        {"file": "cases/foo.txt", "line": None, "column": None, "field": "$",
         "message": "only case files belong under cases/, at cases/YYYY/ID.yml"},
    ]
    clean = run(make_repo(name="clean"), "--format", "json")
    assert json.loads(clean.stdout) == {"ok": True, "files_checked": 0, "problems": []}


def test_text_lines_follow_the_documented_format(make_repo: Callable[..., Path]) -> None:
    root = make_repo(with_cases=True)
    for path in sorted((root / "cases").rglob("*.yml"))[:10]:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("priority: normal", "priority: zz").replace("priority: urgent", "priority: zz"), encoding="utf-8")
    result = run(root)
    lines = result.stdout.splitlines()
    assert len(lines) == 11
    for line in lines[:-1]:
        assert re.fullmatch(r"cases/20\d\d/XN-\d{8}-[0-9A-Z]{5}\.yml:\d+:\d+: \$\.priority: not a key of policy\.yml priorities \(one of: normal, urgent\)", line)


def test_future_dates_use_the_today_option(make_repo: Callable[..., Path]) -> None:
    root = make_repo()
    put(root, f"cases/2026/{ID}.yml", VALID)
    early = CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", "2026-04-26"])
    assert early.exit_code == 1
    assert early.stdout.splitlines()[0].endswith("$.timeline[10].date: is in the future (today is 2026-04-26 in Asia/Shanghai)")
    assert CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", "2026-04-27"]).exit_code == 0


def test_found_from_the_current_folder(make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo()
    put(root, f"cases/2026/{ID}.yml", VALID)
    monkeypatch.chdir(root / "cases" / "2026")
    result = CliRunner().invoke(cli, ["validate", "--today", TODAY, f"{ID}.yml"])
    assert result.exit_code == 0, result.output
    shutil.rmtree(root / "cases")


@pytest.mark.parametrize("kind", ["folder", "fifo", "folder-with-case-inside"])
def test_a_non_regular_entry_named_like_a_case_is_reported(tmp_path: Path, kind: str) -> None:
    """A folder or a named pipe at cases/YYYY/ID.yml is reported by validate (and stats do
    not silently leave it out); a FIFO is not opened for reading, which would block."""
    import os

    root = copy_repo(tmp_path / "repo", with_cases=True)
    target = root / "cases" / "2026" / "XN-20260305-QQQQQ.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
        if kind == "folder-with-case-inside":
            (target / "x.yml").write_text("a: 1\n")
    result = CliRunner().invoke(cli, ["validate", "--repo", str(root), "--today", "2026-11-28", "--no-cache"])
    assert result.exit_code == 1, result.output
    what = "a named pipe (FIFO)" if kind == "fifo" else "a folder"
    assert f"cases/2026/XN-20260305-QQQQQ.yml: $: case files must be regular files; this is {what}" in result.stdout
    listed = Repository.open(root).case_files()
    assert "cases/2026/XN-20260305-QQQQQ.yml" in listed
