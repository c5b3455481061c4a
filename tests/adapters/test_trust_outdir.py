"""Output folders: every command that writes a folder refuses the repository's own folders,
folders above it and other people's non-empty folders (exit 2, nothing changed), and replaces
only its own earlier output, whole, once the new one is complete."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaints.cli import cli
from complaints.adapters.outdir import MARKER, OutputRefused, check_output_folder, fresh_output_folder, write_into_output_folder
from conftest import TEMPLATE, copy_repo


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """tmp/repo (a git repository with cases, site, tools and schema) beside tmp/mine, someone's folder."""
    root = copy_repo(tmp_path / "repo", with_cases=True)
    shutil.copy2(TEMPLATE / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(TEMPLATE / "site", root / "site")
    (root / "tools").mkdir()
    (root / "tools" / "keep.txt").write_text("tool\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("a year of work\n")
    return tmp_path


PROTECTED = [".", "cases", "cases/2026", ".git", "tools", "schema", "site", "site/zh", "..", "../..", "../mine", "policy.yml"]


@pytest.mark.parametrize("target", PROTECTED)
@pytest.mark.parametrize("command", [["site", "build"], ["stats", "--format", "csv"]], ids=["site-build", "stats"])
def test_out_into_a_folder_the_tool_does_not_own_is_refused_and_nothing_changes(world: Path, target: str, command: list[str]) -> None:
    root = world / "repo"
    before = snapshot(world)
    result = CliRunner().invoke(cli, [*command, "--repo", str(root), "--today", "2026-11-27", "--out", str(root / target)])
    assert result.exit_code == 2, result.output
    assert "--out" in result.stderr and "Traceback" not in result.output
    assert snapshot(world) == before


def test_a_symbolic_link_to_a_protected_folder_is_refused(world: Path) -> None:
    root = world / "repo"
    (world / "link").symlink_to(root / "cases")
    with pytest.raises(OutputRefused, match="inside cases/"):
        check_output_folder(world / "link", root)


def test_the_reason_is_given(world: Path) -> None:
    root = world / "repo"
    with pytest.raises(OutputRefused, match="is the repository itself"):
        check_output_folder(root, root)
    with pytest.raises(OutputRefused, match="above the repository"):
        check_output_folder(world, root)
    with pytest.raises(OutputRefused, match="not empty and was not written by complaints"):
        check_output_folder(world / "mine", root)
    with pytest.raises(OutputRefused, match="not a folder"):
        check_output_folder(root / "policy.yml", root)
    assert check_output_folder(root / "public", root) == (root / "public").resolve()


def test_the_site_replaces_only_its_own_earlier_output(world: Path) -> None:
    root = world / "repo"
    out = world / "public"
    first = CliRunner().invoke(cli, ["site", "build", "--repo", str(root), "--today", "2026-11-27", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert (out / MARKER).is_file() and (out / "index.html").is_file()
    (out / "stale.html").write_text("from an earlier build\n")
    again = CliRunner().invoke(cli, ["site", "build", "--repo", str(root), "--today", "2026-11-27", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    assert sorted(p.name for p in world.iterdir()) == ["mine", "public", "repo"]  # no staging folder left behind


def test_a_failed_build_leaves_the_previous_output_and_no_staging_folder(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    out = tmp_path / "out"
    with fresh_output_folder(out, root) as staging:
        (staging / "index.html").write_text("one\n")
    with pytest.raises(RuntimeError):
        with fresh_output_folder(out, root) as staging:
            (staging / "index.html").write_text("two, half done\n")
            raise RuntimeError("the build failed")
    assert (out / "index.html").read_text() == "one\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "repo"]


def test_an_empty_folder_is_used_and_marked(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    (tmp_path / "empty").mkdir()
    with fresh_output_folder(tmp_path / "empty", root) as staging:
        (staging / "a.txt").write_text("a\n")
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == [MARKER, "a.txt"]


def test_stats_adds_its_file_and_keeps_its_other_files(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo", with_cases=True)
    out = tmp_path / "stats"
    for fmt in ("json", "csv"):
        result = CliRunner().invoke(cli, ["stats", "--repo", str(root), "--today", "2026-11-27", "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "stats-2026.csv", "stats-2026.json"]


def test_a_file_name_cannot_leave_the_folder(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    for name in ("../x", "a/b", "..", MARKER):
        with pytest.raises(OutputRefused):
            write_into_output_folder(tmp_path / "o", root, name, b"x")


def test_the_library_guards_too(world: Path) -> None:
    from complaints.render.site import build_site

    root = world / "repo"
    before = snapshot(world)
    with pytest.raises(OutputRefused):
        build_site(root, root / "cases", dt.date(2026, 11, 27))
    assert snapshot(world) == before
