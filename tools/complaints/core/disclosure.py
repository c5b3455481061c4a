"""Small-cell and complementary suppression over explicit linear relations.

A statistics run is a set of *cells* (non-negative integer counts, each with an id) and a set
of *relations* ``total = part + part + ...`` between them: a table's margins, a quarter as the
sum of its months, a year as the sum of its quarters, a rate's denominator as the cases that
met the condition plus those that did not. Some cells are *derived*: never shown, but anyone
can compute them from shown cells (the cases resolved late = resolved - resolved on time), so
they obey the same rule.

The rule (documented in the README):

1. *Primary suppression*: every cell with ``1 <= n < threshold`` is withheld. Zero is shown:
   it describes nobody.
2. *Complementary suppression*: no relation may have exactly one withheld member, since a
   lone unknown in ``total = sum(parts)`` is recovered by subtraction. The second cell
   withheld is the smallest non-zero part (then a zero part, then the total), so as little as
   possible is lost.
3. *Audit*: relations chain (months, quarters, margins, rates), so rule 2 alone can still
   leave a cell pinned down by the system as a whole. Each connected group of relations is
   solved exactly (rational Gauss-Jordan elimination over the withheld cells); any withheld
   cell the published cells determine gets a further complement, until none is determined.
4. *Release*: a complement the published cells determine after all protects nothing (a reader
   computes it anyway), so it is shown (`release_determined`). Showing a figure that follows
   from the cells the audit counts as known adds nothing to what it assumed a reader knows,
   and no withheld cell stays computable from the relations.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Mapping, Sequence

PRIMARY = "primary"
COMPLEMENTARY = "complementary"


@dataclass(frozen=True)
class Relation:
    """``total = sum(parts)`` between cells, by id."""

    total: str
    parts: tuple[str, ...]

    @property
    def members(self) -> tuple[str, ...]:
        return (self.total, *self.parts)


@dataclass
class Suppression:
    """The outcome: withheld cell ids and why each was withheld."""

    threshold: int
    reasons: dict[str, str] = field(default_factory=dict)

    def __contains__(self, cell: object) -> bool:
        return cell in self.reasons

    @property
    def cells(self) -> frozenset[str]:
        return frozenset(self.reasons)


def is_small(value: int, threshold: int) -> bool:
    """The primary rule: 1 <= value < threshold."""
    return 1 <= value < threshold


def _components(cells: Iterable[str], relations: Sequence[Relation]) -> list[tuple[set[str], list[Relation]]]:
    parent: dict[str, str] = {c: c for c in cells}

    def find(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for rel in relations:
        root = find(rel.total)
        for p in rel.parts:
            other = find(p)
            if other != root:
                parent[other] = root
    groups: dict[str, set[str]] = defaultdict(set)
    for c in parent:
        groups[find(c)].add(c)
    rels: dict[str, list[Relation]] = defaultdict(list)
    for rel in relations:
        rels[find(rel.total)].append(rel)
    return [(members, rels[root]) for root, members in groups.items() if rels[root]]


def determined(relations: Sequence[Relation], withheld: frozenset[str] | set[str]) -> set[str]:
    """The withheld cells whose value follows from the published cells and the relations.

    Each relation restricted to the withheld cells is a row of a linear system (the published
    cells move to the right-hand side). A withheld cell is determined exactly when its unit
    vector lies in the row space, i.e. when the reduced row echelon form has a row whose only
    non-zero entry is that cell's column.
    """
    rows: list[dict[str, Fraction]] = []
    for rel in relations:
        row: dict[str, Fraction] = defaultdict(Fraction)
        if rel.total in withheld:
            row[rel.total] += 1
        for p in rel.parts:
            if p in withheld:
                row[p] -= 1
        clean = {k: v for k, v in row.items() if v != 0}
        if clean:
            rows.append(clean)
    pivots: list[tuple[str, dict[str, Fraction]]] = []
    for row in rows:
        for col, prow in pivots:
            factor = row.get(col)
            if factor:
                for k, v in prow.items():
                    nv = row.get(k, Fraction(0)) - factor * v
                    if nv:
                        row[k] = nv
                    else:
                        row.pop(k, None)
        if not row:
            continue
        col = min(row)
        inv = 1 / row[col]
        row = {k: v * inv for k, v in row.items()}
        # keep the basis fully reduced: clear the new pivot column from the older rows
        for i, (pcol, prow) in enumerate(pivots):
            factor = prow.get(col)
            if factor:
                newrow = dict(prow)
                for k, v in row.items():
                    nv = newrow.get(k, Fraction(0)) - factor * v
                    if nv:
                        newrow[k] = nv
                    else:
                        newrow.pop(k, None)
                pivots[i] = (pcol, newrow)
        pivots.append((col, row))
    return {col for col, row in pivots if len(row) == 1}


def _complement(
    rel: Relation, lone: str, values: Mapping[str, int], withheld: Mapping[str, str], exempt: frozenset[str] = frozenset()
) -> str | None:
    candidates = [c for c in rel.members if c != lone and c not in withheld]
    if not candidates:
        return None

    def rank(c: str) -> tuple[int, int, int, str]:
        # a headline figure is withheld only when nothing else can protect the cell
        v = values[c]
        if c == rel.total:
            return (c in exempt, 2, v, c)
        return (c in exempt, 0 if v > 0 else 1, v, c)

    return min(candidates, key=rank)


def suppress(
    values: Mapping[str, int],
    relations: Sequence[Relation],
    threshold: int,
    *,
    forced: Iterable[str] = (),
    exempt: Iterable[str] = (),
    complements: Mapping[str, str] | None = None,
    solve: bool = True,
) -> Suppression:
    """Withhold every small cell and enough complements that none can be recovered.

    `values` holds every cell, shown or derived; `forced` cells are withheld whatever their
    value (counted as primary); `exempt` cells are not withheld for being small (headline
    figures over a large enough group) and are chosen as complements last; `complements`
    are cells already chosen as complements by an earlier round. `solve=False` stops after
    the pairwise rule and leaves the system-wide check to the caller (the LP audit does it)."""
    result = Suppression(threshold)
    withheld = result.reasons
    exempt_set = frozenset(exempt)
    for cell, value in values.items():
        if value < 0:
            raise ValueError(f"cell {cell} is negative")
        if is_small(value, threshold) and cell not in exempt_set:
            withheld[cell] = PRIMARY
    for cell in forced:
        withheld.setdefault(cell, PRIMARY)
    for cell, why in (complements or {}).items():
        withheld.setdefault(cell, why)
    for rel in relations:
        for c in rel.members:
            if c not in values:
                raise KeyError(f"relation names an unknown cell {c}")
    by_cell: dict[str, list[Relation]] = defaultdict(list)
    for rel in relations:
        for c in rel.members:
            by_cell[c].append(rel)
    components: list[tuple[set[str], list[Relation]]] | None = None
    while True:
        changed = True
        while changed:
            changed = False
            for rel in relations:
                lone = [c for c in rel.members if c in withheld]
                if len(lone) == 1:
                    extra = _complement(rel, lone[0], values, withheld, exempt_set)
                    if extra is not None:
                        withheld[extra] = COMPLEMENTARY
                        changed = True
        if not solve:
            return result
        if components is None:
            components = _components(values.keys(), relations)
        pinned: set[str] = set()
        for members, rels in components:
            w = {c for c in members if c in withheld}
            if w:
                pinned |= determined(rels, w)
        if not pinned:
            return result
        added = False
        for cell in sorted(pinned):
            options = [
                extra
                for rel in by_cell[cell]
                if (extra := _complement(rel, cell, values, withheld, exempt_set)) is not None
            ]
            if options:
                best = min(options, key=lambda c: (c in exempt_set, values[c] == 0, values[c], c))
                withheld[best] = COMPLEMENTARY
                added = True
                break  # re-run the cheap rule and the audit after every added complement
        if not added:
            # every neighbour is withheld yet the chain pins a cell down: widen to its group
            members = next(m for m, _ in components if min(pinned) in m)
            rest = sorted((c for c in members if c not in withheld), key=lambda c: (c in exempt_set, values[c] == 0, values[c], c))
            if not rest:  # pragma: no cover - an all-withheld group determines nothing
                return result
            withheld[rest[0]] = COMPLEMENTARY


def release_determined(sup: Suppression, values: Mapping[str, int], relations: Sequence[Relation]) -> Suppression:
    """`sup` without the complements the published cells determine.

    Such a complement hides nothing: a reader who has the cells the audit counts as known
    computes it from them. It is shown instead, which leaves the audit's reader no wiser (its
    value already followed), so the remaining withheld cells are exactly as protected as
    before, and none can be worked out from the relations. (A cell pinned only by
    non-negativity, e.g. two withheld parts of a published 0, is not linearly determined and
    stays withheld: more protection, not less.) A determined *primary* cell is not released:
    that is a failed pattern, which the audit reports (a small count pinned to its value)."""
    withheld = sup.cells
    if not withheld:
        return sup
    pinned: set[str] = set()
    for members, rels in _components(values.keys(), relations):
        w = {c for c in members if c in withheld}
        if w:
            pinned |= determined(rels, w)
    free = {c for c in pinned if sup.reasons[c] == COMPLEMENTARY}
    if not free:
        return sup
    kept = Suppression(sup.threshold)
    kept.reasons.update((c, why) for c, why in sup.reasons.items() if c not in free)
    return kept
