"""engine/inputs._index_is_listing compares git's index listing with the folder's listing a
slice at a time: a difference anywhere, in any slice, must be found; the folder's listing
as a list and as the compact one the repository gives (adapters/names.FileNames)."""
from __future__ import annotations

from typing import Callable, Sequence

import pytest

from complaints.adapters.git import Listing
from complaints.adapters.names import FileNames
from complaints.engine import inputs

FILES = [f"cases/{2000 + i // 20000}/XN-{i:08d}-AAAAA.yml" for i in range(inputs._SLICE * 2 + 123)]


def listing(names: list[str], dirty: frozenset[bytes] = frozenset(), staged: int | None = None) -> Listing:
    records = len(names) if staged is None else staged
    entries = "".join(f"100644 {'0' * 40} 0\t{n}\x00" for n in names[:records]) + "100644 x 0\tcases/extra\x00" * (records - len(names))
    return Listing(entries.encode("utf-8", "surrogateescape"), dirty)


@pytest.fixture(params=["list", "compact"])
def held(request: pytest.FixtureRequest) -> Callable[[list[str]], Sequence[str]]:
    return list if request.param == "list" else FileNames.of


def test_the_same_names_in_the_same_order_match(held: Callable[[list[str]], Sequence[str]]) -> None:
    assert inputs._index_is_listing(listing(FILES), held(FILES))
    assert inputs._index_is_listing(listing([]), held([]))
    accented = sorted([*FILES[:5], "cases/2000/é-名.yml"])
    assert inputs._index_is_listing(listing(accented), held(accented))


def test_a_difference_in_any_slice_or_in_length_is_found(held: Callable[[list[str]], Sequence[str]]) -> None:
    files = held(FILES)
    for at in (0, inputs._SLICE - 1, inputs._SLICE, inputs._SLICE * 2 + 100, len(FILES) - 1):
        changed = list(FILES)
        changed[at] = changed[at].replace("AAAAA", "AAAAB")
        assert not inputs._index_is_listing(listing(changed), files), at
    assert not inputs._index_is_listing(listing(FILES[:-1]), files)
    assert not inputs._index_is_listing(listing([*FILES, "cases/x.yml"]), files)
    assert not inputs._index_is_listing(listing(FILES), held([*FILES, "cases/x.yml"]))
    assert not inputs._index_is_listing(listing([]), held(FILES[:1]))
    # A record git lists that is not a file's (a head the names cannot be cut from).
    assert not inputs._index_is_listing(listing(FILES, staged=len(FILES) - 1), files)
    assert not inputs._index_is_listing(listing(FILES, staged=len(FILES) + 1), files)


def test_a_dirty_index_or_a_name_that_is_not_utf8_never_matches(held: Callable[[list[str]], Sequence[str]]) -> None:
    assert not inputs._index_is_listing(listing(FILES, frozenset({FILES[5].encode()})), held(FILES))
    odd = [*FILES[:3], "cases/2000/\udcff.yml"]
    assert not inputs._index_is_listing(listing(FILES[:3]), held(odd))
    assert not inputs._index_is_listing(None, held(FILES))
    # The compact listing holds the escape as a surrogate's bytes (ED B3 BF): an index that
    # lists a file of exactly those bytes is another file, never this one.
    as_held = "".join(f"100644 {'0' * 40} 0\t{n}\x00" for n in odd).encode("utf-8", "surrogatepass")
    assert not inputs._index_is_listing(Listing(as_held, frozenset()), held(odd))
    # Nor does git's own record of the byte (FF) match the escaped name.
    assert not inputs._index_is_listing(listing(odd), held(odd))
