"""Every command is documented: its docstring (its --help) has an example, --help works, and
the README mentions it. Walks the click group, so commands added later are covered too."""
from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from complaints.cli import cli

from conftest import ROOT


def walk(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        out.append((path, command))
        if isinstance(command, click.Group):
            out += walk(command, path)
    return out


COMMANDS = walk(cli)
IDS = [" ".join(path) for path, _ in COMMANDS]


def test_the_walk_finds_the_commands() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert "validate" in names
    assert len(names) >= 1


@pytest.mark.parametrize("path, command", COMMANDS, ids=IDS)
def test_every_command_has_an_example(path: tuple[str, ...], command: click.Command) -> None:
    doc = command.callback.__doc__ if command.callback is not None else None
    doc = doc or command.help
    assert doc, f"complaints {' '.join(path)} has no docstring"
    assert "Example" in doc, f"complaints {' '.join(path)}: the docstring (its --help) needs an 'Example:' section"
    assert f"complaints {' '.join(path)}" in doc, "the example shows the command itself"


@pytest.mark.parametrize("path, command", COMMANDS, ids=IDS)
def test_help_exits_0_and_shows_the_example(path: tuple[str, ...], command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("path, command", COMMANDS, ids=IDS)
def test_the_readme_mentions_every_command(path: tuple[str, ...], command: click.Command) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"complaints {re.escape(' '.join(path))}\b", readme), f"README.md does not mention `complaints {' '.join(path)}`"


def test_group_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in cli.commands:
        assert re.search(rf"^\s+{re.escape(name)}\b", result.stdout, re.MULTILINE), name


def test_validate_help_documents_the_error_format_and_exit_codes() -> None:
    text = " ".join(CliRunner().invoke(cli, ["validate", "--help"]).stdout.split())  # click rewraps
    assert "FILE:LINE:COLUMN: FIELD: MESSAGE" in text
    assert "0 no problems, 1 problems found, 2 usage error" in text
    for option in ("--changed-since", "--format", "--today", "--repo", "--jobs"):
        assert option in text


def test_the_readme_documents_the_error_format() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"FILE:LINE:COL(UMN)?: ", readme) or re.search(r"cases/\d{4}/XN-\d{8}-\w{5}\.yml:\d+:\d+: \$\.", readme)
