"""Test data for the notify tests: the repository's own policy, stage records, clients."""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

import yaml

from complaints.adapters.github import GitHubClient, RetryPolicy
from complaints.core.stages import StageDeadline

from . import REPOSITORY, WRITE_TOKEN
from .server import GitHubStub

from conftest import TEMPLATE
TODAY = dt.date(2026, 4, 20)
CASE = "XN-20260302-AB3CD"


def policy(**notify: Any) -> dict[str, Any]:
    """policy.yml as written, with `notify:` settings added or replaced."""
    raw: dict[str, Any] = yaml.safe_load((TEMPLATE / "policy.yml").read_text(encoding="utf-8"))
    if notify:
        raw["notify"] = {**(raw.get("notify") or {}), **notify}
    return raw


def stage(
    case_id: str = CASE,
    stage: str = "resolve",
    *,
    state: str = "overdue",
    late: int = 3,
    left: int = 0,
    due: dt.date = dt.date(2026, 4, 3),
    completed: dt.date | None = None,
    department: str | None = "permits",
    handler: str | None = "h-zhou",
    path: str | None = None,
    instance: int = 1,
) -> StageDeadline:
    return StageDeadline(
        case_id=case_id,
        path=path if path is not None else f"cases/2026/{case_id}.yml",
        stage=stage,
        started=dt.date(2026, 3, 4),
        due=due,
        completed=completed,
        state=state,
        working_days_late=late if state in ("overdue", "done_late") else 0,
        working_days_left=left,
        department=department,
        handler=handler,
        category="delay",
        priority="normal",
        instance=instance,
    )


class Sleeps(list[float]):
    """A sleep function that only records how long it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(
    stub: GitHubStub,
    *,
    token: str = WRITE_TOKEN,
    repository: str = REPOSITORY,
    sleeps: Sleeps | None = None,
    retry: RetryPolicy | None = None,
) -> GitHubClient:
    return GitHubClient(
        token,
        repository,
        sleep=sleeps if sleeps is not None else Sleeps(),
        clock=time.time,
        api_url=stub.url,
        retry=retry,
    )
