"""commands/stats keeps the facts of every case for the tables with their days and tuples
shared (one object per distinct value), however each came: from the scan's workers (their
pickled form shares on arrival), from the cache (decoded shared) or made here. The facts must
stay equal to the records, field by field."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from complaints.adapters import cache as cache_module
from complaints.adapters.repository import Repository
from complaints.commands.deadlines import repository_calendar
from complaints.commands.stats import repository_facts
from complaints.engine import scan
from complaints.core.stats.facts import CaseFacts, StageFact
from complaints.engine.derivations import FactRecords
from complaints.engine.scan import case_records

from conftest import committed_synthetic_archive

TODAY = dt.date(2026, 11, 27)


# The fields that hold days and tuples (texts are interned).
SHARED = ("received", "departments", "finished", "measures", "suggestions", "stages")


def _fields(facts: CaseFacts) -> tuple[object, ...]:
    """Every field as plain values, the stage facts too."""
    return (*facts[:17], tuple(tuple(stage) for stage in facts.stages), facts.outcome)


def one_object_per_value(facts: list[CaseFacts]) -> None:
    by_value: dict[object, int] = {}
    for fact in facts:
        for name in SHARED:
            value = getattr(fact, name)
            assert by_value.setdefault(value, id(value)) == id(value), name
        for stage in fact.stages:
            assert by_value.setdefault(stage, id(stage)) == id(stage), "stage fact"


@pytest.mark.parametrize("workers", [False, True])
def test_shared_facts_equal_the_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: bool) -> None:
    monkeypatch.setenv(cache_module.ENV_VAR, str(tmp_path / "cache"))
    if workers:  # the records cross from worker processes, pickled
        monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 1)
        monkeypatch.setattr(scan, "BATCH", 7)
    root = committed_synthetic_archive(tmp_path / "repo", 120, seed=5)
    repo = Repository.open(root)
    calendar = repository_calendar(repo, True)
    plain = [f for _p, f, _s in case_records(repo, TODAY, FactRecords(repo.policy, calendar), use_cache=False)]
    for use_cache in (False, True, True):  # uncached, filling the cache, read from it
        facts, _ = repository_facts(repo if use_cache else repo.without_cache(), TODAY, accept_unconfirmed=True)
        assert facts == plain
        assert [_fields(f) for f in facts] == [_fields(f) for f in plain]
        assert {type(f) for f in facts} == {CaseFacts} and {type(s) for f in facts for s in f.stages} <= {StageFact}
        assert [f.month for f in facts] == [f.month for f in plain]
        one_object_per_value(facts)
