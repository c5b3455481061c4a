"""engine/inputs._index_is_listing compares git's index listing with the folder's listing a
slice at a time: a difference anywhere, in any slice, must be found."""
from __future__ import annotations

from complaints.adapters.git import Listing
from complaints.engine import inputs

FILES = [f"cases/{2000 + i // 20000}/XN-{i:08d}-AAAAA.yml" for i in range(inputs._SLICE * 2 + 123)]


def listing(names: list[str], dirty: frozenset[bytes] = frozenset(), staged: int | None = None) -> Listing:
    records = len(names) if staged is None else staged
    entries = "".join(f"100644 {'0' * 40} 0\t{n}\x00" for n in names[:records]) + "100644 x 0\tcases/extra\x00" * (records - len(names))
    return Listing(entries.encode("utf-8", "surrogateescape"), dirty)


def test_the_same_names_in_the_same_order_match() -> None:
    assert inputs._index_is_listing(listing(FILES), FILES)
    assert inputs._index_is_listing(listing([]), [])


def test_a_difference_in_any_slice_or_in_length_is_found() -> None:
    for at in (0, inputs._SLICE - 1, inputs._SLICE, inputs._SLICE * 2 + 100, len(FILES) - 1):
        changed = list(FILES)
        changed[at] = changed[at].replace("AAAAA", "AAAAB")
        assert not inputs._index_is_listing(listing(changed), FILES), at
    assert not inputs._index_is_listing(listing(FILES[:-1]), FILES)
    assert not inputs._index_is_listing(listing([*FILES, "cases/x.yml"]), FILES)
    assert not inputs._index_is_listing(listing(FILES), [*FILES, "cases/x.yml"])
    assert not inputs._index_is_listing(listing([]), FILES[:1])
    # A record git lists that is not a file's (a head the names cannot be cut from).
    assert not inputs._index_is_listing(listing(FILES, staged=len(FILES) - 1), FILES)
    assert not inputs._index_is_listing(listing(FILES, staged=len(FILES) + 1), FILES)


def test_a_dirty_index_or_a_name_that_is_not_utf8_never_matches() -> None:
    assert not inputs._index_is_listing(listing(FILES, frozenset({FILES[5].encode()})), FILES)
    odd = [*FILES[:3], "cases/2000/\udcff.yml"]
    assert not inputs._index_is_listing(listing(FILES[:3]), odd)
    assert not inputs._index_is_listing(None, FILES)
