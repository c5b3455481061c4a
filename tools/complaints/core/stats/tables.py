"""Counting: every metric's cells for every month, quarter and the year, protected, and the
report read out of them.

`compute_from_facts` counts every quantity for every month, quarter and the year that holds
the requested period, with the linear relations between them (margins, period sums, rate
numerator + complement = denominator), and lets `disclosure.suppress` withhold small cells
and their complements over that whole year at once — so the monthly, quarterly and yearly
documents of one year are cut from one suppression pattern and cannot be played off
against each other. Each metric's figures are then read where its definition
(metrics.py: `Count`, `Rate`, `Quantile`) says they are; render/stats.py writes the report.

Conventions shared by every formula: a case belongs to the month it was received (cohort);
its state is read as of the generation date (`today`); anonymous cases count like any other
except where a definition says so; a transferred case counts once.
"""
from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Collection, Iterable, Mapping, Sequence

from complaints.core.disclosure import Relation, Suppression, is_small
from complaints.core.stages import DONE_LATE, DONE_ON_TIME, OVERDUE
from complaints.core.stats import audit
from complaints.core.stats.facts import CaseFacts, WorkingDays
from complaints.core.stats.tally import UNLISTED, Tally, TallyKeys
from complaints.core.stats.metrics import METRICS, Count, Label, MetricDef, Rate
from complaints.core.stats.periods import Period, month_end, month_of, month_start
from complaints.core.policy import DEFAULT_MIN_BASE, METHOD, PublicationSettings
from complaints.errors import PublicationError


# ---- the report ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    key: str
    label: Label | None
    value: float | None
    suppressed: bool
    numerator: int | None = None
    denominator: int | None = None
    observations: int | None = None
    is_rate: bool = False
    is_quantile: bool = False
    # the month's own figure is withheld and the value shown is its quarter's
    fallback: str | None = None


@dataclass(frozen=True)
class Slice:
    month: str
    rows: tuple[Cell, ...]
    total: Cell | None


@dataclass(frozen=True)
class MetricResult:
    definition: MetricDef
    rows: tuple[Cell, ...]
    total: Cell | None
    trend: tuple[Slice, ...]
    # every begun quarter of the year and the year itself, cut from the same pattern
    # (`Slice.month` holds the period's id): what the open-data files per period carry
    periods: tuple[Slice, ...] = ()



@dataclass(frozen=True)
class HistoryFigure:
    metric: str
    key: str
    value: float | None
    suppressed: bool
    # against the same period a year before: per cent for counts, percentage points for rates
    change: float | None
    change_unit: str  # percent | points


@dataclass(frozen=True)
class HistoryPeriod:
    period: str
    kind: str  # year | quarter
    complete: bool  # False for the year or quarter still running on the generation date
    figures: tuple[HistoryFigure, ...]


@dataclass(frozen=True)
class StatsReport:
    organisation: Label
    period: Period
    months: tuple[str, ...]  # the period's months that had begun by the generation date
    generated: dt.date
    data_commit: str
    threshold: int
    metrics: tuple[MetricResult, ...]
    allow: tuple[str, ...] = ()
    min_base: int = DEFAULT_MIN_BASE
    method: str = METHOD
    audited_cells: int = 0
    next_update: dt.date | None = None
    history: tuple[HistoryPeriod, ...] = ()
    # Invalid case files left out by --skip-invalid; None when nothing was left out because
    # the run would have stopped instead (the default).
    invalid_left_out: int | None = None

    @property
    def suppressed_cells(self) -> int:
        n = 0
        for m in self.metrics:
            cells = [*m.rows, *([m.total] if m.total else [])]
            for s in m.trend:
                cells += [*s.rows, *([s.total] if s.total else [])]
            n += sum(1 for c in cells if c.suppressed or c.fallback)
        return n

    def metric(self, metric_id: str) -> MetricResult:
        for m in self.metrics:
            if m.definition.id == metric_id:
                return m
        raise KeyError(metric_id)


# ---- counting over the year lattice -------------------------------------------------------


class _Lattice:
    """Cells for every month, quarter and the year, with their linear relations."""

    def __init__(self, year: int, last_month: str) -> None:
        self.months = [f"{year}-{i:02d}" for i in range(1, 13)]
        self.quarters = {f"{year}-Q{q}": self.months[3 * q - 3 : 3 * q] for q in range(1, 5)}
        self.year = str(year)
        self.last_month = last_month
        self.values: dict[str, int] = {}
        self.relations: list[Relation] = []
        self.alias: dict[str, str] = {}
        self._seen_rel: set[Relation] = set()

    @property
    def periods(self) -> list[str]:
        return [*self.months, *self.quarters, self.year]

    def id(self, name: str, period: str) -> str:
        cid = f"{name}@{period}"
        return self.alias.get(cid, cid)

    def _relate(self, total: str, parts: Iterable[str]) -> None:
        rel = Relation(total, tuple(parts))
        if rel.parts and rel not in self._seen_rel and rel.parts != (rel.total,):
            self._seen_rel.add(rel)
            self.relations.append(rel)

    def flow(self, name: str, by_month: Mapping[str, int]) -> None:
        """A quantity that adds up over time: quarter = its months, year = its quarters."""
        if f"{name}@{self.year}" in self.values:
            return
        for m in self.months:
            self.values[f"{name}@{m}"] = by_month.get(m, 0)
        for q, ms in self.quarters.items():
            self.values[f"{name}@{q}"] = sum(by_month.get(m, 0) for m in ms)
            self._relate(f"{name}@{q}", (f"{name}@{m}" for m in ms))
        self.values[f"{name}@{self.year}"] = sum(by_month.get(m, 0) for m in self.months)
        self._relate(f"{name}@{self.year}", (f"{name}@{q}" for q in self.quarters))

    def stock(self, name: str, by_month: Mapping[str, int]) -> None:
        """A quantity at a point in time: a quarter or year is its last begun month."""
        for m in self.months:
            self.values[f"{name}@{m}"] = by_month.get(m, 0)
        for q, ms in self.quarters.items():
            begun = [m for m in ms if m <= self.last_month] or [ms[-1]]
            self.alias[f"{name}@{q}"] = f"{name}@{begun[-1]}"
        begun_year = [m for m in self.months if m <= self.last_month] or [self.months[-1]]
        self.alias[f"{name}@{self.year}"] = f"{name}@{begun_year[-1]}"

    def add(self, total: str, parts: Sequence[str]) -> None:
        """total = sum(parts) at every period."""
        for p in self.periods:
            self._relate(self.id(total, p), [self.id(x, p) for x in parts])


def _labels(raw: Mapping[str, Any], vocabulary: str) -> list[tuple[str, Label]]:
    out = []
    for key, entry in (raw.get(vocabulary) or {}).items():
        label = entry.get("name", entry) if isinstance(entry, Mapping) else {}
        out.append((str(key), Label(str(label.get("zh", key)), str(label.get("en", key)))))
    return out


def _stage_labels(raw: Mapping[str, Any]) -> list[tuple[str, Label]]:
    out = []
    for key, entry in ((raw.get("time_limits") or {}).get("stages") or {}).items():
        label = entry.get("label", {}) if isinstance(entry, Mapping) else {}
        out.append((str(key), Label(str(label.get("zh", key)), str(label.get("en", key)))))
    return out


_UNLISTED_LABEL = Label("政策未列的值", "Not in the policy")


def _with_unknown(known: list[tuple[str, Label]], unlisted: bool) -> list[tuple[str, Label]]:
    """The policy's keys, plus one 'unlisted' row when the data holds other values — those
    values themselves are never shown (a key outside the policy could be anything)."""
    keys = {k for k, _ in known}
    # A policy may name a key 'unlisted' itself: the values outside the policy then share
    # its row (one row, counted once), never a second row of the same name.
    if UNLISTED not in keys and unlisted:
        return known + [(UNLISTED, _UNLISTED_LABEL)]
    return known


def _quantile(days: Mapping[int, int], which: str) -> float:
    """The median, or the 90th percentile, of the working days ``days`` counts (value -> how
    many times), exactly as `statistics.median` and `statistics.quantiles(n=10,
    method="inclusive")` give it over the list of them, without making that list."""
    values = sorted((value, count) for value, count in days.items() if count > 0)
    n = sum(count for _, count in values)

    def at(i: int) -> int:  # the i-th smallest, from 0
        for value, count in values:
            if i < count:
                return value
            i -= count
        raise IndexError(i)

    if which == "median":
        if n % 2 == 1:
            return round(float(at(n // 2)), 1)
        return round(float((at(n // 2 - 1) + at(n // 2)) / 2), 1)
    if n == 1:
        return float(at(0))
    j, delta = divmod(9 * (n - 1), 10)
    return round(float((at(j) * (10 - delta) + at(j + 1) * delta) / 10), 1)



@dataclass
class _Counted:
    lat: _Lattice
    settings: PublicationSettings
    begun: tuple[str, ...]
    dims: dict[str, list[tuple[str, Label]]]
    durations: dict[tuple[str, str], Counter[int]]
    headline: frozenset[str] = frozenset()


def _dimensions(
    raw: Mapping[str, Any], unlisted: set[str], settings: PublicationSettings
) -> dict[str, list[tuple[str, Label]]]:
    """Every dimension's rows: the policy's keys (plus 'unlisted' when the year's cases hold
    others: ``unlisted`` names those dimensions, see tally.py)."""
    return {
        "channel": _with_unknown(_labels(raw, "channels"), "channel" in unlisted),
        "category": _with_unknown(_labels(raw, "categories"), "category" in unlisted),
        "priority": _with_unknown(_labels(raw, "priorities"), "priority" in unlisted),
        "department": _with_unknown(_labels(raw, "departments"), "department" in unlisted),
        "stage": _with_unknown(_stage_labels(raw), "stage" in unlisted),
        "reason": _with_unknown(_labels(raw, "not_accepted_reasons"), "reason" in unlisted),
        "outcome": _with_unknown(_labels(raw, "review_outcomes"), "outcome" in unlisted),
        "resolution": _with_unknown(_labels(raw, "outcomes"), "resolution" in unlisted),
        "satisfaction": _with_unknown(_labels(raw, "satisfaction"), "satisfaction" in unlisted),
        "measure": _with_unknown(_labels(raw, "measures"), "measure" in unlisted),
        "age": [
            (k, Label(f"{k} 个工作日", f"{k} working days")) for k in settings.bucket_keys()
        ],
        "suggestion": [
            ("received", Label("收到", "Received")),
            ("adopted", Label("采纳", "Adopted")),
            ("rewarded", Label("奖励", "Rewarded")),
        ],
    }


_EMPTY: Counter[str] = Counter()
_NO_DAYS: Counter[int] = Counter()


class _Year:
    """The counts of the cases of the year received by the generation date, by month (from
    the tally, tally.py); the `_count_*` functions lay them into the lattice, with their
    relations, in a fixed order (the suppression pattern depends on it)."""

    def __init__(self, lat: _Lattice, tally: Tally, keys: dict[str, list[str]], satisfied: tuple[str, ...]) -> None:
        self.lat = lat
        self.keys = keys
        self.satisfied = satisfied
        by_name: dict[str, Counter[str]] = defaultdict(Counter)
        for month in lat.months:
            for name, n in tally.counts.get(month, _EMPTY).items():
                by_name[name][month] = n
        self.tally = by_name
        # (stage, month) -> working days -> completed stages, for the quantiles
        self.durations = {key: days for key, days in tally.durations.items() if key[1] in lat.months}

    def count(self, name: str) -> Counter[str]:
        """The cell's count by month."""
        return self.tally.get(name, _EMPTY)

    def flow(self, name: str) -> None:
        self.lat.flow(name, self.count(name))

    def flow_keyed(self, name: str, dim: str) -> None:
        """One row per key of `dim`, and their total."""
        keys = self.keys[dim]
        total: Counter[str] = Counter()
        for k in keys:
            per = self.count(f"{name}|{k}")
            self.lat.flow(f"{name}|{k}", per)
            total.update(per)
        if UNLISTED not in keys:  # a value the rows leave out (an empty one) still counts in the total
            total.update(self.count(f"{name}|{UNLISTED}"))
        self.lat.flow(name, total)
        self.lat.add(name, [f"{name}|{k}" for k in keys])


def _count_volumes(y: _Year) -> None:
    """The case total is shared by channel, category and priority."""
    lat, keys = y.lat, y.keys
    y.flow_keyed("received", "channel")
    for dim in ("category", "priority"):
        for k in keys[dim]:
            y.flow(f"received.{dim}|{k}")
        lat.add("received", [f"received.{dim}|{k}" for k in keys[dim]])
    y.flow_keyed("departments", "department")


def _count_stages(y: _Year) -> dict[tuple[str, str], Counter[int]]:
    """A on time, B late, C overdue; done = A+B, late = B+C, due = A+late = done+C. Returns
    the working days of the completed stages by (stage, month), for the quantiles."""
    lat = y.lat
    for s_key in y.keys["stage"]:
        n = f"stage|{s_key}"
        a, b, c = y.count(f"{n}|ontime"), y.count(f"{n}|latedone"), y.count(f"{n}|overdue")
        lat.flow(f"{n}|ontime", a)
        lat.flow(f"{n}|latedone", b)
        lat.flow(f"{n}|overdue", c)
        lat.flow(f"{n}|done", a + b)
        lat.flow(f"{n}|late", b + c)
        lat.flow(f"{n}|due", a + b + c)
        lat.add(f"{n}|done", [f"{n}|ontime", f"{n}|latedone"])
        lat.add(f"{n}|late", [f"{n}|latedone", f"{n}|overdue"])
        lat.add(f"{n}|due", [f"{n}|ontime", f"{n}|late"])
        lat.add(f"{n}|due", [f"{n}|done", f"{n}|overdue"])
    return y.durations


def _count_satisfaction(y: _Year) -> None:
    lat, keys, satisfied = y.lat, y.keys, y.satisfied
    y.flow("sat|yes")
    y.flow("sat|no")
    y.flow("sat|all")
    lat.add("sat|all", ["sat|yes", "sat|no"])
    y.flow_keyed("satlevel", "satisfaction")
    lat.add("sat|all", [f"satlevel|{k}" for k in keys["satisfaction"]])
    yes_levels = [k for k in keys["satisfaction"] if k in satisfied]
    no_levels = [k for k in keys["satisfaction"] if k not in satisfied]
    if yes_levels:
        lat.add("sat|yes", [f"satlevel|{k}" for k in yes_levels])
    if no_levels:
        lat.add("sat|no", [f"satlevel|{k}" for k in no_levels])


def _count_decisions(y: _Year) -> None:
    """Acceptance, the reasons for not accepting, extensions and pauses."""
    lat, keys = y.lat, y.keys
    y.flow("accepted")
    y.flow_keyed("notaccepted", "reason")
    y.flow("decided")
    lat.add("decided", ["notaccepted", "accepted"])
    # the same count under two names: a reader can equate them, so the relation is published
    if "decide" in keys["stage"] and all(
        lat.values[f"decided@{p}"] == lat.values[f"stage|decide|done@{p}"] for p in lat.periods
    ):
        lat.add("decided", ["stage|decide|done"])
    for flag in ("extended", "paused"):
        y.flow(f"{flag}|yes")
        y.flow(f"{flag}|no")
        lat.add("accepted", [f"{flag}|yes", f"{flag}|no"])


def _count_reviews_and_outcomes(y: _Year) -> None:
    lat, keys = y.lat, y.keys
    # reviews over resolved cases: the resolve stage done, shared with the stage cells
    y.flow("review|yes")
    y.flow("review|no")
    # Shared only when the counts agree: a policy whose resolve stage does not start or stop
    # with the resolved event (or applies to some complaints only) counts them apart.
    if "resolve" in keys["stage"] and all(
        lat.values[f"review|yes@{p}"] + lat.values[f"review|no@{p}"] == lat.values[f"stage|resolve|done@{p}"] for p in lat.periods
    ):
        lat.add("stage|resolve|done", ["review|yes", "review|no"])
    # every answered review counts, a not-accepted complaint's as well as a resolved one's
    y.flow_keyed("reviewed", "outcome")

    # outcomes of resolved complaints: their total is the resolve stages done
    y.flow_keyed("outcome", "resolution")
    if "resolve" in keys["stage"] and all(
        lat.values[f"outcome@{p}"] == lat.values[f"stage|resolve|done@{p}"] for p in lat.periods
    ):
        lat.add("stage|resolve|done", ["outcome"])


def _count_departments(y: _Year) -> None:
    """Performance by department (complaint-department pairs): on-time resolution, response,
    satisfaction."""
    lat = y.lat
    for d_key in y.keys["department"]:
        for prefix in ("deptperf", "deptresp"):
            n = f"{prefix}|{d_key}"
            on, lt = y.count(f"{n}|ontime"), y.count(f"{n}|late")
            lat.flow(f"{n}|ontime", on)
            lat.flow(f"{n}|late", lt)
            lat.flow(f"{n}|due", on + lt)
            lat.add(f"{n}|due", [f"{n}|ontime", f"{n}|late"])
        n = f"deptsat|{d_key}"
        yes, no = y.count(f"{n}|yes"), y.count(f"{n}|no")
        lat.flow(f"{n}|yes", yes)
        lat.flow(f"{n}|no", no)
        lat.flow(f"{n}|all", yes + no)
        lat.add(f"{n}|all", [f"{n}|yes", f"{n}|no"])


def _count_measures_and_suggestions(y: _Year) -> None:
    lat = y.lat
    # measures, by kind and by the complaint's category: one total under two names
    y.flow_keyed("measures", "measure")
    y.flow_keyed("catmeasures", "category")
    lat.add("measures", ["catmeasures"])

    for name in ("sugg|received", "sugg|adopted", "sugg|notadopted", "sugg|rewarded", "sugg|unrewarded"):
        y.flow(name)
    lat.add("sugg|received", ["sugg|adopted", "sugg|notadopted"])
    lat.add("sugg|adopted", ["sugg|rewarded", "sugg|unrewarded"])


def _count_backlog(
    lat: _Lattice,
    received_days: Sequence[tuple[dt.date, Sequence[float], Sequence[int]]],
    age_keys: list[str],
    settings: PublicationSettings,
    today: dt.date,
    calendar: WorkingDays,
) -> None:
    """The open cases at the end of every begun month (or today), by age; a case received in
    an earlier year still open counts too. ``received_days``: each day cases were received,
    in order, with the days they finished (ordinals in order, math.inf for those still open)
    and how many had finished by each (Tally.backlog_days)."""
    buckets: dict[str, Counter[str]] = defaultdict(Counter)
    days = [(m, min(month_end(m), today)) for m in lat.months if m <= lat.last_month]
    if not days or not received_days:
        rows: list[tuple[dt.date, int, Sequence[float], Sequence[int]]] = []
    else:
        # The received days with a case open at one of the year's month ends: received by the
        # last, not all finished by the first (a month end then counts a day's open cases with
        # one search), each with its working days counted from the first of them, so that a
        # case's age at a month end is one subtraction (working days are counted in (start,
        # end], so the counts from one day add up), not a calendar look-up per day and month.
        first, last = min(d for _, d in days).toordinal(), max(d for _, d in days)
        kept = [(received, ends, by) for received, ends, by in received_days if received <= last and ends[-1] > first]
        origin = kept[0][0] if kept else today
        between = calendar.working_days_between
        rows = [(received, between(origin, received), ends, by) for received, ends, by in kept]
    bucket: dict[int, str] = {}
    for m, asof in days:
        if not rows or asof < rows[0][0]:
            continue  # no case received yet
        when = asof.toordinal()
        at_asof = between(origin, asof)
        month_counts: dict[str, int] = {}
        for received, offset, ends, finished_by in rows:
            if received > asof:
                break
            done = bisect.bisect_right(ends, when)  # those finished on or before the day
            n = finished_by[-1] - (finished_by[done - 1] if done else 0)
            if n:
                age = at_asof - offset
                if age < 0:
                    age = 0
                key = bucket.get(age)
                if key is None:
                    key = bucket[age] = settings.bucket_of(age)
                month_counts[key] = month_counts.get(key, 0) + n
        for key, n in month_counts.items():
            buckets[key][m] += n
    for k in age_keys:
        lat.stock(f"backlog|{k}", buckets.get(k, Counter()))
    lat.stock("backlog", sum(buckets.values(), Counter()))
    lat.add("backlog", [f"backlog|{k}" for k in age_keys])


def as_tally(facts: Sequence[CaseFacts] | Tally, policy_raw: Mapping[str, Any], today: dt.date) -> Tally:
    """The tally of ``facts``; a tally as it is, once it is known to be of the same policy
    keys and generation date (ValueError otherwise: it cannot be counted again)."""
    if isinstance(facts, Tally):
        if facts.keys != TallyKeys.of(policy_raw, today):
            raise ValueError("the tally was counted with another policy or generation date")
        facts.finish()
        return facts
    return Tally.of(facts, policy_raw, today)


def _count(
    facts: Sequence[CaseFacts] | Tally,
    period: Period,
    today: dt.date,
    policy_raw: Mapping[str, Any],
    calendar: WorkingDays,
) -> _Counted:
    """Every cell of the year that holds `period`, with the relations between them."""
    settings = PublicationSettings.from_policy(policy_raw)
    begun = tuple(m for m in period.months if month_start(m) <= today)
    if not begun:
        raise PublicationError(f"period {period.id} begins after the generation date {today.isoformat()}")
    tally = as_tally(facts, policy_raw, today)
    lat = _Lattice(period.year, min(month_of(today), f"{period.year}-12"))
    dims = _dimensions(policy_raw, tally.unlisted.get(period.year, set()), settings)
    keys = {d: [k for k, _ in v] for d, v in dims.items()}
    year = _Year(lat, tally, keys, settings.satisfied)
    _count_volumes(year)
    durations = _count_stages(year)
    _count_satisfaction(year)
    _count_decisions(year)
    _count_reviews_and_outcomes(year)
    _count_departments(year)
    _count_measures_and_suggestions(year)
    _count_backlog(lat, tally.backlog_days(), keys["age"], settings, today, calendar)
    return _Counted(lat, settings, begun, dims, durations, _headline(lat, keys, settings))


def _headline(lat: _Lattice, keys: Mapping[str, list[str]], settings: PublicationSettings) -> frozenset[str]:
    """Organisation-wide figures about the mechanism's own performance whose base reaches
    `min_base`: the threat model does not ask for them to be withheld when small (a count of
    late stages among many says nothing about one complainant), so the small-count rule
    leaves them out; they can still be chosen as complements, last."""
    groups: list[tuple[str, list[str]]] = []
    for s_key in keys["stage"]:
        n = f"stage|{s_key}"
        groups.append((f"{n}|due", [f"{n}|{x}" for x in ("ontime", "latedone", "overdue", "done", "late", "due")]))
    groups.append(("sat|all", ["sat|yes", "sat|no", "sat|all", "satlevel", *(f"satlevel|{k}" for k in keys["satisfaction"])]))
    groups.append(("decided", ["decided", "accepted", "notaccepted"]))
    groups.append(("accepted", ["accepted", "extended|yes", "extended|no", "paused|yes", "paused|no"]))
    if "resolve" in keys["stage"]:
        done = "stage|resolve|done"
        groups.append((done, [done, "review|yes", "review|no", "outcome", *(f"outcome|{k}" for k in keys["resolution"])]))
    out: set[str] = set()
    for base, members in groups:
        for p in lat.periods:
            if lat.values.get(lat.id(base, p), 0) >= settings.min_base:
                out.update(lat.id(m, p) for m in members if lat.id(m, p) in lat.values)
    return frozenset(out)


def _protect(counted: _Counted) -> tuple[Suppression, int]:
    """The suppression pattern for the year, audited; refuses to publish a failing one."""
    lat = counted.lat
    sup, result = audit.protect(lat.values, lat.relations, counted.settings.threshold, exempt=counted.headline)
    if not result.ok:
        raise PublicationError(
            f"the disclosure audit found {len(result.exposures)} withheld cell(s) a reader can narrow down; nothing written"
        )
    return sup, result.checked


# ---- reading the cells out ----------------------------------------------------------------

_TOTAL = Label("合计", "Total")


class _Cells:
    """Reads a metric's figures out of the protected lattice, where its definition says."""

    def __init__(self, counted: _Counted, sup: Suppression) -> None:
        self.lat = counted.lat
        self.sup = sup
        self.dims = counted.dims
        self.durations = counted.durations
        self.stages = {k for k, _ in counted.dims["stage"]}
        self.threshold = counted.settings.threshold

    def count(self, key: str, label: Label | None, name: str, p: str) -> Cell:
        cid = self.lat.id(name, p)
        hidden = cid in self.sup
        return Cell(key, label, None if hidden else self.lat.values[cid], hidden)

    def rate(self, key: str, label: Label | None, num: str, comp: str, den: str, p: str) -> Cell:
        ids = [self.lat.id(x, p) for x in (num, comp, den)]
        hidden = any(i in self.sup for i in ids)
        n, d = self.lat.values[ids[0]], self.lat.values[ids[2]]
        if hidden:
            return Cell(key, label, None, True, None, None, is_rate=True)
        return Cell(key, label, round(100.0 * n / d, 1) if d else None, False, n, d, is_rate=True)

    def quantile(self, key: str, label: Label | None, observations: str, which: str, p: str) -> Cell:
        """The working days of the row's stage (`key`) completed in the period's months."""
        lat = self.lat
        cid = lat.id(observations, p)
        # A quantile describes the cases it is taken over: withheld when they are few, even
        # where their number is a headline count shown in full (the median of three stages
        # would be one case's own working days).
        if cid in self.sup or is_small(lat.values[cid], self.threshold):
            return Cell(key, label, None, True, observations=None, is_quantile=True)
        data: Counter[int] = Counter()
        for m in [p] if p in lat.months else lat.quarters.get(p, lat.months):
            data.update(self.durations.get((key, m), _NO_DAYS))
        return Cell(key, label, _quantile(data, which) if data else None, False, observations=lat.values[cid], is_quantile=True)

    def published(self, mdef: MetricDef) -> bool:
        """False for a metric left out because the policy lacks the stage it needs."""
        spec = mdef.cells
        return not (isinstance(spec, Rate) and spec.without_stage == "omit" and spec.needs_stage not in self.stages)

    def rows(self, mdef: MetricDef, p: str) -> tuple[list[Cell], Cell | None]:
        """The metric's rows and total row (None when it has none) for period `p`."""
        items: list[tuple[str, Label | None]] = [*self.dims[mdef.dimension]] if mdef.dimension else [("all", None)]
        spec = mdef.cells
        if isinstance(spec, Count):
            rows = [self.count(k, lab, spec.row.format(key=k), p) for k, lab in items]
            return rows, None if spec.total is None else self.count("total", _TOTAL, spec.total, p)
        if isinstance(spec, Rate):
            if spec.needs_stage is not None and spec.needs_stage not in self.stages:
                return [Cell(k, lab, None, False, is_rate=True) for k, lab in items], None
            return [
                self.rate(k, lab, spec.numerator.format(key=k), spec.complement.format(key=k), spec.denominator.format(key=k), p)
                for k, lab in items
            ], None
        return [self.quantile(k, lab, spec.observations.format(key=k), spec.which, p) for k, lab in items], None


def _metric_result(cells: _Cells, mdef: MetricDef, period: Period, begun: tuple[str, ...]) -> MetricResult:
    """The metric for the period, its begun months (a withheld month's rate falls back to its
    quarter's) and every begun quarter and the year."""
    lat = cells.lat
    rows, total = cells.rows(mdef, period.id)
    trend = []
    for m in begun:
        mrows, mtotal = cells.rows(mdef, m)
        if mdef.kind == "rate":
            quarter = next(q for q, ms in lat.quarters.items() if m in ms)
            qrows, _ = cells.rows(mdef, quarter)
            mrows = [
                Cell(c.key, c.label, q.value, False, q.numerator, q.denominator, is_rate=True, fallback=quarter)
                if c.suppressed and not q.suppressed
                else c
                for c, q in zip(mrows, qrows)
            ]
        trend.append(Slice(m, tuple(mrows), mtotal))
    others = []
    for p in [*(q for q, ms in lat.quarters.items() if ms[0] in begun), lat.year]:
        prows, ptotal = cells.rows(mdef, p)
        others.append(Slice(p, tuple(prows), ptotal))
    return MetricResult(mdef, tuple(rows), total, tuple(trend), tuple(others))


def compute_from_facts(
    facts: Sequence[CaseFacts] | Tally,
    period: Period,
    today: dt.date,
    policy_raw: Mapping[str, Any],
    calendar: WorkingDays,
    *,
    data_commit: str = "unknown",
    only: Collection[str] | None = None,
) -> StatsReport:
    """Every metric for `period` and its months, with disclosure control applied; ``only``:
    just the metrics of these ids (what the history reads of a past year's report). The
    cells are counted and protected as for the whole report either way: the figures are
    the same."""
    counted = _count(facts, period, today, policy_raw, calendar)
    settings = counted.settings
    sup, audited = _protect(counted)
    cells = _Cells(counted, sup)
    results = [
        _metric_result(cells, mdef, period, counted.begun)
        for mdef in METRICS.values()
        if (only is None or mdef.id in only) and cells.published(mdef)
    ]
    org = policy_raw.get("organisation", {}).get("name", {}) if isinstance(policy_raw.get("organisation"), Mapping) else {}
    return StatsReport(
        organisation=Label(str(org.get("zh", "")), str(org.get("en", ""))),
        period=period,
        months=counted.begun,
        generated=today,
        data_commit=data_commit,
        threshold=settings.threshold,
        metrics=tuple(results),
        allow=settings.allow,
        min_base=settings.min_base,
        method=settings.method,
        audited_cells=audited,
        next_update=settings.next_update(today),
    )


def suppression_audit(
    facts: Sequence[CaseFacts] | Tally, period: Period, today: dt.date, policy_raw: Mapping[str, Any], calendar: WorkingDays
) -> tuple[dict[str, int], list[Relation], Suppression]:
    """The raw cells, relations and suppression behind a report (for tests and audits; never
    published: the values are unsuppressed). The relations are every one a reader can use."""
    counted = _count(facts, period, today, policy_raw, calendar)
    lat = counted.lat
    sup, _ = _protect(counted)
    return dict(lat.values), list(lat.relations), sup


def headline_cells(
    facts: Sequence[CaseFacts] | Tally, period: Period, today: dt.date, policy_raw: Mapping[str, Any], calendar: WorkingDays
) -> frozenset[str]:
    """The cells the small-count rule leaves out (organisation-wide, over at least the minimum base)."""
    return _count(facts, period, today, policy_raw, calendar).headline

