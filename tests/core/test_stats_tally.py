"""The tally the statistics tables are read from (core/stats/tally.py) is a sum: tallies of
the parts of an archive, merged in any order or sent through pickle (as the scan's workers
send them), give the tally of the whole and the same report; its quantiles and backlog,
computed from counts, equal the plain computations over every case."""
from __future__ import annotations

import datetime as dt
import pickle
import random
import statistics
from collections import Counter
from typing import Any

import pytest

from complaints.core.policy import PublicationSettings
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, DUE_SOON, OPEN, OVERDUE
from complaints.core.stats.facts import CaseFacts
from complaints.core.stats.history import HISTORY_METRICS, compute_history, with_history
from complaints.core.stats.periods import Period, month_end
from complaints.core.stats.tables import _Lattice, _count_backlog, _quantile, compute_from_facts
from complaints.core.stats.tally import Tally, TallyKeys

from stats_facts import FACTS, Weekdays, fact, policy

TODAY = dt.date(2026, 3, 31)

# Keys of the template's policy, with values outside it mixed in (each dimension's
# 'unlisted' row), and an empty answer (counted in the total, no row of its own).
CHANNELS = ["mailbox", "hotline", "online_form", "letter", "in_person", "fax"]
CATEGORIES = ["delay", "attitude", "shirking", "other", "rumour"]
DEPARTMENTS = ["permits", "registry", "it", "finance", "hr", "canteen"]
STATES = [DONE_ON_TIME, DONE_LATE, OVERDUE, OPEN, DUE_SOON]
STAGES = ["acknowledge", "decide", "resolve", "follow_up", "review", "appeal"]


def random_facts(seed: int, n: int) -> list[CaseFacts]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        received = dt.date(2024, 11, 1) + dt.timedelta(days=rng.randrange(0, 540))  # some after TODAY
        finished = None if rng.random() < 0.3 else received + dt.timedelta(days=rng.randrange(0, 80))
        accepted = rng.random() < 0.8
        resolved = accepted and rng.random() < 0.7
        stages = [
            (s, rng.choice(STATES), rng.choice([None, rng.randrange(0, 30)]))
            for s in rng.sample(STAGES, rng.randrange(0, 5))
        ]
        out.append(fact(
            received.isoformat(), channel=rng.choice(CHANNELS), category=rng.choice(CATEGORIES),
            priority=rng.choice(["normal", "urgent", "whenever"]),
            departments=tuple(rng.sample(DEPARTMENTS, rng.randrange(0, 3))), anonymous=rng.random() < 0.3,
            accepted=accepted, not_accepted_reason=None if accepted else rng.choice(["out_of_scope", "duplicate", "", "odd"]),
            finished=finished, resolved=resolved,
            measures=tuple(rng.sample(["correction", "talk", "apology", "bonus"], rng.randrange(0, 3))),
            extended=rng.random() < 0.2, paused=rng.random() < 0.2,
            satisfaction=rng.choice([None, "satisfied", "dissatisfied", "", "elated"]),
            review_requested=rng.random() < 0.2, review_outcome=rng.choice([None, "upheld", "dismissed", "odd"]),
            suggestions=tuple((rng.random() < 0.5, rng.random() < 0.5) for _ in range(rng.randrange(0, 3))),
            outcome=rng.choice([None, "substantiated", "unfounded", "odd"]) if resolved else None,
            stages=stages,
        ))  # fmt: skip
    return out


@pytest.mark.parametrize("seed", range(6))
def test_tallies_of_the_parts_merged_in_any_order_are_the_tally_of_the_whole(seed: int) -> None:
    raw = policy(threshold=3)
    facts = random_facts(seed, 400)
    whole = Tally.of(facts, raw, TODAY)
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(facts)), 7))
    parts = [facts[a:b] for a, b in zip([0, *cuts], [*cuts, len(facts)])]
    rng.shuffle(parts)
    merged = Tally(TallyKeys.of(raw, TODAY))
    for part in parts:
        piece = merged.empty()
        piece.add_all(part)
        merged.merge(pickle.loads(pickle.dumps(piece)))  # as a worker's summary crosses back
    assert merged.state() == whole.state()
    # something of every kind was counted, so the comparison above is not of empty tallies
    counts, durations, unlisted, spans = whole.state()
    assert counts and durations and unlisted and sum(spans.values()) == len(facts)
    for period in ("2026", "2025", "2026-Q1", "2026-02"):
        chosen = Period.parse(period)
        assert compute_from_facts(merged, chosen, TODAY, raw, Weekdays()) == compute_from_facts(facts, chosen, TODAY, raw, Weekdays())
    report = compute_from_facts(facts, Period.parse("2026"), TODAY, raw, Weekdays())
    assert with_history(report, merged, TODAY, raw, Weekdays()) == with_history(report, facts, TODAY, raw, Weekdays())


def test_a_case_received_after_the_generation_date_is_not_counted_but_its_span_is_kept() -> None:
    raw = policy()
    later = fact("2026-04-02")
    tally = Tally.of([*FACTS, later], raw, TODAY)
    assert tally.state()[:3] == Tally.of(FACTS, raw, TODAY).state()[:3]
    assert tally.spans[(later.received, None)] == 1
    assert tally.years == [2026]


def test_values_outside_the_policy_are_noted_by_year_and_dimension() -> None:
    raw = policy()
    tally = Tally.of([
        fact("2025-05-01", channel="fax"),
        fact("2026-01-05", departments=("canteen",), satisfaction=""),  # an empty answer makes no row
        fact("2026-01-06", measures=("bonus",), resolved=True, outcome="odd"),
    ], raw, TODAY)  # fmt: skip
    assert tally.unlisted == {2025: {"channel"}, 2026: {"department", "measure", "resolution"}}


def test_a_tally_of_another_day_or_policy_is_refused() -> None:
    raw = policy()
    tally = Tally.of(FACTS, raw, TODAY)
    with pytest.raises(ValueError):
        compute_from_facts(tally, Period.parse("2026"), TODAY + dt.timedelta(days=1), raw, Weekdays())
    other = policy()
    other["channels"] = {**other["channels"], "carrier_pigeon": {"zh": "信鸽", "en": "Pigeon"}}
    with pytest.raises(ValueError):
        compute_from_facts(tally, Period.parse("2026"), TODAY, other, Weekdays())


@pytest.mark.parametrize("seed", range(40))
def test_quantiles_from_counts_equal_the_statistics_module(seed: int) -> None:
    rng = random.Random(seed)
    values = [rng.choice([rng.randrange(0, 5), rng.randrange(0, 60)]) for _ in range(rng.randrange(1, 60))]
    days = Counter(values)
    assert _quantile(days, "median") == round(float(statistics.median(values)), 1)
    expected = float(values[0]) if len(values) == 1 else round(float(statistics.quantiles(values, n=10, method="inclusive")[-1]), 1)
    assert _quantile(days, "p90") == expected


def naive_backlog(spans: Counter[Any], year: int, today: dt.date, settings: PublicationSettings) -> dict[str, Counter[str]]:
    """The open cases at every begun month end, by age bucket, case by case."""
    calendar = Weekdays()
    out: dict[str, Counter[str]] = {}
    for month in [f"{year}-{i:02d}" for i in range(1, 13)]:
        if dt.date.fromisoformat(month + "-01") > today:
            continue
        asof = min(month_end(month), today)
        for (received, finished), n in spans.items():
            for _ in range(n):
                if received <= asof and (finished is None or finished > asof):
                    key = settings.bucket_of(max(calendar.working_days_between(received, asof), 0))
                    out.setdefault(key, Counter())[month] += 1
    return out


@pytest.mark.parametrize("seed", range(5))
def test_the_backlog_from_spans_equals_counting_case_by_case(seed: int) -> None:
    raw = policy()
    settings = PublicationSettings.from_policy(raw)
    tally = Tally.of(random_facts(seed, 300), raw, TODAY)
    for year in (2025, 2026):
        lat = _Lattice(year, min(TODAY.strftime("%Y-%m"), f"{year}-12"))
        _count_backlog(lat, tally.backlog_days(), settings.bucket_keys(), settings, TODAY, Weekdays())
        expected = naive_backlog(tally.spans, year, TODAY, settings)
        assert any(expected.values())
        for key in settings.bucket_keys():
            for month in lat.months:
                if month <= lat.last_month:
                    assert lat.values[lat.id(f"backlog|{key}", month)] == expected.get(key, Counter())[month], (key, month)


@pytest.mark.parametrize("seed", range(3))
def test_the_backlog_days_follow_every_change_of_the_counts(seed: int) -> None:
    # Worked out once and kept (every year's report reads them): counting more cases, merging
    # another tally or receiving one through pickle must not leave the old ones in use.
    raw = policy()
    facts = random_facts(seed, 200)
    whole = Tally.of(facts, raw, TODAY)
    tally = Tally.of(facts[:80], raw, TODAY)
    before = tally.backlog_days()
    assert before != whole.backlog_days()
    tally.add_all(facts[80:120])
    tally.finish()
    assert tally.backlog_days() == Tally.of(facts[:120], raw, TODAY).backlog_days()
    rest = Tally.of(facts[120:], raw, TODAY)
    rest.backlog_days()
    tally.merge(rest)
    assert tally.backlog_days() == whole.backlog_days()
    copied = pickle.loads(pickle.dumps(tally))
    assert copied.backlog_days() == whole.backlog_days()
    days = [row[0] for row in whole.backlog_days()]
    assert days == sorted(set(days)) == sorted({received for received, _ in whole.spans})


def test_the_spans_are_kept_exactly_at_the_calendar_s_edges_and_the_backlog_days_count_them() -> None:
    # Every (received, finished) pair a date can make, the first and last dates included, and
    # a finishing day before the received one (the tally counts what it is given): the spans
    # read back are the pairs counted, and the backlog days give, for each received day, its
    # distinct finishing days in order (the open ones last) with how many had finished by each.
    import math

    rng = random.Random(5)
    edges = [dt.date.min, dt.date(1, 1, 2), dt.date(2026, 3, 31), dt.date(9999, 12, 30), dt.date.max]
    days = edges + [dt.date.fromordinal(rng.randrange(1, dt.date.max.toordinal() + 1)) for _ in range(30)]
    pairs = [(r, f) for r in days[:12] for f in [None, *days[:12]]]
    pairs += [(rng.choice(days[:12]), rng.choice([None, *days])) for _ in range(600)]
    raw = policy()
    tally = Tally(TallyKeys.of(raw, dt.date.max))
    facts = [fact(received.isoformat(), finished=finished) for received, finished in pairs]
    tally.add_all(facts[:300])
    copied = pickle.loads(pickle.dumps(tally))
    rest = Tally(TallyKeys.of(raw, dt.date.max))
    rest.add_all(facts[300:])
    copied.merge(rest)
    assert copied.spans == Counter(pairs)
    rows = copied.backlog_days()
    assert [row[0] for row in rows] == sorted({r for r, _ in pairs})
    for received, ends, by in rows:
        finishing = sorted(f.toordinal() for r, f in pairs if r == received and f is not None)
        still_open = sum(1 for r, f in pairs if r == received and f is None)
        expected = sorted(set(finishing)) + ([math.inf] if still_open else [])
        assert list(ends) == expected
        assert list(by) == [sum(1 for f in finishing if f <= end) for end in sorted(set(finishing))] + (
            [len(finishing) + still_open] if still_open else []
        )


def test_what_is_listed_and_not_yet_counted_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # A parent folds every record the cache answers into one tally, a few hundred at a time:
    # the cells listed for counting must be counted as they build up, not held for a million
    # cases, and counting them part way must not change a count.
    from complaints.core.stats import tally as tally_module

    raw = policy()
    facts = random_facts(9, 400)
    whole = Tally.of(facts, raw, TODAY)
    monkeypatch.setattr(tally_module, "PENDING_CASES", 25)
    folded = Tally(TallyKeys.of(raw, TODAY))
    most = 0
    for start in range(0, len(facts), 10):
        folded.add_all(facts[start : start + 10])
        most = max(most, sum(len(names) for names in folded._names.values()))
    assert 0 < most < 40 * 25  # a case lists a few dozen cells at most
    folded.finish()
    assert folded.state() == whole.state()
    assert Tally.of(facts, raw, TODAY).state() == whole.state()


@pytest.mark.parametrize("seed", range(3))
def test_the_history_from_past_years_computed_for_its_metrics_alone_equals_it_from_whole_reports(seed: int) -> None:
    raw = policy(threshold=3)
    facts = random_facts(seed, 400)
    tally = Tally.of(facts, raw, TODAY)
    whole = {y: compute_from_facts(tally, Period.parse(str(y)), TODAY, raw, Weekdays()) for y in (2024, 2025, 2026)}
    lean = compute_history(tally, 2026, TODAY, raw, Weekdays())
    assert lean == compute_history(tally, 2026, TODAY, raw, Weekdays(), known=whole)
    # figures of each past year were read, some of them withheld: the comparison is not of empty tables
    rows = [row for period in lean for row in period.figures]
    assert {period.period for period in lean} >= {"2024", "2025", "2025-Q4"}
    assert any(row.value is not None for row in rows) and any(row.suppressed for row in rows)
    # a past year's lean report holds the history's metrics alone, and the same figures as the whole one
    past = compute_from_facts(tally, Period.parse("2025"), TODAY, raw, Weekdays(), only=HISTORY_METRICS)
    assert {m.definition.id for m in past.metrics} == HISTORY_METRICS
    assert all(m == whole[2025].metric(m.definition.id) for m in past.metrics)
