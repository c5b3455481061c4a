"""core.receipt.ReceiptTable: the receipt lookup rows, 36 bytes each, as a mapping from hash hex
to LookupEntry. It must answer exactly as the dict it replaces would, whatever order the rows
come in, and keep the row added last for a hash added twice."""
from __future__ import annotations

import json
import pickle
import random

import pytest

from complaints.adapters.datacodec import decode, encode
from complaints.core.receipt import LookupEntry, ReceiptTable, shard_of

ENTRIES = [
    LookupEntry("received", "2026-03", 600000),
    LookupEntry("in_progress", "2026-04", 600000, overdue=True),
    LookupEntry("closed", None, 310000),
    LookupEntry("accepted", "2027-01", 600000, provisional=True),
]


def _digest(rng: random.Random) -> str:
    return rng.randbytes(32).hex()


def _rows(count: int, seed: int = 7) -> list[tuple[str, LookupEntry]]:
    rng = random.Random(seed)
    return [(_digest(rng), rng.choice(ENTRIES)) for _ in range(count)]


def test_a_table_reads_as_the_dict_of_its_rows() -> None:
    rows = _rows(3000)
    expected = dict(rows)
    table = ReceiptTable.of(rows)
    assert len(table) == len(expected)
    assert table == expected and expected == dict(table.items())
    assert list(table) == sorted(expected)  # hash order: the text's and the shards'
    assert [digest for digest, _ in table.rows()] == sorted(expected)
    assert list(table.values()) == [expected[digest] for digest in sorted(expected)]
    for digest, entry in rows[:200]:
        assert table[digest] == entry and digest in table
    assert table.get("0" * 64) is None and "0" * 64 not in table
    assert table.get("nonsense") is None and table.get(5) is None  # type: ignore[call-overload]
    assert sorted(table.entries(), key=ENTRIES.index) == ENTRIES
    assert table.seal() == set()


def test_upper_case_hex_is_the_same_hash_in_lower_case() -> None:
    digest = _rows(1)[0][0]
    table = ReceiptTable.of([(digest.upper(), ENTRIES[0])])
    assert list(table) == [digest] and table[digest.upper()] == ENTRIES[0]


@pytest.mark.parametrize("bad", ["", "ab", "g" * 64, "a" * 63, "a" * 66, "é" * 64, "ab" * 31 + "  ", " " * 64, "ab " * 21 + " "])
def test_a_hash_that_is_not_64_hex_digits_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        ReceiptTable().add(bad, ENTRIES[0])
    table = ReceiptTable.of(_rows(20))
    assert table.get(bad) is None and bad not in table
    with pytest.raises(KeyError):
        table[bad]


def test_a_hash_added_twice_keeps_the_row_added_last_and_is_named() -> None:
    rows = _rows(500)
    twice, other = rows[10][0], rows[20][0]
    later = [(twice, ENTRIES[2] if rows[10][1] != ENTRIES[2] else ENTRIES[1]), (other, rows[20][1]), (twice, ENTRIES[3])]
    table = ReceiptTable.of(rows + later)
    assert table.seal() == {twice, other}
    assert table[twice] == ENTRIES[3] and table[other] == rows[20][1]
    assert len(table) == 500
    table.replace(twice, ENTRIES[0])
    assert table[twice] == ENTRIES[0] and len(table) == 500
    # An entry no row holds any more (replaced, or a dropped duplicate's) is not listed.
    lone = ReceiptTable.of([(twice, ENTRIES[2]), (other, ENTRIES[1]), (twice, ENTRIES[3])])
    lone.replace(twice, ENTRIES[1])
    assert lone.entries() == [ENTRIES[1]]
    packed = list(lone.packed())
    assert [fields[0] for fields in dict(packed)["entries"]] == [ENTRIES[1].state]  # stored without them
    assert ReceiptTable.unpacked(packed) == lone
    with pytest.raises(KeyError):
        table.replace("0" * 64, ENTRIES[0])


def test_merged_tables_as_the_scan_merges_its_workers_batches() -> None:
    rows = _rows(4000, seed=3)
    rng = random.Random(5)
    parts = [ReceiptTable() for _ in range(5)]
    # Each worker numbers its entries in the order it meets them: the merge must renumber.
    for digest, entry in rows:
        rng.choice(parts).add(digest, entry)
    whole = ReceiptTable()
    for part in parts:
        whole.merge(pickle.loads(pickle.dumps(part)))  # as a batch comes back from a worker
    assert whole == dict(rows)
    assert whole.seal() == set()
    copy = ReceiptTable.of(rows[:5])
    whole.merge(copy)
    assert whole.seal() == {digest for digest, _ in rows[:5]}


def test_packed_parts_read_back_the_same_table_through_the_cache_codec() -> None:
    rows = _rows(2500, seed=11)
    table = ReceiptTable.of(rows)
    parts = {name: decode(json.loads(json.dumps(encode(part)))) for name, part in table.packed()}
    # A part per bucket that holds a row, none of them large.
    assert sum(name.startswith("rows/") for name in parts) == len({digest[:2] for digest, _ in rows})
    again = ReceiptTable.unpacked(parts.items())
    assert again is not None and again == table and list(again) == list(table)
    assert ReceiptTable.unpacked(ReceiptTable().packed()) == {}


@pytest.mark.parametrize("damage", [
    lambda p: p.pop("entries"),
    lambda p: p.__setitem__("entries", [["lost", None, 1, False, False]]),
    lambda p: p.__setitem__("entries", p["entries"] + p["entries"][:1]),  # an entry twice
    lambda p: p.__setitem__("entries", [[*f[:2], "600000", *f[3:]] for f in p["entries"]]),
    lambda p: p.__setitem__("entries", [[*f[:1], "2026-3", *f[2:]] for f in p["entries"]]),
    lambda p: p.__setitem__("rows/zz", p.pop(min(n for n in p if n != "entries"))),
    lambda p: p.__setitem__("rows/100", p.pop(min(n for n in p if n != "entries"))),
    lambda p: p.__setitem__("something", 1),
    lambda p: p.__setitem__(min(n for n in p if n != "entries"), []),
    lambda p: p.__setitem__(min(n for n in p if n != "entries"), ["", []]),
    lambda p: p.__setitem__(min(n for n in p if n != "entries"), [p[min(n for n in p if n != "entries")][0], [-1]]),
    lambda p: p.__setitem__(min(n for n in p if n != "entries"), [p[min(n for n in p if n != "entries")][0], [True]]),
    lambda p: p.__setitem__("entries", p.pop("entries")),  # the entries not first
])  # fmt: skip
def test_parts_of_any_other_shape_give_none(damage) -> None:  # type: ignore[no-untyped-def]
    rows = [(bytes([0, n]).hex() + "00" * 30, ENTRIES[n % 4]) for n in range(3)] + _rows(50)
    parts = dict(ReceiptTable.of(rows).packed())
    assert ReceiptTable.unpacked(parts.items()) is not None
    damage(parts)
    assert ReceiptTable.unpacked(parts.items()) is None


def test_a_bucket_given_twice_is_refused() -> None:
    parts = list(ReceiptTable.of(_rows(50)).packed())
    assert ReceiptTable.unpacked(parts) is not None
    assert ReceiptTable.unpacked(parts + parts[1:2]) is None


def test_rows_in_hash_order_fall_into_shards_in_order() -> None:
    rows = _rows(3000, seed=2)
    names = [shard_of(digest, 8) for digest, _ in ReceiptTable.of(rows).rows()]
    assert names == sorted(names)


def test_rows_spilled_to_a_file_read_back_in_the_order_added(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(1000, seed=13)
    twice = rows[3][0]
    rows.append((twice, ENTRIES[3] if rows[3][1] != ENTRIES[3] else ENTRIES[0]))
    table = ReceiptTable()
    with open(tmp_path / "spill", "w+b") as out:
        for at, (digest, entry) in enumerate(rows):
            table.add(digest, entry)
            if at % 97 == 96:
                table.spill(out)
                assert table.held == 0
        assert table.held == len(rows) % 97
        assert out.tell() > 0
        assert table.seal() == {twice}
    assert table == dict(rows) and table[twice] == rows[-1][1]
    assert table.held == len(rows)


def test_a_spilled_table_merges_and_pickles_whole(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(600, seed=17)
    with open(tmp_path / "spill", "w+b") as out:
        part = ReceiptTable.of(rows[:400])
        part.spill(out)
        part.add(*rows[400])
        whole = ReceiptTable.of(rows[401:])
        whole.merge(pickle.loads(pickle.dumps(part)))
        assert whole == dict(rows)
        # Another table may spill to the same file: each reads back only its own rows.
        other = ReceiptTable.of(rows[:2])
        other.spill(out)
        assert other == dict(rows[:2])
        other.spill(out)
        with open(tmp_path / "another", "w+b") as another, pytest.raises(ValueError):
            other.add(*rows[5])
            other.spill(out)
            other.spill(another)
