"""The disclosure audit: what a reader can infer about every withheld cell.

A reader of the published statistics knows every shown cell (exactly, or within its rounding
interval), every linear relation the project publishes or a definition implies (a table's
margins, a quarter as the sum of its months, a rate's numerator plus its complement, the same
count under two names), and that a count is never negative. For every withheld cell the audit
solves two linear programmes — minimise and maximise the cell subject to all of that — with
HiGHS, as τ-ARGUS (Statistics Netherlands) does for suppression patterns, and compares the
interval with the cell's *protection interval* [0, value]: a withheld small count is
protected only when the reader cannot rule out that it is zero — so no withheld count can be
shown to include anyone, let alone be pinned to its value. (A stronger upper requirement, up to
the threshold, cannot hold where an organisation-wide total below the threshold is published
on a large base, which the threat model allows.)

The programmes are continuous (the linear relaxation, τ-ARGUS's choice too): the integer
interval lies inside the continuous one, and both reach 0 together, because with integer data
a vertex reaching 0 is integral in these totals-and-parts systems.
"""
from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from complaints.core.disclosure import COMPLEMENTARY, PRIMARY, Relation, Suppression, release_determined, suppress

if TYPE_CHECKING:
    from highspy import Highs

_EPS = 1e-6


@dataclass(frozen=True)
class Exposure:
    """A withheld cell the reader can narrow down more than its protection interval allows."""

    cell: str
    lower: float
    upper: float
    required_lower: float
    required_upper: float


@dataclass
class AuditResult:
    checked: int = 0
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    exposures: list[Exposure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.exposures


def load_solver() -> ModuleType:
    """HiGHS's module, loaded on first use (numpy with it, about 0.1 s): by the audit, or
    earlier by a caller with time to spare. numpy's BLAS is held to one thread unless the
    environment says otherwise: the audit does no linear algebra through it, and its idle
    thread would make this process multi-threaded when it forks (engine/forked.py)."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import highspy

    return highspy


def _groups(relations: Sequence[Relation], unknown: set[str]) -> list[tuple[set[str], list[Relation]]]:
    """Relations that share an unknown cell, grouped; a relation without unknowns says nothing new."""
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        parent.setdefault(c, c)
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    useful = [r for r in relations if any(c in unknown for c in r.members)]
    for rel in useful:
        first = None
        for c in rel.members:
            if c in unknown:
                if first is None:
                    first = find(c)
                else:
                    other = find(c)
                    if other != first:
                        parent[other] = first
    cells: dict[str, set[str]] = defaultdict(set)
    rels: dict[str, list[Relation]] = defaultdict(list)
    for c in unknown:
        cells[find(c)].add(c)
    for rel in useful:
        root = find(next(c for c in rel.members if c in unknown))
        rels[root].append(rel)
    return [(cells[r], rels.get(r, [])) for r in cells]


def infer_intervals(
    relations: Sequence[Relation],
    known: Mapping[str, tuple[float, float]],
    unknown: Iterable[str],
    targets: Iterable[str] | None = None,
    *,
    upper: bool | Iterable[str] = True,
    screen_zero: bool = False,
) -> dict[str, tuple[float, float]]:
    """The interval a reader can infer for each target (default: every unknown cell).

    `known` maps a published cell to the interval it is known to lie in (a point for an exact
    figure, a band for a rounded one); unknown cells are only known to be non-negative. A
    cell named by a relation but in neither is treated as unknown."""
    highspy = load_solver()

    unknown_set = set(unknown)
    for rel in relations:
        for c in rel.members:
            if c not in known:
                unknown_set.add(c)
    wanted = unknown_set if targets is None else set(targets) & unknown_set
    # the upper bound is the second half of the work: skipped (left infinite) where not needed
    maximise = wanted if upper is True else set() if upper is False else set(upper)
    out: dict[str, tuple[float, float]] = {}
    inf: float = float(highspy.kHighsInf)
    for cells, rels in _groups(relations, unknown_set):
        goal = sorted(cells & wanted)
        if not goal:
            continue
        if not rels:
            for c in goal:
                out[c] = (0.0, inf)
            continue
        h, cols = _programme(rels, known, unknown_set, inf)
        if screen_zero and not (set(goal) & maximise):
            out.update(_shown_able_to_be_zero(h, cols, goal, inf))
            goal = [c for c in goal if c not in out]
        out.update(_bounds(h, cols, goal, maximise, inf))
    return out


def _programme(
    rels: Sequence[Relation], known: Mapping[str, tuple[float, float]], unknown: set[str], inf: float
) -> tuple[Highs, dict[str, int]]:
    """The group's linear programme: every cell of its relations is a column (unknowns >= 0,
    known ones within their interval), every relation a row total - parts = 0."""
    highspy = load_solver()

    cols: dict[str, int] = {}
    for rel in rels:
        for c in rel.members:
            cols.setdefault(c, len(cols))
    col_lower = [0.0] * len(cols)
    col_upper = [inf] * len(cols)
    for c, i in cols.items():
        if c in known and c not in unknown:
            col_lower[i], col_upper[i] = float(known[c][0]), float(known[c][1])
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVars(len(cols), col_lower, col_upper)
    for rel in rels:
        coef: dict[int, float] = defaultdict(float)
        coef[cols[rel.total]] += 1.0
        for p in rel.parts:
            coef[cols[p]] -= 1.0
        idx = [i for i, v in coef.items() if v != 0.0]
        if idx:
            h.addRow(0.0, 0.0, len(idx), idx, [coef[i] for i in idx])
    return h, cols


def _shown_able_to_be_zero(h: Highs, cols: Mapping[str, int], goal: Sequence[str], inf: float) -> dict[str, tuple[float, float]]:
    """Minimising the sum of the targets not yet shown able to be 0 sets some of them to 0 at
    once; each such solution proves those lower bounds, so few programmes settle a whole
    group. The rest are left to `_bounds`, one by one."""
    highspy = load_solver()

    out: dict[str, tuple[float, float]] = {}
    open_cells = list(goal)
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    while open_cells:
        for c in open_cells:
            h.changeColCost(cols[c], 1.0)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        solution = h.getSolution().col_value
        zero = [c for c in open_cells if solution[cols[c]] <= _EPS]
        for c in open_cells:
            h.changeColCost(cols[c], 0.0)
        if not zero:
            break
        for c in zero:
            out[c] = (0.0, inf)
        open_cells = [c for c in open_cells if c not in out]
    return out


def _bounds(h: Highs, cols: Mapping[str, int], goal: Sequence[str], maximise: set[str], inf: float) -> dict[str, tuple[float, float]]:
    """Each target minimised (and maximised where asked; otherwise its upper bound is left
    infinite) on its own."""
    highspy = load_solver()

    out: dict[str, tuple[float, float]] = {}
    previous: int | None = None
    for c in goal:
        i = cols[c]
        if previous is not None:
            h.changeColCost(previous, 0.0)
        h.changeColCost(i, 1.0)
        previous = i
        bounds = []
        senses = [highspy.ObjSense.kMinimize] + ([highspy.ObjSense.kMaximize] if c in maximise else [])
        for sense in senses:
            h.changeObjectiveSense(sense)
            h.run()
            status = h.getModelStatus()
            if status == highspy.HighsModelStatus.kOptimal:
                bounds.append(float(h.getInfo().objective_function_value))
            elif status == highspy.HighsModelStatus.kUnbounded:
                bounds.append(inf)
            else:
                raise ValueError(f"the published relations around {c} are inconsistent ({h.modelStatusToString(status)})")
        out[c] = (bounds[0], bounds[1] if len(bounds) > 1 else inf)
    return out


def audit(
    values: Mapping[str, int],
    relations: Sequence[Relation],
    withheld: Iterable[str],
    protect: Mapping[str, tuple[float, float]],
    *,
    published_intervals: Mapping[str, tuple[float, float]] | None = None,
) -> AuditResult:
    """Check that every protected withheld cell stays within reach of its protection interval.

    `values` holds the true value of every cell; cells not withheld are published exactly,
    unless `published_intervals` gives the band a rounded figure stands for. `protect` maps
    a withheld cell to (highest lower bound, lowest upper bound) the reader may reach: the
    inferred interval must reach down to the first and up to the second."""
    withheld_set = set(withheld)
    bands = published_intervals or {}
    known = {c: bands.get(c, (float(v), float(v))) for c, v in values.items() if c not in withheld_set}
    targets = [c for c in protect if c in withheld_set]
    # the true values are feasible, so an upper requirement at or below the value always holds
    need_upper = [c for c in targets if protect[c][1] > values[c]]
    screen = all(protect[c][0] <= 0 for c in targets)
    found = infer_intervals(relations, known, withheld_set, targets, upper=need_upper, screen_zero=screen)
    failing = [c for c in targets if found.get(c, (0.0, 0.0))[0] > protect[c][0] + _EPS and c not in need_upper]
    if failing:  # the whole interval of a failing cell, for the report
        found.update(infer_intervals(relations, known, withheld_set, failing))
    result = AuditResult(checked=len(targets), intervals=found)
    for c in sorted(targets):
        lo, hi = found.get(c, (0.0, float("inf")))
        need_lo, need_hi = protect[c]
        if lo > need_lo + _EPS or hi < need_hi - _EPS:
            result.exposures.append(Exposure(c, lo, hi, need_lo, need_hi))
    return result


def _nearest_published(cell: str, by_cell: Mapping[str, list[Relation]], withheld: Iterable[str]) -> list[str]:
    """The shown cells closest to `cell` through relations of withheld cells: its own
    relations' members first; when they are all withheld, the next ring out."""
    hidden = set(withheld)
    seen = {cell}
    ring = [cell]
    while ring:
        found: list[str] = []
        nxt: list[str] = []
        for c in ring:
            for rel in by_cell.get(c, ()):
                for m in rel.members:
                    if m in seen:
                        continue
                    seen.add(m)
                    (nxt if m in hidden else found).append(m)
        if found:
            return found
        ring = nxt
    return []


def protection_intervals(values: Mapping[str, int], cells: Iterable[str], threshold: int) -> dict[str, tuple[float, float]]:
    """What each small withheld count must stay compatible with: none (0) and its own value."""
    return {c: (0.0, float(values[c])) for c in cells if 1 <= values[c] < threshold}


def protect(
    values: Mapping[str, int],
    relations: Sequence[Relation],
    threshold: int,
    *,
    exempt: Iterable[str] = (),
    max_rounds: int = 200,
) -> tuple[Suppression, AuditResult]:
    """Small-cell and complementary suppression, then further complements until the audit
    passes: every small withheld count keeps the protection interval [0, value].

    Complements the published cells determine after all are then shown: they protect nothing
    (`disclosure.release_determined`), so no withheld cell can be worked out exactly.

    Returns the suppression and the final audit (failing only if no further complement could
    be found, which the caller must treat as a refusal to publish)."""
    exempt_set = frozenset(exempt)
    sup = suppress(values, relations, threshold, exempt=exempt_set, solve=False)
    by_cell: dict[str, list[Relation]] = defaultdict(list)
    for rel in relations:
        for c in rel.members:
            by_cell[c].append(rel)
    for _ in range(max_rounds):
        primary = [c for c, why in sup.reasons.items() if why == PRIMARY]
        result = audit(values, relations, sup.cells, protection_intervals(values, primary, threshold))
        if result.ok:
            return release_determined(sup, values, relations), result
        chosen: dict[str, str] = {c: why for c, why in sup.reasons.items() if why != PRIMARY}
        added = False
        for exp in result.exposures:
            options = _nearest_published(exp.cell, by_cell, sup.reasons.keys() | chosen.keys())
            if options:
                best = min(options, key=lambda c: (c in exempt_set, values[c] == 0, values[c], c))
                chosen[best] = COMPLEMENTARY
                added = True
        if not added:
            return sup, result
        sup = suppress(
            values,
            relations,
            threshold,
            exempt=exempt_set,
            forced=primary,
            complements=chosen,
            solve=False,
        )
    primary = [c for c, why in sup.reasons.items() if why == PRIMARY]
    return sup, audit(values, relations, sup.cells, protection_intervals(values, primary, threshold))
