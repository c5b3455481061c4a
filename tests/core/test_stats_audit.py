"""The LP disclosure audit: what a reader can infer about every withheld cell from every
published figure, every relation (totals, the same count under two names) and
non-negativity. It finds the recoverable cells of the old suppression pattern, passes on
the new one (samples and synthetic archives), and `stats` refuses a document failing it."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from complaints.core.stats import audit as audit_module
from complaints.core.stats.audit import AuditResult, Exposure, audit, infer_intervals, protection_intervals
from complaints.cli import cli
from complaints.core.disclosure import PRIMARY, Relation, suppress
from complaints.errors import PublicationError
from complaints.adapters.repository import Repository
from complaints.commands.stats import repository_facts
from complaints.core.stats.periods import Period
from complaints.core.stats.tables import _count, compute_from_facts, headline_cells, suppression_audit

from conftest import ROOT, make_synthetic_archive
TEMPLATE = ROOT / "tests" / "fixtures" / "template"
TODAY = dt.date(2026, 11, 30)


def _is_new_identity(rel: Relation) -> bool:
    """The relations the old method did not know: the same count under two names."""
    return rel.total.startswith("decided@") and rel.parts[0].startswith("stage|decide|done@")


@pytest.fixture(scope="module")
def samples() -> tuple[list, object, dict]:  # type: ignore[type-arg]
    repo = Repository.open(TEMPLATE)
    facts, calendar = repository_facts(repo, TODAY)
    return facts, calendar, dict(repo.policy.raw)


def test_intervals_use_totals_identities_and_non_negativity() -> None:
    # total = a + b with the total shown: a withheld pair stays open between 0 and the total
    rels = [Relation("t", ("a", "b"))]
    assert infer_intervals(rels, {"t": (7, 7)}, {"a", "b"}) == {"a": (0.0, 7.0), "b": (0.0, 7.0)}
    # the same count under two names: once one name is shown, the other is known
    rels2 = rels + [Relation("b", ("b2",))]
    got = infer_intervals(rels2, {"t": (7, 7), "b2": (5, 5)}, {"a", "b"})
    assert got == {"a": (2.0, 2.0), "b": (5.0, 5.0)}
    # a total of 0 forces its withheld parts to 0, since no count is negative
    rels3 = [Relation("y", ("m1", "m2", "m3"))]
    assert infer_intervals(rels3, {"y": (0, 0), "m3": (0, 0)}, {"m1", "m2"}) == {"m1": (0.0, 0.0), "m2": (0.0, 0.0)}
    # a rounded figure is a band, not a point
    assert infer_intervals(rels, {"t": (5, 9)}, {"a", "b"})["a"] == (0.0, 9.0)


def test_audit_reports_a_cell_whose_interval_excludes_zero() -> None:
    values = {"t": 7, "a": 2, "b": 5, "b2": 5}
    rels = [Relation("t", ("a", "b")), Relation("b", ("b2",))]
    res = audit(values, rels, {"a", "b"}, protection_intervals(values, ["a"], 5))
    assert not res.ok and res.exposures == [Exposure("a", 2.0, 2.0, 0.0, 2.0)]
    # without the identity the pair protects each other
    assert audit(values, rels[:1], {"a", "b"}, protection_intervals(values, ["a"], 5)).ok


def test_the_audit_finds_recoverable_cells_in_the_old_method(samples: tuple) -> None:  # type: ignore[type-arg]
    """Kept from before the change: the old pattern (small-cell + complementary suppression
    checked against the project's own relations only) against every relation a reader can use."""
    facts, calendar, raw = samples
    found_exact = found_nonzero = 0
    for year in ("2025", "2026"):
        lat = _count(facts, Period.parse(year), TODAY, raw, calendar).lat
        old_relations = [r for r in lat.relations if not _is_new_identity(r)]
        old = suppress(lat.values, old_relations, 5)
        primary = [c for c, why in old.reasons.items() if why == PRIMARY]
        result = audit(lat.values, lat.relations, old.cells, protection_intervals(lat.values, primary, 5))
        assert not result.ok
        found_exact += sum(1 for e in result.exposures if e.lower == e.upper == lat.values[e.cell])
        found_nonzero += sum(1 for e in result.exposures if e.lower > 0)
    assert found_exact >= 1  # a small count pinned to its value
    assert found_nonzero >= found_exact


@pytest.mark.parametrize("year", ["2025", "2026"])
def test_the_new_method_passes_the_audit_on_the_samples(samples: tuple, year: str) -> None:  # type: ignore[type-arg]
    facts, calendar, raw = samples
    period = Period.parse(year)
    values, relations, sup = suppression_audit(facts, period, TODAY, raw, calendar)
    headline = headline_cells(facts, period, TODAY, raw, calendar)
    small = [c for c in sup.cells if c not in headline]
    assert audit(values, relations, sup.cells, protection_intervals(values, small, 5)).ok
    assert any(_is_new_identity(r) for r in relations)  # the identity is among the reader's relations
    report = compute_from_facts(facts, period, TODAY, raw, calendar)
    for metric in ("response_rate", "resolution_rate", "satisfaction_rate"):
        (row,) = report.metric(metric).rows
        assert not row.suppressed and row.value is not None, metric  # the yearly headline rates are published


def _synthetic(tmp_path: Path, count: int) -> Path:
    return make_synthetic_archive(tmp_path / f"synth{count}", count, seed=1)


@pytest.mark.slow
def test_monthly_rates_published_and_audited_on_a_synthetic_archive(tmp_path: Path) -> None:
    root = _synthetic(tmp_path, 2000)
    today = dt.date(2026, 9, 30)
    repo = Repository.open(root)
    facts, calendar = repository_facts(repo, today)
    raw = dict(repo.policy.raw)
    period = Period.parse("2026")
    values, relations, sup = suppression_audit(facts, period, today, raw, calendar)
    headline = headline_cells(facts, period, today, raw, calendar)
    small = [c for c in sup.cells if c not in headline]
    assert audit(values, relations, sup.cells, protection_intervals(values, small, 5)).ok
    report = compute_from_facts(facts, period, today, raw, calendar)
    months = len(report.months)
    assert months == 9
    for metric, key in [("response_rate", "all"), ("resolution_rate", "all"), ("satisfaction_rate", "all"),
                        ("on_time_rate", "acknowledge"), ("on_time_rate", "decide"), ("on_time_rate", "resolve")]:
        m = report.metric(metric)
        i = [c.key for c in m.rows].index(key)
        own = sum(1 for s in m.trend if not s.rows[i].suppressed and s.rows[i].fallback is None)
        assert own >= 8, (metric, key, own)
        assert all(s.rows[i].value is not None or s.rows[i].suppressed for s in m.trend)


def test_stats_refuses_a_document_failing_the_audit(make_repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def failing(values, relations, threshold, **kw):  # type: ignore[no-untyped-def]
        sup = suppress(values, relations, threshold)
        return sup, AuditResult(checked=1, exposures=[Exposure("x", 1.0, 1.0, 0.0, 1.0)])

    monkeypatch.setattr(audit_module, "protect", failing)
    root = make_repo(with_cases=True)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["stats", "--repo", str(root), "--period", "2026", "--format", "json", "--out", str(out), "--today", "2026-11-30", "--no-cache"]
    )
    assert result.exit_code == 1, result.output
    assert "disclosure audit" in result.stderr
    assert not out.exists() or not any(out.iterdir())
    with pytest.raises(PublicationError):
        facts, calendar = repository_facts(Repository.open(root), TODAY)
        compute_from_facts(facts, Period.parse("2026"), TODAY, dict(Repository.open(root).policy.raw), calendar)
