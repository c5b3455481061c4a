"""Ids are literal: a case id argument matches the id pattern exactly or is refused (exit 2);
a glob, a path or a lower-case id never selects a case."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pyrage import x25519

from complaints.cli import cli
from complaints.errors import UsageMistake
from complaints.adapters.repository import Repository
from test_writer_support import make_repo

TODAY = "2026-06-30"
HOSTILE = ["XN-2026*", "XN-20260302-?????", "XN-2026030[0-9]-*", "*", "../2026/x", "cases/2026/X", "xn-20260302-ab3cd", " XN-20260302-AB3CD", "XN-20260302-AB3CD\n", ""]


@pytest.fixture()
def case(tmp_path: Path) -> tuple[Path, str]:
    root, _ = make_repo(tmp_path / "repo")
    args = ["new", "--repo", str(root), "--today", "2026-03-02", "--channel", "online_form", "--category", "delay",
            "--department", "permits", "--priority", "normal", "--anonymous"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return root, result.output.split()[1]


@pytest.mark.parametrize("pattern", HOSTILE)
def test_a_pattern_is_refused_by_every_command_taking_an_id(case: tuple[Path, str], pattern: str, tmp_path: Path) -> None:
    root, case_id = case
    before = Repository.open(root).find_case(case_id).read_bytes()
    key = tmp_path / "key.txt"
    key.write_text(str(x25519.Identity.generate()) + "\n")
    for args in (["deadlines", pattern, "--today", TODAY], ["event", pattern, "accept", "--today", TODAY],
                 ["reveal", pattern, "--identity", str(key), "--show"]):
        result = CliRunner().invoke(cli, [*args, "--repo", str(root)])
        assert result.exit_code == 2, (args, result.output)
        assert "PREFIX-YYYYMMDD-XXXXX" in result.stderr and "Traceback" not in result.output
    assert Repository.open(root).find_case(case_id).read_bytes() == before


def test_the_exact_id_still_works(case: tuple[Path, str]) -> None:
    root, case_id = case
    result = CliRunner().invoke(cli, ["deadlines", case_id, "--repo", str(root), "--today", TODAY])
    assert result.exit_code == 0, result.output
    with pytest.raises(UsageMistake):
        Repository.open(root).find_case(case_id[:-1] + "?")
