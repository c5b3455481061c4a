"""`complaints notify` from the command line, over real HTTP against the stand-in."""
from __future__ import annotations

import datetime as dt

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaints.cli import cli
from complaints.commands.deadlines import repository_deadlines
from complaints.adapters.repository import Repository
from githubstub import READ_TOKEN, REPOSITORY, WRITE_TOKEN, GitHubStub, github_stub  # noqa: F401 - fixture
from githubstub.factories import TEMPLATE, Sleeps
from conftest import cli_invoke

TODAY = "2026-04-20"
CASES = {
    # resolve overdue on TODAY (accepted 2026-03-04, 30 calendar days)
    "XN-20260302-AB3CD": """\
id: XN-20260302-AB3CD
channel: online_form
complainant:
  anonymous: true
subject:
  category: delay
  departments: [permits]
  summary: 示例 @everyone [link](https://evil.example)
priority: normal
handler: h-zhou
timeline:
  - kind: received
    date: 2026-03-02
  - kind: acknowledged
    date: 2026-03-03
  - kind: accepted
    date: 2026-03-04
  - kind: assigned
    date: 2026-03-04
    department: permits
    handler: h-zhou
""",
    # acknowledge and decide overdue; nothing recorded after receipt
    "XN-20260401-QRST0": """\
id: XN-20260401-QRST0
channel: mailbox
complainant:
  anonymous: true
subject:
  category: attitude
  departments: [finance]
  summary: 示例
priority: normal
handler: h-wu
timeline:
  - kind: received
    date: 2026-04-01
""",
}


@pytest.fixture
def case_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "cases" / "2026").mkdir(parents=True)
    shutil.copy(TEMPLATE / "policy.yml", root / "policy.yml")
    shutil.copytree(TEMPLATE / "schema", root / "schema")
    if (TEMPLATE / "calendar.yml").exists():
        shutil.copy(TEMPLATE / "calendar.yml", root / "calendar.yml")
    for case_id, text in CASES.items():
        (root / "cases" / "2026" / f"{case_id}.yml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def env(github_stub: GitHubStub, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr("time.sleep", Sleeps())  # the client's waits, recorded instead of slept
    # The clock at the command line's edge stands still on TODAY: a real run is only allowed
    # for today (another day needs --dry-run).
    monkeypatch.setattr("complaints.cli.app.today_in", lambda _tz, override: override or dt.date.fromisoformat(TODAY))
    return {"GITHUB_TOKEN": WRITE_TOKEN, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github_stub.url}


def invoke(case_repo: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = cli_invoke("notify", "--repo", str(case_repo), "--today", TODAY, *args, env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def overdue_count(case_repo: Path) -> int:
    import datetime as dt

    items = repository_deadlines(Repository.open(case_repo), dt.date.fromisoformat(TODAY))
    return sum(1 for i in items if i.state == "overdue")


def test_dry_run_prints_the_plan_and_writes_nothing(case_repo: Path, env: dict[str, str], github_stub: GitHubStub) -> None:
    code, out, _ = invoke(case_repo, env, "--dry-run")
    assert code == 0
    n = overdue_count(case_repo)
    assert n == 3
    assert out.count("create ") == n and f"{n} to create, 0 to update, 0 to close" in out
    assert github_stub.writes() == []


def test_run_then_re_run(case_repo: Path, env: dict[str, str], github_stub: GitHubStub) -> None:
    code, out, _ = invoke(case_repo, env)
    assert code == 0, out
    repo = github_stub.repos[REPOSITORY]
    issues = github_stub.issues(repo, "open")
    assert len(issues) == 3
    assert {a["login"] for i in issues for a in i["assignees"]} == {"example-zhou", "example-wu"}
    for issue in issues:  # the case's free text never reaches GitHub
        assert "@" not in issue["body"] and "evil" not in issue["body"] and "示例" not in issue["body"]
    code, out, _ = invoke(case_repo, env)
    assert code == 0 and "0 to create, 0 to update, 0 to close, 3 unchanged" in out


def test_json_format(case_repo: Path, env: dict[str, str]) -> None:
    code, out, _ = invoke(case_repo, env, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["dry_run"] is False and data["result"]["ok"] is True
    assert sorted(a["stage"] for a in data["plan"]["actions"]) == ["acknowledge", "decide", "resolve"]
    assert len([d for d in data["result"]["done"] if d["action"] == "create"]) == 3


def test_a_stage_done_closes_its_issue(case_repo: Path, env: dict[str, str], github_stub: GitHubStub) -> None:
    invoke(case_repo, env)
    path = case_repo / "cases" / "2026" / "XN-20260302-AB3CD.yml"
    path.write_text(
        path.read_text(encoding="utf-8") + "  - kind: resolved\n    date: 2026-04-17\n    outcome: substantiated\n    measures: [correction]\n    summary: 示例\n",
        encoding="utf-8",
    )
    code, out, _ = invoke(case_repo, env)
    assert code == 0 and "1 to close" in out
    closed = github_stub.issues(github_stub.repos[REPOSITORY], "closed")
    assert len(closed) == 1 and closed[0]["state_reason"] == "completed"


def test_missing_token(case_repo: Path, env: dict[str, str]) -> None:
    code, out, err = invoke(case_repo, {**env, "GITHUB_TOKEN": ""})
    assert code == 1 and "no GitHub token: set GITHUB_TOKEN" in err


def test_missing_repository(case_repo: Path, env: dict[str, str]) -> None:
    code, _, err = invoke(case_repo, {**env, "GITHUB_REPOSITORY": ""})
    assert code == 1 and "GITHUB_REPOSITORY is not set" in err


def test_bad_token_never_printed(case_repo: Path, env: dict[str, str]) -> None:
    secret = "ghp_thisTokenMustNeverBePrinted0000000"
    code, out, err = invoke(case_repo, {**env, "GITHUB_TOKEN": secret})
    assert code == 1 and "401 Bad credentials" in err
    assert secret not in out + err


def test_unknown_repository(case_repo: Path, env: dict[str, str]) -> None:
    code, _, err = invoke(case_repo, {**env, "GITHUB_REPOSITORY": "example-org/missing"})
    assert code == 1 and "example-org/missing not found" in err


def test_read_only_token_is_told_apart_from_rate_limiting(case_repo: Path, env: dict[str, str], github_stub: GitHubStub) -> None:
    code, out, err = invoke(case_repo, {**env, "GITHUB_TOKEN": READ_TOKEN})
    assert code == 1
    assert "403 Resource not accessible by integration" in out and "issues: write" in out
    assert out.count("NOT DONE") == 3 and "3 action(s) not done" in err
    assert READ_TOKEN not in out + err


def test_a_run_that_gives_up_exits_1_and_lists_what_it_did_not_do(case_repo: Path, env: dict[str, str], github_stub: GitHubStub) -> None:
    github_stub.fail_writes_after(2, kind="bad_gateway")
    code, out, err = invoke(case_repo, env)
    assert code == 1
    assert "NOT DONE" in out and "stopped:" in out and "not done; the next run retries them" in err
    github_stub.fail_writes_after(None)
    code, out, _ = invoke(case_repo, env)
    assert code == 0
    assert len(github_stub.issues(github_stub.repos[REPOSITORY], "open")) == 3


def test_the_installed_command_in_a_real_process(case_repo: Path, github_stub: GitHubStub) -> None:
    exe = Path(sys.executable).with_name("complaints")
    command = [str(exe)] if exe.exists() else [sys.executable, "-c", "from complaints.cli import main; main()"]
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")},
        "GITHUB_TOKEN": WRITE_TOKEN,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": github_stub.url,
    }
    done = subprocess.run(
        [*command, "notify", "--dry-run", "--format", "json", "--repo", str(case_repo), "--today", TODAY],
        env=environ, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["plan"]["actions"]) == 3
    assert WRITE_TOKEN not in done.stdout + done.stderr
    assert github_stub.requests[0].headers["authorization"] == f"Bearer {WRITE_TOKEN}"


def test_another_day_than_today_needs_dry_run(case_repo: Path, env: dict[str, str], github_stub: GitHubStub) -> None:
    result = CliRunner().invoke(cli, ["notify", "--repo", str(case_repo), "--today", "2026-04-19"], env=env)
    assert result.exit_code == 2 and "--dry-run" in result.stderr
    assert [r for r in github_stub.requests if r.method != "GET"] == []
    assert CliRunner().invoke(cli, ["notify", "--repo", str(case_repo), "--today", "2026-04-19", "--dry-run"], env=env).exit_code == 0
