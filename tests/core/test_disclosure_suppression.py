"""Small-cell and complementary suppression: hand-checked tables and property tests that no
published cell is small and no withheld cell can be recovered from the published ones."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.core.disclosure import COMPLEMENTARY, PRIMARY, Relation, determined, suppress

THRESHOLD = 5


# ---- an independent recoverability check ------------------------------------------------------
# Not the library's method (fully reduced row echelon form over the rationals, looking for
# single-entry rows): here a row echelon basis modulo a large prime, against which each unit
# vector e_i is reduced; e_i reduces to zero exactly when x_i follows from the relations.

PRIME = (1 << 61) - 1


def recoverable(relations: list[Relation], withheld: set[str]) -> set[str]:
    cols = {c: i for i, c in enumerate(sorted(withheld))}
    basis: dict[int, dict[int, int]] = {}  # pivot column -> row (monic at the pivot)

    def reduce(row: dict[int, int]) -> dict[int, int]:
        while row:
            lead = min(row)
            if lead not in basis:
                return row
            factor = row[lead]
            for k, v in basis[lead].items():
                nv = (row.get(k, 0) - factor * v) % PRIME
                if nv:
                    row[k] = nv
                else:
                    row.pop(k, None)
        return row

    for rel in relations:
        row: dict[int, int] = {}
        for cell, coef in [(rel.total, 1), *((p, -1) for p in rel.parts)]:
            if cell in cols:
                row[cols[cell]] = (row.get(cols[cell], 0) + coef) % PRIME
        row = reduce({k: v for k, v in row.items() if v})
        if row:
            lead = min(row)
            inv = pow(row[lead], PRIME - 2, PRIME)
            basis[lead] = {k: v * inv % PRIME for k, v in row.items()}
    return {c for c, i in cols.items() if not reduce({i: 1})}


def table_with_periods(grid: list[list[list[int]]]) -> tuple[dict[str, int], list[Relation]]:
    """grid[q][m][k]: quarters x months x keys. Cells: every (key|total) x (month|quarter|year),
    with row margins, month->quarter and quarter->year sums: the shape the statistics use."""
    values: dict[str, int] = {}
    rels: list[Relation] = []
    nq, nm, nk = len(grid), len(grid[0]), len(grid[0][0])
    keys = [f"k{i}" for i in range(nk)]
    for q in range(nq):
        for m in range(nm):
            for i, k in enumerate(keys):
                values[f"{k}@q{q}m{m}"] = grid[q][m][i]
    periods_m = [f"q{q}m{m}" for q in range(nq) for m in range(nm)]
    for k in [*keys, "total"]:
        for q in range(nq):
            for m in range(nm):
                if k == "total":
                    values[f"total@q{q}m{m}"] = sum(grid[q][m])
            values[f"{k}@q{q}"] = sum(values[f"{k}@q{q}m{m}"] for m in range(nm))
            rels.append(Relation(f"{k}@q{q}", tuple(f"{k}@q{q}m{m}" for m in range(nm))))
        values[f"{k}@y"] = sum(values[f"{k}@q{q}"] for q in range(nq))
        rels.append(Relation(f"{k}@y", tuple(f"{k}@q{q}" for q in range(nq))))
    for p in [*periods_m, *(f"q{q}" for q in range(nq)), "y"]:
        rels.append(Relation(f"total@{p}", tuple(f"{k}@{p}" for k in keys)))
    return values, rels


def check_protected(values: dict[str, int], rels: list[Relation], withheld: set[str]) -> None:
    for cell, v in values.items():
        if cell not in withheld:
            assert not (1 <= v < THRESHOLD), f"{cell}={v} published"
    for rel in rels:
        assert sum(1 for c in rel.members if c in withheld) != 1, f"{rel} has a lone withheld cell"
    assert recoverable(rels, withheld) == set()


# ---- hand-checked examples -----------------------------------------------------------------

def test_two_by_two_table_needs_four_cells() -> None:
    #            c1   c2 | row
    #   r1        3   10 | 13
    #   r2        8    9 | 17
    #   col      11   19 | 30
    # a=3 is small. Row r1 then needs b (10); column c1 needs c (8); row r2 then needs d (9).
    # Any three of them would leave the fourth recoverable from its margins.
    v = {"a": 3, "b": 10, "c": 8, "d": 9, "r1": 13, "r2": 17, "c1": 11, "c2": 19, "t": 30}
    rels = [
        Relation("r1", ("a", "b")), Relation("r2", ("c", "d")),
        Relation("c1", ("a", "c")), Relation("c2", ("b", "d")),
        Relation("t", ("r1", "r2")), Relation("t", ("c1", "c2")),
    ]
    result = suppress(v, rels, THRESHOLD)
    assert result.reasons == {"a": PRIMARY, "b": COMPLEMENTARY, "c": COMPLEMENTARY, "d": COMPLEMENTARY}
    check_protected(v, rels, set(result.cells))


def test_zero_is_published_and_complement_is_the_smallest_nonzero_part() -> None:
    # total 20 = 0 + 2 + 6 + 12: 2 is small; the complement is 6 (smallest non-zero), not 0.
    v = {"t": 20, "a": 0, "b": 2, "c": 6, "d": 12}
    result = suppress(v, [Relation("t", ("a", "b", "c", "d"))], THRESHOLD)
    assert result.reasons == {"b": PRIMARY, "c": COMPLEMENTARY}


def test_a_quarter_minus_two_months_cannot_recover_the_third() -> None:
    # months 7, 3, 9 -> quarter 19. Withholding the 3 alone would leave 19 - 7 - 9 = 3.
    v = {"m1": 7, "m2": 3, "m3": 9, "q": 19}
    result = suppress(v, [Relation("q", ("m1", "m2", "m3"))], THRESHOLD)
    assert result.reasons == {"m2": PRIMARY, "m1": COMPLEMENTARY}


def test_a_rate_is_withheld_when_its_complement_is_small() -> None:
    # 48 of 50 on time: the 2 late cases are small, so both 48 and 2 go (the rate with them).
    v = {"due": 50, "ontime": 48, "late": 2}
    result = suppress(v, [Relation("due", ("ontime", "late"))], THRESHOLD)
    assert result.cells == {"late", "ontime"}


def test_a_lone_part_takes_its_total_along() -> None:
    v = {"t": 3, "only": 3}
    assert suppress(v, [Relation("t", ("only",))], THRESHOLD).cells == {"t", "only"}


def test_the_audit_catches_what_pairwise_rules_miss() -> None:
    # Two relations share the two withheld cells: x + y = 10 and x - y ... expressed as
    # t1 = x + y, t2 = x + z, t3 = y + z: with x, y, z withheld and t1..t3 published, each
    # relation has two withheld cells, yet x = (t1 + t2 - t3) / 2.
    v = {"x": 2, "y": 3, "z": 4, "t1": 5, "t2": 6, "t3": 7}
    rels = [Relation("t1", ("x", "y")), Relation("t2", ("x", "z")), Relation("t3", ("y", "z"))]
    assert determined(rels, {"x", "y", "z"}) == {"x", "y", "z"}
    result = suppress(v, rels, THRESHOLD)
    check_protected(v, rels, set(result.cells))


# ---- properties ------------------------------------------------------------------------------

counts = st.one_of(st.integers(0, 6), st.integers(0, 40))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda nk: st.integers(1, 3).flatmap(
            lambda nm: st.lists(
                st.lists(st.lists(counts, min_size=nk, max_size=nk), min_size=nm, max_size=nm),
                min_size=1,
                max_size=4,
            )
        )
    )
)
def test_no_published_cell_is_small_and_no_withheld_cell_is_recoverable(grid: list[list[list[int]]]) -> None:
    values, rels = table_with_periods(grid)
    result = suppress(values, rels, THRESHOLD)
    check_protected(values, rels, set(result.cells))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=12))
def test_rates_over_months_and_quarters(pairs: list[tuple[int, int]]) -> None:
    # per month: due = yes + no; over time: quarter sums of yes, no and due.
    values: dict[str, int] = {}
    rels: list[Relation] = []
    for i, (yes, no) in enumerate(pairs):
        values |= {f"yes@{i}": yes, f"no@{i}": no, f"due@{i}": yes + no}
        rels.append(Relation(f"due@{i}", (f"yes@{i}", f"no@{i}")))
    quarters = [list(range(i, min(i + 3, len(pairs)))) for i in range(0, len(pairs), 3)]
    for q, months in enumerate(quarters):
        for name in ("yes", "no", "due"):
            values[f"{name}@Q{q}"] = sum(values[f"{name}@{m}"] for m in months)
            rels.append(Relation(f"{name}@Q{q}", tuple(f"{name}@{m}" for m in months)))
        rels.append(Relation(f"due@Q{q}", (f"yes@Q{q}", f"no@Q{q}")))
    result = suppress(values, rels, THRESHOLD)
    check_protected(values, rels, set(result.cells))


def test_the_independent_check_does_find_recoverable_cells() -> None:
    rels = [Relation("t1", ("x", "y")), Relation("t2", ("x", "z")), Relation("t3", ("y", "z"))]
    assert recoverable(rels, {"x", "y", "z"}) == {"x", "y", "z"}
    assert recoverable([Relation("q", ("m1", "m2", "m3"))], {"m2"}) == {"m2"}
    assert recoverable([Relation("q", ("m1", "m2", "m3"))], {"m2", "m3"}) == set()


def test_a_complement_the_published_cells_determine_is_released_and_a_primary_is_not() -> None:
    from complaints.core.disclosure import Suppression, release_determined

    # t = a + b with t and b published: a is t - b; then u = a + e pins e too
    rels = [Relation("t", ("a", "b")), Relation("u", ("a", "e")), Relation("q", ("a", "c", "d"))]
    values = {"t": 0, "a": 0, "b": 0, "u": 9, "e": 9, "q": 7, "c": 3, "d": 4}
    sup = Suppression(5, {"a": COMPLEMENTARY, "e": COMPLEMENTARY, "c": PRIMARY, "d": PRIMARY})
    assert recoverable(rels, set(sup.cells)) == {"a", "e"}
    released = release_determined(sup, values, rels)
    assert released.cells == {"c", "d"}
    assert recoverable(rels, set(released.cells)) == set()
    # nothing determined: nothing released
    assert release_determined(released, values, rels).reasons == released.reasons
    # a determined primary cell is a failed pattern, left for the audit to report
    pinned = Suppression(5, {"c": PRIMARY})
    assert release_determined(pinned, values, rels).cells == {"c"}
