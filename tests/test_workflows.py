"""The GitHub Actions workflows: linted by actionlint and zizmor (both really run, offline),
held to the project's rules (least privilege, pinned actions, no untrusted expressions in
scripts), and every `complaints` command they call is run."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from complaints.cli import cli

from conftest import ROOT, TEMPLATE
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")
COMMAND = re.compile(r"(?:^|[\s;&|(])(?:\.venv/bin/)?complaints((?:[ \t]+[^\s;&|#]+)+)")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(job, step) for job in workflow["jobs"].values() for step in job.get("steps", [])]


def tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or pytest.fail(f"{name} is not installed: run python3 dev.py test"))


def test_the_three_workflows_exist() -> None:
    assert [p.name for p in FILES] == ["notify.yml", "pages.yml", "pull-request.yml"]


def test_actionlint_passes() -> None:
    done = subprocess.run([tool("actionlint"), "-no-color", *map(str, FILES)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_passes_offline() -> None:
    done = subprocess.run([tool("zizmor"), "--offline", "--no-progress", str(WORKFLOWS)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


BAD = """\
name: bad
on:
  pull_request_target:
jobs:
  x:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_the_linters_do_catch_an_injection(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD, encoding="utf-8")
    lint = subprocess.run([tool("actionlint"), "-no-color", str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert lint.returncode == 1 and "potentially untrusted" in lint.stdout
    audit = subprocess.run([tool("zizmor"), "--offline", "--no-progress", str(bad)], capture_output=True, text=True, cwd=tmp_path)
    assert audit.returncode != 0 and "template-injection" in audit.stdout


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_least_privilege_and_pinned_actions(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    workflow = load(path)
    assert workflow["permissions"] == {}
    assert "pull_request_target" not in workflow["on"]
    for job in workflow["jobs"].values():
        assert "permissions" in job, "every job names the permissions it needs"
    for _, step in steps(workflow):
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]
            line = next(l for l in text.splitlines() if step["uses"] in l)
            assert re.search(r"# v\d+\.\d+\.\d+$", line), f"version comment missing: {line}"
            if step["uses"].startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
        if "run" in step:
            assert "${{" not in step["run"], f"expression inside a script: {step['run']}"


def test_notify_runs_daily_at_an_odd_minute_never_cancelled_with_issue_write_only() -> None:
    text = (WORKFLOWS / "notify.yml").read_text(encoding="utf-8")
    workflow = load(WORKFLOWS / "notify.yml")
    (schedule,) = workflow["on"]["schedule"]
    minute, hour, *rest = schedule["cron"].split()
    assert int(minute) % 2 == 1 and rest == ["*", "*", "*"]
    shanghai = f"{(int(hour) + 8) % 24:02d}:{int(minute):02d} in Shanghai"
    assert shanghai in text
    assert "workflow_dispatch" in workflow["on"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"issues": "write", "contents": "read"}
    assert [s for _, s in steps(workflow) if "complaints notify" in s.get("run", "")][0]["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}


def test_pages_write_only_in_the_deploy_job() -> None:
    workflow = load(WORKFLOWS / "pages.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["jobs"]["build"]["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    uses = [s["uses"].split("@")[0] for _, s in steps(workflow) if "uses" in s]
    assert "actions/upload-pages-artifact" in uses and "actions/deploy-pages" in uses


def test_pull_requests_run_tests_validate_changes_and_build_the_site() -> None:
    workflow = load(WORKFLOWS / "pull-request.yml")
    runs = [s.get("run", "") for _, s in steps(workflow)]
    assert "python3 dev.py test" in runs
    assert any('validate --changed-since "origin/${BASE_REF}"' in r for r in runs)
    assert any("site build --strict" in r for r in runs)
    assert any("complaints forms --check" in r for r in runs)


def test_pull_requests_run_the_tool_tests_only_when_the_tool_changed_with_caches() -> None:
    workflow = load(WORKFLOWS / "pull-request.yml")
    cases, tool = workflow["jobs"]["cases"], workflow["jobs"]["tool"]
    assert tool["needs"] == "cases" and tool["if"] == "needs.cases.outputs.tool == 'true'"
    assert [s["run"] for s in tool["steps"] if "run" in s][-1] == "python3 dev.py test"
    assert not any("dev.py test" in s.get("run", "") for s in cases["steps"])
    detect = next(s for s in cases["steps"] if s.get("id") == "changes")
    for path in ("tools", "tests", "schema", "pyproject.toml", "dev.py", ".github/workflows"):
        assert f" {path}" in detect["run"]
    setup = next(s for s in cases["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["cache"] == "pip"
    cache = next(s for s in cases["steps"] if s.get("uses", "").startswith("actions/cache@"))
    # the result cache, outside the checkout
    assert cache["with"]["path"] == cases["env"]["COMPLAINTS_CACHE_DIR"]


def test_the_site_is_rebuilt_daily() -> None:
    workflow = load(WORKFLOWS / "pages.yml")
    (schedule,) = workflow["on"]["schedule"]
    assert schedule["cron"].split()[2:] == ["*", "*", "*"]


def invocations() -> list[tuple[str, list[str], dict[str, str]]]:
    found = []
    for path in FILES:
        for _, step in steps(load(path)):
            for match in COMMAND.finditer(step.get("run", "")):
                env = {k: str(v) for k, v in (step.get("env") or {}).items()}
                found.append((path.name, shlex.split(match.group(1)), env))
    return found


INVOCATIONS = invocations()


def test_the_workflows_call_these_commands() -> None:
    assert sorted({" ".join(a[:2] if a[0] == "site" else a[:1]) for _, a, _ in INVOCATIONS}) == ["forms", "notify", "site build", "validate"]


@pytest.mark.parametrize(("workflow", "args", "env"), INVOCATIONS, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_each_invocation_parses_and_has_help(workflow: str, args: list[str], env: dict[str, str]) -> None:
    expanded = [re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: {"BASE_REF": "main"}.get(m.group(1) or m.group(2), "x"), a) for a in args]
    runner = CliRunner()
    words = [a for a in expanded if not a.startswith("-")][: 2 if expanded[0] == "site" else 1]
    shown = runner.invoke(cli, [*words, "--help"])
    assert shown.exit_code == 0 and "Example" in shown.output
    # the options the workflow passes exist: click parses them without running the command
    command: Any = cli
    ctx = click.Context(cli, info_name="complaints")
    rest = list(expanded)
    for word in words:
        assert rest.pop(0) == word
        command = command.get_command(ctx, word)
        assert command is not None, word
        ctx = click.Context(command, info_name=word, parent=ctx)
    command.make_context(words[-1], rest, parent=ctx.parent)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"})


GOOD_CASE = """\
id: XN-20260302-AB3CD
channel: online_form
complainant:
  anonymous: true
subject:
  category: delay
  departments: [permits]
  summary: 示例
priority: normal
handler: h-zhou
timeline:
  - kind: received
    date: 2026-03-02
"""


def test_validate_changed_since_the_base_as_the_pull_request_workflow_runs_it(tmp_path: Path) -> None:
    (args,) = [a for name, a, _ in INVOCATIONS if a[0] == "validate"]
    repo = tmp_path / "repo"
    (repo / "cases" / "2026").mkdir(parents=True)
    shutil.copy(TEMPLATE / "policy.yml", repo / "policy.yml")
    shutil.copytree(TEMPLATE / "schema", repo / "schema")
    if (TEMPLATE / "calendar.yml").exists():
        shutil.copy(TEMPLATE / "calendar.yml", repo / "calendar.yml")
    (repo / "cases" / "2026" / "XN-20260302-AB3CD.yml").write_text(GOOD_CASE, encoding="utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    _git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    _git(repo, "checkout", "-qb", "topic")
    (repo / "cases" / "2026" / "XN-20260303-ABCDE.yml").write_text(
        GOOD_CASE.replace("XN-20260302-AB3CD", "XN-20260303-ABCDE").replace("category: delay", "category: nonsense"), encoding="utf-8"
    )
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "change")
    expanded = [a.replace("${BASE_REF}", "main") for a in args]
    cwd = os.getcwd()
    os.chdir(repo)  # the workflow runs it in the checkout
    try:
        result = CliRunner().invoke(cli, [*expanded, "--today", "2026-04-20"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 1, result.output
    assert "XN-20260303-ABCDE.yml" in result.output and "XN-20260302-AB3CD.yml" not in result.output


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_jobs_that_run_complaints_keep_the_result_cache_outside_the_checkout(path: Path) -> None:
    workflow = load(path)
    for job in workflow["jobs"].values():
        # The test suite (dev.py test) gives every test a cache folder of its own (conftest.py).
        runs = [s for s in job.get("steps", []) if "complaints " in s.get("run", "")]
        if not runs:
            continue
        folder = (job.get("env") or {}).get("COMPLAINTS_CACHE_DIR")
        assert folder and folder.startswith("/") and "github.workspace" not in folder
        (keep,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@")]
        assert keep["with"]["path"] == folder
        # A change to the tool or the policy starts afresh; each run saves its own copy.
        for names in (("tools/complaints/*.py", "tools/complaints/**/*.py"), ("policy.yml",), ("calendar.yml",), ("schema/*.json",)):
            assert any(n in keep["with"]["key"] and n in keep["with"]["restore-keys"] for n in names), names
        assert keep["with"]["key"].endswith("-${{ github.run_id }}")
        assert job["steps"].index(keep) < job["steps"].index(runs[-1])
