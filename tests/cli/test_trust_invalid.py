"""Invalid cases are never left out silently: `stats`, `site build` and `notify` stop (exit 1)
naming the invalid files, unless --skip-invalid, which says how many were left out and records
the count in the output (stats JSON, the site's statistics pages, notify's plan)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaints.cli import cli
from conftest import TEMPLATE, copy_repo
from githubstub import REPOSITORY, WRITE_TOKEN, GitHubStub, github_stub  # noqa: F401 - fixture
from githubstub.factories import Sleeps

TODAY = "2026-11-27"


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    root = copy_repo(tmp_path / "repo", with_cases=True)
    shutil.copy2(TEMPLATE / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(TEMPLATE / "site", root / "site")
    first = sorted((root / "cases").rglob("*.yml"))[0]
    first.write_text(first.read_text(encoding="utf-8").replace("channel:", "channel_typo:", 1), encoding="utf-8")
    return root


def bad_file(root: Path) -> str:
    return sorted((root / "cases").rglob("*.yml"))[0].relative_to(root).as_posix()


def test_stats_stops_naming_the_invalid_file(broken: Path) -> None:
    result = CliRunner().invoke(cli, ["stats", "--repo", str(broken), "--today", TODAY])
    assert result.exit_code == 1
    assert bad_file(broken) in result.stderr and "--skip-invalid" in result.stderr
    assert result.stdout == ""


def test_stats_with_skip_invalid_records_the_count(broken: Path) -> None:
    result = CliRunner().invoke(cli, ["stats", "--repo", str(broken), "--today", TODAY, "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert "1 invalid case file(s) left out" in result.stderr
    assert json.loads(result.stdout)["invalid_cases_left_out"] == 1


def test_stats_json_of_a_clean_repository_has_no_count(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo", with_cases=True)
    result = CliRunner().invoke(cli, ["stats", "--repo", str(root), "--today", TODAY])
    assert result.exit_code == 0 and "invalid_cases_left_out" not in json.loads(result.stdout)
    skipping = CliRunner().invoke(cli, ["stats", "--repo", str(root), "--today", TODAY, "--skip-invalid"])
    assert json.loads(skipping.stdout)["invalid_cases_left_out"] == 0 and skipping.stderr == ""


def test_site_build_stops_then_records_the_count_on_the_statistics_pages(broken: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    stopped = CliRunner().invoke(cli, ["site", "build", "--repo", str(broken), "--today", TODAY, "--out", str(out)])
    assert stopped.exit_code == 1 and bad_file(broken) in stopped.stderr
    assert not out.exists()
    built = CliRunner().invoke(cli, ["site", "build", "--repo", str(broken), "--today", TODAY, "--out", str(out), "--skip-invalid"])
    assert built.exit_code == 0, built.output
    assert "1 invalid case file(s) left out" in built.stderr
    assert "未计入的无效案件文件" in (out / "statistics" / "index.html").read_text(encoding="utf-8")
    assert "Invalid case files left out" in (out / "en" / "statistics" / "index.html").read_text(encoding="utf-8")


def test_notify_stops_before_asking_github(broken: Path, github_stub: GitHubStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", Sleeps())
    env = {"GITHUB_TOKEN": WRITE_TOKEN, "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_API_URL": github_stub.url}
    stopped = CliRunner().invoke(cli, ["notify", "--dry-run", "--repo", str(broken), "--today", TODAY], env=env)
    assert stopped.exit_code == 1 and bad_file(broken) in stopped.stderr
    assert github_stub.requests == []
    going = CliRunner().invoke(cli, ["notify", "--dry-run", "--format", "json", "--repo", str(broken), "--today", TODAY, "--skip-invalid"], env=env)
    assert going.exit_code == 0, going.output
    assert json.loads(going.stdout)["plan"]["invalid_cases_left_out"] == 1
    assert "1 invalid case file(s) left out" in going.stderr
