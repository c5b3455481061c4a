"""The pieces an adopting organisation meets first, one by one: keygen, the site's address from
the policy, the receipt lookup's "as of", overdue and provisional flags, the repository-wide
files validate checks, and notify's fallback assignee in the policy."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaints.commands import receipts
from complaints.core import receipt
from complaints.cli import cli
from complaints.adapters.crypto import load_identities, parse_recipients
from complaints.errors import ConfigError, UsageMistake
from complaints.commands.keygen import make_key
from complaints.adapters.config import load_policy
from complaints.adapters.repository import Repository
from complaints.render.site import published_url
from complaints.commands.validate import validate
from test_writer_support import make_repo
from conftest import ROOT, TEMPLATE


def test_keygen_writes_a_private_identity_once_and_prints_the_recipient(tmp_path: Path) -> None:
    out = tmp_path / "keys" / "key.txt"
    out.parent.mkdir()
    result = CliRunner().invoke(cli, ["keygen", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    (identity,) = load_identities(out)
    public = str(identity.to_public())
    assert f"public key: {public}" in result.stdout and "AGE-SECRET-KEY" not in result.stdout
    line = result.stdout.strip().splitlines()[-1]
    assert parse_recipients(line).keys == (public,)
    before = out.read_bytes()
    again = CliRunner().invoke(cli, ["keygen", "--out", str(out)])
    assert again.exit_code == 2 and "never overwrites" in again.stderr and out.read_bytes() == before


@pytest.mark.parametrize("marker", [".git", "policy.yml"])
def test_keygen_refuses_a_path_inside_a_repository(tmp_path: Path, marker: str) -> None:
    repo = tmp_path / "repo"
    (repo / "deep" / "er").mkdir(parents=True)
    (repo / marker).mkdir() if marker == ".git" else (repo / marker).write_text("x", encoding="utf-8")
    with pytest.raises(UsageMistake, match="inside the repository"):
        make_key(repo / "deep" / "er" / "key.txt")
    assert not (repo / "deep" / "er" / "key.txt").exists()


def test_keygen_never_follows_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    link = tmp_path / "key.txt"
    link.symlink_to(target)
    with pytest.raises(UsageMistake, match="already exists"):
        make_key(link)
    assert not target.exists()


@pytest.mark.parametrize(
    ("organisation", "url"),
    [
        ({"repository_url": "https://github.com/Example-Org/complaints"}, "https://example-org.github.io/complaints/"),
        ({"repository_url": "https://github.com/example-org/example-org.github.io"}, "https://example-org.github.io/"),
        ({"repository_url": "https://github.com/example-org/complaints", "site_url": "https://complaints.example.org/"}, "https://complaints.example.org/"),
        ({"repository_url": "https://git.example.org/a/b"}, None),
        ({}, None),
    ],
)
def test_the_site_address_comes_from_the_policy(organisation: dict[str, str], url: str | None) -> None:
    template = load_policy(TEMPLATE)
    org = {k: v for k, v in template.raw["organisation"].items() if k not in ("repository_url", "site_url")}
    policy = dataclasses.replace(template, raw={**template.raw, "organisation": {**org, **organisation}})
    assert published_url(policy) == url


def new_case(root: Path, received: str) -> tuple[str, str]:
    result = CliRunner().invoke(cli, ["new", "--channel", "letter", "--category", "delay", "--department", "permits", "--priority",
                                      "normal", "--anonymous", "--received", received, "--repo", str(root), "--today", received])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    return lines[0].split()[1], lines[2].rsplit(" ", 1)[1]


def test_the_lookup_says_as_of_when_a_step_is_overdue_and_when_a_date_is_provisional(tmp_path: Path) -> None:
    root, _ = make_repo(tmp_path / "repo")
    late, late_code = new_case(root, "2026-03-02")
    future, future_code = new_case(root, "2026-12-28")
    accepted = CliRunner().invoke(cli, ["event", future, "accept", "--date", "2026-12-29", "--repo", str(root), "--today", "2026-12-29"])
    assert accepted.exit_code == 0, accepted.output
    repo = Repository.open(root)
    settings = receipt.ReceiptSettings.from_policy(repo.policy.raw)
    document = receipts.lookup_document(repo, dt.date(2026, 12, 30))
    index = document["index"]
    assert index["as_of"] == "2026-12-30"
    assert index["shards"]["row"] == ["state", "next_step_month", "overdue", "provisional"]

    def row(code: str) -> list[object]:
        digest = receipt.derive(receipt.normalize_code(code), settings.salt, settings.iterations)
        return list(document["shards"][receipt.shard_of(digest, index["shards"]["bits"])][digest])

    # Never decided since 2026-03-02: the decision was due 2026-03-05.
    assert row(late_code) == ["received", "2026-03", 1, 0]
    # Accepted 2026-12-29 + 30 days = 2027-01-28, in a year not announced yet.
    assert row(future_code) == ["accepted", "2027-01", 0, 1]


def test_validate_reports_a_broken_calendar_yml_by_file(make_repo) -> None:  # type: ignore[no-untyped-def]
    root = make_repo()
    (root / "calendar.yml").write_text("closures:\n  - {date: 2026-13-01, name: x}\n", encoding="utf-8")
    report = validate(Repository.open(root), dt.date(2026, 11, 30))
    (problem,) = report.repository_problems
    assert problem.file == "calendar.yml" and "closures[0].date" in problem.message


def test_the_default_assignee_must_be_a_handler(make_repo) -> None:  # type: ignore[no-untyped-def]
    root = make_repo()
    policy = root / "policy.yml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("  branch: main", "  branch: main\n  default_assignee: nobody"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"notify\.default_assignee.*unknown handler"):
        load_policy(root)


def test_the_pre_commit_hook_runs_on_the_policy_calendar_and_recipients() -> None:
    import re

    import yaml

    root = ROOT
    hooks = yaml.safe_load((root / ".pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"][0]["hooks"]
    shared = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    for hook in (next(h for h in hooks if h["id"] == "complaints-validate-configuration"),
                 next(h for h in shared if h["id"] == "complaints-validate-configuration")):
        assert hook["pass_filenames"] is False and hook["entry"].endswith("complaints validate")
        for name in ("policy.yml", "calendar.yml", "recipients.txt"):
            assert re.search(hook["files"], name)
        assert not re.search(hook["files"], "cases/2026/XN-20260305-7K3QH.yml")
