"""A local stand-in for the GitHub REST API, for the `complaints notify` tests.

Use the `github_stub` fixture (import it into the test module): a started `GitHubStub` on
127.0.0.1 with one repository, `example-org/complaints`, a write token `WRITE_TOKEN`, a read-only
token `READ_TOKEN`, and the policy's sample logins assignable.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import Fault, GitHubStub, RecordedRequest, Repository

REPOSITORY = "example-org/complaints"
WRITE_TOKEN = "ghs_stubWriteToken0123456789abcdefABCDEF"
READ_TOKEN = "ghs_stubReadToken0123456789abcdefABCDEFG"
ASSIGNABLE = {"example-chen", "example-lin", "example-zhou", "example-wu", "example-zhang"}


@pytest.fixture
def github_stub() -> Iterator[GitHubStub]:
    stub = GitHubStub()
    stub.add_repo(REPOSITORY)
    stub.add_token(WRITE_TOKEN, "write", REPOSITORY)
    stub.add_token(READ_TOKEN, "read", REPOSITORY)
    stub.assignable |= ASSIGNABLE
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


__all__ = [
    "ASSIGNABLE",
    "Fault",
    "GitHubStub",
    "READ_TOKEN",
    "REPOSITORY",
    "RecordedRequest",
    "Repository",
    "WRITE_TOKEN",
    "github_stub",
]
