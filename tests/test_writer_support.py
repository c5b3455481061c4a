"""Shared set-up for the writer, crypto and receipt tests (no tests here): a throw-away case
repository with the project's policy and schemas and a key pair made for the test."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from pyrage import x25519

from conftest import TEMPLATE as PROJECT
# The policy's 600,000 iterations cost about a third of a second per hash; the tests use the
# smallest work factor the library accepts, which changes no behaviour.
TEST_ITERATIONS = 100_000


def make_repo(root: Path, recipients: int = 1) -> tuple[Path, list[Any]]:
    """A case repository under ``root`` with ``recipients`` freshly generated age keys listed
    in recipients.txt; returns (root, identities)."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(PROJECT / "schema", root / "schema")
    policy = (PROJECT / "policy.yml").read_text(encoding="utf-8")
    policy = policy.replace("iterations: 600000", f"iterations: {TEST_ITERATIONS}")
    (root / "policy.yml").write_text(policy, encoding="utf-8")
    if (PROJECT / "calendar.yml").exists():
        shutil.copy(PROJECT / "calendar.yml", root / "calendar.yml")
    (root / "cases").mkdir()
    identities = [x25519.Identity.generate() for _ in range(recipients)]
    write_recipients(root, identities)
    return root, identities


def write_recipients(root: Path, identities: list[Any]) -> None:
    lines = ["# test recipients"] + [f"{identity.to_public()}  # key {i}" for i, identity in enumerate(identities)]
    (root / "recipients.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_identity(path: Path, identities: list[Any]) -> Path:
    path.write_text("".join(f"# created: test\n{identity}\n" for identity in identities), encoding="utf-8")
    path.chmod(0o600)
    return path
