"""A whole-result memo is used only when what it holds has the shape the code expects, all
the way down (datacodec.conforms): a cache file that passes its HMAC but holds a record with
a field of the wrong type (written by an older version of the tool, or forged by someone
holding the cache's secret) is computed afresh and replaced, never used, and no command
stops with a traceback."""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import shutil
from pathlib import Path
from typing import Any, Literal, Mapping

import pytest

from complaints.adapters import cache
from complaints.adapters.datacodec import conforms, register
from complaints.adapters.repository import Repository
from complaints.commands import stats as stats_command
from complaints.core.receipt import ReceiptTable
from complaints.core.stats.tables import StatsReport

from conftest import TEMPLATE, cli_invoke, copy_repo, git as _git

TODAY = dt.date(2026, 11, 27)


@dataclasses.dataclass(frozen=True)
class _Inner:
    day: dt.date
    count: int
    share: float | None


@dataclasses.dataclass(frozen=True)
class _Outer:
    name: str
    inner: tuple[_Inner, ...]
    kind: Literal["a", "b"]
    extra: Mapping[str, int]
    pair: tuple[str, bool]


register(_Inner, _Outer)


def _outer(**changes: Any) -> _Outer:
    good = _Outer("x", (_Inner(dt.date(2026, 1, 2), 3, 0.5), _Inner(dt.date(2026, 1, 3), 0, None)), "a", {"k": 1}, ("y", True))
    return dataclasses.replace(good, **changes)


def test_conforms_accepts_the_shape_it_names() -> None:
    assert conforms(_outer(), _Outer)
    assert conforms((_outer(), {"a": _outer()}), tuple[_Outer, dict[str, _Outer]])
    assert conforms(_outer(inner=()), _Outer)
    assert conforms(_Inner(dt.date(2026, 1, 2), 3, 2), _Inner)  # an int where a float may be
    assert conforms(("a", 1), tuple)  # a class named bare: its contents unchecked


@pytest.mark.parametrize("value, hint", [
    (_outer(name=1), _Outer),
    (_outer(inner=(_Inner(dt.date(2026, 1, 2), True, None),)), _Outer),  # a bool is not an int
    (_outer(inner=(_Inner("2026-01-02", 1, None),)), _Outer),
    (_outer(inner=[_Inner(dt.date(2026, 1, 2), 1, None)]), _Outer),  # a list is not a tuple
    (_outer(inner=(None,)), _Outer),
    (_outer(kind="c"), _Outer),
    (_outer(extra={"k": "1"}), _Outer),
    (_outer(extra={1: 1}), _Outer),
    (_outer(pair=("y",)), _Outer),
    (_outer(pair=("y", 1)), _Outer),
    (_Inner(dt.date(2026, 1, 2), 3, None), _Outer),
    ((_outer(), {"a": 1}), tuple[_Outer, dict[str, _Outer]]),
    ((_outer(),), tuple[_Outer, dict[str, _Outer]]),
    ({}, tuple[_Outer, dict[str, _Outer]]),
    (None, _Outer),
    (_outer(), frozenset[str]),  # a hint it does not know
])
def test_conforms_refuses_anything_else(value: Any, hint: Any) -> None:
    assert not conforms(value, hint)


def test_conforms_survives_a_deep_value() -> None:
    deep: Any = ()
    for _ in range(100_000):
        deep = (deep,)
    assert not conforms(deep, tuple[tuple[str, ...], ...])


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = copy_repo(tmp_path / "repo", with_cases=True)
    shutil.copy2(TEMPLATE / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(TEMPLATE / "site", root / "site")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "cases")
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    return root


def _memo_of(name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Record the arguments of the next memoized() (or memoized_parts()) call for ``name``."""
    seen: dict[str, Any] = {}
    real, real_parts = stats_command.memoized, stats_command.memoized_parts

    def spy(root: Path, memo: str, purpose: str, expected: Any, compute: Any, records: Any = ()) -> Any:
        if memo == name:
            seen.update(root=root, purpose=purpose, records=records)
        return real(root, memo, purpose, expected, compute, records)

    def spy_parts(root: Path, memo: str, purpose: str, compute: Any, split: Any, join: Any, records: Any = ()) -> Any:
        if memo == name:
            seen.update(root=root, purpose=purpose, records=records)
        return real_parts(root, memo, purpose, compute, split, join, records)

    monkeypatch.setattr(stats_command, "memoized", spy)
    monkeypatch.setattr(stats_command, "memoized_parts", spy_parts)
    return seen


def _store(seen: dict[str, Any], name: str) -> cache.ResultCache:
    register(*seen["records"])
    return cache.ResultCache(seen["root"], name, cache.environment_key(seen["root"], seen["purpose"]))


def _plant(seen: dict[str, Any], name: str, value: Any) -> Path:
    """Store ``value`` as the memo, authenticated with the cache's own secret."""
    return _plant_parts(seen, name, {"result": value})


def _plant_parts(seen: dict[str, Any], name: str, parts: dict[str, Any]) -> Path:
    """Store ``parts`` as the memo's entries, authenticated with the cache's own secret."""
    store = _store(seen, name)
    assert store.save(parts)
    assert store.path is not None
    return store.path


def _publication(root: Path) -> tuple[StatsReport, ReceiptTable]:
    return stats_command.compute_with_receipts(Repository.open(root), None, TODAY, skip_invalid=True)


def _damaged(parts: dict[str, Any], report: StatsReport, damage: str) -> dict[str, Any]:
    """The stored parts of the site publication with one thing wrong in them."""
    parts = dict(parts)
    rows = sorted(name for name in parts if name.startswith("receipts/rows/"))
    first = rows[0]
    digests, numbers = parts[first]
    if damage == "entry-int":  # a row naming an entry there is not
        parts[first] = [digests, [len(parts["receipts/entries"])] + numbers[1:]]
    elif damage == "entry-fields":
        parts["receipts/entries"] = [[5, 3, "x", False, False]] + parts["receipts/entries"][1:]
    elif damage == "entry-bool":  # a flag that is not a bool
        parts["receipts/entries"] = [fields[:3] + [0, fields[4]] for fields in parts["receipts/entries"]]
    elif damage == "report-field":
        parts["report"] = dataclasses.replace(report, metrics=None)
    elif damage == "report-nested":
        parts["report"] = dataclasses.replace(report, history=(report.history[0].__class__("2025", "year", "yes", ()),))
    elif damage == "short":  # the rows left out
        parts = {"report": report}
    elif damage == "swapped":
        parts["report"], parts["receipts/entries"] = parts["receipts/entries"], parts["report"]
    elif damage == "other-bucket":  # a bucket's rows stored under another bucket's name
        other = f"receipts/rows/{(int(first[-2:], 16) + 1) % 256:02x}"
        parts[other] = parts.pop(first)
    elif damage == "unsorted":
        many = max(rows, key=lambda name: len(parts[name][1]))
        raw = base64.b64decode(parts[many][0])
        rows_of = [raw[at : at + 32] for at in range(0, len(raw), 32)]
        assert len(rows_of) > 1
        parts[many] = [base64.b64encode(b"".join(reversed(rows_of))).decode(), parts[many][1]]
    elif damage == "not-base64":
        parts[first] = ["not base64!", numbers]
    elif damage == "short-hash":
        parts[first] = [base64.b64encode(base64.b64decode(digests)[:-1]).decode(), numbers]
    elif damage == "unknown-part":
        parts["elsewhere"] = 1
    else:
        raise AssertionError(damage)
    return parts


DAMAGES = ["entry-int", "entry-fields", "entry-bool", "report-field", "report-nested", "short", "swapped", "other-bucket",
           "unsorted", "not-base64", "short-hash", "unknown-part"]  # fmt: skip


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_site_publication_memo_of_the_wrong_shape_is_computed_afresh(
    repo: Path, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _memo_of("site-publication", monkeypatch)
    report, receipts = _publication(repo)
    assert len(receipts) > 1 and conforms(report, StatsReport)
    stored = _store(seen, "site-publication").load()
    assert set(stored) >= {"report", "receipts/entries"} and any(name.startswith("receipts/rows/") for name in stored)
    # What is stored is read back as it was computed.
    assert _publication(repo) == (report, receipts)
    path = _plant_parts(seen, "site-publication", _damaged(stored, report, damage))
    planted = path.read_bytes()
    assert _publication(repo) == (report, receipts)
    assert path.read_bytes() != planted  # replaced by the value computed afresh
    assert _publication(repo) == (report, receipts)


def test_a_stored_site_publication_is_used(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The memo is read, not recomputed: a row changed in the stored parts (still of the right
    shape) is what the next call gives."""
    seen = _memo_of("site-publication", monkeypatch)
    report, receipts = _publication(repo)
    stored = _store(seen, "site-publication").load()
    entries = stored["receipts/entries"]
    changed = [[*fields[:4], not fields[4]] for fields in entries]
    _plant_parts(seen, "site-publication", {**stored, "receipts/entries": changed})
    again_report, again = _publication(repo)
    assert again_report == report
    assert [entry.provisional for entry in again.values()] == [not entry.provisional for entry in receipts.values()]


@pytest.mark.parametrize("damage", ["entry-int", "report-field"])
def test_site_build_over_a_memo_of_the_wrong_shape_builds(repo: Path, damage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _memo_of("site-publication", monkeypatch)
    report, _receipts = _publication(repo)
    _plant_parts(seen, "site-publication", _damaged(_store(seen, "site-publication").load(), report, damage))
    out = repo.parent / "site"
    built = cli_invoke("site", "build", "--out", str(out), "--repo", str(repo), "--today", TODAY.isoformat())
    assert built.exit_code == 0, built.output
    assert "Traceback" not in built.output
    assert (out / "generated" / "receipts.json").is_file()


def test_a_stats_report_memo_of_the_wrong_shape_is_computed_afresh(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["stats", "--format", "json", "--repo", str(repo), "--today", TODAY.isoformat()]
    seen = _memo_of("stats-report", monkeypatch)
    fresh = cli_invoke(*args, "--no-cache")
    assert fresh.exit_code == 0, fresh.output
    first = cli_invoke(*args)
    assert first.stdout == fresh.stdout
    report = stats_command.compute(Repository.open(repo), None, TODAY)
    _plant(seen, "stats-report", dataclasses.replace(report, metrics=(None,)))
    again = cli_invoke(*args)
    assert again.exit_code == 0 and "Traceback" not in again.output
    assert again.stdout == fresh.stdout


def test_the_site_publication_memo_is_keyed_by_commit_today_and_skip_invalid(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each input the publication shows gives its own memo: a new commit (the data commit it
    names), another day, --skip-invalid or not."""
    seen = _memo_of("site-publication", monkeypatch)
    first, _ = _publication(repo)
    purposes = [seen["purpose"]]
    _git(repo, "commit", "-q", "--allow-empty", "-m", "nothing changed but the commit")
    after, _ = _publication(repo)
    purposes.append(seen["purpose"])
    assert after.data_commit != first.data_commit
    assert after.data_commit == _git(repo, "rev-parse", "HEAD").strip()
    stats_command.compute_with_receipts(Repository.open(repo), None, TODAY + dt.timedelta(days=1), skip_invalid=True)
    purposes.append(seen["purpose"])
    stats_command.compute_with_receipts(Repository.open(repo), None, TODAY, skip_invalid=False)
    purposes.append(seen["purpose"])
    assert len(set(purposes)) == 4
